//! Filter trees for the content API's two query forms, and the invariants every parsed filter
//! keeps (what the store's SQL compiler relies on).

use arbitrary::Arbitrary;
use palaver_domain::filter::{Filter, Scalar, Test, Where};
use palaver_domain::models;
use palaver_domain::{Kind, Model};
use serde_json::{Map, Value};

/// A content model picked by the fuzzer.
pub fn model(pick: u8) -> &'static Model {
    models::ALL[usize::from(pick) % models::ALL.len()]
}

/// Keys the parser gives meaning to, so that trees reach past "unknown property" quickly.
const KEYS: &[&str] = &[
    "where",
    "fields",
    "order",
    "limit",
    "skip",
    "offset",
    "include",
    "relation",
    "scope",
    "and",
    "or",
    "nor",
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "inq",
    "nin",
    "like",
    "nlike",
    "ilike",
    "nilike",
    "regexp",
    "options",
    "id",
    "name",
    "title",
    "status",
    "tags",
    "created",
    "modified",
    "publish_at",
    "author_name",
    "bot_id",
    "organisation_id",
    "email",
    "username",
    "role",
    "category",
    "description",
    "bullet_points",
    "emailVerified",
    "bot",
    "bots",
    "user",
    "users",
    "organisation",
    "flakes",
    "categories",
    "channels",
    "$where",
    "$gt",
];

/// Leaf values that coerce in interesting ways.
const LEAVES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "true",
    "false",
    "null",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x1f",
    "1e3",
    "1.5",
    "2020",
    "2020-01-01T00:00:00Z",
    " 7 ",
    "%",
    "_",
    "a%b_",
    "/ab+c/i",
    "/(/",
    "[",
    "DESC",
    "title DESC",
    "name ASC, id",
    "9007199254740993",
    "18446744073709551616",
];

/// A key of a filter tree: one the parser knows, or any other the fuzzer makes.
#[derive(Debug, Arbitrary)]
pub enum Key {
    Known(u8),
    Other(String),
}

impl Key {
    /// The key, or None when the bracket form cannot write it as the JSON form does (brackets
    /// split keys, indexes make lists, an empty key appends).
    fn text(&self) -> Option<String> {
        let k = match self {
            Key::Known(i) => KEYS[usize::from(*i) % KEYS.len()].to_string(),
            Key::Other(s) => s.clone(),
        };
        let writable = !k.is_empty()
            && !k.contains(['[', ']'])
            && k.parse::<usize>().is_err()
            && !k.starts_with(['\u{feff}']);
        writable.then_some(k)
    }
}

/// A leaf: one of [`LEAVES`], or any text.
#[derive(Debug, Arbitrary)]
pub enum Leaf {
    Known(u8),
    Other(String),
}

impl Leaf {
    fn text(&self) -> String {
        match self {
            Leaf::Known(i) => LEAVES[usize::from(*i) % LEAVES.len()].to_string(),
            Leaf::Other(s) => s.clone(),
        }
    }
}

/// A filter tree whose leaves are strings: what a query string can say.
#[derive(Debug, Arbitrary)]
pub enum Node {
    Leaf(Leaf),
    Object(Vec<(Key, Node)>),
    List(Vec<Node>),
}

/// Levels of brackets below the parameter's name that the query-string parser splits (qs'
/// depth); a deeper tree is not written in bracket form the same way.
pub const BRACKET_DEPTH: usize = 5;

impl Node {
    /// The tree as JSON, dropping what the bracket form cannot write: empty objects and lists,
    /// keys it cannot spell, repeated keys, levels past [`BRACKET_DEPTH`], long lists.
    pub fn to_json(&self, depth: usize) -> Option<Value> {
        match self {
            Node::Leaf(l) => Some(Value::String(l.text())),
            _ if depth >= BRACKET_DEPTH => None,
            Node::Object(entries) => {
                let mut map = Map::new();
                for (key, node) in entries {
                    let Some(k) = key.text() else { continue };
                    if map.contains_key(&k) {
                        continue;
                    }
                    if let Some(v) = node.to_json(depth + 1) {
                        map.insert(k, v);
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Node::List(items) => {
                let items: Vec<Value> = items
                    .iter()
                    .take(20)
                    .filter_map(|n| n.to_json(depth + 1))
                    .collect();
                (!items.is_empty()).then_some(Value::Array(items))
            }
        }
    }
}

/// `name` = `value` in bracket form: `name[a][b]=x&name[a][c][0]=y`.
pub fn bracket_query(name: &str, value: &Value) -> String {
    let mut pairs = Vec::new();
    let mut path = vec![name.to_string()];
    collect(&mut path, value, &mut pairs);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

fn collect(path: &mut Vec<String>, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                collect(path, v, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                collect(path, v, out);
                path.pop();
            }
        }
        Value::String(s) => {
            let (head, rest) = path
                .split_first()
                .map_or(("", &[][..]), |(h, r)| (h.as_str(), r));
            let key = rest
                .iter()
                .fold(head.to_string(), |k, p| format!("{k}[{p}]"));
            out.push((key, s.clone()));
        }
        _ => {}
    }
}

/// `name` = `value` in JSON form: `name={"a":…}`, urlencoded.
pub fn json_query(name: &str, value: &Value) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair(name, &value.to_string());
    out.finish()
}

/// Panics unless `filter` keeps what the store relies on: fields of its model only, values it
/// can bind, operators on the kinds they apply to, limits that fit a signed 64-bit `LIMIT`, and
/// the same of every included relation's scope.
pub fn check_filter(model: &'static Model, filter: &Filter) {
    check_where(model, &filter.r#where);
    let max = i64::MAX as u64;
    assert!(
        filter.limit.is_none_or(|l| (1..=max).contains(&l)),
        "limit {:?}",
        filter.limit
    );
    assert!(filter.skip <= max, "skip {}", filter.skip);
    for order in &filter.order {
        assert!(
            order.field.kind.is_scalar(),
            "order by {}",
            order.field.name
        );
        assert_field_of(model, order.field.name);
    }
    for include in &filter.include {
        assert!(
            model.relation(include.relation.name).is_some(),
            "relation {} of {}",
            include.relation.name,
            model.name
        );
        let target = models::by_name(include.relation.target)
            .unwrap_or_else(|| panic!("relation target {}", include.relation.target));
        check_filter(target, &include.scope);
    }
}

fn assert_field_of(model: &'static Model, name: &str) {
    assert!(
        model.field(name).is_some(),
        "{name} is not a visible field of {}",
        model.name
    );
}

/// Panics unless every test of `w` is on a visible field of `model` and fits its kind.
pub fn check_where(model: &'static Model, w: &Where) {
    match w {
        Where::All | Where::Nothing => {}
        // An empty `and` is every row, to the store as to LoopBack; an empty `or` must be
        // `Nothing`.
        Where::And(items) => items.iter().for_each(|i| check_where(model, i)),
        Where::Or(items) => {
            assert!(!items.is_empty(), "an empty or: {w:?}");
            items.iter().for_each(|i| check_where(model, i));
        }
        Where::Test { field, test } => {
            assert_field_of(model, field.name);
            if field.kind == Kind::Json {
                assert!(
                    matches!(test, Test::Eq(Scalar::Null) | Test::Neq(Scalar::Null)),
                    "{} compared with {test:?}",
                    field.name
                );
            }
            match test {
                Test::Like { .. } | Test::Regexp { .. } => assert!(
                    matches!(field.kind, Kind::Id | Kind::Text | Kind::TextArray),
                    "a text test on {}",
                    field.name
                ),
                Test::Inq(v) | Test::Nin(v) => assert!(!v.is_empty(), "empty list kept: {test:?}"),
                _ => {}
            }
            if let Test::Regexp { pattern, .. } = test {
                assert!(
                    regex::Regex::new(pattern).is_ok(),
                    "regexp {pattern:?} kept"
                );
            }
            for s in scalars(test) {
                if let Scalar::Float(f) = s {
                    assert!(!f.is_nan(), "NaN bound on {}", field.name);
                }
            }
        }
    }
}

fn scalars(test: &Test) -> Vec<&Scalar> {
    match test {
        Test::Eq(s) | Test::Neq(s) | Test::Gt(s) | Test::Gte(s) | Test::Lt(s) | Test::Lte(s) => {
            vec![s]
        }
        Test::Between(a, b) => vec![a, b],
        Test::Inq(v) | Test::Nin(v) => v.iter().collect(),
        Test::Like { .. } | Test::Regexp { .. } => Vec::new(),
    }
}
