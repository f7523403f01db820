//! HAL: `_links` as an object map of absolute URLs, and collection pages exactly as the platform
//! API shows them (`_embedded.<name>`, `first`/`prev`/`self`/`next`/`last`, `page`).

use palaver_domain::platform::paging::PageRequest;
use palaver_service::platform::CursorPage;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use palaver_views::links::href;

use super::context::Ctx;

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
pub fn page<'n, T: Serialize>(
    ctx: &Ctx,
    path: &str,
    name: &'n str,
    items: T,
    req: &PageRequest,
    total: u64,
    extra: &[(String, String)],
) -> Paged<'n, T> {
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

/// `{"_embedded": {<name>: items}, "_links": links, "page": page}`: a page of any resources,
/// written as it is serialised (for snake_case callers its items are never copied into one
/// tree; camelCase ones get a renamed copy, see `respond`).
pub struct Paged<'n, T: Serialize> {
    name: &'n str,
    items: T,
    links: Map<String, Value>,
    page: Value,
}

fn paged<T: Serialize>(
    name: &str,
    items: T,
    links: Map<String, Value>,
    page: Value,
) -> Paged<'_, T> {
    Paged {
        name,
        items,
        links,
        page,
    }
}

struct Embedded<'a, T: Serialize>(&'a str, &'a T);

impl<T: Serialize> Serialize for Embedded<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

impl<T: Serialize> Serialize for Paged<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("_embedded", &Embedded(self.name, &self.items))?;
        m.serialize_entry("_links", &self.links)?;
        m.serialize_entry("page", &self.page)?;
        m.end()
    }
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
/// one; `page` always has `size` and `total`, and `start`/`next` when there are such cursors.
/// The request's other parameters (its filters) are carried into every link.
///
/// `total` is the number of items of the whole listing, now (a traversal's cursors keep to
/// the messages that existed when it began; its total does not).
pub fn cursor_page<'n, T: Serialize>(
    ctx: &Ctx,
    path: &str,
    name: &'n str,
    items: T,
    cursors: &CursorLinks,
    request: &[(String, String)],
) -> Paged<'n, T> {
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
    let mut page = json!({ "size": cursors.size, "total": cursors.total });
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

/// The size, item count and encoded cursors of a cursor page.
pub struct CursorLinks {
    pub size: u64,
    /// Items of the whole listing.
    pub total: u64,
    pub start: Option<i64>,
    pub next: Option<i64>,
    pub prev: Option<i64>,
    pub this: Option<i64>,
}

impl<T> From<&CursorPage<T>> for CursorLinks {
    fn from(p: &CursorPage<T>) -> Self {
        CursorLinks {
            size: p.size,
            total: p.total,
            start: p.start,
            next: p.next,
            prev: p.prev,
            this: p.this,
        }
    }
}
