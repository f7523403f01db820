//! Filter semantics checked against LoopBack 3 on both engines: date strings read as
//! JavaScript reads them, the REST depth limit, `gte`/`lte` with null, order strings, limit
//! strings and the order of text.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::spawn;

/// A bot whose flakes carry the given titles and (optional) publish dates; returns the bot's
/// path and a token.
async fn flakes(app: &TestApp, rows: &[(&str, Option<&str>)]) -> (String, String) {
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Filters").await;
    let path = format!("/api/bots/{bot}/flakes");
    let body: Vec<Value> = rows
        .iter()
        .map(|(title, at)| match at {
            Some(at) => json!({"title": title, "publish_at": at}),
            None => json!({"title": title}),
        })
        .collect();
    let r = app.post(&path, &token, Value::Array(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    (path, token)
}

fn titles(r: &palaver_test_support::Resp) -> Vec<String> {
    let rows = r
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{} {}", r.status, r.text));
    let mut t: Vec<String> = rows
        .iter()
        .map(|f| f["title"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn date_strings_are_read_as_javascript_reads_them() {
    let app = spawn().await;
    let (path, token) = flakes(
        &app,
        &[
            ("a2019", Some("2019-06-01T00:00:00.000Z")),
            ("b2020", Some("2020-03-01 12:00:00")),
            ("c2021", Some("December 1, 2021")),
            ("none", None),
        ],
    )
    .await;
    // Written dates are read the same way, and shown in ISO form.
    let r = app
        .get_filter(&path, &token, json!({"where": {"title": "c2021"}}))
        .await;
    assert_eq!(
        r.body[0]["publish_at"], "2021-12-01T00:00:00.000Z",
        "{}",
        r.text
    );
    let r = app
        .get_filter(&path, &token, json!({"where": {"title": "b2020"}}))
        .await;
    assert_eq!(
        r.body[0]["publish_at"], "2020-03-01T12:00:00.000Z",
        "{}",
        r.text
    );

    for (where_, want) in [
        // A year, not 2020 milliseconds after 1970.
        (
            json!({"publish_at": {"gt": "2020"}}),
            vec!["b2020", "c2021"],
        ),
        (json!({"publish_at": {"lt": "2020"}}), vec!["a2019"]),
        (
            json!({"publish_at": {"gte": "2020-03-01 12:00:00"}}),
            vec!["b2020", "c2021"],
        ),
        (
            json!({"publish_at": {"lt": "Tue, 01 Dec 2020 10:00:00 GMT"}}),
            vec!["a2019", "b2020"],
        ),
        (
            json!({"publish_at": {"between": ["2020-01", "2021-06-30"]}}),
            vec!["b2020"],
        ),
        (json!({"publish_at": "2021-12-01"}), vec!["c2021"]),
        // A JSON number is epoch milliseconds.
        (
            json!({"publish_at": {"gt": 1_600_000_000_000_i64}}),
            vec!["c2021"],
        ),
    ] {
        let r = app
            .get_filter(&path, &token, json!({ "where": where_ }))
            .await;
        assert_eq!(r.status, 200, "{where_}: {}", r.text);
        assert_eq!(titles(&r), want, "{where_}");
    }
    // The bracket form's values are strings, read the same way.
    let r = app
        .get_query(&path, &token, &[("filter[where][publish_at][gt]", "2020")])
        .await;
    assert_eq!(titles(&r), ["b2020", "c2021"]);
    // What `new Date` refuses is refused (LoopBack answers 500 there).
    for bad in ["garbage", "1600000000000", "2020-13-01", "2020-06-15T25:00"] {
        let r = app
            .get_filter(&path, &token, json!({"where": {"publish_at": {"gt": bad}}}))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.body["error"]["message"], format!("Invalid date: {bad}"));
    }
}

/// `{"and":[{"and":[… {"title":{"neq":"x"}} …]}]}` with `n` nested `and`s.
fn nested(n: usize) -> Value {
    let mut w = json!({"title": {"neq": "x"}});
    for _ in 0..n {
        w = json!({ "and": [w] });
    }
    w
}

#[tokio::test]
async fn wheres_nest_twelve_deep_over_rest() {
    let app = spawn().await;
    let (path, token) = flakes(&app, &[("one", None)]).await;
    let r = app
        .get_filter(&path, &token, json!({ "where": nested(4) }))
        .await;
    assert_eq!(titles(&r), ["one"]);
    let r = app
        .get_filter(&path, &token, json!({ "where": nested(5) }))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 400, "name": "Error",
            "message": "The query object exceeds maximum depth 12", "code": "QUERY_OBJECT_TOO_DEEP"}})
    );
    // A count's `where` is the root itself: one level more fits.
    let count = format!("{path}/count");
    let r = app
        .get_query(&count, &token, &[("where", &nested(5).to_string())])
        .await;
    assert_eq!(r.body, json!({"count": 1}), "{}", r.text);
    let r = app
        .get_query(&count, &token, &[("where", &nested(6).to_string())])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn gte_and_lte_null_match_null_and_missing_values() {
    let app = spawn().await;
    let (path, token) = flakes(&app, &[("dated", Some("2020-01-01")), ("undated", None)]).await;
    for where_ in [
        json!({"publish_at": {"gte": null}}),
        json!({"publish_at": {"lte": null}}),
        json!({"publish_at": {"between": [null, null]}}),
        json!({"image_url": {"gte": null}, "publish_at": null}),
    ] {
        let r = app
            .get_filter(&path, &token, json!({ "where": where_ }))
            .await;
        assert_eq!(titles(&r), ["undated"], "{where_}: {}", r.text);
    }
    // gt/lt null match nothing, as in LoopBack.
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"where": {"publish_at": {"gt": null}}}),
        )
        .await;
    assert_eq!(titles(&r), Vec::<String>::new());
}

#[tokio::test]
async fn order_and_limit_strings_read_as_loopback_reads_them() {
    let app = spawn().await;
    let (path, token) = flakes(&app, &[("a", None), ("b", None), ("c", None)]).await;
    let ordered = |r: &palaver_test_support::Resp| -> Vec<String> {
        r.body
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|f| f["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // A third word is ignored.
    let r = app
        .get_filter(&path, &token, json!({"order": "title DESC whatever"}))
        .await;
    assert_eq!(ordered(&r), ["c", "b", "a"], "{}", r.text);
    // A leading space makes the property name the direction.
    let r = app
        .get_filter(&path, &token, json!({"order": " title DESC"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "The order \" title DESC\" has invalid direction"
    );
    // Limits are JavaScript numbers: `0x2` is 2.
    let r = app
        .get_filter(&path, &token, json!({"order": "title", "limit": "0x2"}))
        .await;
    assert_eq!(ordered(&r), ["a", "b"], "{}", r.text);
    let r = app
        .get_query(
            &path,
            &token,
            &[("filter[limit]", "1e0"), ("filter[order]", "title DESC")],
        )
        .await;
    assert_eq!(ordered(&r), ["c"], "{}", r.text);
    let r = app.get_filter(&path, &token, json!({"limit": "inf"})).await;
    assert_eq!(
        r.body["error"]["message"],
        "The limit parameter \"inf\" is not valid"
    );
}

#[tokio::test]
async fn text_orders_by_code_point_on_both_engines() {
    let app = spawn().await;
    let words = ["b", "B", "a", "Z", "é", "~", "😀", "\u{FF5E}", "ab", "A b"];
    let rows: Vec<(&str, Option<&str>)> = words.iter().map(|w| (*w, None)).collect();
    let (path, token) = flakes(&app, &rows).await;
    let ordered = |r: &palaver_test_support::Resp| -> Vec<String> {
        r.body
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|f| f["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // Code point order (a database collation would fold case and accents; UTF-16 code units
    // would put the emoji before U+FF5E).
    let by_code_point = ["A b", "B", "Z", "a", "ab", "b", "~", "é", "\u{FF5E}", "😀"];
    let r = app
        .get_filter(&path, &token, json!({"order": "title ASC"}))
        .await;
    assert_eq!(ordered(&r), by_code_point, "{}", r.text);
    let r = app
        .get_filter(&path, &token, json!({"order": "title DESC"}))
        .await;
    let mut down = by_code_point.to_vec();
    down.reverse();
    assert_eq!(ordered(&r), down);
    // Comparisons agree with the order.
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"where": {"title": {"gt": "Z"}}, "order": "title"}),
        )
        .await;
    assert_eq!(ordered(&r), by_code_point[3..], "{}", r.text);
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"where": {"title": {"between": ["B", "b"]}}, "order": "title"}),
        )
        .await;
    assert_eq!(ordered(&r), ["B", "Z", "a", "ab", "b"], "{}", r.text);
}
