//! Guarded outbound HTTP: what the server fetches from or posts to addresses its users name
//! (content channels' feeds, webhook endpoints). Only http and https; a deadline for the whole
//! exchange; a cap on what is read; few redirects, each checked again; and no address in
//! private, loopback, link-local or other non-public ranges unless the operator allows them.
//! Host names are checked on the addresses they resolve to, in the client's own resolver, so a
//! name cannot resolve to one address when checked and another when connected.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// The operator's settings of outbound fetches.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Allow private, loopback and link-local addresses (tests, and sources on the server's
    /// own network); refused by default.
    pub allow_private: bool,
    /// The deadline of one fetch: connect, redirects and the whole body.
    pub timeout: Duration,
    /// The largest body read, in bytes; a larger one fails the fetch.
    pub max_bytes: u64,
    /// Redirects followed at most.
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

impl FetchLimits {
    /// The limits of webhook deliveries: a receiver's answer matters only for its status, so
    /// little of it is read, and few redirects are followed.
    pub fn webhooks(allow_private: bool) -> Self {
        Self {
            allow_private,
            timeout: Duration::from_secs(10),
            max_bytes: 64 * 1024,
            max_redirects: 3,
        }
    }
}

/// What a receiver answered to a POST: its status and the start of its body.
#[derive(Debug, Clone)]
pub struct Posted {
    pub status: u16,
    /// At most the limits' `max_bytes`; the rest is dropped unread.
    pub body: Vec<u8>,
}

/// Why a fetch failed, in words an operator or bot owner can act on (they are recorded in the
/// channel's runs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not a valid URL: {0}")]
    BadUrl(String),
    #[error("only http and https URLs are fetched, not {0}:")]
    Scheme(String),
    #[error("the address {0} is not public and not allowed")]
    Refused(IpAddr),
    #[error("{0} resolves to no allowed address")]
    NoAllowedAddress(String),
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("a redirect loop")]
    RedirectLoop,
    #[error("the response is larger than {0} bytes")]
    TooLarge(u64),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("the request failed: {0}")]
    Failed(String),
}

impl FetchError {
    /// True when the guard refused the URL or its address: trying again will not help.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            FetchError::BadUrl(_)
                | FetchError::Scheme(_)
                | FetchError::Refused(_)
                | FetchError::NoAllowedAddress(_)
        )
    }
}

/// Checks what can be checked of `url` before any request (a URL, http or https, and not a
/// refused address literal): for refusing an endpoint when it is written.
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, FetchError> {
    let parsed = Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_string()))?;
    Guard { allow_private }.check_url(&parsed)?;
    Ok(parsed)
}

/// True when `ip` is in a range the public internet does not route to this server's users:
/// private, loopback, link-local, unspecified, shared (CGNAT), documentation, multicast and
/// broadcast ranges, and their IPv6 counterparts (IPv4-mapped addresses as their IPv4 form).
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT; 0.0.0.0/8, "this network"; 240/4, reserved.
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

/// Which addresses may be fetched.
#[derive(Debug, Clone, Default)]
struct Guard {
    allow_private: bool,
}

impl Guard {
    fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || !is_non_public(ip)
    }

    /// Checks what can be checked of `url` before connecting: its scheme, and its host when it
    /// is an address (names are checked by the resolver).
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(FetchError::Scheme(other.to_string())),
        }
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::BadUrl(url.to_string()))?;
        // IPv6 hosts come bracketed; a name does not parse as an address.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = bare.parse::<IpAddr>() else {
            return Ok(());
        };
        if self.allows(ip) {
            Ok(())
        } else {
            Err(FetchError::Refused(ip))
        }
    }
}

/// The client's resolver: the system's, with the addresses the guard refuses left out.
struct GuardedResolver {
    guard: Arc<Guard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| guard.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let e: Box<dyn StdError + Send + Sync> = match found.first() {
                    Some(a) => Box::new(FetchError::Refused(a.ip())),
                    None => Box::new(FetchError::NoAllowedAddress(host)),
                };
                return Err(e);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Fetches bodies under the guard; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Fetcher {
    client: Result<reqwest::Client, String>,
    guard: Arc<Guard>,
    config: Arc<FetchLimits>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .finish()
    }
}

impl Fetcher {
    pub fn new(config: FetchLimits) -> Self {
        let guard = Arc::new(Guard {
            allow_private: config.allow_private,
        });
        let redirects = {
            let guard = guard.clone();
            let max = config.max_redirects;
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().iter().any(|u| u == attempt.url()) {
                    return attempt.error(FetchError::RedirectLoop);
                }
                if attempt.previous().len() > max {
                    return attempt.error(FetchError::TooManyRedirects(max));
                }
                match guard.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            })
        };
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(redirects)
            // A proxy from the environment would connect on the server's behalf, unchecked.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                guard: guard.clone(),
            }))
            .user_agent(concat!("Palaver/", env!("CARGO_PKG_VERSION")))
            .build()
            // Kept as the error of every fetch: a server without outbound HTTP still serves.
            .map_err(|e| e.to_string());
        Self {
            client,
            guard,
            config: Arc::new(config),
        }
    }

    /// Whether private, loopback and link-local addresses may be reached.
    pub fn allows_private(&self) -> bool {
        self.guard.allow_private
    }

    /// GETs `url` and reads its body, under every rule of the guard.
    pub async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let url = Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_string()))?;
        self.guard.check_url(&url)?;
        let client = self
            .client
            .as_ref()
            .map_err(|e| FetchError::Failed(e.clone()))?;
        let cap = self.config.max_bytes;
        let exchange = async {
            let mut res = client.get(url).send().await.map_err(|e| self.explain(&e))?;
            let status = res.status();
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            if res.content_length().is_some_and(|n| n > cap) {
                return Err(FetchError::TooLarge(cap));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| self.explain(&e))? {
                if (body.len() + chunk.len()) as u64 > cap {
                    return Err(FetchError::TooLarge(cap));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body.freeze())
        };
        // The client's own deadline covers the body too; this one also bounds the resolver.
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.config.timeout.as_millis())),
        }
    }

    /// POSTs `body` as JSON to `url` with `headers`, under every rule of the guard; answers the
    /// status (whatever it is) and the start of the answer.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Posted, FetchError> {
        let url = check_url(url, self.guard.allow_private)?;
        let client = self
            .client
            .as_ref()
            .map_err(|e| FetchError::Failed(e.clone()))?;
        let cap = usize::try_from(self.config.max_bytes).unwrap_or(usize::MAX);
        let exchange = async {
            let mut req = client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json");
            for (name, value) in headers {
                req = req.header(*name, value.as_str());
            }
            let mut res = req.body(body).send().await.map_err(|e| self.explain(&e))?;
            let status = res.status().as_u16();
            let mut read = Vec::new();
            // The status is what counts: a body cut short, or failing midway, still leaves it.
            while read.len() < cap {
                match res.chunk().await {
                    Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
            read.truncate(cap);
            Ok(Posted { status, body: read })
        };
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.config.timeout.as_millis())),
        }
    }

    /// The guard's own error when it caused `e`, else what kind of failure it was.
    fn explain(&self, e: &reqwest::Error) -> FetchError {
        let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
        while let Some(c) = cause {
            if let Some(f) = c.downcast_ref::<FetchError>() {
                return f.clone();
            }
            cause = c.source();
        }
        if e.is_timeout() {
            FetchError::Timeout(self.config.timeout.as_millis())
        } else if e.is_redirect() {
            FetchError::TooManyRedirects(self.config.max_redirects)
        } else if e.is_connect() {
            FetchError::Failed("cannot connect".into())
        } else {
            // The innermost cause says what went wrong; the URL is the run record's already.
            let mut last: &(dyn StdError + 'static) = e;
            while let Some(c) = last.source() {
                last = c;
            }
            FetchError::Failed(last.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_ranges() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_non_public(ip), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_non_public(ip), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_before_connecting() {
        let guard = Guard::default();
        let check = |u: &str| guard.check_url(&Url::parse(u).unwrap());
        assert_eq!(
            check("http://127.0.0.1:8080/feed"),
            Err(FetchError::Refused("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(check("https://example.com/feed"), Ok(()));
        assert_eq!(
            check("http://10.0.0.1/feed"),
            Err(FetchError::Refused("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            check("http://[::ffff:192.168.0.1]/"),
            Err(FetchError::Refused("::ffff:192.168.0.1".parse().unwrap()))
        );
        let open = Guard {
            allow_private: true,
        };
        assert_eq!(
            open.check_url(&Url::parse("http://10.0.0.1/").unwrap()),
            Ok(())
        );
        assert_eq!(
            check("file:///etc/passwd"),
            Err(FetchError::Scheme("file".into()))
        );
        assert_eq!(
            check("ftp://example.com/"),
            Err(FetchError::Scheme("ftp".into()))
        );
    }

    #[test]
    fn endpoints_are_checked_when_written() {
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
            let e = check_url(bad, false).unwrap_err();
            assert!(e.is_refusal(), "{bad}: {e:?}");
        }
        assert!(!FetchError::Timeout(10).is_refusal());
        assert!(!FetchError::Status(500).is_refusal());
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_refused() {
        let fetcher = Fetcher::new(FetchLimits::default());
        let e = fetcher.get("http://localhost:9/feed").await.unwrap_err();
        assert!(
            matches!(e, FetchError::Refused(ip) if ip.is_loopback()),
            "{e:?}"
        );
    }
}
