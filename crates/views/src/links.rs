//! HAL links: `{"href": <absolute URL>}` values and `_links` maps, written under a link base.

use std::fmt::Display;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::LinkBase;

/// `{"href": url}`, the URL moved in (every resource has several).
pub fn href(url: String) -> Value {
    let mut m = Map::with_capacity(1);
    m.insert("href".into(), Value::String(url));
    Value::Object(m)
}

/// A path written as it is serialised: `before`, `id`, `after` (`/messages/`, 7, `/replies`).
pub struct At<'a, T: Display>(pub &'a str, pub T, pub &'a str);

impl<T: Display> Display for At<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, self.2)
    }
}

/// `{"href": <base><path>}`, its URL written straight into the response (a page has hundreds).
pub struct Link<'a, P: Display> {
    pub base: &'a str,
    pub path: P,
}

struct Url<'a, P: Display>(&'a str, &'a P);

impl<P: Display> Serialize for Url<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}{}", self.0, self.1))
    }
}

impl<P: Display> Serialize for Link<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("href", &Url(self.base, &self.path))?;
        m.end()
    }
}

/// `path` (a path on this server, as hosted files' URLs are kept) on the caller's origin.
pub fn absolute(ctx: &LinkBase, path: &str) -> String {
    format!("{}{path}", ctx.origin)
}

/// Builds a `_links` map from (rel, path) pairs under the request's prefix.
pub fn links(ctx: &LinkBase, rels: &[(&str, String)]) -> Value {
    let mut m = Map::with_capacity(rels.len());
    for (rel, path) in rels {
        m.insert(rel.to_string(), href(ctx.link(path)));
    }
    Value::Object(m)
}
