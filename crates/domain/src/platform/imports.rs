//! The elements of import files (ChatKitty's `ChatUserImport`, `ChannelImport`,
//! `ChannelMembershipImport`, `MessageImport`), parsed once from each JSON array element. An
//! element that does not parse is reported with the reason, and the import goes on.

use serde::Deserialize;
use serde_json::{Map, Value};

/// What an import file holds, and the job that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportTarget {
    Users,
    Channels,
    /// The members of one channel.
    ChannelMembers,
    Messages,
}

impl ImportTarget {
    /// The name idempotency keys are kept under: a key is unique per application and target.
    pub fn key_kind(self) -> &'static str {
        match self {
            ImportTarget::Users => "user",
            ImportTarget::Channels => "channel",
            ImportTarget::ChannelMembers => "channel_member",
            ImportTarget::Messages => "message",
        }
    }
}

/// `FileImport`: a file by reference (kept as an external URL).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileImport {
    pub url: String,
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// `ChatUserImport`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserImport {
    pub name: String,
    pub display_name: Option<String>,
    /// ChatKitty's field is `guest`; the Python client writes `isGuest`.
    #[serde(default, alias = "isGuest", alias = "is_guest")]
    pub guest: bool,
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
    pub display_picture: Option<FileImport>,
    /// The Python client calls it `id` (an external id).
    #[serde(alias = "id")]
    pub idempotency_key: Option<String>,
}

/// `ChannelImport`, by `type`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelImport {
    Direct(ChannelImportFields),
    Public(ChannelImportFields),
    Private(ChannelImportFields),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChannelImportFields {
    /// Usernames.
    pub members: Vec<String>,
    /// A username.
    pub creator: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
    pub idempotency_key: Option<String>,
}

impl ChannelImport {
    pub fn type_name(&self) -> &'static str {
        match self {
            ChannelImport::Direct(_) => "DIRECT",
            ChannelImport::Public(_) => "PUBLIC",
            ChannelImport::Private(_) => "PRIVATE",
        }
    }

    pub fn fields(&self) -> &ChannelImportFields {
        match self {
            ChannelImport::Direct(f) | ChannelImport::Public(f) | ChannelImport::Private(f) => f,
        }
    }
}

/// `ChannelMembershipImport`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MembershipImport {
    pub username: String,
    pub idempotency_key: Option<String>,
}

/// `MessageImport`, by `type`: `TEXT` from a user, `SYSTEM_TEXT` from nobody.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageImport {
    Text {
        channel_id: i64,
        body: String,
        /// The sender's username.
        user: String,
        group_tag: Option<String>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
        idempotency_key: Option<String>,
    },
    SystemText {
        channel_id: i64,
        body: String,
        group_tag: Option<String>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
        idempotency_key: Option<String>,
    },
}

impl MessageImport {
    pub fn channel_id(&self) -> i64 {
        match self {
            MessageImport::Text { channel_id, .. }
            | MessageImport::SystemText { channel_id, .. } => *channel_id,
        }
    }
}

/// Parses one element, in either naming (`display_name` or `displayName`, as the clients of
/// each generation write them; keys inside `properties` stay as they are), or says in a
/// sentence why it is not one: the field at fault, from serde's message without its line and
/// column (an element is one value of a long file).
pub fn parse_element<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, String> {
    if !v.is_object() {
        return Err("the element is not a JSON object".into());
    }
    serde_json::from_value(super::naming::read(v)).map_err(|e| {
        let text = e.to_string();
        match text.find(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        }
    })
}

/// The idempotency key an element carries, read before it is parsed, so that even an element
/// that fails to parse is reported with its key.
pub fn key_of(v: &Value) -> Option<String> {
    match v.get("idempotency_key").or_else(|| v.get("idempotencyKey")) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn elements_parse_into_their_typed_shapes() {
        let u: UserImport = parse_element(json!({
            "name": "imp1", "display_name": "I1", "guest": true, "properties": {"a": 1},
            "display_picture": {"url": "https://x.test/a.png", "name": "a.png",
                                "content_type": "image/png", "size": 3},
            "idempotency_key": "u-1"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(u.guest);
        assert_eq!(u.idempotency_key.as_deref(), Some("u-1"));
        assert_eq!(
            u.display_picture.map(|f| f.url).as_deref(),
            Some("https://x.test/a.png")
        );

        let c: ChannelImport =
            parse_element(json!({"type": "PUBLIC", "name": "imp-ch", "members": ["alice"]}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.type_name(), "PUBLIC");
        assert_eq!(c.fields().members, vec!["alice".to_string()]);

        let m: MessageImport = parse_element(json!({
            "type": "SYSTEM_TEXT", "channel_id": 7, "body": "hello"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.channel_id(), 7);

        // camelCase, as the Node platform SDK and the Python client write elements.
        let m: MessageImport = parse_element(json!({
            "type": "TEXT", "channelId": 7, "body": "hi", "user": "ann", "groupTag": "g",
            "properties": {"keepMe": 1}, "idempotencyKey": "m-1"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let MessageImport::Text {
            group_tag,
            properties,
            idempotency_key,
            ..
        } = m
        else {
            panic!("a TEXT message");
        };
        assert_eq!(group_tag.as_deref(), Some("g"));
        assert_eq!(idempotency_key.as_deref(), Some("m-1"));
        assert_eq!(properties.unwrap_or_default()["keepMe"], 1);
        let u: UserImport =
            parse_element(json!({"name": "ann", "displayName": "Ann", "isGuest": true}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.display_name.as_deref(), Some("Ann"));
        assert!(u.guest);
    }

    #[test]
    fn a_bad_element_says_what_is_wrong_without_a_position() {
        let e = parse_element::<UserImport>(json!({"display_name": "x"})).unwrap_err();
        assert_eq!(e, "missing field `name`");
        let e =
            parse_element::<ChannelImport>(json!({"type": "GROUP", "members": []})).unwrap_err();
        assert!(e.starts_with("unknown variant `GROUP`"), "{e}");
        let e = parse_element::<MessageImport>(json!({"type": "TEXT", "channel_id": "x",
            "body": "b", "user": "u"}))
        .unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        let e = parse_element::<MembershipImport>(json!(["bob"])).unwrap_err();
        assert_eq!(e, "the element is not a JSON object");
        assert_eq!(key_of(&json!({"idempotency_key": 5})).as_deref(), Some("5"));
    }
}
