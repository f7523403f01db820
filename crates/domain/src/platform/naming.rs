//! Field naming. Resources are built in snake_case; a response goes out in camelCase when the
//! caller asked through `/v1` without ChatKitty's own media type (contract §0.2). Requests are
//! accepted in either naming and read as snake_case.

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

fn rename(v: Value, f: &dyn Fn(&str) -> String, fixed: &[&str]) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                if OPAQUE.contains(&k.as_str()) || k == "_links" {
                    out.insert(
                        if fixed.contains(&k.as_str()) {
                            k
                        } else {
                            f(&k)
                        },
                        v,
                    );
                } else if fixed.contains(&k.as_str()) {
                    out.insert(k, rename(v, f, fixed));
                } else {
                    out.insert(f(&k), rename(v, f, fixed));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|i| rename(i, f, fixed)).collect())
        }
        other => other,
    }
}

/// A snake_case resource in the requested naming.
pub fn render(v: Value, naming: Naming) -> Value {
    match naming {
        Naming::Snake => v,
        Naming::Camel => rename(v, &to_camel, FIXED),
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
        assert_eq!(
            render(v, Naming::Camel),
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
