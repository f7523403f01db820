//! The content API (`/api`), on LoopBack 3 conventions. The URL table below is the whole face.

mod bots;
mod children;
pub mod error;
mod extract;
mod organisations;
mod users;

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::Services;
use serde_json::Value;

pub use error::LbError;

/// Every content route, relative to `/api`.
pub fn routes() -> Router<Services> {
    Router::new()
        .route("/users/login", post(users::login))
        .route("/users/logout", post(users::logout))
        .route("/users", post(users::create))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/organisations/{id}", get(organisations::get))
        .route(
            "/organisations/{id}/users",
            get(organisations::users).post(organisations::create_user),
        )
        .route(
            "/organisations/{id}/users/count",
            get(organisations::count_users),
        )
        .route(
            "/organisations/{id}/bots",
            get(organisations::bots).post(organisations::create_bot),
        )
        .route(
            "/organisations/{id}/bots/count",
            get(organisations::count_bots),
        )
        .route("/bots", get(bots::list).post(bots::create))
        .route("/bots/count", get(bots::count))
        .route(
            "/bots/{id}",
            get(bots::get)
                .patch(bots::patch)
                .put(bots::replace)
                .delete(bots::delete),
        )
        .route(
            "/bots/{id}/{rel}",
            get(children::list)
                .post(children::create)
                .delete(children::delete_all),
        )
        .route("/bots/{id}/{rel}/count", get(children::count))
        .route(
            "/bots/{id}/{rel}/{fk}",
            get(children::get)
                .put(children::update)
                .delete(children::delete),
        )
        .fallback(no_method)
        .method_not_allowed_fallback(no_method)
}

/// LoopBack's answer for a path or verb nothing handles.
async fn no_method(method: Method, uri: Uri) -> LbError {
    let path = uri.path();
    let path = path.strip_prefix("/api").unwrap_or(path);
    DomainError::new(
        ErrorCode::RouteNotFound,
        format!("There is no method to handle {method} {path}"),
    )
    .into()
}

/// A JSON response with LoopBack's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

/// 200 with a JSON body.
pub(crate) fn ok(body: impl Into<Value>) -> Response {
    json_response(StatusCode::OK, &body.into())
}

/// 204: the method returned nothing.
pub(crate) fn no_content() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

/// A list of documents as a JSON array.
pub(crate) fn list(docs: Vec<palaver_service::content::Doc>) -> Response {
    ok(Value::Array(docs.into_iter().map(Value::Object).collect()))
}

type Result = std::result::Result<Response, LbError>;
