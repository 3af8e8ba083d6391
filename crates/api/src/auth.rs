//! Optional API keys and the client identity that per-client limits count against.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::settings::HttpSettings;
use crate::state::AppState;

/// Which configured key a request presented (its position, so the key itself is never stored).
#[derive(Debug, Clone, Copy)]
struct ApiKeyIndex(usize);

/// Guards `/api/v1/*` when `auth.api_keys` is non-empty.
pub(crate) async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let keys = &state.options.auth.api_keys;
    if !keys.is_empty() {
        let presented = bearer_token(request.headers()).ok_or(ApiError::Unauthorized)?;
        let index = matching_key(keys, presented.as_bytes()).ok_or(ApiError::Unauthorized)?;
        request.extensions_mut().insert(ApiKeyIndex(index));
    }
    Ok(next.run(request).await)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares with every key in constant time per key, so timing does not tell which bytes matched.
fn matching_key(keys: &[SecretString], presented: &[u8]) -> Option<usize> {
    let mut found = None;
    for (index, key) in keys.iter().enumerate() {
        let equal: bool = key.expose_secret().as_bytes().ct_eq(presented).into();
        if equal && found.is_none() {
            found = Some(index);
        }
    }
    found
}

/// Who a request counts against for `queue.max_pending_per_client`: the API key when keys are
/// configured, else the client's IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(pub String);

impl FromRequestParts<AppState> for ClientId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        if let Some(ApiKeyIndex(index)) = parts.extensions.get::<ApiKeyIndex>() {
            return Ok(ClientId(format!("key:{}", index + 1)));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|peer| client_address(peer, &parts.headers, &state.options.http));
        Ok(ClientId(match ip {
            Some(ip) => format!("ip:{}", ip.to_canonical()),
            None => "ip:unknown".to_owned(),
        }))
    }
}

/// The client behind `http.trusted_proxies`: `X-Forwarded-For` is read only when the peer is a
/// trusted proxy, from the right (each proxy appends the address it saw), skipping the
/// trusted hops; the first other address is the client. Entries left of it are whatever the
/// client sent and are never believed.
fn client_address(peer: IpAddr, headers: &HeaderMap, http: &HttpSettings) -> IpAddr {
    if !http.is_trusted_proxy(peer) {
        return peer;
    }
    let joined = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let mut client = peer;
    for entry in joined.rsplit(',') {
        let Ok(hop) = entry.trim().parse::<IpAddr>() else {
            // A malformed entry ends the chain of trust: stop at the last address believed.
            break;
        };
        client = hop;
        if !http.is_trusted_proxy(hop) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_key_matches() {
        let keys = vec![SecretString::from("alpha"), SecretString::from("beta")];
        assert_eq!(matching_key(&keys, b"beta"), Some(1));
        assert_eq!(matching_key(&keys, b"bet"), None);
        assert_eq!(matching_key(&keys, b""), None);
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn behind(proxies: &[&str]) -> HttpSettings {
        serde_json::from_value(serde_json::json!({ "trusted_proxies": proxies })).unwrap()
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_past_trusted_hops() {
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        headers.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        let http = behind(&["10.0.0.0/8"]);
        // The client forged 6.6.6.6; the outer proxy saw 203.0.113.7, the inner one 10.0.0.2.
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &http),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn forwarded_for_from_an_untrusted_peer_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "203.0.113.7".parse().unwrap());
        assert_eq!(
            client_address(ip("198.51.100.4"), &headers, &behind(&["10.0.0.0/8"])),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &behind(&[])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_without_the_header_is_the_client() {
        let headers = HeaderMap::new();
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &behind(&["10.0.0.1"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer k1".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("k1"));
        headers.insert(header::AUTHORIZATION, "Basic k1".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
