//! A topic message's MESSAGE frame, encoded once for all its subscribers: only the
//! `subscription` header differs between them, so everything after it (message id, destination,
//! content type and length, body) is encoded once and copied behind each subscriber's own.

use super::{encode_message_rest, write_header_text, Command};

/// The part of a MESSAGE frame every subscriber of a topic gets alike.
#[derive(Debug)]
pub struct TopicFrame {
    /// From the header line after `subscription` to the closing NUL. Text, because every
    /// piece is: frames go out as WebSocket text messages.
    rest: String,
    /// Where the body starts in `rest`.
    body_at: usize,
}

impl TopicFrame {
    /// The frame of these headers (those after `subscription`) and body.
    pub fn new(headers: &[(&str, &str)], body: &str) -> Self {
        let mut rest = Vec::with_capacity(body.len() + 160);
        encode_message_rest(&mut rest, headers, body.as_bytes());
        let body_at = rest.len() - 1 - body.len();
        // Headers and body are text and escaping writes ASCII: never lossy.
        let rest = String::from_utf8(rest)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        TopicFrame { rest, body_at }
    }

    /// The message body.
    pub fn body(&self) -> &str {
        &self.rest[self.body_at..self.rest.len() - 1]
    }

    /// Appends the whole frame for the subscriber of `subscription`: what
    /// [`super::encode_message_into`] writes for `subscription` followed by this frame's headers.
    pub fn write_for(&self, out: &mut Vec<u8>, subscription: &str) {
        out.extend_from_slice(Command::Message.as_str().as_bytes());
        out.extend_from_slice(b"\nsubscription:");
        write_header_text(out, subscription, Command::Message.escapes_headers());
        out.push(b'\n');
        out.extend_from_slice(self.rest.as_bytes());
    }
}
