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
    let keys = &state.coda.settings().auth.api_keys;
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
        if state.options.trust_forwarded_for {
            if let Some(ip) = last_forwarded_for(&parts.headers) {
                return Ok(ClientId(format!("ip:{ip}")));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientId(match ip {
            Some(ip) => format!("ip:{ip}"),
            None => "ip:unknown".to_owned(),
        }))
    }
}

/// The last entry is the one our own proxy appended; earlier ones are whatever the client sent.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let joined = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    joined.rsplit(',').next()?.trim().parse().ok()
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

    #[test]
    fn forwarded_for_takes_the_proxy_appended_address() {
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6, 10.0.0.1".parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.7".parse().unwrap());
        assert_eq!(
            last_forwarded_for(&headers),
            Some("203.0.113.7".parse().unwrap())
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
