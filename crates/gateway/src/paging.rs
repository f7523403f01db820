//! Relay parameters and the pages relays answer. The client sends a relay's parameters as
//! SUBSCRIBE headers and follows a page's `_relays.next`/`prev` as they are, with the first
//! request's headers again: so where a page is lives in the destination's query (`?page=2`,
//! `?next=…&start=…`), and what is listed in the headers.

use palaver_domain::platform::cursor::{CursorRequest, Relation};
use palaver_domain::platform::paging::{PageRequest, Sort};
use palaver_domain::DomainError;
use palaver_service::platform::CursorPage;
use serde_json::{json, Map, Value};

use crate::frame::Frame;

/// Largest page one relay answers.
pub const MAX_SIZE: u64 = 100;
/// A page's size when the client names none (it never does): the largest.
pub const DEFAULT_SIZE: u64 = MAX_SIZE;

/// What a relay was asked: its headers and its destination's query.
pub struct Params<'a> {
    frame: &'a Frame,
    /// The destination without its query.
    pub path: String,
    query: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `displayName` as `display_name`.
fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes what would end a query value.
fn encode(s: &str) -> String {
    s.replace('%', "%25")
        .replace('&', "%26")
        .replace('=', "%3D")
}

impl<'a> Params<'a> {
    pub fn of(frame: &'a Frame) -> Self {
        let dest = frame.get("destination").unwrap_or_default();
        let (path, q) = dest.split_once('?').unwrap_or((dest, ""));
        let query = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Params {
            frame,
            path: path.to_string(),
            query,
        }
    }

    /// A parameter: from the query if the page's relay carries it, else from the headers.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .or_else(|| self.frame.get(key))
            .filter(|v| !v.is_empty() && *v != "undefined" && *v != "null")
    }

    /// A `true`/`false` parameter.
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    fn size(&self) -> u64 {
        self.get("size")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(DEFAULT_SIZE)
            .clamp(1, MAX_SIZE)
    }

    /// The page asked for (`page` from 0, `size`), sorted by `sort` if given.
    pub fn page(&self) -> PageRequest {
        let sort = self
            .get("sort")
            .map(|s| {
                // `user.displayName,asc` as the service names it: `user.display_name`.
                let (property, dir) = s.split_once(',').unwrap_or((s, "asc"));
                Sort {
                    property: snake(property),
                    descending: dir.eq_ignore_ascii_case("desc"),
                }
            })
            .into_iter()
            .collect();
        PageRequest {
            page: self
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0)
                .min(1_000_000),
            size: self.size(),
            sort,
        }
    }

    /// The cursor page asked for: the newest, or where `next`/`start`/`relation` say.
    pub fn cursor(&self) -> Result<CursorRequest, DomainError> {
        let mut pairs = vec![("size".to_string(), self.size().to_string())];
        for k in ["start", "next", "relation"] {
            if let Some(v) = self.get(k) {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        CursorRequest::from_query(&pairs)
    }

    /// This relay with `query` in place of the paging part of its own.
    fn with(&self, query: &[(&str, String)]) -> String {
        let paging = ["page", "size", "start", "next", "relation"];
        let mut parts: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| !paging.contains(&k.as_str()))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        parts.extend(query.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        if parts.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, parts.join("&"))
        }
    }
}

fn page_body(name: &str, items: Vec<Value>, meta: Value, relays: Map<String, Value>) -> Value {
    let mut embedded = Map::new();
    embedded.insert(name.to_string(), Value::Array(items));
    json!({"_embedded": embedded, "page": meta, "_relays": relays})
}

/// A numbered page (`_embedded.<name>`), its `_relays` leading to its neighbours.
pub fn paged(name: &str, items: Vec<Value>, total: u64, req: &PageRequest, at: &Params) -> Value {
    let size = req.size.max(1);
    let pages = total.div_ceil(size).max(1);
    let mut relays = Map::new();
    let to = |n: u64| at.with(&[("page", n.to_string()), ("size", size.to_string())]);
    relays.insert("self".into(), json!(to(req.page)));
    relays.insert("first".into(), json!(to(0)));
    relays.insert("last".into(), json!(to(pages - 1)));
    if req.page > 0 {
        relays.insert("prev".into(), json!(to(req.page - 1)));
    }
    if req.page + 1 < pages {
        relays.insert("next".into(), json!(to(req.page + 1)));
    }
    let meta = json!({"size": items.len(), "totalElements": total, "totalElement": total,
                      "totalPages": pages, "number": req.page});
    page_body(name, items, meta, relays)
}

/// A cursor page of history (`_embedded.<name>`), its `_relays` leading to its neighbours.
pub fn cursor_paged<T>(name: &str, items: Vec<Value>, page: &CursorPage<T>, at: &Params) -> Value {
    let size = page.size.to_string();
    let mut relays = Map::new();
    let mut this = vec![("size", size.clone())];
    if let (Some(next), Some(start)) = (page.this, page.start) {
        this.extend([("next", next.to_string()), ("start", start.to_string())]);
    }
    relays.insert("self".into(), json!(at.with(&this)));
    if let Some(next) = page.next {
        let mut q = vec![("size", size.clone()), ("next", next.to_string())];
        q.extend(page.start.map(|s| ("start", s.to_string())));
        relays.insert("next".into(), json!(at.with(&q)));
    }
    if let (Some(prev), Some(start)) = (page.prev, page.start) {
        let q = [
            ("size", size.clone()),
            ("next", prev.to_string()),
            ("start", start.to_string()),
            ("relation", relation(Relation::Previous).into()),
        ];
        relays.insert("prev".into(), json!(at.with(&q)));
    }
    let meta = json!({"size": items.len(), "total": page.total,
                      "start": page.start.map(|s| s.to_string()),
                      "next": page.next.map(|n| n.to_string())});
    page_body(name, items, meta, relays)
}

fn relation(r: Relation) -> &'static str {
    match r {
        Relation::SelfPage => "SELF",
        Relation::Next => "NEXT",
        Relation::Previous => "PREVIOUS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Command;

    fn subscribe(dest: &str) -> Frame {
        Frame::new(Command::Subscribe)
            .header("destination", dest)
            .header("type", "FILE")
    }

    #[test]
    fn parameters_come_from_the_query_then_the_headers() {
        let f = subscribe("/application/channels/1/members.relay?sort=user.displayName,asc&page=2");
        let p = Params::of(&f);
        assert_eq!(p.path, "/application/channels/1/members.relay");
        assert_eq!(p.get("type"), Some("FILE"));
        let req = p.page();
        assert_eq!(req.page, 2);
        assert_eq!(req.sort[0].property, "user.display_name");
        assert!(!req.sort[0].descending);
    }

    #[test]
    fn a_numbered_page_links_its_neighbours_keeping_its_sort() {
        let f = subscribe("/application/channels/1/members.relay?sort=user.displayName,asc");
        let p = Params::of(&f);
        let req = PageRequest {
            page: 1,
            size: 2,
            sort: Vec::new(),
        };
        let v = paged("users", vec![json!(1), json!(2)], 5, &req, &p);
        let next = v["_relays"]["next"].as_str().unwrap();
        assert_eq!(
            next,
            "/application/channels/1/members.relay?sort=user.displayName,asc&page=2&size=2"
        );
        let again = Params::of(&subscribe(next)).page();
        assert_eq!((again.page, again.size), (2, 2));
        assert_eq!(v["page"]["totalPages"], 3);
        assert!(v["_relays"]["prev"].is_string());
        let last = PageRequest { page: 2, ..req };
        assert!(paged("users", vec![], 5, &last, &p)["_relays"]["next"].is_null());
    }

    #[test]
    fn values_that_would_break_the_query_are_escaped() {
        let f = subscribe("/a.relay?name=x%26y%3Dz");
        assert_eq!(Params::of(&f).get("name"), Some("x&y=z"));
    }
}
