-- Hosted files: uploads kept in the configured file storage (a folder or S3), one row each with
-- what the storage does not know (name, content type, owner). A row outlives the message or user
-- that owned it until the object is deleted too, so owners are plain ids, not foreign keys.

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- The object's key in the storage.
    storage_key TEXT NOT NULL UNIQUE,
    -- MESSAGE (a FILE message's file) or DISPLAY_PICTURE (a user's picture).
    purpose TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- A display picture's user; a message file's sender, if any.
    user_id INTEGER,
    -- The channel a message file was sent to.
    channel_id INTEGER,
    -- The message of a message file; NULL while it is being sent.
    message_id INTEGER,
    created INTEGER NOT NULL
);
CREATE INDEX files_app ON files (application_id, id);
CREATE INDEX files_message ON files (message_id);
CREATE INDEX files_user ON files (user_id);

-- The key each application's file read grants are signed with (HMAC-SHA256), made on first use.
CREATE TABLE file_grant_keys (
    application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created INTEGER NOT NULL
);
