#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Jobs(#[from] coda_jobs::Error),
    #[error("model: {0}")]
    Model(#[from] coda_musicgen::Error),
    #[error("{0}")]
    MemoryBudget(String),
    #[error("could not start the engine's threads: {0}")]
    Engine(std::io::Error),
    #[error("worker pool: {0}")]
    Monitor(String),
    #[error("a blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}
