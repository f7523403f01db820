//! The platform API (ChatKitty-compatible): OAuth 2.0 client credentials and JSON HAL resources.
//! Every route is served at the root, under `/v1`, and under `/v1/applications/{app_id}`; hosted
//! files' downloads at the root only.

mod analytics;
mod application;
mod channel_members;
mod channels;
mod context;
pub mod error;
mod extract;
mod files;
mod functions;
mod hal;
mod imports;
mod in_process;
pub mod inputs;
mod jobs;
mod message_reads;
mod messages;
mod oauth;
pub(crate) mod rate_limit;
mod sessions;
pub(crate) mod streams;
mod threads;
mod uploads;
mod users;

use crate::route_table::{delete, get, post, put, Route, RouteTable};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use palaver_domain::platform::naming::{Naming, Rendered};
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::Services;
use serde::Serialize;

pub use error::ApiError;
pub use in_process::{InProcess, InProcessAnswer};
pub use streams::StreamViews;

use context::Ctx;

/// The platform resources, relative to a prefix.
fn resources() -> Router<Services> {
    resource_table()
        .into_router()
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(require_json_accept))
}

/// The URL table of the platform resources, relative to a prefix.
fn resource_table() -> RouteTable<Services> {
    RouteTable::new()
        .route("/application", get(application::get))
        .route(
            "/application/message-read-receipt-summaries",
            get(message_reads::summaries),
        )
        .route(
            "/application/settings",
            get(application::settings).put(application::update_settings),
        )
        .route(
            "/users",
            get(users::list).post(users::create).head(users::exists),
        )
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        // Uploads stream past axum's body limit, under the configured upload limit.
        .route(
            "/users/{id}/display-picture",
            post(users::display_picture).unlimited_body(),
        )
        .route(
            "/users/{id}/secrets/{name}",
            get(users::secret)
                .put(users::set_secret)
                .delete(users::delete_secret),
        )
        .route("/users/{id}/channels", get(channels::user_channels))
        .route("/users/{id}/messages", get(messages::user_messages))
        .route(
            "/users/{id}/messages/unread/count",
            get(message_reads::unread_count),
        )
        .route(
            "/users/{id}/notifications",
            get(message_reads::notifications),
        )
        .route("/analytics/messages", post(analytics::messages))
        .route("/analytics/users", post(analytics::users))
        .route("/imports/users", post(imports::users).unlimited_body())
        .route(
            "/imports/channels",
            post(imports::channels).unlimited_body(),
        )
        .route(
            "/imports/channels/{id}/members",
            post(imports::members).unlimited_body(),
        )
        .route(
            "/imports/messages",
            post(imports::messages).unlimited_body(),
        )
        .route("/jobs", get(jobs::list))
        .route("/runtimes/nodejs", get(functions::runtime))
        .route(
            "/runtimes/nodejs/dependencies",
            put(functions::dependencies),
        )
        .route(
            "/runtimes/nodejs/environment-variables",
            put(functions::environment_variables),
        )
        .route(
            "/runtimes/nodejs/initialization-script",
            put(functions::initialization_script),
        )
        .route(
            "/runtimes/nodejs/functions",
            get(functions::list).post(functions::create),
        )
        .route("/functions/{id}", get(functions::get))
        .route(
            "/functions/{id}/current-version",
            get(functions::current_version),
        )
        .route(
            "/functions/{id}/versions",
            get(functions::versions).post(functions::create_version),
        )
        .route("/functions/{id}/invocations", get(functions::invocations))
        .route("/function-versions/{id}", get(functions::version))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/errors", get(jobs::errors))
        .route("/user-sessions", get(sessions::user_sessions))
        .route("/chat-sessions", get(sessions::chat_sessions))
        .route("/channels", get(channels::list).post(channels::create))
        .route(
            "/channels/{id}",
            get(channels::get)
                .patch(channels::update)
                .delete(channels::delete),
        )
        .route(
            "/channels/{id}/members",
            get(channel_members::members).post(channel_members::add_member),
        )
        .route(
            "/channels/{id}/members/{user_id}",
            delete(channel_members::remove_member),
        )
        .route(
            "/channels/{id}/memberships",
            get(channel_members::memberships),
        )
        .route(
            "/channels/{id}/moderators",
            get(channel_members::moderators).post(channel_members::add_moderator),
        )
        .route(
            "/channels/{id}/moderators/{user_id}",
            delete(channel_members::remove_moderator),
        )
        .route(
            "/channels/{id}/invites",
            get(channel_members::invites).post(channel_members::send_invite),
        )
        .route(
            "/channels/{id}/participants",
            get(channel_members::participants),
        )
        .route(
            "/channels/{id}/messages",
            get(messages::channel_history)
                .post(messages::send_to_channel)
                .unlimited_body(),
        )
        .route(
            "/channels/{id}/reported-messages",
            get(message_reads::reported),
        )
        .route("/channels/{id}/events", post(channel_members::send_event))
        .route(
            "/channels/{id}/keystrokes",
            post(channel_members::send_keystrokes),
        )
        .route(
            "/messages",
            get(messages::list).delete(messages::delete_all),
        )
        .route(
            "/messages/{id}",
            get(messages::get)
                .patch(messages::update)
                .delete(messages::delete),
        )
        .route("/messages/{id}/read-receipts", get(message_reads::receipts))
        .route("/threads/{id}", get(threads::get))
        .route(
            "/threads/{id}/messages",
            get(threads::messages).post(threads::send).unlimited_body(),
        )
        .route("/threads/{id}/keystrokes", post(threads::keystrokes))
}

/// The token endpoint and the resources under each of their three prefixes.
pub fn routes() -> Router<Services> {
    // `/v1/applications/{app_id}` itself is the application, with the same 405/406 rules as
    // every other resource.
    let application = Router::new()
        .route(
            "/v1/applications/{app_id}",
            axum::routing::get(application::get),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(require_json_accept));
    Router::new()
        .merge(token_table().into_router())
        .route("/v1/oauth/token", axum::routing::post(oauth::token))
        .method_not_allowed_fallback(method_not_allowed)
        .merge(resources())
        .merge(files::routes())
        .nest("/v1", resources())
        .nest("/v1/applications/{app_id}", resources())
        .merge(application)
}

/// The token endpoint, relative to a prefix.
fn token_table() -> RouteTable<Services> {
    RouteTable::new().route("/oauth/token", post(oauth::token))
}

/// Every operation served at the root (snake_case naming), for the OpenAPI document's check.
/// `/v1` and `/v1/applications/{app_id}` serve the same table but hosted files' downloads.
pub fn root_table() -> Vec<Route> {
    let mut routes = token_table().routes().to_vec();
    routes.extend_from_slice(resource_table().routes());
    routes.extend_from_slice(files::table().routes());
    routes
}

/// Every operation served under `/v1`, relative to it.
pub fn v1_table() -> Vec<Route> {
    let mut routes = token_table().routes().to_vec();
    routes.extend_from_slice(resource_table().routes());
    routes
}

/// Answers 404 in the platform's shape for paths nothing serves.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    DomainError::new(
        ErrorCode::RouteNotFound,
        format!("No resource at {method} {}", uri.path()),
    )
    .into()
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    DomainError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not supported on {}", uri.path()),
    )
    .into()
}

/// 406 when `Accept` names media types and none of them is JSON (or a wildcard).
async fn require_json_accept(req: Request, next: Next) -> Response {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(accept) = accept.filter(|a| !a.trim().is_empty()) {
        let ok = accept.split(',').any(|range| {
            let media = range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            media == "*/*"
                || media == "application/*"
                || media.ends_with("json")
                || media.ends_with("+json")
        });
        if !ok {
            return ApiError(DomainError::new(
                ErrorCode::NotAcceptable,
                format!("This API produces JSON; Accept was \"{accept}\""),
            ))
            .into_response();
        }
    }
    next.run(req).await
}

/// 200 with a resource (built in snake_case) in the caller's naming. Snake_case callers get it
/// serialised as it stands; camelCase ones through a JSON tree whose keys are renamed as it is
/// written.
pub(crate) fn respond(ctx: &Ctx, body: impl Serialize) -> Response {
    let written = match ctx.naming {
        Naming::Snake => crate::json_body::json_response(StatusCode::OK, JSON, &body),
        naming => serde_json::to_value(body).and_then(|value| {
            crate::json_body::json_response(
                StatusCode::OK,
                JSON,
                &Rendered {
                    value: &value,
                    naming,
                },
            )
        }),
    };
    written.unwrap_or_else(|e| {
        // The renderer logs no 5xx: this one's cause is logged here, once.
        tracing::error!(error = %e, "a resource could not be serialised");
        ApiError(DomainError::new(ErrorCode::Internal, e.to_string())).into_response()
    })
}

/// The platform API's content type, as axum's `Json` set it.
const JSON: &str = "application/json";

type Result = std::result::Result<Response, ApiError>;
