//! Fan-out: N subscribers of one channel's messages, one sender at a fixed rate; every message
//! carries its sequence number and send time, so each subscriber measures delivery latency and
//! checks that it got every message, once, in order. Shared by the gateway and the baseline.

use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use palaver_gateway::frame::{Command, Decoder, Frame, Item};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::procs;
use crate::stomp::{frame_text, Stomp, Ws};

/// The text a message body carries: `bench#SEQ#MICROS` (send time since the run's origin).
const MARKER: &[u8] = b"bench#";

/// Bytes of a baseline MESSAGE frame besides its body: command, headers, blank line, NUL.
const FRAME_OVERHEAD: usize = 170;

/// Messages sent before the measured ones (their delivery is checked, not timed).
pub const WARMUP: Duration = Duration::from_secs(2);

/// How long after the last send subscribers may still be waiting for it.
const GRACE: Duration = Duration::from_secs(15);

/// How the sender posts a message.
pub enum Post {
    /// A SEND to the gateway's message action of a channel.
    Action { dest: String },
    /// The baseline: the JSON text itself, padded to `len` bytes (the gateway's frame size).
    Text { len: usize },
}

impl Post {
    fn text(&self, seq: u64, micros: u64) -> String {
        let marker = format!("bench#{seq}#{micros}");
        match self {
            Post::Action { dest } => {
                let body = serde_json::json!({"type": "TEXT", "body": marker}).to_string();
                let f = Frame::new(Command::Send)
                    .header("destination", dest.as_str())
                    .header("receipt", format!("send-{seq}"))
                    .header("content-type", "application/json;charset=UTF-8")
                    .body(body.into_bytes());
                frame_text(&f)
            }
            Post::Text { len } => {
                let head = format!(
                    r#"{{"type":"channel.message.created","version":"v1","resource":{{"body":"{marker}","padding":""#
                );
                let pad = len.saturating_sub(head.len() + 3 + FRAME_OVERHEAD);
                format!("{head}{}\"}}}}", "x".repeat(pad))
            }
        }
    }
}

/// What one scenario measured.
pub struct Outcome {
    pub subscribers: usize,
    pub sent: u64,
    /// Messages the sender's action answered with a RECEIPT (gateway only).
    pub receipts: u64,
    /// Errors the gateway reported to the sender.
    pub send_errors: u64,
    /// Distinct messages received, over all subscribers.
    pub delivered: u64,
    /// Messages that came after a later one (or twice).
    pub out_of_order: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Mean size of a received STOMP frame, WebSocket framing aside.
    pub frame_bytes: usize,
    /// Server CPU time over the run, per message delivered to one subscriber, in µs.
    pub cpu_us_per_delivery: f64,
    /// What the rest of the machine did meanwhile.
    pub machine: procs::Share,
}

impl Outcome {
    pub fn delivered_pct(&self) -> f64 {
        let expected = self.sent as f64 * self.subscribers as f64;
        if expected == 0.0 {
            0.0
        } else {
            100.0 * self.delivered as f64 / expected
        }
    }
}

#[derive(Default)]
struct Heard {
    seen: Vec<bool>,
    delivered: u64,
    out_of_order: u64,
    latencies: Vec<u32>,
    bytes: usize,
    frames: usize,
}

/// `(seq, micros)` of a message body, found without parsing the JSON around it.
fn marker(body: &[u8]) -> Option<(u64, u64)> {
    let at = body.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let mut numbers = body[at..]
        .split(|b| !b.is_ascii_digit())
        .take(2)
        .map(|d| std::str::from_utf8(d).ok()?.parse::<u64>().ok());
    Some((numbers.next()??, numbers.next()??))
}

async fn listen(
    mut c: Stomp,
    origin: Instant,
    total: u64,
    timed_from: u64,
    deadline: Instant,
) -> Heard {
    let mut h = Heard {
        seen: vec![false; total as usize + 1],
        latencies: Vec::with_capacity((total - timed_from) as usize),
        ..Heard::default()
    };
    let mut last = 0;
    while !h.seen[total as usize] {
        let Ok(Some((at, len))) = c.read(deadline).await else {
            break;
        };
        let now = at.duration_since(origin).as_micros() as u64;
        h.bytes += len;
        while let Some(f) = c.pop() {
            h.frames += 1;
            if f.command != Command::Message {
                continue;
            }
            let Some((seq, sent)) = marker(&f.body) else {
                continue;
            };
            let Some(seen) = h.seen.get_mut(seq as usize) else {
                continue;
            };
            if seq <= last {
                h.out_of_order += 1;
            }
            last = last.max(seq);
            if !*seen {
                *seen = true;
                h.delivered += 1;
            }
            if seq > timed_from {
                h.latencies
                    .push(now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
            }
        }
    }
    h
}

/// Reads the sender's socket: RECEIPTs of its sends and errors on its errors queue, until
/// `expected` receipts came or `deadline`.
async fn sender_replies(
    mut stream: SplitStream<Ws>,
    expected: Option<u64>,
    deadline: Instant,
) -> (u64, u64) {
    let mut decoder = Decoder::new(1024 * 1024);
    let (mut receipts, mut errors) = (0, 0);
    while expected.is_none_or(|e| receipts < e) {
        let msg = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(m))) => m,
            _ => break,
        };
        let Message::Text(t) = msg else { continue };
        decoder.push(t.as_bytes());
        while let Ok(Some(item)) = decoder.next_item() {
            let Item::Frame(f) = item else { continue };
            if f.command == Command::Receipt
                && f.get("receipt-id").is_some_and(|r| r.starts_with("send-"))
            {
                receipts += 1;
            } else if f.command == Command::Error
                || f.get("destination") == Some("/user/queue/errors")
            {
                errors += 1;
                eprintln!("send failed: {}", String::from_utf8_lossy(&f.body));
            }
        }
    }
    (receipts, errors)
}

/// Milliseconds at percentile `p` of sorted microseconds.
pub fn pct_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Runs one fan-out: `subscribers` already listen; `sender` posts `rate` messages a second for
/// the warm-up and `seconds`; `server_pid` is whose CPU time is counted.
pub async fn run(
    subscribers: Vec<Stomp>,
    sender: Stomp,
    post: Post,
    rate: u32,
    seconds: u64,
    server_pid: u32,
) -> anyhow::Result<Outcome> {
    let n = subscribers.len();
    let warmup = u64::from(rate) * WARMUP.as_secs();
    let total = warmup + u64::from(rate) * seconds;
    let interval = Duration::from_secs(1) / rate;
    let origin = Instant::now();
    let start = origin + Duration::from_millis(200);
    let deadline = start + interval * total as u32 + GRACE;
    let listeners: Vec<_> = subscribers
        .into_iter()
        .map(|c| tokio::spawn(listen(c, origin, total, warmup, deadline)))
        .collect();
    let (mut sink, stream) = sender.ws.split();
    let expected = matches!(post, Post::Action { .. }).then_some(total);
    let replies = tokio::spawn(sender_replies(stream, expected, deadline));
    let machine = procs::Machine::now(server_pid);
    for seq in 1..=total {
        tokio::time::sleep_until(start + interval * (seq - 1) as u32).await;
        let micros = origin.elapsed().as_micros() as u64;
        sink.send(Message::Text(post.text(seq, micros).into()))
            .await?;
    }
    let mut latencies = Vec::with_capacity(n * (total - warmup) as usize);
    let (mut delivered, mut out_of_order, mut bytes, mut frames) = (0, 0, 0, 0);
    for l in listeners {
        let h = l.await?;
        delivered += h.delivered;
        out_of_order += h.out_of_order;
        bytes += h.bytes;
        frames += h.frames;
        latencies.extend(h.latencies);
    }
    let machine = machine.since(server_pid);
    let (receipts, send_errors) = if expected.is_some() {
        replies.await?
    } else {
        replies.abort();
        (0, 0)
    };
    latencies.sort_unstable();
    Ok(Outcome {
        subscribers: n,
        sent: total,
        receipts,
        send_errors,
        delivered,
        out_of_order,
        p50_ms: pct_ms(&latencies, 0.50),
        p99_ms: pct_ms(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |&m| f64::from(m) / 1000.0),
        frame_bytes: bytes.checked_div(frames).unwrap_or(0),
        cpu_us_per_delivery: machine.server_micros as f64 / delivered.max(1) as f64,
        machine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_found_in_a_rendered_message() {
        let body = br#"{"type":"x","resource":{"id":3,"body":"bench#17#123456","n":1}}"#;
        assert_eq!(marker(body), Some((17, 123456)));
        assert_eq!(marker(b"no marker here"), None);
        assert_eq!(marker(b"bench#12"), None);
    }

    #[test]
    fn a_baseline_post_is_padded_json_with_its_marker() {
        let text = Post::Text { len: 1500 }.text(4, 99);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["resource"]["body"], "bench#4#99");
        assert_eq!(text.len(), 1500 - FRAME_OVERHEAD);
    }
}
