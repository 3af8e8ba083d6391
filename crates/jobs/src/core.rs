//! What both facades stand on: the settings, the queue and the ledger of one process. [`Coda`]
//! (clients' side) and [`WorkerLink`] (workers' side) each hold it in an `Arc`, so neither has
//! to reach into the other.
//!
//! [`Coda`]: crate::Coda
//! [`WorkerLink`]: crate::WorkerLink

use std::path::PathBuf;

use crate::error::Error;
use crate::id::JobId;
use crate::ledger::Ledger;
use crate::queue::Queue;
use crate::settings::Settings;

#[derive(Debug)]
pub(crate) struct Core {
    pub settings: Settings,
    pub queue: Queue,
    pub ledger: Ledger,
}

impl Core {
    /// Connects to Redis and the ledger (applying migrations) after validating the settings.
    pub async fn connect(settings: &Settings) -> Result<Core, Error> {
        settings.validate()?;
        let queue = Queue::connect(&settings.redis.url, &settings.redis.namespace).await?;
        let ledger = Ledger::connect(&settings.database_url()).await?;
        Ok(Core {
            settings: settings.clone(),
            queue,
            ledger,
        })
    }

    /// `<storage.dir>/audio/<id>.wav`.
    pub fn audio_path(&self, id: JobId) -> PathBuf {
        self.settings
            .storage
            .dir
            .join("audio")
            .join(format!("{id}.wav"))
    }

    pub fn retention_seconds(&self) -> u64 {
        self.settings.storage.retention_seconds()
    }
}
