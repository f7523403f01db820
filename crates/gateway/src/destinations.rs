//! StompX destinations: the names this server gives its relays, topics and actions (the client
//! reads them from the resources' `_relays`/`_topics`/`_actions`, six fixed ones aside), and
//! their parsing back into what a SUBSCRIBE or SEND asks for.

/// Topics of the session's own user (`/user/topic/{name}`).
pub const USER_TOPICS: [&str; 14] = [
    "self",
    "elements",
    "features",
    "styles",
    "channels",
    "messages",
    "readReceipts",
    "notifications",
    "contacts",
    "participants",
    "users",
    "reactions",
    "threads",
    "calls",
];

/// Topics of a channel (`/topic/channels/{id}/{name}`).
pub const CHANNEL_TOPICS: [&str; 11] = [
    "self",
    "messages",
    "keystrokes",
    "typing",
    "participants",
    "readReceipts",
    "reactions",
    "events",
    "members",
    "blockRecords",
    "moderators",
];

/// A topic a connection may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    User(&'static str),
    Channel(i64, &'static str),
}

impl Topic {
    pub fn destination(self) -> String {
        match self {
            Topic::User(name) => format!("/user/topic/{name}"),
            Topic::Channel(id, name) => format!("/topic/channels/{id}/{name}"),
        }
    }
}

/// What a destination names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// `/user/queue/errors`: where relay and action failures go.
    Errors,
    Topic(Topic),
    /// A one-shot request: `owner` and `name` as in [`relay`].
    Relay(Owner, String),
    /// A write: `owner` and `name` as in [`action`].
    Action(Owner, String),
}

/// Whose relay or action it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The session's own user.
    Me,
    Channel(i64),
    User(i64),
    Message(i64),
    /// A thread: a channel's MAIN thread, a message's replies, or a STANDALONE one.
    Thread(i64),
}

fn base(owner: Owner) -> String {
    match owner {
        Owner::Me => "/application/user".into(),
        Owner::Channel(id) => format!("/application/channels/{id}"),
        Owner::User(id) => format!("/application/users/{id}"),
        Owner::Message(id) => format!("/application/messages/{id}"),
        Owner::Thread(id) => format!("/application/threads/{id}"),
    }
}

/// A relay's destination: `/application/channels/7.relay` for the resource itself (`name` ""),
/// `/application/channels/7/messages.relay` for one of its lists.
pub fn relay(owner: Owner, name: &str) -> String {
    match name {
        "" => format!("{}.relay", base(owner)),
        // The client appends a sort string to these (contract §5.7, 16): end in a query.
        "members" | "moderators" => format!("{}/{name}.relay?sort=", base(owner)),
        _ => format!("{}/{name}.relay", base(owner)),
    }
}

/// An action's destination: `/application/channels/7/message.action`.
pub fn action(owner: Owner, name: &str) -> String {
    format!("{}/{name}.action", base(owner))
}

fn owner_and_name(path: &str) -> Option<(Owner, String)> {
    if path == "/application/user" {
        return Some((Owner::Me, String::new()));
    }
    if let Some(name) = path.strip_prefix("/application/user/") {
        return Some((Owner::Me, name.to_string()));
    }
    // The fixed grant relays: `/application/user.write_file_access_grant.relay`.
    if let Some(name) = path.strip_prefix("/application/user.") {
        return Some((Owner::Me, name.to_string()));
    }
    let (kind, rest) = path.strip_prefix("/application/")?.split_once('/')?;
    let (id, name) = match rest.split_once('/') {
        Some((id, name)) => (id, name),
        None => (rest, ""),
    };
    let id: i64 = id.parse().ok()?;
    let owner = match kind {
        "channels" => Owner::Channel(id),
        "users" => Owner::User(id),
        "messages" => Owner::Message(id),
        "threads" => Owner::Thread(id),
        _ => return None,
    };
    Some((owner, name.to_string()))
}

/// Reads a destination; `None` for one this server never gives out.
pub fn parse(dest: &str) -> Option<Dest> {
    if dest == "/user/queue/errors" {
        return Some(Dest::Errors);
    }
    if let Some(name) = dest.strip_prefix("/user/topic/") {
        return USER_TOPICS
            .iter()
            .find(|t| **t == name)
            .map(|t| Dest::Topic(Topic::User(t)));
    }
    if let Some(rest) = dest.strip_prefix("/topic/channels/") {
        let (id, name) = rest.split_once('/')?;
        let id: i64 = id.parse().ok()?;
        return CHANNEL_TOPICS
            .iter()
            .find(|t| **t == name)
            .map(|t| Dest::Topic(Topic::Channel(id, t)));
    }
    // A sort string may follow the relays that end in `?sort=`.
    let path = dest.split_once('?').map_or(dest, |(p, _)| p);
    if let Some(p) = path.strip_suffix(".relay") {
        let (owner, name) = owner_and_name(p)?;
        return Some(Dest::Relay(owner, name));
    }
    if let Some(p) = path.strip_suffix(".action") {
        let (owner, name) = owner_and_name(p)?;
        return Some(Dest::Action(owner, name));
    }
    None
}

/// The sort string a member or moderator relay was asked with (`user.displayName,asc`).
pub fn sort_of(dest: &str) -> Option<&str> {
    let (_, q) = dest.split_once('?')?;
    q.strip_prefix("sort=").filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_destinations_parse() {
        assert_eq!(
            parse("/application/user.relay"),
            Some(Dest::Relay(Owner::Me, String::new()))
        );
        assert_eq!(
            parse("/application/user.write_file_access_grant.relay"),
            Some(Dest::Relay(Owner::Me, "write_file_access_grant".into()))
        );
        assert_eq!(
            parse("/application/channels/12.relay"),
            Some(Dest::Relay(Owner::Channel(12), String::new()))
        );
        assert_eq!(
            parse("/application/users/3.relay"),
            Some(Dest::Relay(Owner::User(3), String::new()))
        );
        assert_eq!(parse("/user/queue/errors"), Some(Dest::Errors));
    }

    #[test]
    fn what_is_given_out_parses_back() {
        for owner in [
            Owner::Me,
            Owner::Channel(7),
            Owner::User(2),
            Owner::Message(9),
            Owner::Thread(4),
        ] {
            for name in ["", "messages", "members", "channels.count"] {
                assert_eq!(
                    parse(&relay(owner, name)),
                    Some(Dest::Relay(owner, name.to_string()))
                );
            }
            assert_eq!(
                parse(&action(owner, "message")),
                Some(Dest::Action(owner, "message".into()))
            );
        }
        for t in USER_TOPICS {
            let topic = Topic::User(t);
            assert_eq!(parse(&topic.destination()), Some(Dest::Topic(topic)));
        }
        let topic = Topic::Channel(4, "typing");
        assert_eq!(parse(&topic.destination()), Some(Dest::Topic(topic)));
    }

    #[test]
    fn a_sort_string_appended_by_the_client_is_read() {
        let d = format!(
            "{}user.displayName,asc",
            relay(Owner::Channel(5), "members")
        );
        assert_eq!(
            parse(&d),
            Some(Dest::Relay(Owner::Channel(5), "members".into()))
        );
        assert_eq!(sort_of(&d), Some("user.displayName,asc"));
    }

    #[test]
    fn unknown_destinations_are_none() {
        for d in [
            "/topic/other",
            "/user/topic/nope",
            "/topic/channels/x/messages",
            "/topic/channels/1/nope",
            "/application/things/1.relay",
            "/application/channels/abc.relay",
            "/queue/x",
            "",
        ] {
            assert_eq!(parse(d), None, "{d}");
        }
    }
}
