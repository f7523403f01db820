-- Content channels fed from web sources: the status a channel gives the flakes it creates, its
-- runs, the one pending schedule job of each active channel, and the feed items each bot has
-- taken (so a run never makes a second flake of the same item).

ALTER TABLE channels ADD COLUMN flake_status TEXT;

CREATE TABLE channel_runs (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    bot_id TEXT NOT NULL,
    -- schedule | manual
    "trigger" TEXT,
    -- running | finished
    status TEXT,
    started INTEGER,
    ended INTEGER,
    fetched INTEGER,
    matched INTEGER,
    flakes_created INTEGER,
    skipped INTEGER,
    errors INTEGER,
    -- JSON list: per keyword and source, its counts and error.
    sources TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE INDEX channel_runs_channel ON channel_runs (organisation_id, channel_id, started);

-- The schedule of an active channel: the id of its one pending CHANNEL_RUN job. Every change
-- (a channel written or deleted, a run enqueuing the next) locks this row first, so a job not
-- named here is stale and does nothing.
CREATE TABLE channel_schedules (
    channel_id TEXT PRIMARY KEY NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    job_id INTEGER
);
CREATE INDEX channel_schedules_bot ON channel_schedules (organisation_id, bot_id);

-- Feed items a bot has taken: digests of an item's link and of its guid. Kept when the flake
-- is deleted, so that a deleted item does not come back at the next run.
CREATE TABLE channel_items (
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    flake_id TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (bot_id, item_key)
);
