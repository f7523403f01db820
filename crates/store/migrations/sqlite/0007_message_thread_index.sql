-- Counting replies per thread (`replies_count` of a page of messages) filters on the application
-- and the thread. Without this index SQLite answers it from the application-wide sequence index,
-- visiting every message of the application for each page.
CREATE INDEX chat_messages_app_thread ON chat_messages (application_id, thread_id, seq);
