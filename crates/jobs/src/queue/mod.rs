//! The apalis-redis queue plus Coda's live state next to it. Multi-key changes run as Lua
//! scripts (see `lua/`), so api and worker processes never observe half of a change.

mod fleet;
mod keys;
pub(crate) mod live;
mod replies;

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskId, TaskSink};
use apalis_redis::{Config, ConnectionManager, RedisStorage};
use redis::aio::ConnectionManagerConfig;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::id::JobId;
use crate::request::JobParams;
use crate::stage::JobStage;
pub(crate) use keys::{sha256_hex, Keys};
pub(crate) use live::{field, LiveJob};
pub(crate) use replies::{Admission, Backlog, CancelOutcome, Place, StartOutcome};

/// The payload apalis stores and hands to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedJob {
    pub id: JobId,
    pub params: JobParams,
}

macro_rules! script {
    ($name:ident, $file:literal) => {
        static $name: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!($file)));
    };
}
script!(ADMIT, "lua/admit.lua");
script!(BACKLOG, "lua/backlog.lua");
script!(CANCEL, "lua/cancel.lua");
script!(START, "lua/start.lua");
script!(FINISH, "lua/finish.lua");

#[derive(Clone)]
pub(crate) struct Queue {
    conn: ConnectionManager,
    keys: Keys,
    storage: RedisStorage<QueuedJob>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("namespace", &self.keys.namespace())
            .finish()
    }
}

impl Queue {
    pub(crate) async fn connect(url: &str, namespace: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url)?;
        // redis-rs's default 500 ms response timeout ends apalis workers under load.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2);
        let conn = client.get_connection_manager_with_config(config).await?;
        let storage = RedisStorage::new(conn.clone()).with_config(Self::apalis_config(namespace));
        Ok(Queue {
            conn,
            keys: Keys::new(namespace),
            storage,
        })
    }

    /// The queue name is set explicitly: the default is the Rust type name.
    pub(crate) fn apalis_config(namespace: &str) -> Config {
        Config::default().queue(namespace)
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(crate) fn storage(&self) -> RedisStorage<QueuedJob> {
        self.storage.clone()
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }

    pub(crate) async fn admit(
        &self,
        id: JobId,
        client: &str,
        max_pending: usize,
        max_per_client: usize,
        fields: &[(&str, String)],
    ) -> Result<(Admission, u64), Error> {
        let mut inv = ADMIT.key(self.keys.pending());
        inv.key(self.keys.client(client))
            .key(self.keys.job(id))
            .arg(id.to_string())
            .arg(max_pending)
            .arg(max_per_client)
            .arg(self.keys.job_prefix())
            .arg(field::CLIENT_KEY)
            .arg(self.keys.client(client));
        for (k, v) in fields {
            inv.arg(*k).arg(v);
        }
        let (code, count): (u8, u64) = inv.invoke_async(&mut self.conn()).await?;
        Ok((Admission::from_reply(code)?, count))
    }

    /// Undoes `admit` when the job could not be pushed.
    pub(crate) async fn forget(&self, id: JobId, client: &str) -> Result<(), Error> {
        redis::pipe()
            .atomic()
            .srem(self.keys.pending(), id.to_string())
            .srem(self.keys.client(client), id.to_string())
            .del(self.keys.job(id))
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Pushes with our own id, so the api knows the id before the worker can see the job.
    pub(crate) async fn push(&self, job: QueuedJob) -> Result<(), Error> {
        let task_id = TaskId::from(job.id.to_string());
        let task = TaskBuilder::new(job).task_id(task_id).build();
        self.storage()
            .push_task(task)
            .await
            .map_err(|e| Error::Queue(e.into()))
    }

    pub(crate) async fn live(&self, id: JobId) -> Result<Option<LiveJob>, Error> {
        let h: HashMap<String, String> = self.conn().hgetall(self.keys.job(id)).await?;
        if h.is_empty() {
            return Ok(None);
        }
        LiveJob::from_hash(&h).map(Some)
    }

    /// `id = None` describes a new job joining at the tail.
    pub(crate) async fn backlog(&self, id: Option<JobId>) -> Result<Backlog, Error> {
        let (place, jobs_ahead, steps_ahead, running_jobs, running_remaining_steps, queued_total): (
            String,
            u64,
            u64,
            u64,
            u64,
            u64,
        ) = BACKLOG
            .key(self.keys.active())
            .key(self.keys.scheduled())
            .key(self.keys.workers())
            .key(self.keys.dead())
            .arg(id.map(|i| i.to_string()).unwrap_or_default())
            .arg(self.keys.job_prefix())
            .arg(self.keys.inflight_prefix())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(Backlog {
            place: Place::from_reply(&place)?,
            jobs_ahead,
            steps_ahead,
            running_jobs,
            running_remaining_steps,
            queued_total,
        })
    }

    pub(crate) async fn cancel(
        &self,
        id: JobId,
        token_sha: &str,
        now_ms: i64,
        retention_s: u64,
    ) -> Result<CancelOutcome, Error> {
        let out: String = CANCEL
            .key(self.keys.job(id))
            .key(self.keys.active())
            .key(self.keys.scheduled())
            .key(self.keys.pending())
            .key(self.keys.data())
            .key(self.keys.meta(id))
            .arg(id.to_string())
            .arg(token_sha)
            .arg(now_ms)
            .arg(retention_s)
            .invoke_async(&mut self.conn())
            .await?;
        CancelOutcome::from_reply(&out)
    }

    pub(crate) async fn start(
        &self,
        id: JobId,
        worker: &str,
        now_ms: i64,
        max_attempts: u32,
    ) -> Result<StartOutcome, Error> {
        let (what, attempts): (String, u32) = START
            .key(self.keys.job(id))
            .arg(worker)
            .arg(now_ms)
            .arg(max_attempts)
            .arg(JobStage::EncodingPrompt.as_str())
            .invoke_async(&mut self.conn())
            .await?;
        StartOutcome::from_reply(&what, attempts)
    }

    /// Unfinished jobs of one client.
    pub(crate) async fn client_jobs(&self, client: &str) -> Result<Vec<JobId>, Error> {
        let ids: Vec<String> = self.conn().smembers(self.keys.client(client)).await?;
        Ok(ids.iter().filter_map(|i| i.parse().ok()).collect())
    }

    pub(crate) async fn set_fields(
        &self,
        id: JobId,
        fields: &[(&str, String)],
    ) -> Result<(), Error> {
        let _: () = self.conn().hset_multiple(self.keys.job(id), fields).await?;
        Ok(())
    }

    pub(crate) async fn cancel_requested(&self, id: JobId) -> Result<bool, Error> {
        let flag: Option<String> = self.conn().hget(self.keys.job(id), "cancel").await?;
        Ok(flag.as_deref() == Some("1"))
    }

    pub(crate) async fn finish(
        &self,
        id: JobId,
        retention_s: u64,
        fields: &[(&str, String)],
    ) -> Result<(), Error> {
        let mut inv = FINISH.key(self.keys.job(id));
        inv.key(self.keys.pending())
            .arg(id.to_string())
            .arg(retention_s);
        for (k, v) in fields {
            inv.arg(*k).arg(v);
        }
        let _: i64 = inv.invoke_async(&mut self.conn()).await?;
        Ok(())
    }
}
