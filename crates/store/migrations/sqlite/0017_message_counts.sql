-- How many messages each history holds, kept in step with every insert and delete of a message
-- (cascades included: deleting a message, its reply thread, a channel or a user deletes messages
-- without naming them), so a cursor page's `total` is read from one row instead of counted over
-- the whole history on every page. Triggers, not the code that writes: a cascade never passes
-- through that code.
--
-- Lock order (PostgreSQL): a send takes its channel's MAIN thread row (the sequence), then the
-- application's row, then the thread written to; a delete takes the MAIN thread row first too.

-- Messages of this thread.
ALTER TABLE chat_threads ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
-- MAIN threads only: messages of their channel, all threads, and MAIN-thread ones (nested level 0).
ALTER TABLE chat_threads ADD COLUMN channel_message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_threads ADD COLUMN channel_main_count INTEGER NOT NULL DEFAULT 0;
-- Messages of the application.
ALTER TABLE applications ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
-- Messages (all, and MAIN-thread ones) numbered at most `cleared_seq`: what a clear hides.
ALTER TABLE chat_channel_user_states ADD COLUMN cleared_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_channel_user_states ADD COLUMN cleared_main_count INTEGER NOT NULL DEFAULT 0;

UPDATE chat_threads SET message_count =
    (SELECT COUNT(*) FROM chat_messages m WHERE m.thread_id = chat_threads.id);
UPDATE chat_threads SET
    channel_message_count =
        (SELECT COUNT(*) FROM chat_messages m WHERE m.channel_id = chat_threads.main_of),
    channel_main_count =
        (SELECT COUNT(*) FROM chat_messages m
         WHERE m.channel_id = chat_threads.main_of AND m.nested_level = 0)
WHERE main_of IS NOT NULL;
UPDATE applications SET message_count =
    (SELECT COUNT(*) FROM chat_messages m WHERE m.application_id = applications.id);
UPDATE chat_channel_user_states SET
    cleared_count =
        (SELECT COUNT(*) FROM chat_messages m
         WHERE m.channel_id = chat_channel_user_states.channel_id
           AND m.seq <= chat_channel_user_states.cleared_seq),
    cleared_main_count =
        (SELECT COUNT(*) FROM chat_messages m
         WHERE m.channel_id = chat_channel_user_states.channel_id
           AND m.seq <= chat_channel_user_states.cleared_seq AND m.nested_level = 0)
WHERE cleared_seq IS NOT NULL;

CREATE TRIGGER chat_messages_counted AFTER INSERT ON chat_messages
BEGIN
    UPDATE chat_threads SET message_count = message_count + 1 WHERE id = NEW.thread_id;
    UPDATE chat_threads SET
        channel_message_count = channel_message_count + 1,
        channel_main_count = channel_main_count + (CASE WHEN NEW.nested_level = 0 THEN 1 ELSE 0 END)
    WHERE main_of = NEW.channel_id;
    UPDATE applications SET message_count = message_count + 1 WHERE id = NEW.application_id;
END;

-- A new message is never numbered at or below a clear (numbers only grow), so only deletes move
-- `cleared_count`.
CREATE TRIGGER chat_messages_uncounted AFTER DELETE ON chat_messages
BEGIN
    UPDATE chat_threads SET
        channel_message_count = channel_message_count - 1,
        channel_main_count = channel_main_count - (CASE WHEN OLD.nested_level = 0 THEN 1 ELSE 0 END)
    WHERE main_of = OLD.channel_id;
    UPDATE chat_threads SET message_count = message_count - 1 WHERE id = OLD.thread_id;
    UPDATE chat_channel_user_states SET
        cleared_count = cleared_count - 1,
        cleared_main_count = cleared_main_count - (CASE WHEN OLD.nested_level = 0 THEN 1 ELSE 0 END)
    WHERE channel_id = OLD.channel_id AND cleared_seq >= OLD.seq;
    UPDATE applications SET message_count = message_count - 1 WHERE id = OLD.application_id;
END;
