//! The platform API called from inside the process, for one application: chat functions'
//! `context.get…Api()` clients reach it this way, through the same router, extractors and
//! validation as a REST caller, with the application fixed by the caller instead of a token.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use palaver_service::{AppPrincipal, Services};
use serde_json::Value;
use tower::ServiceExt;

/// Marks a request as made in process for this application. Only code in this process can put an
/// extension on a request, so a REST caller cannot claim one.
#[derive(Debug, Clone)]
pub(crate) struct InProcessCaller(pub AppPrincipal);

/// Answers bigger than this are refused rather than buffered: a handler asking for a whole
/// application's data in one page gets an error it can act on.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The platform routes, callable for one application at a time.
#[derive(Clone)]
pub struct InProcess {
    router: Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

/// One call's answer: the HTTP status and the JSON body (`null` when there was none).
#[derive(Debug, Clone, PartialEq)]
pub struct InProcessAnswer {
    pub status: u16,
    pub body: Value,
}

impl InProcess {
    /// The platform routes behind the same `limits` as the server's: calls count against
    /// their application's bucket for chat functions (see [`crate::Limits`]).
    pub fn new(services: Services, limits: &crate::Limits) -> Self {
        InProcess {
            router: super::rate_limit::limited(super::routes(), &services, limits)
                .fallback(super::not_found)
                .with_state(services),
        }
    }

    /// Runs `method path_and_query` with `body` as application `p`. The path is what a REST
    /// caller would send (`/v1/users?page=0`); `/v1/applications/{id}/…` reaches only `p`'s own
    /// application, as for a token. Answers are snake_case, as the official clients ask for.
    pub async fn call(
        &self,
        p: AppPrincipal,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> InProcessAnswer {
        let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
            return refused(format!("\"{method}\" is not an HTTP method"));
        };
        if !path_and_query.starts_with('/') {
            return refused(format!("\"{path_and_query}\" is not a path"));
        }
        let bytes = match body {
            Some(v) => match serde_json::to_vec(v) {
                Ok(b) => b,
                Err(e) => return refused(format!("The body could not be written: {e}")),
            },
            None => Vec::new(),
        };
        let mut req = match Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(Body::from(bytes))
        {
            Ok(r) => r,
            Err(e) => return refused(format!("\"{path_and_query}\" is not a valid path: {e}")),
        };
        let chatkitty = HeaderValue::from_static("application/vnd.chatkitty+json");
        req.headers_mut().insert(header::ACCEPT, chatkitty.clone());
        if body.is_some() {
            req.headers_mut().insert(header::CONTENT_TYPE, chatkitty);
        }
        req.extensions_mut().insert(InProcessCaller(p));
        let res = match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = res.status().as_u16();
        let body = match to_bytes(res.into_body(), MAX_ANSWER_BYTES).await {
            Ok(b) if b.is_empty() => Value::Null,
            Ok(b) => serde_json::from_slice(&b)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&b).into_owned())),
            Err(_) => {
                return answer(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "PayloadTooLargeError",
                    "The answer was larger than 16 MiB; ask for a smaller page",
                )
            }
        };
        InProcessAnswer { status, body }
    }
}

fn refused(message: String) -> InProcessAnswer {
    answer(StatusCode::BAD_REQUEST, "BadRequestError", &message)
}

fn answer(status: StatusCode, error: &str, message: &str) -> InProcessAnswer {
    InProcessAnswer {
        status: status.as_u16(),
        body: serde_json::json!({ "error": error, "message": message }),
    }
}
