//! Bounded output capture: what handlers and npm print, kept up to a size limit.

/// Text kept up to `limit` bytes; what comes after is dropped with one marker line.
#[derive(Debug, Default)]
pub(crate) struct OutputBuffer {
    text: String,
    limit: usize,
    truncated: bool,
}

pub(crate) const TRUNCATED: &str = "\n[output truncated]\n";

impl OutputBuffer {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            text: String::new(),
            limit,
            truncated: false,
        }
    }

    pub(crate) fn push(&mut self, text: &str) {
        if self.truncated {
            return;
        }
        let room = self.limit.saturating_sub(self.text.len());
        if text.len() <= room {
            self.text.push_str(text);
            return;
        }
        let mut cut = room;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&text[..cut]);
        self.text.push_str(TRUNCATED);
        self.truncated = true;
    }

    pub(crate) fn take(&mut self) -> String {
        self.truncated = false;
        std::mem::take(&mut self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_head_and_marks_the_cut() {
        let mut buffer = OutputBuffer::new(5);
        buffer.push("abc");
        buffer.push("déf");
        buffer.push("more");
        assert_eq!(buffer.take(), format!("abcd{TRUNCATED}"));
        buffer.push("x");
        assert_eq!(buffer.take(), "x");
    }
}
