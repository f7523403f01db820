//! Collection pages of the platform API: the seed's pagination example reproduced exactly, the
//! first/last/empty pages, sorting carried into links, and bad page parameters.

use palaver_test_support::{assert_platform_error, Resp, TestApp};
use reqwest::Url;
use serde_json::{json, Value};

/// The seed's six-user page, `GET /v1/applications/1/users?page=1&size=2`.
const SEED_LINKS: &str = r#"{
    "first": {"href": "https://api.chatkitty.com/v1/applications/1/users?page=0&size=2"},
    "prev": {"href": "https://api.chatkitty.com/v1/applications/1/users?page=0&size=2"},
    "self": {"href": "https://api.chatkitty.com/v1/applications/1/users?page=1&size=2"},
    "next": {"href": "https://api.chatkitty.com/v1/applications/1/users?page=2&size=2"},
    "last": {"href": "https://api.chatkitty.com/v1/applications/1/users?page=2&size=2"}
}"#;
const SEED_PAGE: &str = r#"{"size": 2, "totalElements": 6, "totalPages": 3, "number": 1}"#;

const NAMES: [(&str, &str); 6] = [
    ("1017562554", "Jane Doe"),
    ("102746681", "John Doe"),
    ("carol", "Carol"),
    ("dave", "Dave"),
    ("erin", "Erin"),
    ("frank", "Frank"),
];

async fn six_users(app: &TestApp, token: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for (name, display) in NAMES {
        let u = app
            .create_chat_user(
                token,
                json!({"name": name, "display_name": display, "is_guest": false}),
            )
            .await;
        ids.push(u["id"].as_i64().expect("id"));
    }
    ids
}

fn embedded_ids(r: &Resp) -> Vec<i64> {
    r.body["_embedded"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users: {}", r.text))
        .iter()
        .map(|u| u["id"].as_i64().expect("id"))
        .collect()
}

fn rels(r: &Resp) -> Vec<String> {
    let mut k: Vec<String> = r.body["_links"]
        .as_object()
        .unwrap_or_else(|| panic!("no links: {}", r.text))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// A link's query as decoded pairs, in order.
fn query_of(href: &Value) -> Vec<(String, String)> {
    let url = Url::parse(href.as_str().expect("href")).expect("absolute URL");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn the_seeds_pagination_example_exactly() {
    let app = crate::spawn_with(|c| c.public_url = Some("https://api.chatkitty.com".into())).await;
    // The seed's application is number 1, as the first application of a fresh server is.
    assert_eq!(app.app_id, 1);
    let token = app.platform_token().await;
    let ids = six_users(&app, &token).await;

    let r = app
        .pget("/v1/applications/1/users?page=1&size=2", &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let want_links: Value = serde_json::from_str(SEED_LINKS).expect("seed links");
    let want_page: Value = serde_json::from_str(SEED_PAGE).expect("seed page");
    assert_eq!(r.body["_links"], want_links);
    assert_eq!(r.body["page"], want_page);
    let mut top: Vec<&String> = r.body.as_object().expect("object").keys().collect();
    top.sort();
    assert_eq!(top, ["_embedded", "_links", "page"]);

    // The page holds the third and fourth users (ids ascending by default), each with the
    // seed's links among its own.
    assert_eq!(embedded_ids(&r), ids[2..4].to_vec());
    for (u, (name, display)) in r.body["_embedded"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .zip(&NAMES[2..4])
    {
        let id = u["id"].as_i64().expect("id");
        assert_eq!(
            (&u["name"], &u["displayName"]),
            (&json!(name), &json!(display))
        );
        let base = format!("https://api.chatkitty.com/v1/applications/1/users/{id}");
        assert_eq!(u["_links"]["self"]["href"], base);
        assert_eq!(u["_links"]["channels"]["href"], format!("{base}/channels"));
        assert_eq!(
            u["_links"]["application"]["href"],
            "https://api.chatkitty.com/v1/applications/1"
        );
    }
}

#[tokio::test]
async fn first_last_and_past_the_end_pages() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let ids = six_users(&app, &token).await;
    let base = format!("{}/v1/users", app.base);
    let href = |page: u64| json!({"href": format!("{base}?page={page}&size=2")});

    let r = app.pget("/v1/users?page=0&size=2", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["_links"],
        json!({"first": href(0), "self": href(0), "next": href(1), "last": href(2)})
    );
    assert_eq!(
        r.body["page"],
        json!({"size": 2, "totalElements": 6, "totalPages": 3, "number": 0})
    );
    assert_eq!(embedded_ids(&r), ids[0..2].to_vec());

    let r = app.pget("/v1/users?page=2&size=2", &token).await;
    assert_eq!(
        r.body["_links"],
        json!({"first": href(0), "prev": href(1), "self": href(2), "last": href(2)})
    );
    assert_eq!(embedded_ids(&r), ids[4..6].to_vec());
    assert_eq!(r.body["page"]["number"], 2);

    // An uneven last page.
    let r = app.pget("/v1/users?page=1&size=4", &token).await;
    assert_eq!(embedded_ids(&r), ids[4..6].to_vec());
    assert_eq!(
        r.body["page"],
        json!({"size": 4, "totalElements": 6, "totalPages": 2, "number": 1})
    );
    assert_eq!(rels(&r), ["first", "last", "prev", "self"]);

    // Past the end: nothing embedded, prev leads back to the last page, no next.
    let r = app.pget("/v1/users?page=7&size=2", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(embedded_ids(&r), Vec::<i64>::new());
    assert_eq!(
        r.body["_links"],
        json!({"first": href(0), "prev": href(2), "self": href(7), "last": href(2)})
    );

    // One page holds everything: no prev, no next.
    let r = app.pget("/users?size=6", &token).await;
    assert_eq!(embedded_ids(&r), ids);
    assert_eq!(rels(&r), ["first", "last", "self"]);
    assert_eq!(
        r.body["page"],
        json!({"size": 6, "total_elements": 6, "total_pages": 1, "number": 0})
    );
}

#[tokio::test]
async fn defaults_and_an_empty_collection() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let r = app.pget("/v1/users", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["page"],
        json!({"size": 25, "totalElements": 0, "totalPages": 0, "number": 0})
    );
    let users = &r.body["_embedded"]["users"];
    assert!(users.is_null() || *users == json!([]), "{}", r.text);
    assert!(r.body["_links"].get("next").is_none(), "{}", r.text);
    assert!(r.body["_links"].get("prev").is_none(), "{}", r.text);
    assert_eq!(
        r.body["_links"]["self"]["href"],
        format!("{}/v1/users?page=0&size=25", app.base)
    );

    // 26 users: the default page is 25 and there is a next one.
    for n in 0..26 {
        app.create_chat_user(
            &token,
            json!({"name": format!("u{n:02}"), "display_name": "U"}),
        )
        .await;
    }
    let r = app.pget("/v1/users", &token).await;
    assert_eq!(embedded_ids(&r).len(), 25);
    assert_eq!(
        r.body["page"],
        json!({"size": 25, "totalElements": 26, "totalPages": 2, "number": 0})
    );
    assert_eq!(
        r.body["_links"]["next"]["href"],
        format!("{}/v1/users?page=1&size=25", app.base)
    );
    // The largest page allowed.
    let r = app.pget("/v1/users?size=100", &token).await;
    assert_eq!(embedded_ids(&r).len(), 26);
}

#[tokio::test]
async fn sort_criteria_repeat_and_are_carried_into_links() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    // Two users share each display name, so the second criterion decides between them.
    let mut made: Vec<(i64, String, String)> = Vec::new();
    for (name, display) in [
        ("mike", "B"),
        ("anna", "A"),
        ("zed", "B"),
        ("bert", "A"),
        ("otto", "C"),
    ] {
        let u = app
            .create_chat_user(&token, json!({"name": name, "display_name": display}))
            .await;
        made.push((u["id"].as_i64().expect("id"), name.into(), display.into()));
    }

    let r = app
        .pget("/users?sort=name,desc&sort=id,asc&size=2", &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut by_name = made.clone();
    by_name.sort_by(|a, b| b.1.cmp(&a.1));
    let want: Vec<i64> = by_name.iter().take(2).map(|u| u.0).collect();
    assert_eq!(embedded_ids(&r), want);
    for rel in ["first", "self", "next", "last"] {
        let q = query_of(&r.body["_links"][rel]["href"]);
        assert_eq!(
            q[..2],
            pairs(&[("page", &q[0].1), ("size", "2")])[..],
            "{rel}"
        );
        assert_eq!(
            q[2..],
            pairs(&[("sort", "name,desc"), ("sort", "id,asc")])[..],
            "{rel}"
        );
    }
    assert_eq!(query_of(&r.body["_links"]["next"]["href"])[0].1, "1");
    assert_eq!(query_of(&r.body["_links"]["last"]["href"])[0].1, "2");
    // Following `next` gives the following users in the same order.
    let next = r.body["_links"]["next"]["href"]
        .as_str()
        .expect("next")
        .strip_prefix(&app.base)
        .expect("same origin")
        .to_string();
    let r = app.pget(&next, &token).await;
    let want: Vec<i64> = by_name.iter().skip(2).take(2).map(|u| u.0).collect();
    assert_eq!(embedded_ids(&r), want);

    // Display name ascending, then id descending; the camelCase property name works too.
    for sort in ["display_name", "displayName"] {
        let r = app
            .pget(&format!("/v1/users?sort={sort},asc&sort=id,desc"), &token)
            .await;
        assert_eq!(r.status, 200, "{sort}: {}", r.text);
        let mut want = made.clone();
        want.sort_by(|a, b| a.2.cmp(&b.2).then(b.0.cmp(&a.0)));
        let want: Vec<i64> = want.iter().map(|u| u.0).collect();
        assert_eq!(embedded_ids(&r), want, "{sort}");
    }
    // No direction means ascending.
    let r = app.pget("/users?sort=name", &token).await;
    let mut want = made.clone();
    want.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        embedded_ids(&r),
        want.iter().map(|u| u.0).collect::<Vec<_>>()
    );
    // Descending ids.
    let r = app.pget("/users?sort=id,desc", &token).await;
    let mut want: Vec<i64> = made.iter().map(|u| u.0).collect();
    want.reverse();
    assert_eq!(embedded_ids(&r), want);
    // Filters are carried into links as well.
    let r = app.pget("/users?name=anna&size=1", &token).await;
    assert_eq!(embedded_ids(&r), vec![made[1].0]);
    assert_eq!(
        query_of(&r.body["_links"]["self"]["href"]),
        pairs(&[("page", "0"), ("size", "1"), ("name", "anna")])
    );
}

#[tokio::test]
async fn bad_page_parameters_are_400_invalid_parameter() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    for q in [
        "page=-1",
        "page=x",
        "page=1.5",
        "page=18446744073709551615",
        "page=92233720368547759&size=100",
        "size=0",
        "size=101",
        "size=-5",
        "size=abc",
        "sort=nosuch,asc",
        "sort=name,sideways",
        "sort=name,asc&sort=password,desc",
        "sort=properties,asc",
    ] {
        for prefix in ["", "/v1"] {
            let r = app.pget(&format!("{prefix}/users?{q}"), &token).await;
            assert_platform_error(&r, 400, "InvalidParameterError");
            assert_eq!(r.body["message"], "Client error", "{q}");
        }
    }
}
