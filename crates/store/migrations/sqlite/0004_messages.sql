-- Messages of the platform API: threads (each channel's MAIN thread, and one MESSAGE reply
-- thread per top-level message), messages numbered by a per-channel sequence, read cursors per
-- membership, reports, notifications, and the offsets of event consumers.

CREATE TABLE chat_threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    -- `MAIN` or `MESSAGE`.
    type TEXT NOT NULL,
    -- MAIN threads only: their channel's id, so a channel has one MAIN thread.
    main_of INTEGER,
    -- MESSAGE threads only: the message replied to; the thread goes with it.
    parent_message_id INTEGER REFERENCES chat_messages (id) ON DELETE CASCADE,
    -- MAIN threads only: the last sequence number given to a message of the channel.
    last_seq INTEGER NOT NULL DEFAULT 0,
    properties TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL
);
CREATE UNIQUE INDEX chat_threads_main ON chat_threads (main_of);
CREATE UNIQUE INDEX chat_threads_parent ON chat_threads (parent_message_id);
CREATE INDEX chat_threads_channel ON chat_threads (channel_id);

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    thread_id INTEGER NOT NULL REFERENCES chat_threads (id) ON DELETE CASCADE,
    -- Per channel, strictly increasing in commit order: the key history pages on.
    seq INTEGER NOT NULL,
    -- `TEXT`, `FILE`, `SYSTEM_TEXT` or `SYSTEM_FILE`.
    type TEXT NOT NULL,
    user_id INTEGER REFERENCES chat_users (id) ON DELETE CASCADE,
    body TEXT,
    -- FILE messages: `{type, url, name, content_type, size}`.
    file TEXT,
    group_tag TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    -- Parsed from the body: `[{type, tag, start_position, end_position, user_id?}]`.
    mentions TEXT NOT NULL DEFAULT '[]',
    links TEXT NOT NULL DEFAULT '[]',
    nested_level INTEGER NOT NULL,
    created INTEGER NOT NULL,
    last_edited INTEGER
);
CREATE UNIQUE INDEX chat_messages_channel_seq ON chat_messages (channel_id, seq);
CREATE INDEX chat_messages_thread_seq ON chat_messages (thread_id, seq);
CREATE INDEX chat_messages_app_id ON chat_messages (application_id, id);
CREATE INDEX chat_messages_user ON chat_messages (user_id, id);

-- How far each member has read its channel; unread counts derive from it.
CREATE TABLE chat_read_cursors (
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id),
    FOREIGN KEY (channel_id, user_id) REFERENCES chat_channel_members (channel_id, user_id) ON DELETE CASCADE
);

CREATE TABLE chat_message_reports (
    message_id INTEGER NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    reason TEXT,
    created INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

CREATE TABLE chat_notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    channel_id INTEGER REFERENCES chat_channels (id) ON DELETE CASCADE,
    message_id INTEGER REFERENCES chat_messages (id) ON DELETE CASCADE,
    -- `USER:SENT:MESSAGE`, `SYSTEM:SENT:MESSAGE`, `USER:MENTIONED:USER`, …
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL,
    read_time INTEGER
);
CREATE UNIQUE INDEX chat_notifications_once ON chat_notifications (message_id, user_id);
CREATE INDEX chat_notifications_user ON chat_notifications (user_id, id);

-- The last outbox event each consumer has handled, per application.
CREATE TABLE event_consumers (
    consumer TEXT NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (consumer, application_id)
);
