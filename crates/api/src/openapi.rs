//! The OpenAPI documents of the two HTTP faces, kept as files beside the crate
//! (`openapi/platform.json`, `openapi/content.json`) and served as they are:
//!
//! - `GET /openapi.json`: the platform API at the root, in snake_case, the naming resources
//!   are built in. It is the one platform document maintained by hand.
//! - `GET /v1/openapi.json`: the same API under `/v1`, derived from the root document when it
//!   is first asked for, never maintained twice. Under `/v1` responses are camelCase (unless the
//!   caller accepts ChatKitty's own media type) and requests are read in either naming, so
//!   every schema property is renamed the way `palaver_domain::platform::naming` renames a
//!   resource's keys (same fixed keys, same free maps left alone); query parameters keep their
//!   names, which both prefixes accept. Hosted files' downloads are served at the root only and
//!   dropped. `/v1/applications/{app_id}` serves the same operations again.
//! - `GET /api/openapi.json`: the content API (LoopBack 3 conventions).
//!
//! `servers` are relative (`/`, `/v1`, `/api`), so an explorer's "try it out" reaches the server
//! that served the document.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use palaver_domain::platform::naming::{out_key, renames_inside, Naming};
use serde_json::{json, Map, Value};

const PLATFORM: &str = include_str!("../openapi/platform.json");
const CONTENT: &str = include_str!("../openapi/content.json");

/// The three documents, serialised once.
struct Documents {
    platform: Bytes,
    platform_v1: Bytes,
    content: Bytes,
}

static DOCUMENTS: LazyLock<Result<Documents, String>> = LazyLock::new(documents);

fn documents() -> Result<Documents, String> {
    let platform: Value =
        serde_json::from_str(PLATFORM).map_err(|e| format!("openapi/platform.json: {e}"))?;
    let content: Value =
        serde_json::from_str(CONTENT).map_err(|e| format!("openapi/content.json: {e}"))?;
    let v1 = v1_document(&platform);
    let bytes = |v: &Value| {
        serde_json::to_vec(v)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    };
    Ok(Documents {
        platform: bytes(&platform)?,
        platform_v1: bytes(&v1)?,
        content: bytes(&content)?,
    })
}

/// The three document routes; they need no state and no credentials.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/openapi.json", get(|| async { serve(|d| &d.platform) }))
        .route(
            "/v1/openapi.json",
            get(|| async { serve(|d| &d.platform_v1) }),
        )
        .route("/api/openapi.json", get(|| async { serve(|d| &d.content) }))
}

fn serve(pick: fn(&Documents) -> &Bytes) -> Response {
    match &*DOCUMENTS {
        Ok(docs) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            pick(docs).clone(),
        )
            .into_response(),
        Err(e) => {
            // A broken embedded file is a build defect the unit tests catch; never a panic here.
            tracing::error!("OpenAPI document unreadable: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The root (snake_case) platform document as served under `/v1` (camelCase).
fn v1_document(root: &Value) -> Value {
    let mut doc = root.clone();
    doc["servers"] = json!([{ "url": "/v1" }]);
    if let Some(Value::String(d)) = doc.pointer_mut("/info/description") {
        d.push_str(
            " This document describes `/v1`: responses are camelCase unless `Accept` names \
             `application/vnd.chatkitty+json`; requests may use either naming.",
        );
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        paths.retain(|path, _| !path.starts_with("/files/"));
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas.values_mut().for_each(camel_schema);
    }
    camel_media_schemas(&mut doc);
    doc
}

/// Renames the schema under every `schema` key (parameters, bodies, responses).
fn camel_media_schemas(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "schema" {
                    camel_schema(v);
                } else if k != "schemas" {
                    camel_media_schemas(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(camel_media_schemas),
        _ => {}
    }
}

/// Renames a schema's property names (and its `required` list) into camelCase, through nested
/// schemas but not inside free maps and link maps, as the response renaming does.
fn camel_schema(schema: &mut Value) {
    let Value::Object(map) = schema else {
        if let Value::Array(items) = schema {
            items.iter_mut().for_each(camel_schema);
        }
        return;
    };
    if let Some(Value::Object(props)) = map.remove("properties") {
        let mut renamed = Map::with_capacity(props.len());
        for (key, mut sub) in props {
            if renames_inside(&key) {
                camel_schema(&mut sub);
            }
            renamed.insert(out_key(&key, Naming::Camel).into_owned(), sub);
        }
        map.insert("properties".into(), Value::Object(renamed));
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        for key in required.iter_mut() {
            if let Value::String(k) = key {
                *k = out_key(k, Naming::Camel).into_owned();
            }
        }
    }
    for (key, sub) in map.iter_mut() {
        // Data, not schemas.
        if !matches!(
            key.as_str(),
            "properties" | "required" | "enum" | "default" | "example" | "discriminator"
        ) {
            camel_schema(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::route_table::Route;

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    fn parsed(bytes: &Bytes) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    fn docs() -> &'static Documents {
        DOCUMENTS.as_ref().unwrap()
    }

    /// (METHOD, path) of every operation a document names.
    fn operations(doc: &Value) -> BTreeSet<(String, String)> {
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(method).is_some() {
                    ops.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        ops
    }

    fn served(routes: Vec<Route>) -> BTreeSet<(String, String)> {
        routes
            .into_iter()
            .map(|r| (r.method.to_string(), r.path))
            .collect()
    }

    /// Fails on a served route the document lacks, and on a documented one nothing serves.
    fn assert_same(face: &str, served: BTreeSet<(String, String)>, doc: &Value) {
        let documented = operations(doc);
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "{face}: served but not documented: {undocumented:?}; documented but not served: \
             {unserved:?}"
        );
    }

    // Routes outside the tables below are deliberately undocumented: `/health` (probes),
    // `/avatars/{file}` (generated images linked from resources), the documents themselves and
    // the `/docs` pages, the real-time gateway (`/rtm/...`, StompX, not HTTP resources) and its
    // upload streams (`_streams` destinations handed out by the gateway), and
    // `GET /v1/applications/{app_id}` (the application again, as `GET /application`).

    #[test]
    fn the_root_platform_document_names_exactly_what_the_root_serves() {
        assert_same(
            "platform (root)",
            served(crate::platform::root_table()),
            &parsed(&docs().platform),
        );
    }

    #[test]
    fn the_v1_platform_document_names_exactly_what_v1_serves() {
        assert_same(
            "platform (/v1)",
            served(crate::platform::v1_table()),
            &parsed(&docs().platform_v1),
        );
    }

    #[test]
    fn the_content_document_names_exactly_what_the_content_api_serves() {
        assert_same(
            "content",
            served(crate::content::served()),
            &parsed(&docs().content),
        );
    }

    #[test]
    fn the_comparison_catches_a_route_missing_either_way() {
        let doc = json!({ "paths": { "/a": { "get": {} }, "/b": { "post": {} } } });
        let served = |ops: &[(&str, &str)]| {
            ops.iter()
                .map(|(m, p)| (m.to_string(), p.to_string()))
                .collect::<BTreeSet<_>>()
        };
        let missing = std::panic::catch_unwind(|| {
            assert_same(
                "t",
                served(&[("GET", "/a"), ("POST", "/b"), ("PUT", "/b")]),
                &doc,
            )
        });
        assert!(missing.is_err(), "an undocumented route passed");
        let extra = std::panic::catch_unwind(|| assert_same("t", served(&[("GET", "/a")]), &doc));
        assert!(extra.is_err(), "an unserved operation passed");
        assert_same("t", served(&[("GET", "/a"), ("POST", "/b")]), &doc);
    }

    #[test]
    fn documents_are_openapi_3_with_relative_servers() {
        for (bytes, server) in [
            (&docs().platform, "/"),
            (&docs().platform_v1, "/v1"),
            (&docs().content, "/api"),
        ] {
            let doc = parsed(bytes);
            assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
            assert_eq!(doc["servers"], json!([{ "url": server }]));
        }
    }

    #[test]
    fn the_v1_document_renames_properties_as_responses_are_renamed() {
        let root = parsed(&docs().platform);
        let v1 = parsed(&docs().platform_v1);
        let user = |d: &Value| d["components"]["schemas"]["ChatUserProperties"].clone();
        let (snake, camel) = (user(&root), user(&v1));
        assert!(snake["properties"].get("display_name").is_some());
        assert!(snake["properties"].get("displayName").is_none());
        assert!(camel["properties"].get("displayName").is_some());
        assert!(camel["properties"].get("display_name").is_none());
        // Fixed keys are the same in both namings.
        assert!(snake["properties"].get("isGuest").is_some());
        assert!(camel["properties"].get("isGuest").is_some());
        assert!(camel["required"]
            .as_array()
            .unwrap()
            .contains(&json!("displayName")));
        let page = &v1["components"]["schemas"]["PageMetadata"]["properties"];
        assert!(page.get("totalElements").is_some(), "{page}");
        // Inline schemas of bodies are renamed too; hosted files' downloads are root only.
        assert!(v1["paths"].get("/files/{id}/{name}").is_none());
        assert!(root["paths"].get("/files/{id}/{name}").is_some());
    }

    #[test]
    fn free_maps_keep_their_schema_as_it_stands() {
        let mut schema = json!({
            "type": "object",
            "required": ["created_time"],
            "properties": {
                "created_time": { "type": "string" },
                "_links": { "type": "object", "properties": { "read_receipts": {} } },
                "properties": { "type": "object", "properties": { "some_key": {} } },
                "nested": { "type": "array", "items": { "properties": { "last_seen": {} } } }
            }
        });
        camel_schema(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "required": ["createdTime"],
                "properties": {
                    "createdTime": { "type": "string" },
                    "_links": { "type": "object", "properties": { "read_receipts": {} } },
                    "properties": { "type": "object", "properties": { "some_key": {} } },
                    "nested": { "type": "array", "items": { "properties": { "lastSeen": {} } } }
                }
            })
        );
    }
}
