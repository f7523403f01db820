//! Field naming. Resources are built in snake_case; a response goes out in camelCase when the
//! caller asked through `/v1` without ChatKitty's own media type (contract §0.2). Requests are
//! accepted in either naming and read as snake_case.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Which naming a response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Snake,
    Camel,
}

/// Keys that are the same in both namings.
const FIXED: &[&str] = &[
    "_links",
    "_embedded",
    "_relays",
    "_topics",
    "_actions",
    "_streams",
    "isGuest",
    "error_description",
];

/// Keys whose values are user data (free maps): their own keys are never renamed.
const OPAQUE: &[&str] = &[
    "properties",
    "secret",
    "environment_variables",
    "environmentVariables",
    "args",
    "result",
];

/// `display_name` → `displayName`.
pub fn to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `displayName` → `display_name`.
pub fn to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// True when the keys inside `key`'s value are renamed with it (false for user data and links).
pub fn renames_inside(key: &str) -> bool {
    !(OPAQUE.contains(&key) || key == "_links")
}

fn rename(v: Value, f: &dyn Fn(&str) -> String, fixed: &[&str]) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let inside = renames_inside(&k);
                let key = if fixed.contains(&k.as_str()) {
                    k
                } else {
                    f(&k)
                };
                out.insert(key, if inside { rename(v, f, fixed) } else { v });
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|i| rename(i, f, fixed)).collect())
        }
        other => other,
    }
}

/// The name a snake_case resource key goes out under in `naming`.
pub fn out_key(key: &str, naming: Naming) -> Cow<'_, str> {
    match naming {
        Naming::Camel if !FIXED.contains(&key) => Cow::Owned(to_camel(key)),
        _ => Cow::Borrowed(key),
    }
}

/// A snake_case resource written in the requested naming as it is serialised: no renamed copy
/// is built.
pub struct Rendered<'a> {
    pub value: &'a Value,
    pub naming: Naming,
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.naming, self.value) {
            (Naming::Snake, v) => v.serialize(s),
            (naming, Value::Object(map)) => {
                let mut out = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    let key = out_key(k, naming);
                    if renames_inside(k) {
                        out.serialize_entry(&key, &Rendered { value: v, naming })?;
                    } else {
                        out.serialize_entry(&key, v)?;
                    }
                }
                out.end()
            }
            (naming, Value::Array(items)) => {
                s.collect_seq(items.iter().map(|value| Rendered { value, naming }))
            }
            (_, v) => v.serialize(s),
        }
    }
}

/// A request body in either naming, read as snake_case (`isGuest` becomes `is_guest`).
pub fn read(v: Value) -> Value {
    rename(v, &to_snake, &["_links", "_embedded"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_keys_both_ways() {
        assert_eq!(to_camel("display_picture_url"), "displayPictureUrl");
        assert_eq!(to_snake("displayPictureUrl"), "display_picture_url");
        assert_eq!(to_camel("id"), "id");
        assert_eq!(to_snake("isGuest"), "is_guest");
    }

    #[test]
    fn renders_camel_but_keeps_fixed_keys_and_user_maps() {
        let v = json!({
            "display_name": "A", "isGuest": false, "properties": {"my_key": 1},
            "_links": {"self": {"href": "x"}}, "page": {"total_elements": 3},
            "_embedded": {"users": [{"created_time": "t"}]}
        });
        let rendered = |naming| serde_json::to_value(Rendered { value: &v, naming }).unwrap();
        assert_eq!(rendered(Naming::Snake), v);
        assert_eq!(
            rendered(Naming::Camel),
            json!({
                "displayName": "A", "isGuest": false, "properties": {"my_key": 1},
                "_links": {"self": {"href": "x"}}, "page": {"totalElements": 3},
                "_embedded": {"users": [{"createdTime": "t"}]}
            })
        );
    }

    #[test]
    fn reads_either_naming_as_snake() {
        let v = json!({"displayName": "A", "isGuest": true, "properties": {"fooBar": 1}, "presence": {"status": "X"}});
        assert_eq!(
            read(v),
            json!({"display_name": "A", "is_guest": true, "properties": {"fooBar": 1}, "presence": {"status": "X"}})
        );
        assert_eq!(
            read(json!({"display_name": "A"})),
            json!({"display_name": "A"})
        );
    }
}
