//! Public entry points to the content API's input parsers (query strings, `filter` and `where`
//! parameters, request bodies), each running the code its extractor runs, so fuzz targets and
//! property tests reach them without a server.

use palaver_domain::filter::{parse_filter, parse_where, Filter, Where};
use palaver_domain::{DomainError, Model};
use serde_json::{Map, Value};

use super::extract;
use crate::qs;

/// A raw query string (or an urlencoded body) as nested JSON, as LoopBack's `qs` reads it.
pub fn query_string(query: &str) -> Map<String, Value> {
    qs::parse(query)
}

/// The `filter` parameter of a raw query string (JSON or bracket form) as `model`'s typed
/// filter: what a content API listing gets from `?filter=…`.
pub fn filter(query: &str, model: &'static Model) -> Result<Filter, DomainError> {
    parse_filter(model, &extract::param(query, "filter")?)
}

/// The `where` parameter of a raw query string (JSON or bracket form) as `model`'s where
/// clause: what a content API `count` gets from `?where=…`.
pub fn where_clause(query: &str, model: &'static Model) -> Result<Where, DomainError> {
    parse_where(model, &extract::param(query, "where")?)
}

/// A request body as JSON: `form` says it is `application/x-www-form-urlencoded`, otherwise
/// it must be JSON; a blank body is `{}`.
pub fn body(form: bool, bytes: &[u8]) -> Result<Value, DomainError> {
    extract::body_value(form, bytes)
}
