//! The LoopBack filter language on a fixture bot: a table of where/order/paging cases with the
//! titles each must return, in order, plus projection, include, the bracket form and counts.

use palaver_test_support::{Resp, TestApp};
use serde_json::{json, Value};

/// A bot with ten flakes of varied title, status, author, publish date and tags.
struct Fixture {
    app: TestApp,
    token: String,
    bot: String,
    news: String,
    tech: String,
    sport: String,
    /// `created` of each flake, in creation order.
    created: Vec<String>,
}

const TITLES: [&str; 10] = [
    "Hello world",
    "hello again",
    "Help wanted",
    "Breaking news",
    "Sports roundup",
    "Tech weekly",
    "world cup",
    "Zebra facts",
    "apple pie",
    "100 days",
];

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Filters").await;
    let tag = |name: &str| {
        let (app, token, bot) = (&app, &token, &bot);
        let name = name.to_string();
        async move {
            app.post(
                &format!("/api/bots/{bot}/tags"),
                token,
                json!({"name": name}),
            )
            .await
            .id()
        }
    };
    let (news, tech, sport) = (tag("news").await, tag("tech").await, tag("sport").await);
    let flakes = [
        json!({"title": TITLES[0], "status": "draft", "author_name": "ann", "publish_at": "2017-01-10T00:00:00.000Z", "tags": [news]}),
        json!({"title": TITLES[1], "status": "publish", "author_name": "ann", "publish_at": "2017-03-05T10:00:00.000Z", "tags": [news, tech]}),
        json!({"title": TITLES[2], "status": "draft", "author_name": "ann", "tags": []}),
        json!({"title": TITLES[3], "status": "publish", "author_name": "bob", "publish_at": "2017-06-01T00:00:00.000Z", "tags": [tech]}),
        json!({"title": TITLES[4], "status": "schedule", "author_name": "bob", "publish_at": "2017-09-01T00:00:00.000Z", "tags": [sport]}),
        json!({"title": TITLES[5], "status": "publish", "author_name": "bob", "publish_at": "2017-07-20T00:00:00.000Z", "tags": [tech, sport]}),
        json!({"title": TITLES[6], "status": "draft", "author_name": "cat", "tags": [sport]}),
        json!({"title": TITLES[7], "status": "publish", "author_name": "cat"}),
        // No author: the caller's username is filled in only when the field is absent.
        json!({"title": TITLES[8], "status": "schedule", "publish_at": "2017-10-15T12:00:00.000Z", "author_name": null}),
        json!({"title": TITLES[9], "status": null, "author_name": null}),
    ];
    let mut created = Vec::new();
    for f in flakes {
        let r = app
            .post(&format!("/api/bots/{bot}/flakes"), &token, f)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        created.push(r.body["created"].as_str().unwrap().to_string());
        // Distinct creation times, so that date filters on `created` can tell them apart.
        tokio::time::sleep(std::time::Duration::from_millis(4)).await;
    }
    Fixture {
        app,
        token,
        bot,
        news,
        tech,
        sport,
        created,
    }
}

impl Fixture {
    fn flakes(&self) -> String {
        format!("/api/bots/{}/flakes", self.bot)
    }

    async fn find(&self, filter: &Value) -> Resp {
        self.app
            .get_filter(&self.flakes(), &self.token, filter.clone())
            .await
    }

    /// GET with a raw query string, as a client would write it by hand.
    async fn raw(&self, path: &str, query: &str) -> Resp {
        self.app.get(&format!("{path}?{query}"), &self.token).await
    }
}

fn titles(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .iter()
        .map(|f| f["title"].as_str().unwrap_or("<no title>").to_string())
        .collect()
}

/// The titles of flakes by their 1-based creation number.
fn t(ns: &[usize]) -> Vec<String> {
    ns.iter().map(|n| TITLES[n - 1].to_string()).collect()
}

#[tokio::test]
async fn filter_table() {
    let f = fixture().await;
    let (news, tech, sport) = (&f.news, &f.tech, &f.sport);
    let c = &f.created;
    let cases: Vec<(Value, Vec<String>)> = vec![
        // No filter: every flake, in creation (id) order.
        (json!({}), t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
        (json!({"where": {}}), t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
        // Equality.
        (json!({"where": {"status": "draft"}}), t(&[1, 3, 7])),
        (
            json!({"where": {"status": {"eq": "publish"}}}),
            t(&[2, 4, 6, 8]),
        ),
        (json!({"where": {"title": "Hello world"}}), t(&[1])),
        (json!({"where": {"title": "hello world"}}), t(&[])),
        (json!({"where": {"status": null}}), t(&[10])),
        (json!({"where": {"author_name": null}}), t(&[9, 10])),
        // neq: rows without a value match, as in LoopBack.
        (
            json!({"where": {"status": {"neq": "draft"}}}),
            t(&[2, 4, 5, 6, 8, 9, 10]),
        ),
        (
            json!({"where": {"status": {"neq": null}}}),
            t(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ),
        (
            json!({"where": {"author_name": {"neq": "ann"}}}),
            t(&[4, 5, 6, 7, 8, 9, 10]),
        ),
        // Comparisons on dates, given as ISO strings.
        (
            json!({"where": {"publish_at": {"gt": "2017-06-01T00:00:00.000Z"}}}),
            t(&[5, 6, 9]),
        ),
        (
            json!({"where": {"publish_at": {"gte": "2017-06-01T00:00:00.000Z"}}}),
            t(&[4, 5, 6, 9]),
        ),
        (
            json!({"where": {"publish_at": {"lt": "2017-03-05T10:00:00.000Z"}}}),
            t(&[1]),
        ),
        (
            json!({"where": {"publish_at": {"lte": "2017-03-05T10:00:00.000Z"}}}),
            t(&[1, 2]),
        ),
        (
            json!({"where": {"publish_at": {"between": ["2017-03-01", "2017-07-31"]}}}),
            t(&[2, 4, 6]),
        ),
        (
            json!({"where": {"publish_at": {"between": ["2017-06-01T00:00:00.000Z", "2017-09-01T00:00:00.000Z"]}}}),
            t(&[4, 5, 6]),
        ),
        (json!({"where": {"publish_at": {"gt": null}}}), t(&[])),
        (
            json!({"where": {"created": {"gt": c[3]}}}),
            t(&[5, 6, 7, 8, 9, 10]),
        ),
        (json!({"where": {"created": {"lte": c[1]}}}), t(&[1, 2])),
        (
            json!({"where": {"created": {"between": [c[2], c[5]]}}}),
            t(&[3, 4, 5, 6]),
        ),
        (json!({"where": {"created": c[4]}}), t(&[5])),
        // Strings compare by code unit.
        (json!({"where": {"title": {"gte": "a"}}}), t(&[2, 7, 9])),
        (json!({"where": {"title": {"lt": "C"}}}), t(&[4, 10])),
        // inq / nin.
        (
            json!({"where": {"status": {"inq": ["draft", "schedule"]}}}),
            t(&[1, 3, 5, 7, 9]),
        ),
        (json!({"where": {"status": {"inq": []}}}), t(&[])),
        (
            json!({"where": {"status": {"nin": ["draft", "publish"]}}}),
            t(&[5, 9, 10]),
        ),
        (
            json!({"where": {"status": {"nin": []}}}),
            t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ),
        (
            json!({"where": {"status": {"inq": {"0": "schedule", "1": "draft"}}}}),
            t(&[1, 3, 5, 7, 9]),
        ),
        // like is an anchored, case-sensitive SQL LIKE; ilike ignores case.
        (json!({"where": {"title": {"like": "Hel%"}}}), t(&[1, 3])),
        (json!({"where": {"title": {"like": "%world%"}}}), t(&[1, 7])),
        (json!({"where": {"title": {"like": "world"}}}), t(&[])),
        (json!({"where": {"title": {"like": "H_l%"}}}), t(&[1, 3])),
        (
            json!({"where": {"title": {"nlike": "%e%"}}}),
            t(&[5, 7, 10]),
        ),
        (
            json!({"where": {"title": {"ilike": "hel%"}}}),
            t(&[1, 2, 3]),
        ),
        (
            json!({"where": {"title": {"ilike": "%WORLD%"}}}),
            t(&[1, 7]),
        ),
        (
            json!({"where": {"title": {"nilike": "h%"}}}),
            t(&[4, 5, 6, 7, 8, 9, 10]),
        ),
        (
            json!({"where": {"title": {"like": "hel%", "options": "i"}}}),
            t(&[1, 2, 3]),
        ),
        // regexp, with and without the i flag.
        (
            json!({"where": {"title": {"regexp": "/^he/i"}}}),
            t(&[1, 2, 3]),
        ),
        (json!({"where": {"title": {"regexp": "^he"}}}), t(&[2])),
        (json!({"where": {"title": {"regexp": "/^he/"}}}), t(&[2])),
        (
            json!({"where": {"title": {"regexp": "s$"}}}),
            t(&[4, 8, 10]),
        ),
        (
            json!({"where": {"title": {"regexp": "^[0-9]+ "}}}),
            t(&[10]),
        ),
        // and / or, nested, and top-level keys joined with AND.
        (
            json!({"where": {"and": [{"status": "publish"}, {"title": {"like": "%a%"}}]}}),
            t(&[2, 4, 8]),
        ),
        (
            json!({"where": {"or": [{"status": "schedule"}, {"title": "Hello world"}]}}),
            t(&[1, 5, 9]),
        ),
        (
            json!({"where": {"or": [{"and": [{"status": "draft"}, {"author_name": "ann"}]}, {"tags": sport}]}}),
            t(&[1, 3, 5, 6, 7]),
        ),
        (
            json!({"where": {"status": "publish", "author_name": "bob"}}),
            t(&[4, 6]),
        ),
        (
            json!({"where": {"and": [{"or": [{"author_name": "ann"}, {"author_name": "cat"}]}, {"status": {"neq": "draft"}}]}}),
            t(&[2, 8]),
        ),
        (json!({"where": {"or": []}}), t(&[])),
        (
            json!({"where": {"and": []}}),
            t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ),
        // List fields: a flake matches when any of its tags does.
        (json!({"where": {"tags": news}}), t(&[1, 2])),
        (json!({"where": {"tags": tech}}), t(&[2, 4, 6])),
        (
            json!({"where": {"tags": {"inq": [news, sport]}}}),
            t(&[1, 2, 5, 6, 7]),
        ),
        (
            json!({"where": {"tags": {"nin": [tech]}}}),
            t(&[1, 3, 5, 7, 8, 9, 10]),
        ),
        (
            json!({"where": {"tags": {"neq": sport}}}),
            t(&[1, 2, 3, 4, 8, 9, 10]),
        ),
        (json!({"where": {"tags": null}}), t(&[8, 9, 10])),
        (
            json!({"where": {"tags": news, "status": "publish"}}),
            t(&[2]),
        ),
        // Order: string, array, several keys in one string; nulls first going up.
        (
            json!({"order": "title"}),
            t(&[10, 4, 1, 3, 5, 6, 8, 9, 2, 7]),
        ),
        (
            json!({"order": "title ASC"}),
            t(&[10, 4, 1, 3, 5, 6, 8, 9, 2, 7]),
        ),
        (
            json!({"order": "title DESC"}),
            t(&[7, 2, 9, 8, 6, 5, 3, 1, 4, 10]),
        ),
        (
            json!({"order": "title desc"}),
            t(&[7, 2, 9, 8, 6, 5, 3, 1, 4, 10]),
        ),
        (
            json!({"order": ["author_name DESC", "title"]}),
            t(&[8, 7, 4, 5, 6, 1, 3, 2, 10, 9]),
        ),
        (
            json!({"order": "author_name DESC, title"}),
            t(&[8, 7, 4, 5, 6, 1, 3, 2, 10, 9]),
        ),
        (
            json!({"order": ["author_name", "title DESC"]}),
            t(&[9, 10, 2, 3, 1, 6, 5, 4, 7, 8]),
        ),
        (
            json!({"order": "publish_at"}),
            t(&[3, 7, 8, 10, 1, 2, 4, 6, 5, 9]),
        ),
        (
            json!({"order": "created DESC"}),
            t(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        ),
        (
            json!({"order": "id DESC"}),
            t(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        ),
        // An unknown property in order changes nothing.
        (
            json!({"order": "nosuch DESC"}),
            t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ),
        // Paging.
        (json!({"limit": 3}), t(&[1, 2, 3])),
        (json!({"limit": 3, "skip": 2}), t(&[3, 4, 5])),
        (json!({"limit": 3, "offset": 2}), t(&[3, 4, 5])),
        (json!({"skip": 8}), t(&[9, 10])),
        (json!({"offset": 7}), t(&[8, 9, 10])),
        (json!({"limit": "2"}), t(&[1, 2])),
        (json!({"limit": 0}), t(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
        (json!({"limit": 2, "skip": 20}), t(&[])),
        (json!({"order": "title", "limit": 2, "skip": 1}), t(&[4, 1])),
        (
            json!({"where": {"status": "publish"}, "order": "title DESC", "limit": 2}),
            t(&[2, 8]),
        ),
        (
            json!({"where": {"status": "draft"}, "limit": 10, "skip": 0}),
            t(&[1, 3, 7]),
        ),
    ];
    let mut failures = Vec::new();
    for (filter, want) in &cases {
        let r = f.find(filter).await;
        if r.status != 200 {
            failures.push(format!("{filter}: status {} {}", r.status, r.text));
            continue;
        }
        let got = titles(&r);
        if &got != want {
            failures.push(format!("{filter}:\n   got  {got:?}\n   want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn fields_project_without_reordering() {
    let f = fixture().await;
    let first_two = json!({"limit": 2});
    let mut filter = first_two.clone();
    filter["fields"] = json!(["title"]);
    let r = f.find(&filter).await;
    assert_eq!(r.body, json!([{"title": TITLES[0]}, {"title": TITLES[1]}]));
    filter["fields"] = json!(["status", "title"]);
    let r = f.find(&filter).await;
    assert_eq!(
        r.text,
        format!(
            r#"[{{"title":"{}","status":"draft"}},{{"title":"{}","status":"publish"}}]"#,
            TITLES[0], TITLES[1]
        )
    );
    filter["fields"] = json!({"title": true, "author_name": true});
    let r = f.find(&filter).await;
    assert_eq!(
        r.body,
        json!([{"title": TITLES[0], "author_name": "ann"}, {"title": TITLES[1], "author_name": "ann"}])
    );
    filter["fields"] = json!("title");
    assert_eq!(
        f.find(&filter).await.body,
        json!([{"title": TITLES[0]}, {"title": TITLES[1]}])
    );
    filter["fields"] = json!({"publish_at": false, "tags": false, "created": false, "modified": false, "id": false, "bot_id": false, "organisation_id": false});
    let r = f.find(&filter).await;
    assert_eq!(
        r.body[0],
        json!({"title": TITLES[0], "status": "draft", "author_name": "ann"})
    );
    for everything in [json!([]), json!({})] {
        filter["fields"] = everything;
        let r = f.find(&filter).await;
        assert_eq!(r.body[0]["title"], TITLES[0]);
        assert!(r.body[0]["id"].is_string() && r.body[0]["tags"].is_array());
    }
    // An unknown field is simply absent.
    filter["fields"] = json!(["title", "nosuch"]);
    assert_eq!(
        f.find(&filter).await.body,
        json!([{"title": TITLES[0]}, {"title": TITLES[1]}])
    );
    // fields also apply to a single read.
    let id = f.find(&first_two).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = f
        .app
        .get_filter(
            &format!("{}/{id}", f.flakes()),
            &f.token,
            json!({"fields": {"title": true}}),
        )
        .await;
    assert_eq!(r.body, json!({"title": TITLES[0]}));
}

#[tokio::test]
async fn include_bot_attaches_the_parent() {
    let f = fixture().await;
    let bot = f
        .app
        .get(&format!("/api/bots/{}", f.bot), &f.token)
        .await
        .body;
    let r = f.find(&json!({"include": "bot", "limit": 2})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for flake in r.body.as_array().unwrap() {
        assert_eq!(flake["bot"], bot);
        let keys: Vec<&str> = flake
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.last(), Some(&"bot"));
    }
    let r = f
        .find(&json!({"include": ["bot"], "fields": ["title", "bot_id"], "limit": 1}))
        .await;
    assert_eq!(
        r.body,
        json!([{"title": TITLES[0], "bot_id": f.bot, "bot": bot}])
    );
    let r = f
        .find(&json!({"include": {"relation": "bot", "scope": {"fields": ["name", "id"]}}, "fields": ["title"], "limit": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"title": TITLES[0], "bot": {"name": "Filters", "id": f.bot}}])
    );
    // A scope's fields still bring the key the include needs (LoopBack adds it).
    let r = f
        .find(&json!({"include": {"relation": "bot", "scope": {"fields": ["name"]}}, "fields": ["title"], "limit": 1}))
        .await;
    assert_eq!(
        r.body,
        json!([{"title": TITLES[0], "bot": {"name": "Filters", "id": f.bot}}])
    );
    // The single read takes include too.
    let id = f.find(&json!({"limit": 1})).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = f
        .app
        .get_filter(
            &format!("{}/{id}", f.flakes()),
            &f.token,
            json!({"include": "bot"}),
        )
        .await;
    assert_eq!(r.body["bot"], bot);
}

#[tokio::test]
async fn include_has_many_with_a_scope() {
    let f = fixture().await;
    let r = f
        .app
        .get_filter(
            &format!("/api/bots/{}", f.bot),
            &f.token,
            json!({"include": {"relation": "flakes", "scope": {"where": {"status": "draft"}, "order": "title DESC", "fields": ["title"]}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got: Vec<&str> = r.body["flakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["title"].as_str().unwrap())
        .collect();
    assert_eq!(got, [TITLES[6], TITLES[2], TITLES[0]]);
    let r = f
        .app
        .get_filter("/api/bots", &f.token, json!({"include": {"tags": "bot"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tags = r.body[0]["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 3);
    assert_eq!(tags[0]["bot"]["id"], f.bot.as_str());
}

#[tokio::test]
async fn the_bracket_form_reads_like_the_json_form() {
    let f = fixture().await;
    let path = f.flakes();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "filter%5Bwhere%5D%5Bstatus%5D=draft&filter%5Blimit%5D=10",
            t(&[1, 3, 7]),
        ),
        ("filter[where][status]=draft&filter[limit]=2", t(&[1, 3])),
        ("filter[where][title][like]=Hel%25", t(&[1, 3])),
        ("filter[where][title][regexp]=%2F%5Ehe%2Fi", t(&[1, 2, 3])),
        (
            "filter[where][status][inq][0]=draft&filter[where][status][inq][1]=schedule",
            t(&[1, 3, 5, 7, 9]),
        ),
        (
            "filter[where][status][inq]=draft&filter[where][status][inq]=schedule",
            t(&[1, 3, 5, 7, 9]),
        ),
        ("filter[order]=title%20DESC&filter[limit]=2", t(&[7, 2])),
        (
            "filter[order][0]=author_name%20DESC&filter[order][1]=title&filter[limit]=3",
            t(&[8, 7, 4]),
        ),
        ("filter[skip]=8", t(&[9, 10])),
        (
            "filter[where][publish_at][gt]=2017-06-01T00:00:00.000Z",
            t(&[5, 6, 9]),
        ),
        (
            "filter[where][or][0][status]=schedule&filter[where][or][1][title]=Hello%20world",
            t(&[1, 5, 9]),
        ),
        ("filter[where][tags]=", t(&[])),
    ];
    for (query, want) in cases {
        let r = f.raw(&path, query).await;
        assert_eq!(titles(&r), want, "{query}");
    }
    let r = f
        .raw(&path, &format!("filter[where][tags]={}", f.tech))
        .await;
    assert_eq!(titles(&r), t(&[2, 4, 6]));
    let r = f
        .raw(&path, "filter[fields][0]=title&filter[limit]=1")
        .await;
    assert_eq!(r.body, json!([{"title": TITLES[0]}]));
    let r = f.raw(&path, "filter[include]=bot&filter[limit]=1").await;
    assert_eq!(r.body[0]["bot"]["id"], f.bot.as_str());
    // The JSON form may come URL-encoded or raw.
    let r = f
        .raw(
            &path,
            "filter=%7B%22where%22%3A%7B%22status%22%3A%22draft%22%7D%7D",
        )
        .await;
    assert_eq!(titles(&r), t(&[1, 3, 7]));
}

#[tokio::test]
async fn count_takes_where_in_either_form() {
    let f = fixture().await;
    let count = format!("{}/count", f.flakes());
    let cases: Vec<(String, u64)> = vec![
        (String::new(), 10),
        ("where=%7B%22status%22%3A%22draft%22%7D".into(), 3),
        ("where[status]=draft".into(), 3),
        ("where%5Bstatus%5D=publish".into(), 4),
        ("where[status][neq]=draft".into(), 7),
        (format!("where[tags]={}", f.news), 2),
        ("where[title][like]=%25o%25".into(), 4),
        (
            format!(
                "where={}",
                urlencode(
                    &json!({"or": [{"status": "schedule"}, {"author_name": "cat"}]}).to_string()
                )
            ),
            4,
        ),
        // A filter on count is not a where: everything is counted.
        (
            "filter=%7B%22where%22%3A%7B%22status%22%3A%22draft%22%7D%7D".into(),
            10,
        ),
        ("where=".into(), 10),
    ];
    for (query, n) in cases {
        let r = f.raw(&count, &query).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body, json!({"count": n}), "{query}");
    }
    // And `where` on a list is not a filter: everything is listed.
    let r = f
        .raw(&f.flakes(), "where=%7B%22status%22%3A%22draft%22%7D")
        .await;
    assert_eq!(titles(&r).len(), 10);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn skip_without_limit_pages_by_one_hundred() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Many").await;
    let body: Vec<Value> = (0..105)
        .map(|n| json!({"title": format!("f{n:03}")}))
        .collect();
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            Value::Array(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(105));
    let path = format!("/api/bots/{bot}/flakes");
    let len = |r: &Resp| r.body.as_array().map(Vec::len);
    let all = app.get(&path, &token).await;
    assert_eq!(len(&all), Some(105));
    let r = app.get_filter(&path, &token, json!({"skip": 1})).await;
    assert_eq!(len(&r), Some(100));
    assert_eq!(r.body[0]["title"], "f001");
    assert_eq!(r.body[99]["title"], "f100");
    let r = app
        .get_filter(&path, &token, json!({"offset": 2, "limit": 0}))
        .await;
    assert_eq!(len(&r), Some(100));
    assert_eq!(r.body[0]["title"], "f002");
    assert_eq!(
        len(&app.get_filter(&path, &token, json!({"skip": 0})).await),
        Some(105)
    );
    assert_eq!(
        len(&app.get_filter(&path, &token, json!({"limit": 0})).await),
        Some(105)
    );
    assert_eq!(
        len(&app
            .get_filter(&path, &token, json!({"limit": 104, "skip": 2}))
            .await),
        Some(103)
    );
    assert_eq!(
        app.get(&format!("{path}/count"), &token).await.body,
        json!({"count": 105})
    );
}

#[tokio::test]
async fn filters_apply_to_users_and_bots_too() {
    let f = fixture().await;
    let app = &f.app;
    for n in 1..=3 {
        let r = app
            .post(
                "/api/users",
                &f.token,
                json!({"email": format!("user{n}@example.com"), "password": "pw-123456", "role": if n == 2 { "customer" } else { "owner" }, "bot_id": f.bot, "username": format!("u{n}")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let path = format!("/api/organisations/{}/users", app.org_id);
    let r = app
        .get_filter(&path, &f.token, json!({"where": {"email": {"like": "user%"}}, "order": "username DESC", "fields": ["username"]}))
        .await;
    assert_eq!(
        r.body,
        json!([{"username": "u3"}, {"username": "u2"}, {"username": "u1"}])
    );
    let r = app
        .get_filter(
            &path,
            &f.token,
            json!({"where": {"role": "customer"}, "fields": ["email"]}),
        )
        .await;
    assert_eq!(r.body, json!([{"email": "user2@example.com"}]));
    let r = app
        .get_filter(
            &path,
            &f.token,
            json!({"where": {"emailVerified": true}, "fields": ["email"]}),
        )
        .await;
    assert_eq!(r.body, json!([{"email": "admin@example.com"}]));
    let r = app
        .get_filter(
            &path,
            &f.token,
            json!({"where": {"emailVerified": "false"}, "fields": {"email": true}, "limit": 1}),
        )
        .await;
    assert_eq!(r.body, json!([{"email": "user1@example.com"}]));
    // The password is not a filterable property.
    let r = app
        .get_filter(
            &path,
            &f.token,
            json!({"where": {"password": {"like": "$2%"}}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = app
        .get_filter(
            &path,
            &f.token,
            json!({"fields": ["email", "password"], "limit": 1}),
        )
        .await;
    assert_eq!(r.body, json!([{"email": "admin@example.com"}]));
    let second = app.create_bot(&f.token, "Second").await;
    let r = app
        .get_filter(
            "/api/bots",
            &f.token,
            json!({"where": {"name": {"ilike": "s%"}}, "fields": ["id"]}),
        )
        .await;
    assert_eq!(r.body, json!([{"id": second}]));
}
