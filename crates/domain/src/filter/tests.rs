//! Unit tests of filter parsing: LoopBack's normalisation table (contract §2.2) and coercion (§2.3).

use serde_json::json;

use super::*;
use crate::models::FLAKE;

fn parse(v: serde_json::Value) -> Result<Filter, crate::DomainError> {
    parse_filter(&FLAKE, &v)
}

fn err(v: serde_json::Value) -> String {
    parse(v).expect_err("should be refused").message
}

#[test]
fn limit_and_skip_follow_loopback_normalisation() {
    let cases = [
        (json!({}), None, 0),
        (json!({"limit": 0}), None, 0),
        (json!({"skip": 0}), None, 0),
        (json!({"limit": 10}), Some(10), 0),
        (json!({"limit": "2"}), Some(2), 0),
        (json!({"skip": 5}), Some(100), 5),
        (json!({"offset": 7}), Some(100), 7),
        (json!({"limit": 0, "skip": 18}), Some(100), 18),
        (json!({"limit": 3, "skip": "4"}), Some(3), 4),
    ];
    for (input, limit, skip) in cases {
        let f = parse(input.clone()).unwrap();
        assert_eq!((f.limit, f.skip), (limit, skip), "{input}");
    }
}

#[test]
fn huge_limits_and_skips_fit_a_signed_64_bit_column() {
    let max = i64::MAX as u64;
    let f = parse(json!({"limit": 10_000_000_000_000_000_000_u64, "skip": 1e300})).unwrap();
    assert_eq!((f.limit, f.skip), (Some(max), max));
    let f = parse(json!({"limit": 9_223_372_036_854_775_807_i64})).unwrap();
    assert_eq!(f.limit, Some(max));
}

#[test]
fn bad_limits_and_skips_name_the_value_as_json() {
    assert_eq!(
        err(json!({"limit": "0"})),
        r#"The limit parameter "0" is not valid"#
    );
    assert_eq!(
        err(json!({"limit": -1})),
        "The limit parameter -1 is not valid"
    );
    assert_eq!(
        err(json!({"limit": 1.5})),
        "The limit parameter 1.5 is not valid"
    );
    assert_eq!(
        err(json!({"limit": "abc"})),
        r#"The limit parameter "abc" is not valid"#
    );
    assert_eq!(
        err(json!({"skip": -1})),
        "The offset/skip parameter -1 is not valid"
    );
    assert_eq!(
        err(json!({"skip": "-1"})),
        r#"The offset/skip parameter "-1" is not valid"#
    );
}

#[test]
fn order_accepts_strings_lists_and_commas() {
    let f = parse(json!({"order": "status DESC, title"})).unwrap();
    let keys: Vec<_> = f
        .order
        .iter()
        .map(|o| (o.field.name, o.descending))
        .collect();
    assert_eq!(keys, [("status", true), ("title", false)]);
    let f = parse(json!({"order": ["created desc", "nosuch ASC"]})).unwrap();
    let keys: Vec<_> = f
        .order
        .iter()
        .map(|o| (o.field.name, o.descending))
        .collect();
    assert_eq!(keys, [("created", true)], "unknown properties are a no-op");
}

#[test]
fn bad_orders_are_refused() {
    assert_eq!(
        err(json!({"order": "title UP"})),
        r#"The order "title UP" has invalid direction"#
    );
    assert_eq!(err(json!({"order": 5})), "The order 5 is not valid");
    assert_eq!(
        err(json!({"order": ["title", 5]})),
        "The order 5 is not valid"
    );
}

#[test]
fn fields_in_every_form() {
    let only = |v: serde_json::Value| parse(json!({ "fields": v })).unwrap().fields;
    assert_eq!(
        only(json!("title")),
        Some(Projection::Only(vec!["title".into()]))
    );
    assert_eq!(
        only(json!(["title", "id"])),
        Some(Projection::Only(vec!["title".into(), "id".into()]))
    );
    assert_eq!(
        only(json!({"title": true, "tags": false})),
        Some(Projection::Only(vec!["title".into()]))
    );
    assert_eq!(
        only(json!({"tags": false})),
        Some(Projection::Except(vec!["tags".into()]))
    );
    assert_eq!(only(json!([])), None);
    assert_eq!(only(json!({})), None);
}

#[test]
fn where_equality_coerces_to_the_field_kind() {
    let f = parse(json!({"where": {"status": "draft", "created": "2017-08-21T06:31:57.547Z"}}))
        .unwrap();
    let Where::And(parts) = f.r#where else {
        panic!("expected and")
    };
    assert!(
        matches!(&parts[0], Where::Test { field, test: Test::Eq(Scalar::Text(s)) } if field.name == "status" && s == "draft")
    );
    assert!(matches!(
        &parts[1],
        Where::Test {
            test: Test::Eq(Scalar::Int(1_503_297_117_547)),
            ..
        }
    ));
}

#[test]
fn operators_build_tests() {
    let w = parse_where(&FLAKE, &json!({"title": {"like": "Hello%"}})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Like {
                negated: false,
                case_insensitive: false,
                ..
            },
            ..
        }
    ));
    let w = parse_where(&FLAKE, &json!({"title": {"nilike": "x"}})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Like {
                negated: true,
                case_insensitive: true,
                ..
            },
            ..
        }
    ));
    let w = parse_where(&FLAKE, &json!({"title": {"regexp": "/^he/i"}})).unwrap();
    assert!(
        matches!(w, Where::Test { test: Test::Regexp { ref pattern, case_insensitive: true }, .. } if pattern == "^he")
    );
    let w = parse_where(
        &FLAKE,
        &json!({"status": {"inq": {"0": "draft", "1": "publish"}}}),
    )
    .unwrap();
    assert!(matches!(w, Where::Test { test: Test::Inq(ref v), .. } if v.len() == 2));
    let w = parse_where(
        &FLAKE,
        &json!({"created": {"gt": "2017-01-01", "lt": "2018-01-01"}}),
    )
    .unwrap();
    assert!(matches!(w, Where::And(ref v) if v.len() == 2));
    assert!(matches!(
        parse_where(&FLAKE, &json!({"status": {"inq": []}})).unwrap(),
        Where::Nothing
    ));
    assert!(matches!(
        parse_where(&FLAKE, &json!({"status": {"nin": []}})).unwrap(),
        Where::All
    ));
    assert!(matches!(
        parse_where(&FLAKE, &json!({"or": []})).unwrap(),
        Where::Nothing
    ));
    assert!(matches!(
        parse_where(&FLAKE, &json!({"and": []})).unwrap(),
        Where::All
    ));
}

#[test]
fn bad_wheres_are_400_with_loopback_messages() {
    let e = |w: serde_json::Value| parse_where(&FLAKE, &w).expect_err("refused");
    assert_eq!(
        e(json!({"id": {"inq": "f01"}})).message,
        r#"The id property has invalid clause {"inq":"f01"}: Value is not an array or object with sequential numeric indices"#
    );
    assert_eq!(
        e(json!({"created": {"between": ["2017-01-01", "2017-02-01", "2017-03-01"]}})).message,
        r#"The created property has invalid clause {"between":["2017-01-01","2017-02-01","2017-03-01"]}: Expected precisely 2 values, received 3"#
    );
    assert_eq!(
        e(json!({"title": {"like": 5}})).message,
        r#"The title property has invalid clause {"like":5}: Expected a string or RegExp"#
    );
    assert_eq!(
        e(json!({"title": {"regexp": "/a/x"}})).message,
        "Invalid regex flags: x"
    );
    assert!(e(json!({"or": {"title": 1}}))
        .message
        .starts_with("The or operator has invalid clauses"));
    assert!(e(json!({"nosuch": 1}))
        .message
        .contains("unknown property \"nosuch\""));
    assert!(e(json!({"status": {"foo": 1}}))
        .message
        .contains("unknown operator \"foo\""));
    assert_eq!(
        e(json!({"created": "garbage"})).message,
        "Invalid date: garbage"
    );
    assert!(e(json!({"bullet_points": "x"}))
        .message
        .contains("only be compared with null"));
    assert_eq!(
        parse_where(&FLAKE, &json!("x")).unwrap_err().message,
        r#"The where clause "x" is not an object"#
    );
}

#[test]
fn dollar_operators_are_refused_with_details() {
    let e = parse_where(&FLAKE, &json!({"title": {"$gt": 1}})).unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::OperatorNotAllowed);
    assert_eq!(e.message, r#"Operators "$gt" are not allowed in query"#);
    assert_eq!(e.details.unwrap()["operators"], json!(["$gt"]));
}

#[test]
fn deep_wheres_are_refused() {
    let mut w = json!({"title": "x"});
    for _ in 0..20 {
        w = json!({"and": [w]});
    }
    let e = parse_where(&FLAKE, &w).unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::QueryTooDeep);
}

#[test]
fn include_knows_the_relations() {
    let f = parse(json!({"include": "bot"})).unwrap();
    assert_eq!(f.include[0].relation.name, "bot");
    let f = parse(json!({"include": {"relation": "bot", "scope": {"fields": ["name"]}}})).unwrap();
    assert!(f.include[0].scope.fields.is_some());
    assert_eq!(
        err(json!({"include": "nosuchrel"})),
        r#"Relation "nosuchrel" is not defined for flakes model"#
    );
}

#[test]
fn a_non_object_filter_is_refused() {
    assert_eq!(err(json!([1])), "Value is not an object.");
    assert!(parse(serde_json::Value::Null).is_ok());
}

/// `{"where":{"and":[{"and":[… {"title":{"gt":"a"}} …]}]}}` with `n` nested `and`s.
fn nested_ands(n: usize) -> serde_json::Value {
    let mut w = json!({"title": {"gt": "a"}});
    for _ in 0..n {
        w = json!({"and": [w]});
    }
    w
}

#[test]
fn the_rest_depth_limit_is_twelve_counted_from_the_root() {
    // In a filter: where 1, and 2, [0] 3, … so four `and`s put `gt` at depth 11 and five at 13.
    assert!(parse(json!({ "where": nested_ands(4) })).is_ok());
    let e = parse(json!({ "where": nested_ands(5) })).unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::QueryTooDeep);
    assert_eq!(e.message, "The query object exceeds maximum depth 12");
    // A count's `where` is its own root: five `and`s put `gt` at depth 12, six at 14.
    assert!(parse_where(&FLAKE, &nested_ands(5)).is_ok());
    assert!(parse_where(&FLAKE, &nested_ands(6)).is_err());
}

#[test]
fn limits_are_read_as_javascript_numbers() {
    let limit = |v: serde_json::Value| parse(json!({ "limit": v })).map(|f| f.limit);
    assert_eq!(limit(json!("0x10")).unwrap(), Some(16));
    assert_eq!(limit(json!("0b11")).unwrap(), Some(3));
    assert_eq!(limit(json!(" 1e1 ")).unwrap(), Some(10));
    assert_eq!(limit(json!("+5")).unwrap(), Some(5));
    // Infinity is a whole number above 0: no limit, in effect.
    assert_eq!(limit(json!("Infinity")).unwrap(), Some(i64::MAX as u64));
    for bad in [
        "inf", "nan", "0x", "-0x10", "1_000", "1e", "12abc", "infinity",
    ] {
        let e = limit(json!(bad)).unwrap_err();
        assert_eq!(
            e.message,
            format!("The limit parameter \"{bad}\" is not valid"),
            "{bad}"
        );
    }
}

#[test]
fn numbers_opening_with_a_multi_byte_character_are_refused_not_a_panic() {
    // "€1" is three bytes then one: its first two bytes are not a character.
    for bad in ["€1", "é0x1", "0€1"] {
        let e = parse(json!({ "limit": bad })).unwrap_err();
        assert_eq!(
            e.message,
            format!("The limit parameter \"{bad}\" is not valid")
        );
        let e = parse(json!({ "skip": bad })).unwrap_err();
        assert_eq!(
            e.message,
            format!("The offset/skip parameter \"{bad}\" is not valid")
        );
    }
    // Whole-number fields read their values the same way.
    let e = parse_where(&crate::models::BOT, &json!({"application_id": "€1"})).unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::BadFilter, "{}", e.message);
}

#[test]
fn order_strings_split_as_loopback_splits_them() {
    let names = |v: serde_json::Value| {
        parse(json!({ "order": v }))
            .unwrap()
            .order
            .iter()
            .map(|o| (o.field.name, o.descending))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(json!("title  DESC , status,,created asc")),
        [("title", true), ("status", false), ("created", false)]
    );
    // A third word is ignored.
    assert_eq!(names(json!("title DESC please")), [("title", true)]);
    // Space at either end of the string makes an empty word, and so a bad direction.
    for bad in [" title", "title ", " title DESC"] {
        assert_eq!(
            err(json!({ "order": bad })),
            format!("The order {} has invalid direction", json!(bad)),
        );
    }
}

#[test]
fn gte_and_lte_null_match_null_and_missing_values() {
    let w = parse_where(&FLAKE, &json!({"title": {"gte": null}})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Eq(Scalar::Null),
            ..
        }
    ));
    let w = parse_where(&FLAKE, &json!({"title": {"lte": null}})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Eq(Scalar::Null),
            ..
        }
    ));
    let w = parse_where(&FLAKE, &json!({"title": {"between": [null, "m"]}})).unwrap();
    let Where::And(halves) = w else {
        panic!("{w:?}")
    };
    assert!(matches!(
        halves[0],
        Where::Test {
            test: Test::Eq(Scalar::Null),
            ..
        }
    ));
    assert!(matches!(
        halves[1],
        Where::Test {
            test: Test::Lte(_),
            ..
        }
    ));
}

#[test]
fn date_strings_are_read_as_javascript_dates() {
    let w = parse_where(&FLAKE, &json!({"created": {"gt": "2020"}})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Gt(Scalar::Int(1_577_836_800_000)),
            ..
        }
    ));
    let w = parse_where(&FLAKE, &json!({"created": "2020-06-15 10:20:30"})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Eq(Scalar::Int(1_592_216_430_000)),
            ..
        }
    ));
    // A JSON number is epoch milliseconds; a string of digits is what `new Date` makes of it.
    let w = parse_where(&FLAKE, &json!({"created": 1_600_000_000_000_i64})).unwrap();
    assert!(matches!(
        w,
        Where::Test {
            test: Test::Eq(Scalar::Int(1_600_000_000_000)),
            ..
        }
    ));
    let e = parse_where(&FLAKE, &json!({"created": "1600000000000"})).unwrap_err();
    assert_eq!(e.message, "Invalid date: 1600000000000");
}
