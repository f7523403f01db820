-- The platform API: applications (with their credentials), their chat users and user secrets,
-- and OAuth access tokens. Ids are 64-bit integers, as the platform API's clients expect.

CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    api_key TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_digest TEXT NOT NULL,
    guest_users TEXT NOT NULL DEFAULT 'DISABLED',
    user_created_channels TEXT NOT NULL DEFAULT 'DISABLED',
    properties TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL
);
CREATE INDEX applications_org ON applications (organisation_id, id);

CREATE TABLE oauth_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    expires INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX oauth_tokens_app ON oauth_tokens (application_id);

CREATE TABLE chat_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_picture_url TEXT NOT NULL,
    type TEXT NOT NULL,
    is_guest BOOLEAN NOT NULL DEFAULT 0,
    properties TEXT NOT NULL DEFAULT '{}',
    presence_status TEXT NOT NULL DEFAULT 'UNAVAILABLE',
    call_status TEXT NOT NULL DEFAULT 'AVAILABLE',
    created INTEGER NOT NULL
);
CREATE UNIQUE INDEX chat_users_app_name ON chat_users (application_id, name);
CREATE INDEX chat_users_app_id ON chat_users (application_id, id);

CREATE TABLE chat_user_secrets (
    application_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);
