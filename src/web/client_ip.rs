//! The client's address, for throttling and the audit log. `X-Forwarded-For` is believed
//! only when the peer is one of `server.trusted_proxies`: anyone else could write any
//! address there and escape every per-address limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::TrustedProxy;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn text(self) -> String {
        self.0.to_string()
    }
}

fn trusted(ip: IpAddr, proxies: &[TrustedProxy]) -> bool {
    // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|p| p.0.contains(&ip))
}

/// The client behind `peer`: walking `X-Forwarded-For` from the right (the entry the
/// nearest proxy added), the first address that is not a trusted proxy. A malformed entry
/// stops the walk at the last trusted hop, which is then the address counted.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &[TrustedProxy]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            return client;
        };
        client = ip;
        if !trusted(ip, proxies) {
            return ip;
        }
    }
    client
}

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(of_parts(parts, &AppState::from_ref(state))))
    }
}

/// The client address of a request (the peer's when the server runs without connection
/// info, as in unit tests).
pub fn of_parts(parts: &Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    resolve(peer, &parts.headers, &state.settings.server.trusted_proxies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter()
            .map(|s| TrustedProxy::try_from(s.to_string()).unwrap())
            .collect()
    }

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = proxies(&[]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("1.2.3.4"), &none),
            ip("10.0.0.5")
        );
        let lb = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("1.2.3.4"), &lb),
            ip("1.2.3.4")
        );
        // A client cannot hide behind an address it wrote itself: the walk stops at the
        // first address no trusted proxy vouches for.
        assert_eq!(
            resolve(
                ip("10.0.0.5"),
                &headers("6.6.6.6, 1.2.3.4, 192.168.1.1"),
                &lb
            ),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve(ip("10.0.0.5"), &headers("junk, 10.1.1.1"), &lb),
            ip("10.1.1.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.5"), &HeaderMap::new(), &lb),
            ip("10.0.0.5")
        );
        assert_eq!(
            resolve(ip("8.8.8.8"), &headers("1.2.3.4"), &lb),
            ip("8.8.8.8")
        );
        assert_eq!(
            resolve(ip("::ffff:10.0.0.5"), &headers("1.2.3.4"), &lb),
            ip("1.2.3.4")
        );
    }
}
