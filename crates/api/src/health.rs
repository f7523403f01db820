//! `GET /health`: 200 when the database answers, 503 when it does not (for load balancers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use palaver_service::Services;
use serde_json::json;

pub(crate) fn routes() -> Router<Services> {
    Router::new().route("/health", get(health))
}

async fn health(State(s): State<Services>) -> (StatusCode, Json<serde_json::Value>) {
    if s.healthy().await {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable" })),
        )
    }
}
