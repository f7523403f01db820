//! The settings of the HTTP faces' limits: request rates per caller and JSON body sizes, with
//! defaults meant for real applications (generous for a backend's bursts, tight where a request
//! costs a password hash).

/// `per_second` requests a second sustained, and up to `burst` at once; a `per_second` of 0 is
/// no limit. A `burst` below 1 is read as 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl RateLimit {
    pub const fn new(per_second: u32, burst: u32) -> Self {
        RateLimit { per_second, burst }
    }

    /// No limit.
    pub const OFF: RateLimit = RateLimit::new(0, 0);
}

/// Request rate limits of both faces. Each instance counts on its own: behind a load balancer
/// of N instances, a caller gets up to N times these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Platform API requests per application (the application of the bearer token). A backend
    /// syncing users or channels in a loop stays well under it; a runaway loop does not.
    pub platform_per_app: RateLimit,
    /// Content API requests per access token: a dashboard or a bot developer's script.
    pub content_per_token: RateLimit,
    /// Requests per client address: every content API request, and platform API requests that
    /// no valid bearer token identifies (token guessing, hosted file downloads). Generous, as a
    /// NAT may put many users behind one address.
    pub per_ip: RateLimit,
    /// `POST /oauth/token` and `POST /api/users/login` per client address. A login costs a
    /// password hash (~44 ms of CPU at the default cost), so 5 a second keeps one address under
    /// a quarter of a core; a burst of 20 lets a fleet of backends behind one address restart at
    /// once.
    pub login_per_ip: RateLimit,
    /// Take the client address from the last `X-Forwarded-For` entry (the one the proxy in front
    /// added) instead of the peer: only behind a proxy that sets it, or clients could pick theirs.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            platform_per_app: RateLimit::new(100, 500),
            content_per_token: RateLimit::new(50, 200),
            per_ip: RateLimit::new(100, 400),
            login_per_ip: RateLimit::new(5, 20),
            trust_forwarded_for: false,
        }
    }
}

impl RateLimitConfig {
    /// No rate limits at all (benchmarks, tests of other things).
    pub fn off() -> Self {
        RateLimitConfig {
            platform_per_app: RateLimit::OFF,
            content_per_token: RateLimit::OFF,
            per_ip: RateLimit::OFF,
            login_per_ip: RateLimit::OFF,
            trust_forwarded_for: false,
        }
    }
}

/// Request body sizes of both faces. Uploads and imports are not JSON bodies: they stream under
/// the upload and import limits of the platform configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLimitConfig {
    /// Largest JSON (or form) body in bytes; larger ones are answered 413.
    pub max_json_bytes: usize,
}

impl Default for BodyLimitConfig {
    fn default() -> Self {
        BodyLimitConfig {
            max_json_bytes: 1024 * 1024,
        }
    }
}
