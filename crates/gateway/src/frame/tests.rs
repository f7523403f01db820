//! Tests of the STOMP frame codec: examples from the spec and round-trip properties.

use super::*;
use proptest::prelude::*;

const ALL: [Command; 15] = [
    Command::Connect,
    Command::Stomp,
    Command::Connected,
    Command::Send,
    Command::Subscribe,
    Command::Unsubscribe,
    Command::Ack,
    Command::Nack,
    Command::Begin,
    Command::Commit,
    Command::Abort,
    Command::Disconnect,
    Command::Message,
    Command::Receipt,
    Command::Error,
];

const MAX: usize = 64 * 1024;

/// Feeds `chunks` one by one, collecting items until the first error.
fn decode_chunks<'a>(
    max: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Item>, Option<FrameError>) {
    let mut decoder = Decoder::new(max);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            match decoder.next_item() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(error) => return (items, Some(error)),
            }
        }
    }
    (items, None)
}

fn decode_all(bytes: &[u8]) -> Vec<Item> {
    let (items, error) = decode_chunks(MAX, [bytes]);
    assert_eq!(error, None);
    items
}

fn decode_one(bytes: &[u8]) -> Frame {
    match decode_all(bytes).as_slice() {
        [Item::Frame(frame)] => frame.clone(),
        other => panic!("expected one frame, got {other:?}"),
    }
}

fn decode_err(bytes: &[u8]) -> FrameError {
    decode_chunks(MAX, [bytes]).1.expect("an error")
}

/// `frame` as the decoder returns it after `encode`, which adds a content-length.
fn as_decoded(frame: &Frame) -> Frame {
    let mut frame = frame.clone();
    if !frame.body.is_empty() && frame.get(CONTENT_LENGTH).is_none() {
        frame
            .headers
            .push((CONTENT_LENGTH.into(), frame.body.len().to_string()));
    }
    frame
}

#[test]
fn every_command_round_trips() {
    for command in ALL {
        assert_eq!(Command::parse(command.as_str().as_bytes()), Some(command));
        let frame = Frame::new(command)
            .header("id", "7")
            .header("destination", "/topic/x")
            .body("hello");
        assert_eq!(decode_one(&frame.encode()), as_decoded(&frame));
        let bare = Frame::new(command);
        assert_eq!(
            bare.encode(),
            format!("{}\n\n\0", command.as_str()).as_bytes()
        );
        assert_eq!(decode_one(&bare.encode()), bare);
    }
    assert_eq!(Command::parse(b"connect"), None);
    assert_eq!(Command::parse(b""), None);
}

#[test]
fn encodes_the_wire_form() {
    let frame = Frame::new(Command::Send)
        .header("destination", "/a")
        .body(&b"hi"[..]);
    assert_eq!(
        frame.encode(),
        b"SEND\ndestination:/a\ncontent-length:2\n\nhi\0"
    );
    let given = Frame::new(Command::Send)
        .header("content-length", "2")
        .body("hi");
    assert_eq!(given.encode(), b"SEND\ncontent-length:2\n\nhi\0");
    let mut out = b"x".to_vec();
    given.encode_into(&mut out);
    assert_eq!(out, b"xSEND\ncontent-length:2\n\nhi\0");
}

#[test]
fn escapes_headers_both_ways() {
    let frame = Frame::new(Command::Message).header("a:b\\c", "line\none\r:\\");
    let wire = frame.encode();
    assert_eq!(wire, b"MESSAGE\na\\cb\\\\c:line\\none\\r\\c\\\\\n\n\0");
    assert_eq!(decode_one(&wire), frame);
    let decoded = decode_one(b"SEND\nk\\c:v\\n\\r\\c\\\\:x\n\n\0");
    assert_eq!(decoded.get("k:"), Some("v\n\r:\\:x"));
}

#[test]
fn connect_headers_are_not_escaped() {
    let decoded = decode_one(b"CONNECT\nlogin:a\\cb\\n\npasscode:x:y\n\n\0");
    assert_eq!(decoded.get("login"), Some("a\\cb\\n"));
    assert_eq!(decoded.get("passcode"), Some("x:y"));
    let connected = Frame::new(Command::Connected).header("server", "a:b\\c");
    assert_eq!(connected.encode(), b"CONNECTED\nserver:a:b\\c\n\n\0");
    assert_eq!(decode_one(&connected.encode()), connected);
    // STOMP is the 1.2 spelling of CONNECT, but only CONNECT and CONNECTED are exempt.
    let stomp = decode_one(b"STOMP\nlogin:a\\cb\n\n\0");
    assert_eq!(stomp.get("login"), Some("a:b"));
}

#[test]
fn unescaped_headers_cannot_inject_lines() {
    let frame = Frame::new(Command::Connected).header("user", "x\nadmin:true");
    let decoded = decode_one(&frame.encode());
    assert_eq!(
        decoded.headers,
        vec![("user".into(), "x admin:true".into())]
    );
    // A trailing CR survives: the encoder ends that line with CRLF.
    let cr = Frame::new(Command::Connected).header("v", "1\r");
    assert_eq!(decode_one(&cr.encode()), cr);
}

#[test]
fn a_topic_frame_is_the_message_frame_with_its_subscription_first() {
    let shared = TopicFrame::new(
        &[("message-id", "t-7"), ("destination", "/topic/a:b")],
        "{\"x\":1}",
    );
    let mut out = Vec::new();
    shared.write_for(&mut out, "sub\n1");
    assert_eq!(
        out,
        b"MESSAGE\nsubscription:sub\\n1\nmessage-id:t-7\ndestination:/topic/a\\cb\ncontent-length:7\n\n{\"x\":1}\0"
    );
    assert_eq!(shared.body(), "{\"x\":1}");
    // No body, no content-length.
    let empty = TopicFrame::new(&[], "");
    let mut out = Vec::new();
    empty.write_for(&mut out, "s");
    assert_eq!(out, b"MESSAGE\nsubscription:s\n\n\0");
    assert_eq!(empty.body(), "");
}

#[test]
fn crlf_line_endings() {
    let decoded = decode_one(b"SEND\r\ndestination:/a\r\nreceipt:r\\r\r\n\r\nbody\0");
    assert_eq!(decoded.command, Command::Send);
    assert_eq!(
        decoded.headers,
        vec![
            ("destination".into(), "/a".into()),
            ("receipt".into(), "r\r".into())
        ]
    );
    assert_eq!(decoded.body, b"body");
    // Only one CR belongs to the line ending.
    let connect = decode_one(b"CONNECT\r\nhost:h\r\r\n\r\n\0");
    assert_eq!(connect.get("host"), Some("h\r"));
}

#[test]
fn content_length_body_may_hold_nul() {
    let body = b"a\0b\0\0c".to_vec();
    let frame = Frame::new(Command::Send).body(body.clone());
    let decoded = decode_one(&frame.encode());
    assert_eq!(decoded.body, body);
    assert_eq!(decoded.get("content-length"), Some("6"));
    let empty = decode_one(b"SEND\ncontent-length:0\n\n\0");
    assert!(empty.body.is_empty());
}

#[test]
fn body_without_content_length_ends_at_nul() {
    let items = decode_all(b"SEND\n\nab\0SEND\n\n\0");
    assert_eq!(
        items,
        vec![
            Item::Frame(Frame::new(Command::Send).body("ab")),
            Item::Frame(Frame::new(Command::Send)),
        ]
    );
}

#[test]
fn heart_beats_before_between_and_after_frames() {
    let items = decode_all(b"\n\r\nSEND\n\n\0\n\n\r\nACK\nid:1\n\n\0\n");
    let send = Item::Frame(Frame::new(Command::Send));
    let ack = Item::Frame(Frame::new(Command::Ack).header("id", "1"));
    use Item::HeartBeat as H;
    assert_eq!(items, vec![H, H, send, H, H, H, ack, H]);
    // A lone CR may be the start of a CRLF heart-beat.
    let mut decoder = Decoder::new(MAX);
    decoder.push(b"\r");
    assert_eq!(decoder.next_item(), Ok(None));
    decoder.push(b"\n");
    assert_eq!(decoder.next_item(), Ok(Some(Item::HeartBeat)));
    assert_eq!(decoder.next_item(), Ok(None));
}

#[test]
fn several_frames_in_one_push() {
    let frames = [
        Frame::new(Command::Subscribe)
            .header("id", "0")
            .header("destination", "/d"),
        Frame::new(Command::Send).body(&b"\0\0"[..]),
        Frame::new(Command::Disconnect).header("receipt", "77"),
    ];
    let wire: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
    let expected: Vec<Item> = frames.iter().map(|f| Item::Frame(as_decoded(f))).collect();
    assert_eq!(decode_all(&wire), expected);
}

#[test]
fn frame_split_at_every_position() {
    let plain = b"SEND\r\ndestination:/a\\cb\r\n\r\nbody\0\r\n".to_vec();
    let counted = Frame::new(Command::Message)
        .header("subscription", "1")
        .body(&b"x\0y\r\n"[..])
        .encode();
    for wire in [plain, counted] {
        let whole = decode_all(&wire);
        for cut in 0..=wire.len() {
            let (items, error) = decode_chunks(MAX, [&wire[..cut], &wire[cut..]]);
            assert_eq!(error, None, "cut at {cut}");
            assert_eq!(items, whole, "cut at {cut}");
        }
        let (items, error) = decode_chunks(MAX, wire.chunks(1));
        assert_eq!((items, error), (whole, None));
    }
}

#[test]
fn repeated_header_first_wins() {
    let frame = decode_one(b"MESSAGE\nfoo:1\nfoo:2\n\n\0");
    assert_eq!(frame.get("foo"), Some("1"));
    assert_eq!(frame.headers.len(), 2);
    assert_eq!(frame.get("bar"), None);
    // The first content-length decides the body too.
    let frame = decode_one(b"SEND\ncontent-length:1\ncontent-length:5\n\n\0\0");
    assert_eq!(frame.body, b"\0");
}

#[test]
fn unknown_command() {
    assert_eq!(
        decode_err(b"FOO\n\n\0"),
        FrameError::UnknownCommand("FOO".into())
    );
    assert_eq!(
        decode_err(b"send\n\n\0"),
        FrameError::UnknownCommand("send".into())
    );
    // The client's text is quoted back, but cut short.
    let long = [b'A'; 200];
    let FrameError::UnknownCommand(quoted) = decode_err(&[&long[..], b"\n"].concat()) else {
        panic!("expected UnknownCommand");
    };
    assert_eq!(quoted.len(), QUOTE_LIMIT);
}

#[test]
fn bad_headers() {
    for wire in [
        &b"SEND\nno-colon\n\n\0"[..],
        b"SEND\na:\\t\n\n\0",
        b"SEND\na\\x:b\n\n\0",
        b"SEND\na:b\\\n\n\0",
        b"SEND\na:\xff\n\n\0",
        b"CONNECT\n\xc3:b\n\n\0",
    ] {
        assert!(
            matches!(decode_err(wire), FrameError::BadHeader(_)),
            "{wire:?}"
        );
    }
    assert_eq!(
        decode_err(b"SEND\na:\\t\n\n\0").to_string(),
        "bad header: invalid escape \"\\t\""
    );
}

#[test]
fn bad_content_length() {
    for value in ["", "abc", "-1", "+1", " 1", "1 ", "0x10"] {
        let wire = format!("SEND\ncontent-length:{value}\n\n\0");
        assert_eq!(
            decode_err(wire.as_bytes()),
            FrameError::BadContentLength(value.into()),
            "{value:?}"
        );
    }
}

#[test]
fn missing_nul_after_counted_body() {
    assert_eq!(
        decode_err(b"SEND\ncontent-length:2\n\nabc\0"),
        FrameError::MissingNul
    );
}

#[test]
fn too_large_with_content_length() {
    let limit = FrameError::TooLarge { limit: 100 };
    // Announced: refused as soon as the headers end, before the body arrives.
    let (items, error) = decode_chunks(100, [&b"SEND\ncontent-length:200\n\n"[..]]);
    assert_eq!((items, error), (vec![], Some(limit.clone())));
    let huge = decode_chunks(
        100,
        [&b"SEND\ncontent-length:99999999999999999999999\n\n"[..]],
    );
    assert_eq!(huge.1, Some(limit.clone()));
    // The limit counts the whole frame, NUL included.
    let head = b"SEND\ncontent-length:75\n\n";
    let fits = [&head[..], &[b'x'; 75], b"\0"].concat();
    assert_eq!(fits.len(), 100);
    assert_eq!(decode_chunks(100, [&fits[..]]).1, None);
    let over = [&b"SEND\ncontent-length:76\n\n"[..], &[b'x'; 76], b"\0"].concat();
    assert_eq!(decode_chunks(100, [&over[..]]).1, Some(limit));
}

#[test]
fn too_large_without_content_length() {
    let limit = FrameError::TooLarge { limit: 100 };
    let fits = [&b"SEND\n\n"[..], &[b'x'; 93], b"\0"].concat();
    assert_eq!(fits.len(), 100);
    assert_eq!(decode_chunks(100, [&fits[..]]).1, None);
    let over = [&b"SEND\n\n"[..], &[b'x'; 94], b"\0"].concat();
    assert_eq!(decode_chunks(100, [&over[..]]).1, Some(limit.clone()));
    // Before the frame is complete: the body or the headers grow past the limit.
    let partial = [&b"SEND\n\n"[..], &[b'x'; 95]].concat();
    assert_eq!(decode_chunks(100, [&partial[..]]).1, Some(limit.clone()));
    let endless_header = [&b"SEND\na:"[..], &[b'x'; 100]].concat();
    assert_eq!(
        decode_chunks(100, endless_header.chunks(7)).1,
        Some(limit.clone())
    );
    let endless_command = [b'S'; 101];
    assert_eq!(decode_chunks(100, [&endless_command[..]]).1, Some(limit));
    // Exactly the limit without a complete frame is still waiting.
    let mut decoder = Decoder::new(100);
    decoder.push(&[&b"SEND\n\n"[..], &[b'x'; 94]].concat());
    assert_eq!(decoder.next_item(), Ok(None));
    assert_eq!(decoder.buffered(), 100);
}

#[test]
fn errors_are_final() {
    let mut decoder = Decoder::new(MAX);
    decoder.push(b"NOPE\n\n\0SEND\n\n\0");
    let error = FrameError::UnknownCommand("NOPE".into());
    assert_eq!(decoder.next_item(), Err(error.clone()));
    decoder.push(b"SEND\n\n\0");
    assert_eq!(decoder.next_item(), Err(error));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn error_messages_are_readable() {
    assert_eq!(
        FrameError::TooLarge { limit: 65536 }.to_string(),
        "frame is larger than the limit of 65536 bytes"
    );
    assert_eq!(
        FrameError::UnknownCommand("FOO".into()).to_string(),
        "unknown command \"FOO\""
    );
    assert_eq!(
        FrameError::BadContentLength("x".into()).to_string(),
        "bad content-length \"x\": expected a number of bytes"
    );
    assert_eq!(
        FrameError::MissingNul.to_string(),
        "frame body is not followed by a NUL byte"
    );
}

#[test]
fn buffered_counts_the_incomplete_item() {
    let mut decoder = Decoder::new(MAX);
    decoder.push(b"SEND\n\n\0SEND\n");
    assert!(matches!(decoder.next_item(), Ok(Some(Item::Frame(_)))));
    assert_eq!(decoder.next_item(), Ok(None));
    assert_eq!(decoder.buffered(), 5);
    decoder.push(b"\n\0");
    assert!(matches!(decoder.next_item(), Ok(Some(Item::Frame(_)))));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn idle_decoder_is_small() {
    assert!(std::mem::size_of::<Decoder>() <= 256);
    let mut decoder = Decoder::new(MAX);
    assert_eq!(decoder.buf.capacity(), 0);
    let big = Frame::new(Command::Send).body(vec![7; 40_000]).encode();
    for piece in big.chunks(1000) {
        decoder.push(piece);
        assert!(decoder.next_item().is_ok());
    }
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.buf.capacity(), 0);
    decoder.push(b"\n");
    assert_eq!(decoder.next_item(), Ok(Some(Item::HeartBeat)));
    assert!(decoder.buf.capacity() <= KEEP_CAPACITY);
    // A big message that ends in the start of a frame leaves a small buffer behind.
    let mut packed = big;
    packed.extend_from_slice(b"SEND\n");
    decoder.push(&packed);
    assert!(matches!(decoder.next_item(), Ok(Some(Item::Frame(_)))));
    assert_eq!(decoder.next_item(), Ok(None));
    assert_eq!(decoder.buffered(), 5);
    assert!(decoder.buf.capacity() <= KEEP_CAPACITY);
    decoder.push(b"\n\0");
    assert!(matches!(decoder.next_item(), Ok(Some(Item::Frame(_)))));
}

#[test]
fn large_frame_in_small_pieces_is_scanned_once() {
    let wire = [&b"SEND\n\n"[..], &vec![b'x'; 1 << 20], b"\0"].concat();
    let mut decoder = Decoder::new(2 << 20);
    let mut items = Vec::new();
    for piece in wire.chunks(16) {
        decoder.push(piece);
        match decoder.next_item() {
            Ok(Some(item)) => items.push(item),
            // The search resumes at the end of what it has already seen.
            Ok(None) => assert_eq!(decoder.scan, decoder.buffered()),
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(items.len(), 1);
}

/// Header text: any characters, the ones STOMP treats specially often.
fn header_text(exclude: &'static [char]) -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![':', '\n', '\r', '\\', 'c', 'n', ' ', 'é']);
    let char = prop_oneof![any::<char>(), special];
    prop::collection::vec(char, 0..12)
        .prop_map(move |chars| chars.into_iter().filter(|c| !exclude.contains(c)).collect())
}

/// Headers a frame of `command` can carry: unescaped frames cannot hold a line feed, nor
/// a colon in a name. A generated content-length would contradict the body.
fn headers(command: Command) -> impl Strategy<Value = Vec<(String, String)>> {
    let (in_name, in_value): (&'static [char], &'static [char]) = if command.escapes_headers() {
        (&[], &[])
    } else {
        (&['\n', ':'], &['\n'])
    };
    let header = (header_text(in_name), header_text(in_value));
    prop::collection::vec(header, 0..5).prop_map(|headers| {
        headers
            .into_iter()
            .filter(|(name, _)| name != CONTENT_LENGTH)
            .collect()
    })
}

fn frame() -> impl Strategy<Value = Frame> {
    prop::sample::select(ALL.to_vec()).prop_flat_map(|command| {
        let body = prop::collection::vec(any::<u8>(), 0..64);
        (headers(command), body).prop_map(move |(headers, body)| Frame {
            command,
            headers,
            body,
        })
    })
}

/// Frames, each maybe preceded by heart-beats.
fn stream() -> impl Strategy<Value = Vec<(usize, Frame)>> {
    prop::collection::vec((0..3usize, frame()), 1..6)
}

proptest! {
    #[test]
    fn a_message_written_in_place_is_the_frame_encoded(
        headers in headers(Command::Message),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // Without a content-length of its own: the writer adds the body's.
        let headers: Vec<(String, String)> =
            headers.into_iter().filter(|(n, _)| n != CONTENT_LENGTH).collect();
        let pairs: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut in_place = Vec::new();
        encode_message_into(&mut in_place, &pairs, &body);
        let frame = Frame { command: Command::Message, headers, body };
        prop_assert_eq!(in_place, frame.encode());
    }

    #[test]
    fn a_topic_frame_written_per_subscriber_is_the_frame_encoded(
        subscriptions in prop::collection::vec(header_text(&[]), 1..4),
        headers in headers(Command::Message),
        body in prop::collection::vec(any::<char>(), 0..64),
    ) {
        let body: String = body.into_iter().collect();
        let pairs: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let shared = TopicFrame::new(&pairs, &body);
        prop_assert_eq!(shared.body(), body.as_str());
        // Several subscribers' frames one after the other, as a connection writes them.
        let mut written = Vec::new();
        let mut expected = Vec::new();
        for sub in &subscriptions {
            shared.write_for(&mut written, sub);
            let mut all = vec![("subscription".to_string(), sub.clone())];
            all.extend(headers.iter().cloned());
            let frame = Frame { command: Command::Message, headers: all, body: body.clone().into() };
            frame.encode_into(&mut expected);
        }
        prop_assert_eq!(&written, &expected);
        let decoded = decode_all(&written);
        prop_assert_eq!(decoded.len(), subscriptions.len());
        for (item, sub) in decoded.iter().zip(&subscriptions) {
            let Item::Frame(f) = item else { panic!("a frame") };
            prop_assert_eq!(f.get("subscription"), Some(sub.as_str()));
            prop_assert_eq!(&f.body, body.as_bytes());
        }
    }

    #[test]
    fn decode_inverts_encode(frame in frame()) {
        prop_assert_eq!(decode_one(&frame.encode()), as_decoded(&frame));
    }

    #[test]
    fn decoded_frames_re_encode_exactly(frame in frame()) {
        let decoded = decode_one(&frame.encode());
        prop_assert_eq!(decoded.encode(), as_decoded(&frame).encode());
    }

    #[test]
    fn split_stream_decodes_to_the_same_items(
        stream in stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for (beats, frame) in &stream {
            for _ in 0..*beats {
                wire.extend_from_slice(b"\r\n");
                expected.push(Item::HeartBeat);
            }
            frame.encode_into(&mut wire);
            expected.push(Item::Frame(as_decoded(frame)));
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.push(0);
        cuts.push(wire.len());
        cuts.sort_unstable();
        let chunks = cuts.windows(2).map(|w| &wire[w[0]..w[1]]);
        let (items, error) = decode_chunks(MAX, chunks);
        prop_assert_eq!(error, None);
        prop_assert_eq!(items, expected);
    }

    #[test]
    fn arbitrary_bytes_decode_alike_whole_or_split(
        bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(b"\n\r\0:\\SEND".to_vec())],
            0..200,
        ),
        chunk in 1..20usize,
    ) {
        let whole = decode_chunks(64, [&bytes[..]]);
        let split = decode_chunks(64, bytes.chunks(chunk));
        prop_assert_eq!(whole.0, split.0);
        prop_assert_eq!(whole.1.is_some(), split.1.is_some());
    }
}
