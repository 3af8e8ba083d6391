//! Redis key names. apalis-redis owns `<ns>:active`, `:scheduled`, `:inflight:<worker>`,
//! `:workers`, `:data`, `:meta:<id>`, `:done`, `:dead`, `:signal`; Coda adds the keys below and
//! never writes into apalis's own fields.

use sha2::{Digest, Sha256};

use crate::id::JobId;

#[derive(Debug, Clone)]
pub(crate) struct Keys {
    ns: String,
}

impl Keys {
    pub(crate) fn new(ns: &str) -> Self {
        Keys { ns: ns.to_string() }
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.ns
    }

    /// Live state of one job (hash).
    pub(crate) fn job(&self, id: JobId) -> String {
        format!("{}:job:{id}", self.ns)
    }

    pub(crate) fn job_prefix(&self) -> String {
        format!("{}:job:", self.ns)
    }

    /// Ids of unfinished jobs (set): the admission counter.
    pub(crate) fn pending(&self) -> String {
        format!("{}:pending", self.ns)
    }

    /// Ids of one client's unfinished jobs (set). The client string is hashed: it may be an IP
    /// address or a key name and has no business in a key listing.
    pub(crate) fn client(&self, client: &str) -> String {
        format!("{}:client:{}", self.ns, &sha256_hex(client)[..32])
    }

    /// Moving averages of decoding speed (hash).
    pub(crate) fn stats(&self) -> String {
        format!("{}:stats", self.ns)
    }

    /// Frame rate and codebooks of the loaded model (hash).
    pub(crate) fn model(&self) -> String {
        format!("{}:model", self.ns)
    }

    /// Worker processes → last heartbeat in ms (zset).
    pub(crate) fn alive(&self) -> String {
        format!("{}:alive", self.ns)
    }

    /// Worker processes → job slots (hash).
    pub(crate) fn slots(&self) -> String {
        format!("{}:slots", self.ns)
    }

    pub(crate) fn active(&self) -> String {
        format!("{}:active", self.ns)
    }

    pub(crate) fn scheduled(&self) -> String {
        format!("{}:scheduled", self.ns)
    }

    pub(crate) fn workers(&self) -> String {
        format!("{}:workers", self.ns)
    }

    pub(crate) fn inflight_prefix(&self) -> String {
        format!("{}:inflight:", self.ns)
    }

    pub(crate) fn data(&self) -> String {
        format!("{}:data", self.ns)
    }

    pub(crate) fn meta(&self, id: JobId) -> String {
        format!("{}:meta:{id}", self.ns)
    }

    pub(crate) fn done(&self) -> String {
        format!("{}:done", self.ns)
    }

    pub(crate) fn dead(&self) -> String {
        format!("{}:dead", self.ns)
    }
}

pub(crate) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
