-- What a user sets for itself in the channels it sees (mute, hide, cleared history, messages
-- deleted for it alone), channel block records, users' block lists, names of standalone threads,
-- and whether a notification was made while its channel was muted.

CREATE TABLE chat_channel_user_states (
    channel_id BIGINT NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    muted BOOLEAN NOT NULL DEFAULT FALSE,
    -- Hidden from the user's channel list while the channel's last sequence number is at most
    -- this: the next message brings it back without a write on the send path.
    hidden_seq BIGINT,
    -- Messages numbered at most this are gone from the user's history.
    cleared_seq BIGINT,
    updated BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX chat_channel_user_states_user ON chat_channel_user_states (user_id);

-- Messages a user deleted for itself only.
CREATE TABLE chat_message_deletions (
    user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX chat_message_deletions_message ON chat_message_deletions (message_id);

-- Users a channel's moderators blocked from writing to it: a roster like members.
CREATE TABLE chat_channel_blocks (
    channel_id BIGINT NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX chat_channel_blocks_user ON chat_channel_blocks (user_id);

-- Each user's block list.
CREATE TABLE chat_user_blocks (
    user_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX chat_user_blocks_blocked ON chat_user_blocks (blocked_id);

-- STANDALONE threads are named by their creator.
ALTER TABLE chat_threads ADD COLUMN name TEXT;

ALTER TABLE chat_notifications ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
