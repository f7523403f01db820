-- Delivering published flakes: a bot's link to a platform application of its organisation
-- (where its BOT chat user posts them), its webhook endpoints with their delivery log, and the
-- chat posts already made, one per flake and channel.

ALTER TABLE bots ADD COLUMN application_id BIGINT REFERENCES applications (id) ON DELETE SET NULL;
ALTER TABLE bots ADD COLUMN chat_user_id BIGINT;

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    url TEXT,
    -- JSON list of event names.
    events TEXT,
    -- Kept as given: it signs every delivery, so it cannot be a one-way digest.
    secret TEXT,
    active BOOLEAN,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL
);
CREATE INDEX webhooks_bot ON webhooks (organisation_id, bot_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    bot_id TEXT NOT NULL,
    event TEXT,
    flake_id TEXT,
    status TEXT,
    attempts BIGINT,
    response_status BIGINT,
    last_error TEXT,
    -- The exact JSON body every attempt sends (and signs).
    payload TEXT,
    delivered_at BIGINT,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (organisation_id, webhook_id, created, id);

-- One row per flake posted to a chat channel, written in the transaction of the message: the
-- key makes a second post of the same flake there impossible.
CREATE TABLE flake_posts (
    flake_id TEXT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL,
    message_id BIGINT,
    created BIGINT NOT NULL,
    PRIMARY KEY (flake_id, channel_id)
);
