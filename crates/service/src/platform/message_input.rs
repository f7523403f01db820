//! Validated message request bodies, read once at the edge, and what a message body mentions
//! (`@username`, `@channel`) and links to (http/https URLs), with their positions in characters.

use palaver_domain::DomainError;
use serde_json::{json, Map, Value};

use super::channel_input::invalid;

/// A validated `POST …/messages` body. The user reference is resolved by the service.
#[derive(Debug, Clone)]
pub struct NewMessageInput {
    /// `TEXT` or `FILE`.
    pub r#type: String,
    pub body: Option<String>,
    /// FILE: `{type: EXTERNAL, url, name, content_type, size}`.
    pub file: Option<Value>,
    pub group_tag: Option<String>,
    pub properties: Value,
    pub user: Option<Value>,
}

/// A validated `PATCH /messages/{id}` body.
#[derive(Debug, Clone, Default)]
pub struct MessagePatch {
    pub body: Option<String>,
    pub properties: Option<Value>,
}

fn string(obj: &Map<String, Value>, k: &str) -> Result<Option<String>, DomainError> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| invalid("the request body must be a JSON object"))
}

fn properties(obj: &Map<String, Value>) -> Result<Option<Value>, DomainError> {
    match obj.get("properties") {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(invalid("properties must be a JSON object")),
    }
}

fn file(v: Option<&Value>) -> Result<Value, DomainError> {
    let f = v
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("a FILE message needs file: {url, name, content_type, size}"))?;
    let need = |k: &str| {
        string(f, k)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| invalid(format!("file.{k} is required and must be a string")))
    };
    let size = f
        .get("size")
        .and_then(Value::as_i64)
        .filter(|s| *s >= 0)
        .ok_or_else(|| invalid("file.size is required: a size in bytes"))?;
    Ok(json!({
        "type": "EXTERNAL",
        "url": need("url")?,
        "name": need("name")?,
        "content_type": need("content_type")?,
        "size": size,
    }))
}

impl NewMessageInput {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        let obj = object(body)?;
        let kind = string(obj, "type")?
            .ok_or_else(|| invalid("type is required: TEXT or FILE"))?
            .to_ascii_uppercase();
        let (body, file) = match kind.as_str() {
            "TEXT" => (
                Some(string(obj, "body")?.ok_or_else(|| invalid("a TEXT message needs a body"))?),
                None,
            ),
            "FILE" => (None, Some(file(obj.get("file"))?)),
            _ => {
                return Err(invalid(format!(
                    "type must be TEXT or FILE, not \"{kind}\""
                )))
            }
        };
        Ok(Self {
            r#type: kind,
            body,
            file,
            group_tag: string(obj, "group_tag")?,
            properties: properties(obj)?.unwrap_or_else(|| json!({})),
            user: obj.get("user").filter(|u| !u.is_null()).cloned(),
        })
    }
}

impl MessagePatch {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        if body.is_null() {
            return Ok(Self::default());
        }
        let obj = object(body)?;
        Ok(Self {
            body: string(obj, "body")?,
            properties: properties(obj)?,
        })
    }
}

/// A `@tag` or URL found in a body: (start, end) in characters, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Whitespace-separated words of `body` with their character positions.
fn words(body: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, ch) in body.chars().enumerate() {
        if ch.is_whitespace() {
            if let Some((start, text)) = cur.take() {
                out.push(Span {
                    end: start + text.chars().count(),
                    text,
                    start,
                });
            }
        } else {
            cur.get_or_insert_with(|| (i, String::new())).1.push(ch);
        }
    }
    if let Some((start, text)) = cur {
        out.push(Span {
            end: start + text.chars().count(),
            text,
            start,
        });
    }
    out
}

/// `@name` tags: the name is the word after `@` without trailing punctuation.
pub(crate) fn mention_tags(body: &str) -> Vec<Span> {
    words(body)
        .into_iter()
        .filter_map(|w| {
            let rest = w.text.strip_prefix('@')?;
            let tag = rest.trim_end_matches(|c: char| ",.;:!?)]}'\"".contains(c));
            if tag.is_empty() {
                return None;
            }
            let len = tag.chars().count();
            Some(Span {
                text: tag.to_string(),
                start: w.start,
                end: w.start + 1 + len,
            })
        })
        .collect()
}

/// `http://` and `https://` URLs, without trailing punctuation.
pub(crate) fn link_spans(body: &str) -> Vec<Span> {
    words(body)
        .into_iter()
        .filter_map(|w| {
            let at = w.text.find("http://").or_else(|| w.text.find("https://"))?;
            let lead = w.text[..at].chars().count();
            let url = w.text[at..].trim_end_matches(|c: char| ",.;:!?)]}'\"".contains(c));
            if url.ends_with("//") {
                return None;
            }
            let start = w.start + lead;
            Some(Span {
                text: url.to_string(),
                start,
                end: start + url.chars().count(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_links_have_character_positions() {
        let body = "hé @alice, see https://example.com/x. @channel!";
        let tags = mention_tags(body);
        assert_eq!(
            tags.iter()
                .map(|t| (t.text.as_str(), t.start, t.end))
                .collect::<Vec<_>>(),
            [("alice", 3, 9), ("channel", 38, 46)]
        );
        let links = link_spans(body);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].text, "https://example.com/x");
        assert_eq!((links[0].start, links[0].end), (15, 36));
        assert!(mention_tags("mail@example.com @ @@")
            .iter()
            .all(|t| t.text == "@"));
    }

    #[test]
    fn bodies_are_validated() {
        assert!(NewMessageInput::from_body(&json!({"type": "TEXT"})).is_err());
        assert!(
            NewMessageInput::from_body(&json!({"type": "FILE", "file": {"url": "u"}})).is_err()
        );
        let f = NewMessageInput::from_body(&json!({"type": "FILE", "file":
            {"url": "https://x/a.png", "name": "a.png", "content_type": "image/png", "size": 3}}))
        .ok()
        .and_then(|m| m.file);
        assert_eq!(f.map(|f| f["type"].clone()), Some(json!("EXTERNAL")));
        assert!(NewMessageInput::from_body(&json!({"type": "VIDEO"})).is_err());
    }
}
