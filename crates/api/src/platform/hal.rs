//! HAL: `_links` as an object map of absolute URLs, and collection pages exactly as the platform
//! API shows them (`_embedded.<name>`, `first`/`prev`/`self`/`next`/`last`, `page`).

use palaver_domain::platform::paging::PageRequest;
use palaver_service::platform::CursorPage;
use serde_json::{json, Map, Value};

use super::context::Ctx;

/// `{"href": url}`, the URL moved in (every resource has several).
pub fn href(url: String) -> Value {
    let mut m = Map::with_capacity(1);
    m.insert("href".into(), Value::String(url));
    Value::Object(m)
}

/// Builds a `_links` map from (rel, path) pairs under the request's prefix.
pub fn links(ctx: &Ctx, rels: &[(&str, String)]) -> Value {
    let mut m = Map::with_capacity(rels.len());
    for (rel, path) in rels {
        m.insert(rel.to_string(), href(ctx.link(path)));
    }
    Value::Object(m)
}

fn page_url(ctx: &Ctx, path: &str, page: u64, size: u64, extra: &[(String, String)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("page", &page.to_string())
        .append_pair("size", &size.to_string());
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{}?{}", ctx.link(path), q.finish())
}

/// A page of `items` under `_embedded.<name>`. `extra` are the request's other query parameters
/// (sort, filters), carried into every link.
pub fn page(
    ctx: &Ctx,
    path: &str,
    name: &str,
    items: Vec<Value>,
    req: &PageRequest,
    total: u64,
    extra: &[(String, String)],
) -> Value {
    let pages = req.total_pages(total);
    let last = pages.saturating_sub(1);
    let mut l = Map::new();
    l.insert(
        "first".into(),
        href(page_url(ctx, path, 0, req.size, extra)),
    );
    if req.page > 0 {
        let prev = req.page.min(pages).saturating_sub(1);
        l.insert(
            "prev".into(),
            href(page_url(ctx, path, prev, req.size, extra)),
        );
    }
    l.insert(
        "self".into(),
        href(page_url(ctx, path, req.page, req.size, extra)),
    );
    if req.page + 1 < pages {
        l.insert(
            "next".into(),
            href(page_url(ctx, path, req.page + 1, req.size, extra)),
        );
    }
    l.insert(
        "last".into(),
        href(page_url(ctx, path, last, req.size, extra)),
    );
    let page = json!({
        "size": req.size,
        "total_elements": total,
        "total_pages": pages,
        "number": req.page,
    });
    paged(name, items, l, page)
}

/// `{"_embedded": {<name>: items}, "_links": links, "page": page}`, its parts moved in: `json!`
/// would copy each of them, every resource of the page included.
fn paged(name: &str, items: Vec<Value>, links: Map<String, Value>, page: Value) -> Value {
    let mut embedded = Map::with_capacity(1);
    embedded.insert(name.to_string(), Value::Array(items));
    let mut out = Map::with_capacity(3);
    out.insert("_embedded".into(), Value::Object(embedded));
    out.insert("_links".into(), Value::Object(links));
    out.insert("page".into(), page);
    Value::Object(out)
}

/// The query pairs a page link must carry besides `page` and `size`.
pub fn carried(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k != "page" && k != "size")
        .cloned()
        .collect()
}

fn cursor_url(
    ctx: &Ctx,
    path: &str,
    pairs: &[(&str, String)],
    extra: &[(String, String)],
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{}?{}", ctx.link(path), q.finish())
}

/// A cursor page of `items` under `_embedded.<name>`: `self` repeats the request, `next`
/// carries the cursors of the following (older) page and `prev` those of the preceding (newer)
/// one; `page` always has `size`. The request's other parameters (its filters) are carried
/// into every link.
pub fn cursor_page(
    ctx: &Ctx,
    path: &str,
    name: &str,
    items: Vec<Value>,
    cursors: &CursorLinks,
    request: &[(String, String)],
) -> Value {
    let cursor_keys = ["size", "start", "next", "relation"];
    let extra: Vec<(String, String)> = request
        .iter()
        .filter(|(k, _)| !cursor_keys.contains(&k.as_str()))
        .cloned()
        .collect();
    let size = cursors.size.to_string();
    let link = |next: Option<String>, relation: &str| {
        let mut pairs = vec![("size", size.clone())];
        if let Some(s) = cursors.start {
            pairs.push(("start", s.to_string()));
        }
        if let Some(n) = next {
            pairs.push(("next", n));
        }
        pairs.push(("relation", relation.to_string()));
        href(cursor_url(ctx, path, &pairs, &extra))
    };
    // Self reads the same page again, also when it was reached going back.
    let mut own: Vec<(&str, String)> = vec![("size", size.clone())];
    if let Some((_, v)) = request.iter().find(|(k, _)| k == "start") {
        own.push(("start", v.clone()));
    }
    if let Some(t) = cursors.this {
        own.push(("next", t.to_string()));
    }
    own.push(("relation", "SELF".into()));
    let mut l = Map::new();
    l.insert("self".into(), href(cursor_url(ctx, path, &own, &extra)));
    let mut page = json!({ "size": cursors.size });
    if let Some(s) = cursors.start {
        page["start"] = json!(s.to_string());
    }
    if let Some(n) = cursors.next {
        page["next"] = json!(n.to_string());
        l.insert("next".into(), link(Some(n.to_string()), "NEXT"));
    }
    if let Some(p) = cursors.prev {
        l.insert("prev".into(), link(Some(p.to_string()), "PREVIOUS"));
    }
    paged(name, items, l, page)
}

/// The size and encoded cursors of a cursor page.
pub struct CursorLinks {
    pub size: u64,
    pub start: Option<i64>,
    pub next: Option<i64>,
    pub prev: Option<i64>,
    pub this: Option<i64>,
}

impl<T> From<&CursorPage<T>> for CursorLinks {
    fn from(p: &CursorPage<T>) -> Self {
        CursorLinks {
            size: p.size,
            start: p.start,
            next: p.next,
            prev: p.prev,
            this: p.this,
        }
    }
}
