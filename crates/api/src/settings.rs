//! The api's sections of the configuration: `http` and `auth`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use coda_jobs::SettingsError;
use ipnet::IpNet;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Listen address.
    pub addr: SocketAddr,
    /// Base URL used in links handed to clients (e.g. `https://coda.example.org`); relative
    /// links when absent.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed, as addresses or CIDRs
    /// (`10.0.0.0/8`, `::1`). A request from anywhere else counts against its own address,
    /// whatever header it sends.
    #[serde(deserialize_with = "nets", serialize_with = "net_strings")]
    pub trusted_proxies: Vec<IpNet>,
    /// How often an open event stream re-reads its job.
    pub events_poll_interval_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            trusted_proxies: Vec::new(),
            events_poll_interval_ms: 500,
        }
    }
}

impl HttpSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        SettingsError::check_range(
            "http.events_poll_interval_ms",
            self.events_poll_interval_ms,
            10..=60_000,
        )
    }

    pub fn events_poll_interval(&self) -> Duration {
        Duration::from_millis(self.events_poll_interval_ms)
    }

    pub(crate) fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

fn net_strings<S: Serializer>(nets: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(nets.iter().map(ToString::to_string))
}

/// A bare address is a network of one: `10.0.0.7` means `10.0.0.7/32`.
fn nets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    raw.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{s:?} is neither an IP address nor a CIDR such as 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Accepted API keys; empty = open service. Never printed.
    #[serde(serialize_with = "redacted")]
    pub api_keys: Vec<SecretString>,
}

fn redacted<S: Serializer>(keys: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(|_| "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(json: &str) -> Result<HttpSettings, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidrs() {
        let s = http(r#"{"trusted_proxies":["10.0.0.0/8","::1","192.168.1.7"]}"#).unwrap();
        assert!(s.is_trusted_proxy("10.1.2.3".parse().unwrap()));
        assert!(s.is_trusted_proxy("::1".parse().unwrap()));
        assert!(s.is_trusted_proxy("192.168.1.7".parse().unwrap()));
        assert!(!s.is_trusted_proxy("192.168.1.8".parse().unwrap()));
        // An IPv4 peer seen through an IPv6 socket is still that IPv4 address.
        assert!(s.is_trusted_proxy("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_bad_proxy_entry_is_named() {
        let err = http(r#"{"trusted_proxies":["10.0.0.0/33"]}"#).unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        let mut s = HttpSettings::default();
        assert!(s.validate().is_ok());
        s.events_poll_interval_ms = 0;
        assert_eq!(
            s.validate().unwrap_err().key,
            "http.events_poll_interval_ms"
        );
    }
}
