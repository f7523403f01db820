-- Real-time sessions: a user session per gateway connection and a chat session per channel a
-- user opened in it, each ACTIVE until it ends. Every instance that holds sessions renews a lease;
-- the sessions of an instance whose lease ran out (it died) are ended by another instance.

CREATE TABLE gateway_instances (
    id TEXT PRIMARY KEY,
    lease_until INTEGER NOT NULL
);

CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    state TEXT NOT NULL,
    user_agent TEXT,
    created INTEGER NOT NULL,
    ended INTEGER
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, state);
CREATE INDEX user_sessions_app ON user_sessions (application_id, state, id);
CREATE INDEX user_sessions_instance ON user_sessions (instance_id, state);

CREATE TABLE chat_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_session_id INTEGER NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    ended INTEGER
);
CREATE INDEX chat_sessions_channel ON chat_sessions (channel_id, state, user_id);
CREATE INDEX chat_sessions_app ON chat_sessions (application_id, state, id);
CREATE INDEX chat_sessions_user_session ON chat_sessions (user_session_id, state);
