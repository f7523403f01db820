-- Chat channels of the platform API (the content API has its own `channels`), their members,
-- moderators and invites, and the event outbox every platform write appends to in the same
-- transaction as its rows.

CREATE TABLE chat_channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    -- NULL for DIRECT chat_channels; NULLs never collide in the unique index.
    name TEXT,
    display_name TEXT,
    creator_id INTEGER REFERENCES chat_users (id) ON DELETE SET NULL,
    -- DIRECT chat_channels only: their sorted member ids, so one member set has one channel.
    direct_key TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL
);
CREATE UNIQUE INDEX chat_channels_app_name ON chat_channels (application_id, name);
CREATE UNIQUE INDEX chat_channels_app_direct ON chat_channels (application_id, direct_key);
CREATE INDEX chat_channels_app_created ON chat_channels (application_id, created);

CREATE TABLE chat_channel_members (
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX chat_channel_members_user ON chat_channel_members (user_id);

CREATE TABLE chat_channel_moderators (
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE chat_channel_invites (
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- The outbox: seq orders events; channel_id has no foreign key so channel.deleted outlives its row.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    channel_id INTEGER,
    payload TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX events_app_seq ON events (application_id, seq);
