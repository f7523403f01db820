-- Inserted messages are counted by the code that inserts them (`Messages::insert_all` and its
-- kin: every insert passes through one function), once per application, thread and channel of a
-- batch, instead of by a trigger that ran three single-row updates per message. Deletes keep
-- their trigger (0017): cascades delete messages without naming them.
DROP TRIGGER chat_messages_counted ON chat_messages;
CREATE TRIGGER chat_messages_uncounted AFTER DELETE ON chat_messages
    FOR EACH ROW EXECUTE FUNCTION chat_messages_count();
