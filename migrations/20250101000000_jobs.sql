-- One row per job: the durable record of what was asked, what happened and what it cost.
-- Portable between SQLite and PostgreSQL: TEXT, BIGINT (epoch milliseconds), DOUBLE PRECISION.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    client TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    audio_seconds DOUBLE PRECISION,
    compute_seconds DOUBLE PRECISION,
    ms_per_step DOUBLE PRECISION,
    error TEXT,
    worker TEXT
);

CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_client ON jobs (client);
