//! Test fixtures: a unique Redis namespace and a throw-away ledger per test.
#![allow(dead_code)]

use coda_jobs::{Coda, GenerationRequest, JobParams, Settings};
use sqlx::any::AnyPoolOptions;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Settings isolated from every other test: own namespace, own data dir.
pub fn settings(dir: &tempfile::TempDir) -> Settings {
    let mut s = Settings::default();
    s.redis.url = REDIS_URL.into();
    s.redis.namespace = format!("test-{}", ulid::Ulid::new());
    s.storage.dir = dir.path().to_path_buf();
    s
}

pub async fn coda(dir: &tempfile::TempDir, tweak: impl FnOnce(&mut Settings)) -> Coda {
    let mut s = settings(dir);
    tweak(&mut s);
    Coda::connect(&s)
        .await
        .expect("connect to Redis and the ledger")
}

pub fn params(prompt: &str, seconds: f64) -> JobParams {
    GenerationRequest {
        prompt: prompt.into(),
        duration_seconds: seconds,
        top_k: None,
        top_p: None,
        temperature: None,
        guidance_scale: None,
        seed: Some(7),
    }
    .validate(&Default::default())
    .expect("valid request")
}

/// Deletes every key of the test's namespace.
pub async fn drop_namespace(namespace: &str) {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{namespace}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

/// A fresh PostgreSQL database; drop it with [`drop_postgres`].
pub async fn create_postgres() -> (String, String) {
    sqlx::any::install_default_drivers();
    let name = format!("coda_test_{}", ulid::Ulid::new().to_string().to_lowercase());
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(POSTGRES_ADMIN_URL)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    (
        name.clone(),
        format!("postgres://postgres@127.0.0.1:5432/{name}"),
    )
}

pub async fn drop_postgres(name: &str) {
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(POSTGRES_ADMIN_URL)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
