//! The HTTP client webhook deliveries go out through, and its guard: http and https only,
//! time limits, a cap on the response read, a bounded number of redirects (each checked as
//! the first URL was), and no private, loopback or link-local address (the ranges
//! [`is_non_public`] names, as for fetches) unless the operator allows them. Host names are
//! checked where they are resolved, so the address connected to is the address checked (a
//! name cannot resolve to a public address for the check and to a private one for the
//! connection).

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use reqwest::Url;

use crate::fetch::is_non_public;

/// The limits outbound requests run under.
#[derive(Debug, Clone)]
pub struct OutboundLimits {
    /// Allow private, loopback and link-local addresses (tests, and deployments whose
    /// receivers are on their own network).
    pub allow_private: bool,
    /// The whole request, redirects and response included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Response bytes read at most; the rest is dropped unread.
    pub max_response_bytes: usize,
    pub max_redirects: usize,
}

impl Default for OutboundLimits {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 64 * 1024,
            max_redirects: 3,
        }
    }
}

/// Why a request was not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// The guard refused the URL or its address: trying again will not help.
    Refused(String),
    /// The network or the receiver failed (timeout, connection refused): it may pass.
    Failed(String),
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundError::Refused(m) | OutboundError::Failed(m) => f.write_str(m),
        }
    }
}

/// What the receiver answered: its status and the start of its body.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A refusal raised inside the resolver or the redirect policy, found again in reqwest's
/// error chain.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Refusal {}

fn refused_address(ip: IpAddr) -> String {
    format!("{ip} is a private, loopback or link-local address, which this server does not call")
}

/// Checks a URL before any request: http or https, a host, and not a forbidden literal
/// address (names are checked when resolved).
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, OutboundError> {
    let parsed =
        Url::parse(url).map_err(|_| OutboundError::Refused(format!("{url} is not a URL")))?;
    check_parsed(&parsed, allow_private).map_err(OutboundError::Refused)?;
    Ok(parsed)
}

fn check_parsed(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{} URLs are not called; use http or https",
            url.scheme()
        ));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err("the URL has no host".into());
    };
    // IPv6 literals come bracketed; names do not parse as addresses.
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    match literal {
        Some(ip) if !allow_private && is_non_public(ip) => Err(refused_address(ip)),
        _ => Ok(()),
    }
}

/// Resolves names with the system resolver, keeping only addresses the guard allows.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)?
                .collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || !is_non_public(a.ip()))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(a)) => Err(Box::new(Refusal(format!(
                    "{host} resolves to {}",
                    refused_address(a.ip())
                ))) as Box<dyn StdError + Send + Sync>),
                (true, None) => Err(Box::new(Refusal(format!("{host} has no address")))
                    as Box<dyn StdError + Send + Sync>),
            }
        })
    }
}

/// The guarded client; cheap to clone.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    client: reqwest::Client,
    limits: Arc<OutboundLimits>,
}

impl Default for WebhookClient {
    fn default() -> Self {
        Self::new(OutboundLimits::default())
    }
}

impl WebhookClient {
    pub fn new(limits: OutboundLimits) -> Self {
        let allow_private = limits.allow_private;
        let max_redirects = limits.max_redirects;
        let policy = Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(Refusal(format!("more than {max_redirects} redirects")));
            }
            match check_parsed(attempt.url(), allow_private) {
                Ok(()) => attempt.follow(),
                Err(reason) => attempt.error(Refusal(reason)),
            }
        });
        let client = reqwest::Client::builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.connect_timeout)
            .redirect(policy)
            // A proxy would connect to the address itself, past the resolver's check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(concat!("Palaver/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|e| {
                // Only a TLS back-end that cannot start fails here; requests then fail alike.
                tracing::error!(error = %e, "outbound client not built; using the default");
                reqwest::Client::new()
            });
        Self {
            client,
            limits: Arc::new(limits),
        }
    }

    pub fn allows_private(&self) -> bool {
        self.limits.allow_private
    }

    /// POSTs `body` as JSON to `url` with `headers`; answers the status and the first
    /// `max_response_bytes` of the body.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<OutboundResponse, OutboundError> {
        let url = check_url(url, self.limits.allow_private)?;
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let mut res = req.body(body).send().await.map_err(describe)?;
        let status = res.status().as_u16();
        let mut read = Vec::new();
        while read.len() < self.limits.max_response_bytes {
            match res.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status is what counts; a body cut short still leaves it.
                Err(_) => break,
            }
        }
        read.truncate(self.limits.max_response_bytes);
        Ok(OutboundResponse { status, body: read })
    }
}

/// A reqwest error in words, as a refusal when the guard caused it.
fn describe(e: reqwest::Error) -> OutboundError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return OutboundError::Refused(r.0.clone());
        }
        source = s.source();
    }
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "the request failed"
    };
    OutboundError::Failed(format!("{what}: {}", root_cause(&e)))
}

fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut last = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_request() {
        assert!(check_url("https://example.com/hook", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
        for bad in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "http://127.0.0.1/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest",
            "not a url",
        ] {
            assert!(
                matches!(check_url(bad, false), Err(OutboundError::Refused(_))),
                "{bad}"
            );
        }
    }
}
