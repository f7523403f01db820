//! `/api/bots/{id}/channels/{fk}/run` and `/runs`: running a content channel now, and the
//! record of its runs (with a LoopBack filter).

use axum::extract::{Path, State};
use axum::http::Method;
use palaver_domain::channel_runs::CHANNEL_RUN;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::Services;

use super::extract::{Caller, FilterParam};
use super::{list as list_body, ok, LbError, Result};

/// Only channels run; another relation in the path is LoopBack's "no method" 404.
fn channels_only(
    method: &Method,
    bot_id: &str,
    rel: &str,
    what: &str,
) -> std::result::Result<(), LbError> {
    if rel == "channels" {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::RouteNotFound,
            format!("Shared class \"bot\" has no method handling {method} /{bot_id}/{rel}/{{fk}}/{what}"),
        )
        .into())
    }
}

pub(super) async fn run(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel, fk)): Path<(String, String, String)>,
) -> Result {
    channels_only(&method, &bot, &rel, "run")?;
    Ok(ok(s.content.run_channel_now(&p, &bot, &fk).await?))
}

pub(super) async fn runs(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel, fk)): Path<(String, String, String)>,
    filter: FilterParam,
) -> Result {
    channels_only(&method, &bot, &rel, "runs")?;
    let filter = filter.parse(&CHANNEL_RUN)?;
    Ok(list_body(
        s.content.list_channel_runs(&p, &bot, &fk, &filter).await?,
    ))
}
