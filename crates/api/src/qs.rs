//! Query strings the way LoopBack's express reads them (`qs` with depth 5 and arrayLimit 1000):
//! `filter[where][status]=draft&filter[limit]=10` becomes nested JSON whose leaves are strings.

use serde_json::{Map, Value};

/// How many bracket levels are split; deeper ones stay one literal key (qs' default depth).
const MAX_DEPTH: usize = 5;
/// The largest index that still makes a list rather than an object key.
const ARRAY_LIMIT: usize = 1000;

/// Parses a raw query string (or an urlencoded body) into a JSON object.
pub fn parse(query: &str) -> Map<String, Value> {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let path = split_key(&key);
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    match compact(root) {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

/// The value of `name` when [`parse`] would make it one string (given once, without brackets),
/// found without building the rest: a request's token is looked for in every query string.
pub fn scalar(query: &str, name: &str) -> Option<String> {
    let mut found = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if *key == *name {
            if found.is_some() {
                // Twice: a list.
                return None;
            }
            found = Some(value.into_owned());
        } else if key
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('['))
        {
            // `name[…]`: an object or a list.
            return None;
        }
    }
    found
}

/// `a[b][c]` → `["a", "b", "c"]`; `a[]` → `["a", ""]`; past the depth limit the rest of the key
/// is kept whole, brackets included.
fn split_key(key: &str) -> Vec<String> {
    let Some(open) = key.find('[').filter(|&i| i > 0) else {
        return vec![key.to_string()];
    };
    let mut parts = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while parts.len() <= MAX_DEPTH {
        let Some(close) = rest.find(']').filter(|_| rest.starts_with('[')) else {
            break;
        };
        parts.push(rest[1..close].to_string());
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((head, tail)) = path.split_first() else {
        return;
    };
    let Value::Object(map) = node else { return };
    // `a[]=x` appends: give it the next free numeric key; lists are made by `compact`.
    let key = if head.is_empty() {
        next_index(map).to_string()
    } else {
        head.clone()
    };
    if tail.is_empty() {
        match map.get_mut(&key) {
            // A repeated key becomes a list, as in qs (`a=1&a=2`).
            Some(Value::Array(items)) => items.push(value),
            Some(existing @ Value::String(_)) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            _ => {
                map.insert(key, value);
            }
        }
        return;
    }
    let child = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        // `a=1&a[b]=2`: qs keeps both; the object form wins here, holding the scalar under "0".
        let scalar = child.take();
        let mut m = Map::new();
        m.insert("0".into(), scalar);
        *child = Value::Object(m);
    }
    insert(child, tail, value);
}

fn next_index(map: &Map<String, Value>) -> usize {
    // Only list-sized indexes count; a huge one (`a[18446744073709551615]`) is an object key.
    map.keys()
        .filter_map(|k| k.parse::<usize>().ok())
        .filter(|&i| i <= ARRAY_LIMIT)
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

/// Turns objects whose keys are all small indexes into lists, in index order.
fn compact(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let all_indexes = !map.is_empty()
                && map
                    .keys()
                    .all(|k| k.parse::<usize>().is_ok_and(|i| i <= ARRAY_LIMIT));
            if all_indexes {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .filter_map(|(k, v)| k.parse::<usize>().ok().map(|i| (i, compact(v))))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, compact(v))).collect())
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scalar_is_what_the_whole_parse_makes_a_string() {
        for q in [
            "access_token=abc",
            "filter=%7B%7D&access_token=a%20b&x=1",
            "access_token=a&access_token=b",
            "access_token[x]=a",
            "access_token=a&access_token[]=b",
            "access_token%5Bx%5D=a",
            "access_token[=a",
            "access_token]=a",
            "%61ccess_token=a+b",
            "access_tokens=a",
            "[access_token]=a",
            "access_token=",
            "",
            "x=1",
        ] {
            let whole = match parse(q).get("access_token") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            assert_eq!(scalar(q, "access_token"), whole, "{q}");
        }
        assert_eq!(
            scalar("%61ccess_token=a+b", "access_token").as_deref(),
            Some("a b")
        );
        assert_eq!(
            scalar("access_token=a&access_token=b", "access_token"),
            None
        );
    }

    #[test]
    fn brackets_nest() {
        let q = parse("filter[where][status]=draft&filter[limit]=10");
        assert_eq!(
            Value::Object(q),
            json!({"filter": {"where": {"status": "draft"}, "limit": "10"}})
        );
    }

    #[test]
    fn indexes_and_empty_brackets_make_lists() {
        let q = parse("filter[where][status][inq][0]=draft&filter[where][status][inq][1]=publish");
        assert_eq!(
            q["filter"]["where"]["status"]["inq"],
            json!(["draft", "publish"])
        );
        let q = parse("a[]=x&a[]=y");
        assert_eq!(q["a"], json!(["x", "y"]));
        let q = parse("a[3]=x&a[1]=y");
        assert_eq!(
            q["a"],
            json!(["y", "x"]),
            "sparse indexes are compacted in order"
        );
    }

    #[test]
    fn past_depth_five_the_key_stays_literal() {
        let q = parse("filter[where][and][0][views][gt]=5");
        assert_eq!(q["filter"]["where"]["and"][0]["views"]["gt"], json!("5"));
        let q = parse("a[b][c][d][e][f][g]=1");
        assert_eq!(q["a"]["b"]["c"]["d"]["e"]["f"], json!({"[g]": "1"}));
    }

    #[test]
    fn percent_and_plus_decode_and_plain_values_stay_strings() {
        let q = parse("filter=%7B%22limit%22%3A1%7D&x=a+b");
        assert_eq!(q["filter"], json!("{\"limit\":1}"));
        assert_eq!(q["x"], json!("a b"));
    }

    #[test]
    fn a_huge_index_then_an_append_does_not_overflow() {
        let q = parse("x[18446744073709551615]=1&x[]=2");
        assert_eq!(q["x"], json!({"18446744073709551615": "1", "0": "2"}));
    }

    #[test]
    fn big_indexes_make_objects() {
        let q = parse("a[1001]=x");
        assert_eq!(q["a"], json!({"1001": "x"}));
    }
}
