-- Inserted messages are counted by the code that inserts them (`Messages::insert_all` and its
-- kin: every insert passes through one function), once per application, thread and channel of a
-- batch, instead of by a trigger that ran three single-row updates per message: a bulk import
-- of a million messages spent a sixth of SQLite's time there. Deletes keep their trigger
-- (0017): cascades delete messages without naming them.
DROP TRIGGER chat_messages_counted;
