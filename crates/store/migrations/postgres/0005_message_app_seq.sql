-- Application-wide history (all messages, a sender's, a member's unread) pages on a sequence
-- per application given out under a lock on the application's row in the inserting
-- transaction, as the per-channel sequence is: numbers follow commit order, so a keyset cursor
-- never passes a message that commits later. Identity ids do not: on PostgreSQL a transaction
-- can take an id, let a later id commit first, and commit behind a reader's cursor.
ALTER TABLE applications ADD COLUMN last_message_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN app_seq BIGINT NOT NULL DEFAULT 0;

-- Existing messages keep their ids as numbers, so cursors already handed out stay valid.
UPDATE chat_messages SET app_seq = id;
UPDATE applications SET last_message_seq = COALESCE(
    (SELECT MAX(m.id) FROM chat_messages m WHERE m.application_id = applications.id), 0);

DROP INDEX chat_messages_app_id;
DROP INDEX chat_messages_user;
CREATE UNIQUE INDEX chat_messages_app_seq ON chat_messages (application_id, app_seq);
CREATE INDEX chat_messages_user_app_seq ON chat_messages (user_id, app_seq);
