//! The client address a request is counted under: the peer the server accepted (axum's
//! `ConnectInfo<SocketAddr>`), or the last `X-Forwarded-For` entry when a trusted proxy sets it.
//! An IPv6 client counts as its /64, which one subscriber usually holds whole.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::Request;

/// Where a request came from; `None` when the server recorded no peer (then every such request
/// shares one key, which still caps them all together).
pub(crate) type ClientKey = Option<IpAddr>;

pub(crate) fn client_key<B>(req: &Request<B>, trust_forwarded_for: bool) -> ClientKey {
    let forwarded = trust_forwarded_for.then(|| last_forwarded(req)).flatten();
    let peer = || {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    };
    forwarded.or_else(peer).map(normalise)
}

/// The entry the nearest proxy appended: the ones before it are whatever the client sent.
fn last_forwarded<B>(req: &Request<B>) -> Option<IpAddr> {
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|s| !s.is_empty())?;
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// IPv4-mapped addresses as IPv4; other IPv6 addresses cut to their /64.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(peer: Option<&str>, xff: &[&str]) -> Request<()> {
        let mut r = Request::new(());
        if let Some(p) = peer {
            r.extensions_mut()
                .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
        }
        for v in xff {
            r.headers_mut()
                .append("x-forwarded-for", v.parse().unwrap());
        }
        r
    }

    fn ip(s: &str) -> ClientKey {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_peer_unless_a_proxy_is_trusted() {
        let r = req(Some("10.0.0.1:5000"), &["203.0.113.9"]);
        assert_eq!(client_key(&r, false), ip("10.0.0.1"));
        assert_eq!(client_key(&r, true), ip("203.0.113.9"));
    }

    #[test]
    fn the_last_forwarded_entry_counts() {
        let r = req(Some("10.0.0.1:5000"), &["1.1.1.1, 2.2.2.2", "198.51.100.7"]);
        assert_eq!(client_key(&r, true), ip("198.51.100.7"));
        let garbage = req(Some("10.0.0.1:5000"), &["not an address"]);
        assert_eq!(client_key(&garbage, true), ip("10.0.0.1"));
    }

    #[test]
    fn no_peer_is_one_shared_key() {
        assert_eq!(client_key(&req(None, &[]), false), None);
        assert_eq!(client_key(&req(None, &[]), true), None);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a = req(Some("[2001:db8:1:2:aaaa::1]:80"), &[]);
        let b = req(Some("[2001:db8:1:2:bbbb::9]:80"), &[]);
        assert_eq!(client_key(&a, false), ip("2001:db8:1:2::"));
        assert_eq!(client_key(&a, false), client_key(&b, false));
        let mapped = req(Some("[::ffff:192.0.2.1]:80"), &[]);
        assert_eq!(client_key(&mapped, false), ip("192.0.2.1"));
    }
}
