//! Turning a request body into a model's writable fields: values coerced to each field's kind,
//! server-managed fields dropped, unknown ones refused with a LoopBack ValidationError.

use palaver_domain::js_date;
use palaver_domain::time::format_millis;
use palaver_domain::validation::Validation;
use palaver_domain::{DomainError, Kind, Model};
use serde_json::{Map, Value};

/// The body as an object, or a 400 in LoopBack's words.
pub(crate) fn object(body: &Value) -> Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| DomainError::bad_request("The request body must be a JSON object"))
}

/// The writable fields of `body` for `model`, coerced. Failures are recorded in `v` (422);
/// a non-list for a list field is a 400, as in LoopBack.
pub(crate) fn writable(
    model: &Model,
    body: &Map<String, Value>,
    v: &mut Validation,
) -> Result<Map<String, Value>, DomainError> {
    let mut out = Map::new();
    for (key, value) in body {
        let Some(field) = model.any_field(key) else {
            v.fail(
                key,
                "unknown-property",
                "is not defined in the model",
                Some(value),
            );
            continue;
        };
        if !field.writable {
            // Ids, parents and timestamps belong to the server; LoopBack clients often echo them.
            continue;
        }
        if let Some(coerced) = coerce(field.name, field.kind, value, v)? {
            out.insert(key.clone(), coerced);
        }
    }
    Ok(out)
}

fn coerce(
    name: &str,
    kind: Kind,
    value: &Value,
    v: &mut Validation,
) -> Result<Option<Value>, DomainError> {
    if value.is_null() {
        return Ok(Some(Value::Null));
    }
    let mut fail = |code: &str, message: &str| {
        v.fail(name, code, message, Some(value));
        Ok(None)
    };
    match kind {
        Kind::Id | Kind::Text => match value {
            Value::String(_) => Ok(Some(value.clone())),
            Value::Number(n) => Ok(Some(Value::String(n.to_string()))),
            Value::Bool(b) => Ok(Some(Value::String(b.to_string()))),
            _ => fail("type", "is not a string"),
        },
        Kind::Int => {
            let n = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) => Ok(Some(Value::from(n))),
                None => fail("type", "is not a whole number"),
            }
        }
        Kind::Bool => match value {
            Value::Bool(_) => Ok(Some(value.clone())),
            _ => fail("type", "is not a boolean"),
        },
        Kind::Date => {
            let ms = match value {
                // Read as LoopBack reads a date property: `new Date(s)`.
                Value::String(s) => js_date::parse(s),
                Value::Number(n) => n.as_i64(),
                _ => None,
            };
            match ms {
                Some(ms) => Ok(Some(Value::String(format_millis(ms)))),
                None => fail("date", "is not a valid date"),
            }
        }
        Kind::TextArray => match value {
            Value::Array(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => list.push(Value::String(s.clone())),
                        Value::Number(n) => list.push(Value::String(n.to_string())),
                        _ => return fail("type", "must hold only strings"),
                    }
                }
                Ok(Some(Value::Array(list)))
            }
            other => Err(DomainError::bad_request(format!(
                "could not create List from JSON string: {}",
                serde_json::to_string(other).unwrap_or_default()
            ))),
        },
        Kind::Json => Ok(Some(value.clone())),
    }
}
