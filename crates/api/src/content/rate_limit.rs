//! The content API's rate limits, counted before any handler runs: every request against its
//! client address, a request with a live access token also against that token (the resolved
//! caller is kept for [`super::extract::MaybeCaller`], so the token is looked up once), and
//! `POST /users/login` against the address's tighter login limit. Over a limit: 429
//! `TooManyRequestsError` in LoopBack's shape, with `Retry-After`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::{Principal, Services};

use super::error::LbError;
use super::extract::token_of;
use crate::limits::{
    client_key, retry_after_seconds, run_within_body_limit, with_retry_after, Limits,
};

/// What the middleware made of the access token: the caller, or `None` for no live token.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedCaller(pub Option<Principal>);

/// Whose limit a request went over, for the message.
#[derive(Debug, Clone, Copy)]
enum Over {
    Address,
    Login,
    Token,
}

/// `router` behind this face's rate limits and JSON body limit.
pub(crate) fn limited(router: Router<Services>, s: &Services, limits: &Limits) -> Router<Services> {
    router.layer(middleware::from_fn_with_state(
        (s.clone(), limits.clone()),
        limit,
    ))
}

async fn limit(
    State((s, limits)): State<(Services, Limits)>,
    req: Request,
    next: Next,
) -> Response {
    let set = limits.set();
    let ip = client_key(&req, set.trust_forwarded_for);
    if let Err(wait) = set.per_ip.check(&ip) {
        return too_many(wait, Over::Address);
    }
    if is_login(&req) {
        if let Err(wait) = set.login.check(&ip) {
            return too_many(wait, Over::Login);
        }
    }
    let (mut parts, body) = req.into_parts();
    if let Some(token) = token_of(&parts) {
        // A failed lookup is left to the extractor, which meets it again and answers it.
        if let Ok(caller) = s.auth.authenticate(&token).await {
            if let Some(p) = &caller {
                if let Err(wait) = set.per_token.check(&p.token_digest) {
                    return too_many(wait, Over::Token);
                }
            }
            parts.extensions.insert(ResolvedCaller(caller));
        }
    }
    run_within_body_limit(&set, Request::from_parts(parts, body), next).await
}

/// `POST /users/login`, whether this router is nested under `/api` or not.
fn is_login(req: &Request) -> bool {
    let path = req.uri().path();
    let path = path.strip_prefix("/api").unwrap_or(path);
    req.method() == axum::http::Method::POST && path.trim_end_matches('/') == "/users/login"
}

fn too_many(wait: Duration, over: Over) -> Response {
    let seconds = retry_after_seconds(wait);
    let whose = match over {
        Over::Address => "Too many requests from this address",
        Over::Login => "Too many login attempts from this address",
        Over::Token => "Too many requests with this access token",
    };
    let plural = if seconds == 1 { "" } else { "s" };
    let e = DomainError::new(
        ErrorCode::RateLimited,
        format!("{whose}: try again in {seconds} second{plural}"),
    );
    with_retry_after(LbError(e).into_response(), seconds)
}
