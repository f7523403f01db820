//! LoopBack-shaped validation errors: collect per-property failures, then turn them into the 422
//! `ValidationError` with its `details {context, codes, messages}` and its one-line message.

use serde_json::{json, Map, Value};

use crate::error::{DomainError, ErrorCode};

/// How long a string value may be in the message before it is cut (juggler's default).
const MAX_VALUE_CHARS: usize = 32;

/// The failures found in one instance of one model.
#[derive(Debug, Default)]
pub struct Validation {
    context: &'static str,
    failures: Vec<(String, String, String, Option<Value>)>,
}

impl Validation {
    pub fn new(context: &'static str) -> Self {
        Self {
            context,
            failures: Vec::new(),
        }
    }

    /// Records that `prop` failed rule `code` with `message`; `value` is what was sent
    /// (`None` when the property was absent).
    pub fn fail(&mut self, prop: &str, code: &str, message: &str, value: Option<&Value>) {
        self.failures
            .push((prop.into(), code.into(), message.into(), value.cloned()));
    }

    /// The presence rule: `can't be blank`.
    pub fn require(&mut self, doc: &Map<String, Value>, prop: &str) {
        match doc.get(prop) {
            None | Some(Value::Null) => {
                self.fail(prop, "presence", "can't be blank", doc.get(prop))
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.fail(prop, "presence", "can't be blank", doc.get(prop))
            }
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }

    /// `Ok(())` when nothing failed, else the 422 error.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let mut codes = Map::new();
        let mut messages = Map::new();
        let mut parts = Vec::new();
        for (prop, code, message, value) in &self.failures {
            push(&mut codes, prop, code);
            push(&mut messages, prop, message);
            parts.push(format!(
                "`{prop}` {message} (value: {})",
                show(value.as_ref())
            ));
        }
        let message = format!(
            "The `{}` instance is not valid. Details: {}.",
            self.context,
            parts.join("; ")
        );
        Err(
            DomainError::new(ErrorCode::ValidationFailed, message).with_details(json!({
                "context": self.context,
                "codes": codes,
                "messages": messages,
            })),
        )
    }
}

fn push(map: &mut Map<String, Value>, key: &str, item: &str) {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = entry {
        a.push(Value::String(item.to_string()));
    }
}

/// Shows a value as juggler does in messages: strings quoted and cut, absent as `undefined`.
fn show(v: Option<&Value>) -> String {
    match v {
        None => "undefined".into(),
        Some(Value::String(s)) if s.chars().count() > MAX_VALUE_CHARS => {
            let cut: String = s.chars().take(MAX_VALUE_CHARS).collect();
            format!("{}...", serde_json::to_string(&cut).unwrap_or_default())
        }
        Some(Value::Object(_)) => "[object Object]".into(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_loopbacks_presence_error() {
        let mut v = Validation::new("flakes");
        v.require(&Map::new(), "title");
        let e = v.finish().unwrap_err();
        assert_eq!(e.code.status(), 422);
        assert_eq!(
            e.message,
            "The `flakes` instance is not valid. Details: `title` can't be blank (value: undefined)."
        );
        assert_eq!(
            e.details.unwrap(),
            json!({"context":"flakes","codes":{"title":["presence"]},"messages":{"title":["can't be blank"]}})
        );
    }

    #[test]
    fn reproduces_loopbacks_uniqueness_error() {
        let mut v = Validation::new("user");
        v.fail(
            "email",
            "uniqueness",
            "Email already exists",
            Some(&json!("alice@example.com")),
        );
        assert_eq!(
            v.finish().unwrap_err().message,
            "The `user` instance is not valid. Details: `email` Email already exists (value: \"alice@example.com\")."
        );
    }

    #[test]
    fn joins_several_failures() {
        let mut v = Validation::new("tags");
        v.fail("a", "x", "is bad", Some(&json!(1)));
        v.fail("a", "y", "is worse", None);
        let e = v.finish().unwrap_err();
        assert!(e
            .message
            .ends_with("`a` is bad (value: 1); `a` is worse (value: undefined)."));
        assert_eq!(e.details.unwrap()["codes"]["a"], json!(["x", "y"]));
    }

    #[test]
    fn nothing_failed_is_ok() {
        assert!(Validation::new("x").finish().is_ok());
    }
}
