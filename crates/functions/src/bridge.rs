//! The bridge from a handler's `context.get…Api()` calls to the Platform API, implemented by the host.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Platform API request made by a handler, as the official SDK would have sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRequest {
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The SDK's path with its placeholders filled and percent-encoded, e.g. `/v1/users/42`.
    pub path: String,
    /// Query pairs in order; a repeated key (`sort`) appears once per value.
    #[serde(default)]
    pub query: Vec<(String, String)>,
    /// The JSON body, when the method has one.
    #[serde(default)]
    pub body: Option<Value>,
}

/// The answer handed back to the handler: 2xx resolves as an axios response
/// (`{data, status, headers}`), anything else rejects with `error.response` set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body, `Value::Null` when there is none (e.g. `HEAD`, `204`).
    #[serde(default)]
    pub body: Value,
}

impl ApiResponse {
    /// A JSON response with the given status.
    pub fn json(status: u16, body: Value) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("content-type".to_owned(), "application/json".to_owned());
        Self {
            status,
            headers,
            body,
        }
    }
}

/// What a bridge call returns: a boxed future, so the pool can hold any bridge as a trait object.
pub type BridgeFuture<'a> = Pin<Box<dyn Future<Output = ApiResponse> + Send + 'a>>;

/// Runs a handler's Platform API request for an application.
///
/// The pool passes the application id of the worker that made the call, never one taken from
/// the handler, so an implementation that acts with that application's principal confines the
/// handler to its own application. Failures are answered as responses (status and body), not
/// errors, exactly as the REST API would answer them.
pub trait ApiBridge: Send + Sync + 'static {
    fn call(&self, app_id: i64, request: ApiRequest) -> BridgeFuture<'_>;
}
