//! Measurements and liveness shared by all workers: decoding speed, model shape, heartbeats,
//! and the clean-up of finished jobs' queue records.

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use super::Queue;
use crate::error::Error;
use crate::eta::{BatchSpeed, ModelShape, Speed};
use crate::id::JobId;

static RECORD_SPEED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/record_speed.lua")));

/// Prefix of the stats fields holding a batch's step time by size.
const BATCH_FIELD: &str = "batch_";

/// Weight of a new sample in the moving averages: about the last five jobs matter.
const EWMA_ALPHA: f64 = 0.2;

impl Queue {
    pub(crate) async fn record_speed(
        &self,
        ms_per_step: f64,
        overhead_ms: Option<f64>,
    ) -> Result<(), Error> {
        let _: String = RECORD_SPEED
            .key(self.keys.stats())
            .arg(ms_per_step)
            .arg(overhead_ms.map(|o| o.to_string()).unwrap_or_default())
            .arg(EWMA_ALPHA)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// One field per batch size (`batch_<n>`: ms per step of the whole batch) beside the
    /// single-job averages; the newest measurement of a size replaces the last.
    pub(crate) async fn record_batch_speeds(&self, speeds: &[BatchSpeed]) -> Result<(), Error> {
        let fields: Vec<(String, f64)> = speeds
            .iter()
            .filter(|s| s.batch > 0 && s.ms_per_step.is_finite() && s.ms_per_step > 0.0)
            .map(|s| (format!("{BATCH_FIELD}{}", s.batch), s.ms_per_step))
            .collect();
        if fields.is_empty() {
            return Ok(());
        }
        let _: () = self
            .conn()
            .hset_multiple(self.keys.stats(), &fields)
            .await?;
        Ok(())
    }

    pub(crate) async fn speed(&self) -> Result<Speed, Error> {
        let h: HashMap<String, f64> = self.conn().hgetall(self.keys.stats()).await?;
        let mut by_batch: Vec<BatchSpeed> = h
            .iter()
            .filter_map(|(k, &ms)| {
                let batch = k.strip_prefix(BATCH_FIELD)?.parse().ok()?;
                Some(BatchSpeed {
                    batch,
                    ms_per_step: ms,
                })
            })
            .collect();
        by_batch.sort_by_key(|s| s.batch);
        Ok(Speed {
            ms_per_step: h.get("ms_per_step").copied(),
            ms_per_step_dev: h.get("ms_per_step_dev").copied().unwrap_or(0.0),
            overhead_ms: h.get("overhead_ms").copied(),
            by_batch,
        })
    }

    pub(crate) async fn publish_model(&self, shape: ModelShape) -> Result<(), Error> {
        let _: () = self
            .conn()
            .hset_multiple(
                self.keys.model(),
                &[
                    ("frame_rate", shape.frame_rate),
                    ("codebooks", shape.codebooks as f64),
                ],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn model_shape(&self) -> Result<ModelShape, Error> {
        let h: HashMap<String, f64> = self.conn().hgetall(self.keys.model()).await?;
        let default = ModelShape::default();
        Ok(ModelShape {
            frame_rate: h
                .get("frame_rate")
                .copied()
                .filter(|f| *f > 0.0)
                .unwrap_or(default.frame_rate),
            codebooks: h
                .get("codebooks")
                .map(|c| *c as u64)
                .filter(|c| *c > 0)
                .unwrap_or(default.codebooks),
        })
    }

    pub(crate) async fn heartbeat(
        &self,
        worker: &str,
        slots: usize,
        now_ms: i64,
    ) -> Result<(), Error> {
        redis::pipe()
            .zadd(self.keys.alive(), worker, now_ms)
            .hset(self.keys.slots(), worker, slots)
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub(crate) async fn leave(&self, worker: &str) -> Result<(), Error> {
        redis::pipe()
            .zrem(self.keys.alive(), worker)
            .hdel(self.keys.slots(), worker)
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Live worker processes (heartbeat newer than `since_ms`) and their total job slots.
    pub(crate) async fn workers_alive(&self, since_ms: i64) -> Result<(u64, u64), Error> {
        let names: Vec<String> = self
            .conn()
            .zrangebyscore(self.keys.alive(), since_ms, "+inf")
            .await?;
        if names.is_empty() {
            return Ok((0, 0));
        }
        let slots: Vec<Option<u64>> = redis::cmd("HMGET")
            .arg(self.keys.slots())
            .arg(&names)
            .query_async(&mut self.conn())
            .await?;
        let total = slots.iter().map(|s| s.unwrap_or(1)).sum();
        Ok((names.len() as u64, total))
    }

    /// Drops apalis's bookkeeping of finished jobs whose live state has expired: apalis's own
    /// vacuum leaves the done and dead sets growing forever. Returns how many were removed.
    pub(crate) async fn sweep_finished(&self) -> Result<u64, Error> {
        let mut removed = 0;
        for set in [self.keys.done(), self.keys.dead()] {
            let ids: Vec<String> = self.conn().smembers(&set).await?;
            for raw in ids {
                let Ok(id) = raw.parse::<JobId>() else {
                    continue;
                };
                let exists: bool = self.conn().exists(self.keys.job(id)).await?;
                if !exists {
                    redis::pipe()
                        .atomic()
                        .srem(&set, &raw)
                        .hdel(self.keys.data(), &raw)
                        .del(self.keys.meta(id))
                        .exec_async(&mut self.conn())
                        .await?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}
