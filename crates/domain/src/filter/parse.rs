//! JSON -> [`Filter`], following LoopBack 3's normalisation (`ModelUtils._normalize`,
//! `_coerce`, `sanitizeQuery`) where it is well defined, and answering 400 where LoopBack would
//! silently match nothing or fail with a 500 (unknown fields, bad values).

use serde_json::{Map, Value};

use super::{Filter, Include, Order, Projection, Scalar, Test, Where};
use crate::error::{DomainError, ErrorCode};
use crate::model::{Field, Kind, Model};
use crate::models;

/// How deep a query object may nest: LoopBack's `maxDepthOfQuery` for calls over REST (its data
/// layer's own default, 32, applies only to calls made in process). Depth counts from the
/// object's root: in a filter, `where` is 1 deep and its properties 2.
const MAX_DEPTH: usize = 12;

/// Parses a whole filter object (`{"where":…,"limit":…}`) for `model`.
/// `Value::Null` means no filter.
pub fn parse_filter(model: &'static Model, value: &Value) -> Result<Filter, DomainError> {
    let obj = match value {
        Value::Null => return Ok(Filter::default()),
        Value::Object(o) => o,
        _ => return Err(DomainError::bad_filter("Value is not an object.")),
    };
    // LoopBack sanitises the whole filter, so a where clause may nest one level less in a
    // filter than in a count's `where`.
    check_depth(value, 0)?;
    let mut filter = Filter::default();
    if let Some(w) = obj.get("where") {
        filter.r#where = parse_where(model, w)?;
    }
    let (limit, skip) = parse_paging(obj)?;
    filter.limit = limit;
    filter.skip = skip;
    if let Some(o) = obj.get("order") {
        filter.order = parse_order(model, o)?;
    }
    if let Some(f) = obj.get("fields") {
        filter.fields = parse_fields(f)?;
    }
    if let Some(i) = obj.get("include") {
        filter.include = parse_include(model, i)?;
    }
    Ok(filter)
}

/// Parses a where object for `model`. `Value::Null` means no clause.
pub fn parse_where(model: &'static Model, value: &Value) -> Result<Where, DomainError> {
    match value {
        Value::Null => Ok(Where::All),
        Value::Object(obj) => {
            check_depth(value, 0)?;
            check_dollar_operators(value)?;
            where_object(model, obj)
        }
        other => Err(DomainError::bad_filter(format!(
            "The where clause {} is not an object",
            json(other)
        ))),
    }
}

fn json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// JavaScript truthiness, which decides whether LoopBack looks at limit/skip at all.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// JavaScript's white space and line terminators (what `trim` and `\s` take).
fn js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// JavaScript `Number(s)` of a string: trimmed; empty is 0; `0x`, `0o` and `0b` integers;
/// `Infinity` with an optional sign; otherwise a decimal literal or NaN.
fn js_string_number(s: &str) -> f64 {
    let t = s.trim_matches(js_space);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        // Bytes, not chars: a string opening with a multi-byte character has no prefix here.
        if t.len() > 2 && t.as_bytes()[..2].eq_ignore_ascii_case(prefix.as_bytes()) {
            let digits = &t[2..];
            if !digits.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return digits.chars().fold(0.0, |n, c| {
                n * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
        }
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    // Rust's float parser also takes `inf`, `nan` and the like, which JavaScript does not: only
    // digits, one point and an exponent pass.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = mantissa.chars().filter(|c| *c == '.').count() <= 1
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().any(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let d = e.strip_prefix(['+', '-']).unwrap_or(e);
        !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())
    });
    if !(mantissa_ok && exponent_ok) {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// JavaScript `Number(v)`.
fn js_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => js_string_number(s),
        Value::Array(a) if a.is_empty() => 0.0,
        Value::Array(a) if a.len() == 1 => js_number(&a[0]),
        _ => f64::NAN,
    }
}

fn parse_paging(obj: &Map<String, Value>) -> Result<(Option<u64>, u64), DomainError> {
    let (limit, skip, offset) = (obj.get("limit"), obj.get("skip"), obj.get("offset"));
    if !(truthy(limit) || truthy(skip) || truthy(offset)) {
        return Ok((None, 0));
    }
    let limit_n = if truthy(limit) {
        limit.map(js_number).unwrap_or(100.0)
    } else {
        100.0
    };
    let skip_v = if truthy(skip) { skip } else { offset };
    let offset_n = if truthy(skip_v) {
        skip_v.map(js_number).unwrap_or(0.0)
    } else {
        0.0
    };
    // `Math.ceil(n) !== n`, false for Infinity.
    let fraction = |n: f64| n.is_finite() && n.fract() != 0.0;
    if limit_n.is_nan() || limit_n <= 0.0 || fraction(limit_n) {
        let shown = limit.map(json).unwrap_or_else(|| "undefined".into());
        return Err(DomainError::bad_filter(format!(
            "The limit parameter {shown} is not valid"
        )));
    }
    if offset_n.is_nan() || offset_n < 0.0 || fraction(offset_n) {
        let shown = skip_v.map(json).unwrap_or_else(|| "undefined".into());
        return Err(DomainError::bad_filter(format!(
            "The offset/skip parameter {shown} is not valid"
        )));
    }
    // No maximum, as in LoopBack; but databases take 64-bit signed LIMIT and OFFSET values, so
    // larger ones (which select the same rows) are cut to fit.
    let fit = |n: f64| (n as u64).min(i64::MAX as u64);
    Ok((Some(fit(limit_n)), fit(offset_n)))
}

fn parse_order(model: &'static Model, v: &Value) -> Result<Vec<Order>, DomainError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => return Ok(Vec::new()),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        let Value::String(s) = item else {
            return Err(DomainError::bad_filter(format!(
                "The order {} is not valid",
                json(item)
            )));
        };
        // As LoopBack: split on commas (with the space around them), then on runs of white
        // space; the second word is the direction and further words are ignored. A leading or
        // trailing space makes an empty word, so `" title"` has the direction `title`.
        let pieces: Vec<&str> = s.split(',').collect();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate() {
            let mut part = *piece;
            if i > 0 {
                part = part.trim_start_matches(js_space);
            }
            if i < last {
                part = part.trim_end_matches(js_space);
            }
            if part.is_empty() {
                continue;
            }
            let words = split_on_space_runs(part);
            let name = words[0];
            let descending = match words.get(1).map(|w| w.to_uppercase()).as_deref() {
                None | Some("ASC") => false,
                Some("DESC") => true,
                Some(_) => {
                    return Err(DomainError::bad_filter(format!(
                        "The order {} has invalid direction",
                        json(&Value::String(part.to_string()))
                    )))
                }
            };
            // LoopBack accepts unknown properties here as a no-op; so do we. Lists and documents
            // have no meaningful order and are likewise skipped.
            if let Some(field) = model.field(name).filter(|f| f.kind.is_scalar()) {
                out.push(Order { field, descending });
            }
        }
    }
    Ok(out)
}

/// `s.split(/\s+/)` in JavaScript: white space at either end leaves an empty first or last word.
fn split_on_space_runs(s: &str) -> Vec<&str> {
    let all: Vec<&str> = s.split(js_space).collect();
    let last = all.len() - 1;
    all.iter()
        .enumerate()
        .filter(|(i, w)| *i == 0 || *i == last || !w.is_empty())
        .map(|(_, w)| *w)
        .collect()
}

fn parse_fields(v: &Value) -> Result<Option<Projection>, DomainError> {
    let names = |a: &Vec<Value>| -> Result<Vec<String>, DomainError> {
        a.iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                other => Err(DomainError::bad_filter(format!(
                    "The fields entry {} is not a property name",
                    json(other)
                ))),
            })
            .collect()
    };
    let projection = match v {
        Value::Null => None,
        Value::String(s) => Some(Projection::Only(vec![s.clone()])),
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Projection::Only(names(a)?)),
        Value::Object(o) if o.is_empty() => None,
        Value::Object(o) => {
            let on: Vec<String> = o
                .iter()
                .filter(|(_, v)| truthy(Some(v)))
                .map(|(k, _)| k.clone())
                .collect();
            if on.is_empty() {
                Some(Projection::Except(o.keys().cloned().collect()))
            } else {
                Some(Projection::Only(on))
            }
        }
        other => {
            return Err(DomainError::bad_filter(format!(
                "The fields filter {} is not valid",
                json(other)
            )))
        }
    };
    Ok(projection)
}

fn parse_include(model: &'static Model, v: &Value) -> Result<Vec<Include>, DomainError> {
    let mut out = Vec::new();
    let mut add = |name: &str, scope: Option<&Value>| -> Result<(), DomainError> {
        let relation = model.relation(name).ok_or_else(|| {
            DomainError::bad_filter(format!(
                "Relation \"{name}\" is not defined for {} model",
                model.name
            ))
        })?;
        let target = models::by_name(relation.target).ok_or_else(DomainError::internal)?;
        let scope = match scope {
            Some(s) => parse_filter(target, s)?,
            None => Filter::default(),
        };
        out.push(Include { relation, scope });
        Ok(())
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::String(name) => add(name, None)?,
            Value::Object(o) if o.contains_key("relation") => {
                let Some(Value::String(name)) = o.get("relation") else {
                    return Err(DomainError::bad_filter(
                        "The include relation must be a string",
                    ));
                };
                add(name, o.get("scope"))?
            }
            Value::Object(o) => {
                // `{"bot": "organisation"}`: the nested include becomes the scope's include.
                for (name, nested) in o {
                    let scope = serde_json::json!({ "include": nested });
                    add(name, Some(&scope))?
                }
            }
            other => {
                return Err(DomainError::bad_filter(format!(
                    "The include {} is not valid",
                    json(other)
                )))
            }
        }
    }
    Ok(out)
}

fn check_depth(v: &Value, depth: usize) -> Result<(), DomainError> {
    if depth > MAX_DEPTH {
        return Err(DomainError::new(
            ErrorCode::QueryTooDeep,
            format!("The query object exceeds maximum depth {MAX_DEPTH}"),
        ));
    }
    match v {
        Value::Object(o) => o.values().try_for_each(|x| check_depth(x, depth + 1)),
        Value::Array(a) => a.iter().try_for_each(|x| check_depth(x, depth + 1)),
        _ => Ok(()),
    }
}

fn check_dollar_operators(where_: &Value) -> Result<(), DomainError> {
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k.starts_with('$') && !out.contains(k) {
                        out.push(k.clone());
                    }
                    collect(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    let mut ops = Vec::new();
    collect(where_, &mut ops);
    if ops.is_empty() {
        return Ok(());
    }
    let list = ops
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Err(DomainError::new(
        ErrorCode::OperatorNotAllowed,
        format!("Operators {list} are not allowed in query"),
    )
    .with_details(serde_json::json!({ "operators": ops, "where": where_ })))
}

/// Accepts an array, or an object whose keys are "0", "1", … in order (LoopBack allows both).
fn array_like(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(a) => Some(a.iter().collect()),
        Value::Object(o) => {
            let mut out = Vec::with_capacity(o.len());
            for (i, (k, x)) in o.iter().enumerate() {
                if k.parse::<usize>().ok()? != i {
                    return None;
                }
                out.push(x);
            }
            Some(out)
        }
        _ => None,
    }
}

fn where_object(model: &'static Model, obj: &Map<String, Value>) -> Result<Where, DomainError> {
    let mut clauses = Vec::new();
    for (key, value) in obj {
        match key.as_str() {
            "and" | "or" => {
                let items = array_like(value).ok_or_else(|| {
                    DomainError::bad_filter(format!(
                        "The {key} operator has invalid clauses {}: Value is not an array or object with sequential numeric indices",
                        json(value)
                    ))
                })?;
                let mut subs = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Object(o) = item else {
                        return Err(DomainError::bad_filter(format!(
                            "The {key} operator has invalid clauses {}: Value is not an object",
                            json(value)
                        )));
                    };
                    subs.push(where_object(model, o)?);
                }
                clauses.push(match (key.as_str(), subs.is_empty()) {
                    ("and", true) => Where::All,
                    ("or", true) => Where::Nothing,
                    ("and", false) => Where::And(subs),
                    _ => Where::Or(subs),
                });
            }
            "nor" => {
                return Err(DomainError::bad_filter("The nor operator is not supported"));
            }
            name => {
                let field = model.field(name).ok_or_else(|| {
                    DomainError::bad_filter(format!(
                        "The where clause names the unknown property \"{name}\" of model {}",
                        model.name
                    ))
                })?;
                clauses.push(field_clause(field, value)?);
            }
        }
    }
    Ok(match clauses.len() {
        0 => Where::All,
        1 => clauses.remove(0),
        _ => Where::And(clauses),
    })
}

const OPERATORS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "between", "inq", "nin", "like", "nlike", "ilike",
    "nilike", "regexp", "options",
];

fn field_clause(field: &'static Field, value: &Value) -> Result<Where, DomainError> {
    let invalid = |why: &str| {
        DomainError::bad_filter(format!(
            "The {} property has invalid clause {}: {why}",
            field.name,
            json(value)
        ))
    };
    let ops = match value {
        Value::Object(o) if !o.is_empty() && o.keys().all(|k| OPERATORS.contains(&k.as_str())) => o,
        Value::Object(o) => {
            let unknown = o.keys().find(|k| !OPERATORS.contains(&k.as_str()));
            return Err(invalid(&match unknown {
                Some(k) => format!("unknown operator \"{k}\""),
                None => "empty operator object".to_string(),
            }));
        }
        Value::Array(_) => return Err(invalid("a list is not a value")),
        scalar => return test_clause(field, Test::Eq(coerce(field, scalar)?)),
    };
    let case_insensitive_option =
        matches!(ops.get("options"), Some(Value::String(s)) if s.contains('i'));
    let mut tests = Vec::new();
    for (op, arg) in ops {
        let test = match op.as_str() {
            "options" => continue,
            "eq" => Test::Eq(coerce(field, arg)?),
            "neq" => Test::Neq(coerce(field, arg)?),
            "gt" => Test::Gt(coerce(field, arg)?),
            "gte" => bound(Test::Gte, coerce(field, arg)?),
            "lt" => Test::Lt(coerce(field, arg)?),
            "lte" => bound(Test::Lte, coerce(field, arg)?),
            "between" => {
                let items = array_like(arg).ok_or_else(|| {
                    invalid("Value is not an array or object with sequential numeric indices")
                })?;
                if items.len() != 2 {
                    return Err(invalid(&format!(
                        "Expected precisely 2 values, received {}",
                        items.len()
                    )));
                }
                let (low, high) = (coerce(field, items[0])?, coerce(field, items[1])?);
                if low == Scalar::Null || high == Scalar::Null {
                    // Both halves with LoopBack's null reading (below).
                    let halves = vec![
                        test_clause(field, bound(Test::Gte, low))?,
                        test_clause(field, bound(Test::Lte, high))?,
                    ];
                    tests.push(Where::And(halves));
                    continue;
                }
                Test::Between(low, high)
            }
            "inq" | "nin" => {
                let items = array_like(arg).ok_or_else(|| {
                    invalid("Value is not an array or object with sequential numeric indices")
                })?;
                let values = items
                    .into_iter()
                    .map(|v| coerce(field, v))
                    .collect::<Result<_, _>>()?;
                if op == "inq" {
                    Test::Inq(values)
                } else {
                    Test::Nin(values)
                }
            }
            "like" | "nlike" | "ilike" | "nilike" => {
                let Value::String(pattern) = arg else {
                    return Err(invalid("Expected a string or RegExp"));
                };
                text_only(field, op)?;
                Test::Like {
                    pattern: pattern.clone(),
                    negated: op.starts_with('n'),
                    case_insensitive: op.contains("ilike") || case_insensitive_option,
                }
            }
            "regexp" => {
                let Value::String(source) = arg else {
                    return Err(invalid("Expected a string or RegExp"));
                };
                text_only(field, op)?;
                let (pattern, flag_i) = parse_regexp(source)?;
                Test::Regexp {
                    pattern,
                    case_insensitive: flag_i || case_insensitive_option,
                }
            }
            _ => return Err(invalid(&format!("unknown operator \"{op}\""))),
        };
        tests.push(test_clause(field, test)?);
    }
    Ok(match tests.len() {
        1 => tests.remove(0),
        _ => Where::And(tests),
    })
}

/// `gte`/`lte` with their value. Against null they match the rows whose value is null or
/// missing, as in LoopBack (the equality half of its comparison is JavaScript's loose `==`).
fn bound(test: fn(Scalar) -> Test, v: Scalar) -> Test {
    if v == Scalar::Null {
        Test::Eq(Scalar::Null)
    } else {
        test(v)
    }
}

/// Wraps one test, refusing comparisons a JSON document cannot take.
fn test_clause(field: &'static Field, test: Test) -> Result<Where, DomainError> {
    if field.kind == Kind::Json && !matches!(test, Test::Eq(Scalar::Null) | Test::Neq(Scalar::Null))
    {
        return Err(DomainError::bad_filter(format!(
            "The {} property can only be compared with null",
            field.name
        )));
    }
    // An empty `inq` matches nothing and an empty `nin` everything, as in LoopBack.
    Ok(match test {
        Test::Inq(v) if v.is_empty() => Where::Nothing,
        Test::Nin(v) if v.is_empty() => Where::All,
        test => Where::Test { field, test },
    })
}

fn text_only(field: &Field, op: &str) -> Result<(), DomainError> {
    match field.kind {
        Kind::Id | Kind::Text | Kind::TextArray => Ok(()),
        _ => Err(DomainError::bad_filter(format!(
            "The {op} operator applies to text properties, and {} is not one",
            field.name
        ))),
    }
}

/// `/pat/flags` or a bare pattern; only the i, g and m flags exist (g and m change nothing here).
fn parse_regexp(source: &str) -> Result<(String, bool), DomainError> {
    let (pattern, flags) = match source.strip_prefix('/').and_then(|s| s.rsplit_once('/')) {
        Some((p, f)) => (p.to_string(), f),
        None => (source.to_string(), ""),
    };
    if let Some(bad) = flags.chars().find(|c| !matches!(c, 'i' | 'g' | 'm')) {
        return Err(DomainError::bad_filter(format!(
            "Invalid regex flags: {bad}"
        )));
    }
    regex::Regex::new(&pattern).map_err(|e| {
        DomainError::bad_filter(format!("Invalid regular expression /{pattern}/: {e}"))
    })?;
    Ok((pattern, flags.contains('i')))
}

/// Coerces a where value to the field's declared kind, as LoopBack's `_coerce` does; values that
/// LoopBack would keep uncoerced (and then match nothing, or fail deep inside) are refused here.
fn coerce(field: &Field, v: &Value) -> Result<Scalar, DomainError> {
    let bad = |what: &str| {
        DomainError::bad_filter(format!(
            "Invalid {what} {} for property \"{}\"",
            json(v),
            field.name
        ))
    };
    if v.is_null() {
        return Ok(Scalar::Null);
    }
    match field.kind {
        Kind::Id | Kind::Text | Kind::TextArray => match v {
            Value::String(s) => Ok(Scalar::Text(s.clone())),
            Value::Number(n) => Ok(Scalar::Text(n.to_string())),
            Value::Bool(b) => Ok(Scalar::Text(b.to_string())),
            _ => Err(bad("text value")),
        },
        Kind::Int => {
            let n = js_number(v);
            if n.is_nan() || matches!(v, Value::Object(_) | Value::Array(_)) {
                Err(bad("number"))
            } else if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                Ok(Scalar::Int(n as i64))
            } else {
                Ok(Scalar::Float(n))
            }
        }
        Kind::Bool => Ok(Scalar::Bool(match v {
            Value::Bool(b) => *b,
            Value::String(s) => match s.as_str() {
                "true" | "1" => true,
                "false" | "0" | "" => false,
                _ => true,
            },
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => return Err(bad("boolean")),
        })),
        Kind::Date => match v {
            Value::Number(n) => n.as_i64().map(Scalar::Int).ok_or_else(|| bad("date")),
            // As `new Date(s)`: `"2020"` is a year, and a string of digits is no epoch time.
            Value::String(s) => crate::js_date::parse(s)
                .map(Scalar::Int)
                .ok_or_else(|| DomainError::bad_filter(format!("Invalid date: {s}"))),
            _ => Err(bad("date")),
        },
        Kind::Json => Err(DomainError::bad_filter(format!(
            "The {} property can only be compared with null",
            field.name
        ))),
    }
}
