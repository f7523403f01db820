//! The content API (`/api`), on LoopBack 3 conventions. The URL table below is the whole face.

mod bots;
mod channel_runs;
mod children;
pub mod error;
mod extract;
pub mod inputs;
mod organisations;
pub(crate) mod rate_limit;
mod stock;
mod users;
mod webhooks;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::content::{OrgRelation, TopModel};
use palaver_service::Services;
use serde_json::Value;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub use error::LbError;

use crate::route_table::{get, post, Route, RouteTable};
use extract::{Body, Caller, FilterParam};

/// `findOne`, `{id}/exists` and `HEAD {id}` of one model, which the URL table names.
macro_rules! find_one {
    ($top:expr) => {
        get(|State(s): State<Services>, p: Caller, f: FilterParam| stock::find_one(s, p, f, $top))
    };
}
macro_rules! exists {
    ($top:expr) => {
        get(
            |State(s): State<Services>, p: Caller, Path(id): Path<String>| {
                stock::exists(s, p, id, $top)
            },
        )
    };
}
macro_rules! head {
    ($top:expr) => {
        |State(s): State<Services>, p: Caller, Path(id): Path<String>| stock::head(s, p, id, $top)
    };
}
/// `GET/PUT/DELETE /organisations/{id}/{relation}/{fk}` for one relation.
macro_rules! org_child {
    ($rel:expr) => {
        get(
            |State(s): State<Services>,
             p: Caller,
             Path(ids): Path<(String, String)>,
             f: FilterParam| { stock::get_org_child(s, p, ids, f, $rel) },
        )
        .put(
            |State(s): State<Services>, p: Caller, Path(ids): Path<(String, String)>, b: Body| {
                stock::update_org_child(s, p, ids, b, $rel)
            },
        )
        .delete(
            |State(s): State<Services>, p: Caller, Path(ids): Path<(String, String)>| {
                stock::delete_org_child(s, p, ids, $rel)
            },
        )
    };
}

/// Every content route, relative to `/api`.
pub fn routes() -> Router<Services> {
    table()
        .into_router()
        .fallback(no_method)
        .method_not_allowed_fallback(no_method)
}

/// Every operation the content API serves, relative to `/api`, for the OpenAPI document's check.
pub fn served() -> Vec<Route> {
    table().routes().to_vec()
}

/// The URL table, relative to `/api`.
fn table() -> RouteTable<Services> {
    RouteTable::new()
        .route("/users/login", post(users::login))
        .route("/users/logout", post(users::logout))
        .route("/users", post(users::create))
        .route("/users/findOne", find_one!(TopModel::Users))
        .route(
            "/users/{id}",
            get(users::get)
                .head(head!(TopModel::Users))
                .patch(users::update)
                .put(stock::replace_user)
                .delete(users::delete),
        )
        .route("/users/{id}/exists", exists!(TopModel::Users))
        .route("/organisations/findOne", find_one!(TopModel::Organisations))
        .route(
            "/organisations/{id}",
            get(organisations::get).head(head!(TopModel::Organisations)),
        )
        .route(
            "/organisations/{id}/exists",
            exists!(TopModel::Organisations),
        )
        .route(
            "/organisations/{id}/users",
            get(organisations::users).post(organisations::create_user),
        )
        .route(
            "/organisations/{id}/users/count",
            get(organisations::count_users),
        )
        .route(
            "/organisations/{id}/users/{fk}",
            org_child!(OrgRelation::Users),
        )
        .route(
            "/organisations/{id}/bots",
            get(organisations::bots).post(organisations::create_bot),
        )
        .route(
            "/organisations/{id}/bots/count",
            get(organisations::count_bots),
        )
        .route(
            "/organisations/{id}/bots/{fk}",
            org_child!(OrgRelation::Bots),
        )
        .route("/bots", get(bots::list).post(bots::create))
        .route("/bots/count", get(bots::count))
        .route("/bots/findOne", find_one!(TopModel::Bots))
        .route(
            "/bots/{id}",
            get(bots::get)
                .head(head!(TopModel::Bots))
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
        .route("/bots/{id}/exists", exists!(TopModel::Bots))
        .route("/bots/{id}/organisation", get(stock::bot_organisation))
        .route("/bots/{id}/{rel}/count", get(children::count))
        .route(
            "/bots/{id}/{rel}/{fk}",
            get(children::get)
                .put(children::update)
                .delete(children::delete),
        )
        .route(
            "/bots/{id}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/bots/{id}/webhooks/count", get(webhooks::count))
        .route(
            "/bots/{id}/webhooks/{fk}",
            get(webhooks::get)
                .put(webhooks::update)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/bots/{id}/webhooks/{fk}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/bots/{id}/webhooks/{fk}/deliveries/count",
            get(webhooks::count_deliveries),
        )
        .route("/bots/{id}/{rel}/{fk}/run", post(channel_runs::run))
        .route("/bots/{id}/{rel}/{fk}/runs", get(channel_runs::runs))
        .route("/flakes/{id}/bot", get(stock::flake_bot))
}

/// CORS for the content API, which a dashboard calls from the browser. `None` is LoopBack's
/// scaffold default (`cors: {origin: true, credentials: true}`): any origin is reflected, with
/// credentials. A list allows only those origins (an origin elsewhere gets no CORS headers, so
/// its browser refuses the answer). Preflights reflect the requested headers.
pub fn cors(origins: Option<&[String]>) -> CorsLayer {
    let allow_origin = match origins {
        None => AllowOrigin::mirror_request(),
        Some(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::PATCH,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
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
    // A `Value` always serialises (its keys are text).
    crate::json_body::json_response(status, "application/json; charset=utf-8", body).unwrap_or_else(
        |e| {
            tracing::error!(error = %e, "a document could not be serialised");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        },
    )
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
