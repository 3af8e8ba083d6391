//! The durable record of every job (SQL through sqlx's `Any` driver: SQLite by default,
//! PostgreSQL with the same migrations). Ids are ULIDs, so `ORDER BY id` is creation order.

use std::path::Path;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::error::Error;
use crate::id::{JobId, JobStatus};
use crate::request::JobParams;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub id: JobId,
    pub params: JobParams,
    pub client: String,
    pub status: JobStatus,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub attempts: u32,
    pub audio_seconds: Option<f64>,
    pub compute_seconds: Option<f64>,
    pub ms_per_step: Option<f64>,
    pub error: Option<String>,
    pub worker: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    pool: AnyPool,
}

const COLUMNS: &str = "id, params, client, status, created_ms, started_ms, finished_ms, attempts, \
                       audio_seconds, compute_seconds, ms_per_step, error, worker";

impl Ledger {
    /// Connects and applies pending migrations. A SQLite file and its folder are created.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)?;
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .connect(url)
            .await?;
        if sqlite {
            // Readers (the api) must not block the writer (the worker) nor the other way round.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Ledger { pool })
    }

    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn insert(&self, row: &LedgerRow) -> Result<(), Error> {
        let params =
            serde_json::to_string(&row.params).map_err(|e| Error::Corrupt(e.to_string()))?;
        sqlx::query(&format!(
            "INSERT INTO jobs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(row.id.to_string())
        .bind(params)
        .bind(&row.client)
        .bind(row.status.as_str())
        .bind(row.created_ms)
        .bind(row.started_ms)
        .bind(row.finished_ms)
        .bind(i64::from(row.attempts))
        .bind(row.audio_seconds)
        .bind(row.compute_seconds)
        .bind(row.ms_per_step)
        .bind(row.error.as_deref())
        .bind(row.worker.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes everything that changes after submission (status, times, attempts, outcome).
    pub async fn update(&self, row: &LedgerRow) -> Result<(), Error> {
        sqlx::query(
            "UPDATE jobs SET status = $2, started_ms = $3, finished_ms = $4, attempts = $5, \
             audio_seconds = $6, compute_seconds = $7, ms_per_step = $8, error = $9, worker = $10 \
             WHERE id = $1",
        )
        .bind(row.id.to_string())
        .bind(row.status.as_str())
        .bind(row.started_ms)
        .bind(row.finished_ms)
        .bind(i64::from(row.attempts))
        .bind(row.audio_seconds)
        .bind(row.compute_seconds)
        .bind(row.ms_per_step)
        .bind(row.error.as_deref())
        .bind(row.worker.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete(&self, id: JobId) -> Result<(), Error> {
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn get(&self, id: JobId) -> Result<Option<LedgerRow>, Error> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode(&r)).transpose()
    }

    /// Newest first, strictly older than `before` when given.
    pub async fn page(&self, before: Option<JobId>, limit: u32) -> Result<Vec<LedgerRow>, Error> {
        let rows = match before {
            Some(id) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE id < $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(id.to_string())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(decode).collect()
    }

    /// Closes the pool (tests drop their database afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn decode(r: &AnyRow) -> Result<LedgerRow, Error> {
    let corrupt = |what: &str| Error::Corrupt(format!("ledger row: {what}"));
    let id: String = r.try_get("id")?;
    let params: String = r.try_get("params")?;
    let status: String = r.try_get("status")?;
    Ok(LedgerRow {
        id: id.parse().map_err(|_| corrupt("id"))?,
        params: serde_json::from_str(&params).map_err(|_| corrupt("params"))?,
        client: r.try_get("client")?,
        status: JobStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        created_ms: r.try_get("created_ms")?,
        started_ms: r.try_get("started_ms")?,
        finished_ms: r.try_get("finished_ms")?,
        attempts: r
            .try_get::<i64, _>("attempts")?
            .clamp(0, i64::from(u32::MAX)) as u32,
        audio_seconds: r.try_get("audio_seconds")?,
        compute_seconds: r.try_get("compute_seconds")?,
        ms_per_step: r.try_get("ms_per_step")?,
        error: r.try_get("error")?,
        worker: r.try_get("worker")?,
    })
}
