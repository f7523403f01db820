//! STOMP 1.2 frames: the streaming decoder and the encoder.

#[cfg(test)]
mod tests;
mod topic;

pub use topic::TopicFrame;

/// STOMP commands, client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Connect,
    Stomp,
    Connected,
    Send,
    Subscribe,
    Unsubscribe,
    Ack,
    Nack,
    Begin,
    Commit,
    Abort,
    Disconnect,
    Message,
    Receipt,
    Error,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Connect => "CONNECT",
            Command::Stomp => "STOMP",
            Command::Connected => "CONNECTED",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    pub fn parse(s: &[u8]) -> Option<Command> {
        Some(match s {
            b"CONNECT" => Command::Connect,
            b"STOMP" => Command::Stomp,
            b"CONNECTED" => Command::Connected,
            b"SEND" => Command::Send,
            b"SUBSCRIBE" => Command::Subscribe,
            b"UNSUBSCRIBE" => Command::Unsubscribe,
            b"ACK" => Command::Ack,
            b"NACK" => Command::Nack,
            b"BEGIN" => Command::Begin,
            b"COMMIT" => Command::Commit,
            b"ABORT" => Command::Abort,
            b"DISCONNECT" => Command::Disconnect,
            b"MESSAGE" => Command::Message,
            b"RECEIPT" => Command::Receipt,
            b"ERROR" => Command::Error,
            _ => return None,
        })
    }

    /// STOMP 1.2 leaves CONNECT and CONNECTED headers unescaped, for STOMP 1.0 peers.
    fn escapes_headers(self) -> bool {
        !matches!(self, Command::Connect | Command::Connected)
    }
}

/// One STOMP frame; header names and values are held unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: Command,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Frame {
    pub fn new(command: Command) -> Self {
        Frame {
            command,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Appends a header (a repeated name keeps both; the first wins on reading).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// First value of `name` (STOMP 1.2: on repeated headers the first wins).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Appends the wire form to `out`: command, headers (escaped per STOMP 1.2 except in
    /// CONNECT/CONNECTED frames, which are not escaped), a `content-length` header when the
    /// body is non-empty and none was given, blank line, body, NUL.
    ///
    /// A given `content-length` is written as is: it must match the body. CONNECT and
    /// CONNECTED headers cannot carry a line feed; one is written as a space, so that a value
    /// can never inject a header.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let escape = self.command.escapes_headers();
        out.extend_from_slice(self.command.as_str().as_bytes());
        out.push(b'\n');
        for (name, value) in &self.headers {
            write_header_text(out, name, escape);
            out.push(b':');
            write_header_text(out, value, escape);
            // The decoder strips one CR before LF, so a raw trailing CR needs its own.
            if !escape && value.ends_with('\r') {
                out.push(b'\r');
            }
            out.push(b'\n');
        }
        if !self.body.is_empty() && self.get(CONTENT_LENGTH).is_none() {
            out.extend_from_slice(CONTENT_LENGTH.as_bytes());
            out.push(b':');
            out.extend_from_slice(self.body.len().to_string().as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out.push(0);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

/// Writes a MESSAGE frame straight into `out`: what [`Frame::encode_into`] writes for a frame
/// of these headers and body, without building the frame (a topic message is written once per
/// listening connection, so the owned headers and the body's copy would be made each time).
pub fn encode_message_into(out: &mut Vec<u8>, headers: &[(&str, &str)], body: &[u8]) {
    out.extend_from_slice(Command::Message.as_str().as_bytes());
    out.push(b'\n');
    encode_message_rest(out, headers, body);
}

/// A MESSAGE frame after its command line: headers, `content-length`, blank line, body, NUL.
fn encode_message_rest(out: &mut Vec<u8>, headers: &[(&str, &str)], body: &[u8]) {
    let escape = Command::Message.escapes_headers();
    for (name, value) in headers {
        write_header_text(out, name, escape);
        out.push(b':');
        write_header_text(out, value, escape);
        out.push(b'\n');
    }
    if !body.is_empty() {
        out.extend_from_slice(CONTENT_LENGTH.as_bytes());
        out.push(b':');
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out.push(0);
}

const CONTENT_LENGTH: &str = "content-length";

fn write_header_text(out: &mut Vec<u8>, text: &str, escape: bool) {
    for &b in text.as_bytes() {
        match (b, escape) {
            (b'\\', true) => out.extend_from_slice(b"\\\\"),
            (b'\r', true) => out.extend_from_slice(b"\\r"),
            (b'\n', true) => out.extend_from_slice(b"\\n"),
            (b':', true) => out.extend_from_slice(b"\\c"),
            (b'\n', false) => out.push(b' '),
            _ => out.push(b),
        }
    }
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Frame(Frame),
    HeartBeat,
}

/// Why a byte stream is not valid STOMP; the messages are sent to clients in ERROR frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("bad header: {0}")]
    BadHeader(String),
    #[error("bad content-length {0:?}: expected a number of bytes")]
    BadContentLength(String),
    #[error("frame body is not followed by a NUL byte")]
    MissingNul,
}

/// Streaming decoder: frames may be split across and packed into WebSocket messages.
///
/// The bytes of the item being decoded stay in `buf` until it completes; header lines are
/// parsed as they arrive and every search resumes where the last one stopped, so a frame
/// arriving in many small pieces is scanned once.
pub struct Decoder {
    max_frame: usize,
    buf: Vec<u8>,
    /// Where the current item starts in `buf`; the bytes before it are consumed.
    start: usize,
    /// Where the next search for LF or NUL resumes, relative to `start`.
    scan: usize,
    state: State,
    /// Set by the first error, which every later call repeats.
    failed: Option<FrameError>,
}

enum State {
    /// Between frames: heart-beats or a command line.
    Idle,
    /// After the command line; `line` is where the current header line starts.
    Headers {
        frame: Frame,
        line: usize,
        content_length: Option<usize>,
    },
    /// After the blank line; `at` is where the body starts.
    Body {
        frame: Frame,
        at: usize,
        content_length: Option<usize>,
    },
}

/// An emptied buffer with more capacity than this is freed: idle connections stay small.
const KEEP_CAPACITY: usize = 256;

/// Longest piece of client input quoted back in an error message.
const QUOTE_LIMIT: usize = 40;

impl Decoder {
    pub fn new(max_frame: usize) -> Self {
        Decoder {
            max_frame,
            buf: Vec::new(),
            start: 0,
            scan: 0,
            state: State::Idle,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete item, `Ok(None)` when more bytes are needed. After an error the
    /// decoder is unusable (the connection closes): it repeats that error.
    pub fn next_item(&mut self) -> Result<Option<Item>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = match self.decode() {
            // Never hold more than the limit without a complete frame.
            Ok(None) if self.buffered() > self.max_frame => Err(self.too_large()),
            Ok(None) => {
                self.compact();
                Ok(None)
            }
            result => result,
        };
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buf = Vec::new();
            self.start = 0;
            self.state = State::Idle;
        }
        result
    }

    /// Bytes held that do not yet form a complete item (for memory accounting), once
    /// `next_item` has returned `Ok(None)`.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn decode(&mut self) -> Result<Option<Item>, FrameError> {
        loop {
            match std::mem::replace(&mut self.state, State::Idle) {
                State::Idle => match self.held() {
                    [] | [b'\r'] => return Ok(None),
                    [b'\n', ..] => return Ok(Some(self.heart_beat(1))),
                    [b'\r', b'\n', ..] => return Ok(Some(self.heart_beat(2))),
                    _ => {
                        let Some(eol) = self.find(b'\n') else {
                            return Ok(None);
                        };
                        let line = strip_cr(&self.held()[..eol]);
                        let command = Command::parse(line)
                            .ok_or_else(|| FrameError::UnknownCommand(quote(line)))?;
                        self.scan = eol + 1;
                        self.state = State::Headers {
                            frame: Frame::new(command),
                            line: eol + 1,
                            content_length: None,
                        };
                    }
                },
                State::Headers {
                    mut frame,
                    line,
                    mut content_length,
                } => {
                    let Some(eol) = self.find(b'\n') else {
                        self.state = State::Headers {
                            frame,
                            line,
                            content_length,
                        };
                        return Ok(None);
                    };
                    self.scan = eol + 1;
                    let text = strip_cr(&self.held()[line..eol]);
                    if text.is_empty() {
                        let at = eol + 1;
                        if let Some(len) = content_length {
                            if at.saturating_add(len).saturating_add(1) > self.max_frame {
                                return Err(self.too_large());
                            }
                        }
                        self.state = State::Body {
                            frame,
                            at,
                            content_length,
                        };
                        continue;
                    }
                    let (name, value) = parse_header(text, frame.command.escapes_headers())?;
                    if content_length.is_none() && name == CONTENT_LENGTH {
                        content_length = Some(parse_content_length(&value)?);
                    }
                    frame.headers.push((name, value));
                    self.state = State::Headers {
                        frame,
                        line: eol + 1,
                        content_length,
                    };
                }
                State::Body {
                    mut frame,
                    at,
                    content_length,
                } => {
                    let end = match content_length {
                        Some(len) => {
                            let end = at + len;
                            match self.held().get(end) {
                                None => None,
                                Some(0) => Some(end),
                                Some(_) => return Err(FrameError::MissingNul),
                            }
                        }
                        None => self.find(0),
                    };
                    let Some(end) = end else {
                        self.state = State::Body {
                            frame,
                            at,
                            content_length,
                        };
                        return Ok(None);
                    };
                    if end + 1 > self.max_frame {
                        return Err(self.too_large());
                    }
                    frame.body = self.held()[at..end].to_vec();
                    self.consume(end + 1);
                    return Ok(Some(Item::Frame(frame)));
                }
            }
        }
    }

    /// The bytes of the current item received so far.
    fn held(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Position of the next `byte` at or after `scan`, relative to `start`; when there is
    /// none yet, `scan` moves past the bytes searched.
    fn find(&mut self, byte: u8) -> Option<usize> {
        let found = self.held()[self.scan..].iter().position(|&b| b == byte);
        match found {
            Some(i) => Some(self.scan + i),
            None => {
                self.scan = self.buffered();
                None
            }
        }
    }

    fn heart_beat(&mut self, len: usize) -> Item {
        self.consume(len);
        Item::HeartBeat
    }

    /// Ends the current item after `len` bytes, freeing a grown buffer once it is empty.
    fn consume(&mut self, len: usize) {
        self.start += len;
        self.scan = 0;
        if self.start == self.buf.len() {
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.start = 0;
        }
    }

    /// Waiting for bytes: drops the consumed ones and most of a buffer that has grown far
    /// past what it holds. Offsets are relative to `start` and `start` only leaves 0 when an
    /// item completes, so each byte is moved at most once.
    fn compact(&mut self) {
        self.buf.drain(..self.start);
        self.start = 0;
        if self.buf.capacity() > KEEP_CAPACITY && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(KEEP_CAPACITY);
        }
    }

    fn too_large(&self) -> FrameError {
        FrameError::TooLarge {
            limit: self.max_frame,
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Client input for an error message: lossy UTF-8, cut short.
fn quote(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTE_LIMIT)]).into_owned()
}

fn parse_header(line: &[u8], escaped: bool) -> Result<(String, String), FrameError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| FrameError::BadHeader("a header line has no ':'".into()))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if escaped {
        Ok((unescape(name)?, unescape(value)?))
    } else {
        Ok((utf8(name.to_vec())?, utf8(value.to_vec())?))
    }
}

fn unescape(raw: &[u8]) -> Result<String, FrameError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next() {
            Some(b'r') => b'\r',
            Some(b'n') => b'\n',
            Some(b'c') => b':',
            Some(b'\\') => b'\\',
            Some(&other) => {
                return Err(FrameError::BadHeader(format!(
                    "invalid escape \"\\{}\"",
                    char::from(other).escape_default()
                )))
            }
            None => {
                return Err(FrameError::BadHeader(
                    "a header ends with a lone '\\'".into(),
                ))
            }
        });
    }
    utf8(out)
}

fn utf8(bytes: Vec<u8>) -> Result<String, FrameError> {
    String::from_utf8(bytes)
        .map_err(|_| FrameError::BadHeader("a header is not valid UTF-8".into()))
}

fn parse_content_length(value: &str) -> Result<usize, FrameError> {
    // `usize::from_str` would also take a leading '+'.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FrameError::BadContentLength(quote(value.as_bytes())));
    }
    // Only overflow fails now: a length past `usize::MAX` is too large, not malformed.
    Ok(value.parse().unwrap_or(usize::MAX))
}
