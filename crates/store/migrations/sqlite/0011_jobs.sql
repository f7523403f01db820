-- Background work as rows: a worker claims a job with one statement, holds it under a lease it
-- renews, and records progress, the result or the reason it failed. A job whose worker died
-- (its lease ran out) is claimed again. `run_at` in the future schedules work.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The application that started the job; NULL for the server's own housekeeping.
    application_id INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    -- JSON counts (processed, created, skipped, failed) and where the job stands in its input.
    progress TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created INTEGER NOT NULL,
    started INTEGER,
    ended INTEGER
);
-- What workers claim: pending jobs due, and running ones whose lease ran out.
CREATE INDEX jobs_claim ON jobs (state, run_at);
CREATE INDEX jobs_application ON jobs (application_id, id);

-- What went wrong with single input elements of a job that carried on without them.
CREATE TABLE job_errors (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    idempotency_key TEXT,
    reason TEXT NOT NULL,
    PRIMARY KEY (job_id, position)
);

-- Idempotency keys of imported elements, per application and kind of element: an element
-- whose key is here was imported before and is skipped.
CREATE TABLE import_keys (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    PRIMARY KEY (application_id, kind, idempotency_key)
);
