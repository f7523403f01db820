//! The platform API's rate limits, counted before any handler runs: a request with a valid
//! bearer token counts against its application (the resolved application is kept for
//! [`super::extract::AppCaller`], so the token is looked up once); chat functions' in-process
//! calls against their application's own bucket; the token endpoint, and anything no valid
//! token identifies, against the client address. Over a limit: 429 `RateLimitedError` with
//! `Retry-After`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::{AppPrincipal, Services};

use super::error::ApiError;
use super::extract::bearer_token;
use super::in_process::InProcessCaller;
use crate::limits::{
    client_key, retry_after_seconds, run_within_body_limit, with_retry_after, Limits,
};

/// What the middleware made of the bearer token: the application, or `None` for an unknown or
/// expired token.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedBearer(pub Option<AppPrincipal>);

/// Whose limit a request went over, for the message.
#[derive(Debug, Clone, Copy)]
enum Over {
    Application,
    Functions,
    Address,
    TokenEndpoint,
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
    mut req: Request,
    next: Next,
) -> Response {
    let set = limits.set();
    let verdict = if let Some(c) = req.extensions().get::<InProcessCaller>() {
        set.in_process
            .check(&c.0.application_id)
            .map_err(|w| (w, Over::Functions))
    } else if is_token_endpoint(req.uri()) {
        let ip = client_key(&req, set.trust_forwarded_for);
        set.login
            .check(&ip)
            .map_err(|w| (w, Over::TokenEndpoint))
            .and_then(|()| set.per_ip.check(&ip).map_err(|w| (w, Over::Address)))
    } else {
        let app = match bearer_token(req.headers()) {
            Some(token) => match s.platform.authenticate(&token).await {
                Ok(p) => {
                    req.extensions_mut().insert(ResolvedBearer(p.clone()));
                    p
                }
                // The extractor meets the same failure and answers it.
                Err(_) => None,
            },
            None => None,
        };
        match app {
            Some(p) => set
                .per_app
                .check(&p.application_id)
                .map_err(|w| (w, Over::Application)),
            None => {
                let ip = client_key(&req, set.trust_forwarded_for);
                set.per_ip.check(&ip).map_err(|w| (w, Over::Address))
            }
        }
    };
    match verdict {
        Ok(()) => run_within_body_limit(&set, req, next).await,
        Err((wait, over)) => too_many(wait, over),
    }
}

fn is_token_endpoint(uri: &Uri) -> bool {
    matches!(uri.path(), "/oauth/token" | "/v1/oauth/token")
}

fn too_many(wait: Duration, over: Over) -> Response {
    let seconds = retry_after_seconds(wait);
    let whose = match over {
        Over::Application => "Too many requests for this application",
        Over::Functions => "Too many calls from this application's chat functions",
        Over::Address => "Too many requests from this address",
        Over::TokenEndpoint => "Too many token requests from this address",
    };
    let plural = if seconds == 1 { "" } else { "s" };
    let e = DomainError::new(
        ErrorCode::RateLimited,
        format!("{whose}: try again after the cool-off of {seconds} second{plural}"),
    );
    with_retry_after(ApiError(e).into_response(), seconds)
}
