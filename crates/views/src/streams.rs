//! Where real-time clients upload: the HTTP routes behind the StompX resources' `_streams`
//! (multipart forms authorised by a write grant), as route patterns for the server and paths
//! for the resources, in one table so the two cannot drift apart.

/// The session user's display picture.
pub const DISPLAY_PICTURE: &str = "/rtm/streams/user/display-picture";

/// A FILE message to a channel (its MAIN thread).
pub const CHANNEL_MESSAGES: &str = "/rtm/streams/channels/{id}/messages";

/// A FILE message to a thread.
pub const THREAD_MESSAGES: &str = "/rtm/streams/threads/{id}/messages";

/// A FILE reply to a message.
pub const MESSAGE_REPLIES: &str = "/rtm/streams/messages/{id}/replies";

/// `pattern` (one of the above) for resource `id`.
pub fn path(pattern: &str, id: i64) -> String {
    pattern.replace("{id}", &id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_in_the_id() {
        assert_eq!(
            path(CHANNEL_MESSAGES, 7),
            "/rtm/streams/channels/7/messages"
        );
        assert_eq!(path(MESSAGE_REPLIES, 3), "/rtm/streams/messages/3/replies");
    }
}
