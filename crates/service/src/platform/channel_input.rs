//! Validated channel request bodies and list filters, read once at the edge.

use palaver_domain::time::parse_date;
use palaver_domain::{DomainError, ErrorCode};
use serde_json::{Map, Value};

pub(crate) fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, message)
}

const MAX_NAME_CHARS: usize = 255;

/// The three channel types.
pub const CHANNEL_TYPES: [&str; 3] = ["PUBLIC", "PRIVATE", "DIRECT"];

/// A validated `POST /channels` body. User references are resolved by the service.
#[derive(Debug, Clone)]
pub struct NewChannelInput {
    pub r#type: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator: Option<Value>,
    pub members: Vec<Value>,
    pub properties: Value,
}

fn text(obj: &Map<String, Value>, k: &str) -> Result<Option<String>, DomainError> {
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

impl NewChannelInput {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        let obj = object(body)?;
        let r#type = text(obj, "type")?
            .ok_or_else(|| invalid("type is required: PUBLIC, PRIVATE or DIRECT"))?;
        if !CHANNEL_TYPES.contains(&r#type.as_str()) {
            return Err(invalid(format!(
                "type must be PUBLIC, PRIVATE or DIRECT, not \"{type}\""
            )));
        }
        let name = text(obj, "name")?;
        if let Some(n) = &name {
            if n.trim().is_empty() || n.chars().count() > MAX_NAME_CHARS {
                return Err(invalid(format!(
                    "name must be 1 to {MAX_NAME_CHARS} characters"
                )));
            }
        }
        let display_name = text(obj, "display_name")?.filter(|d| !d.trim().is_empty());
        let members = match obj.get("members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            // A JavaScript Set serialises as `{}`: the official client sends that for a Set.
            Some(Value::Object(o)) if o.is_empty() => Vec::new(),
            Some(_) => return Err(invalid("members must be a list of user references")),
        };
        let properties = match obj.get("properties") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(_) => return Err(invalid("properties must be a JSON object")),
        };
        Ok(NewChannelInput {
            r#type,
            name,
            display_name,
            creator: obj.get("creator").filter(|c| !c.is_null()).cloned(),
            members,
            properties,
        })
    }
}

/// A validated merge patch of a channel.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub display_name: Option<String>,
    /// A merge patch of the properties (`null` clears them).
    pub properties: Option<Value>,
}

impl ChannelPatch {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        if body.is_null() {
            return Ok(ChannelPatch::default());
        }
        let obj = object(body)?;
        let display_name = text(obj, "display_name")?;
        if display_name.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err(invalid("display_name cannot be blank"));
        }
        let properties = match obj.get("properties") {
            None => None,
            Some(p @ (Value::Object(_) | Value::Null)) => Some(p.clone()),
            Some(_) => return Err(invalid("properties must be a JSON object")),
        };
        Ok(ChannelPatch {
            display_name,
            properties,
        })
    }
}

/// Filters of `GET /channels`, as the query string gave them.
#[derive(Debug, Clone, Default)]
pub struct ChannelsQuery {
    pub r#type: Option<String>,
    pub members: Vec<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub properties: Option<String>,
}

/// The filters, validated.
pub(crate) struct ParsedChannelsQuery {
    pub r#type: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub properties: Map<String, Value>,
}

fn time(v: &Option<String>, name: &str) -> Result<Option<i64>, DomainError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(s).map(Some).ok_or_else(|| {
            invalid(format!(
                "{name} must be an ISO-8601 date-time such as 2024-05-01T10:00:00Z, not \"{s}\""
            ))
        }),
    }
}

impl ChannelsQuery {
    pub(crate) fn parse(&self) -> Result<ParsedChannelsQuery, DomainError> {
        let r#type = match self.r#type.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) if CHANNEL_TYPES.contains(&t) => Some(t.to_string()),
            Some(t) => {
                return Err(invalid(format!(
                    "type must be PUBLIC, PRIVATE or DIRECT, not \"{t}\""
                )))
            }
        };
        let properties = match self.properties.as_deref().map(str::trim) {
            None | Some("") => Map::new(),
            Some(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(invalid(
                        "properties must be a JSON object, e.g. {\"topic\":\"x\"}",
                    ))
                }
            },
        };
        Ok(ParsedChannelsQuery {
            r#type,
            start: time(&self.start_time, "start_time")?,
            end: time(&self.end_time, "end_time")?,
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_object_of_members_is_an_empty_list() {
        let i = NewChannelInput::from_body(&json!({"type": "PUBLIC", "members": {}})).unwrap();
        assert!(i.members.is_empty());
        assert!(
            NewChannelInput::from_body(&json!({"type": "PUBLIC", "members": {"a": 1}})).is_err()
        );
    }

    #[test]
    fn type_is_required_and_known() {
        assert!(NewChannelInput::from_body(&json!({})).is_err());
        assert!(NewChannelInput::from_body(&json!({"type": "GROUP"})).is_err());
    }

    #[test]
    fn bad_times_are_refused() {
        let q = ChannelsQuery {
            start_time: Some("yesterday".into()),
            ..ChannelsQuery::default()
        };
        assert!(q.parse().is_err());
    }
}
