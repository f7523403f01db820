-- Reactions and reports of messages. A reaction is one user's emoji on one message, at most once
-- per emoji; a report is one user's complaint about one message, at most one per user (a new
-- reason replaces the old), now with the client's custom properties.
--
-- Both carry their message's application: a page of messages reads its reactions and report
-- counts with `application_id = ? AND message_id IN (...)`, which the (application_id,
-- message_id) indexes answer. Joined to the messages or users for the application instead,
-- SQLite (which plans without statistics) starts from the application's side and visits every
-- message or user of the application for each page.

CREATE TABLE chat_message_reactions (
    -- Given in insertion order: reactions are shown in the order they were made, exactly
    -- (several may share a millisecond).
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    -- The emoji's Unicode character sequence (shortcodes are resolved before they are stored).
    emoji TEXT NOT NULL,
    created INTEGER NOT NULL
);
-- One reaction per user, message and emoji.
CREATE UNIQUE INDEX chat_message_reactions_once ON chat_message_reactions (message_id, user_id, emoji);
CREATE INDEX chat_message_reactions_app_message ON chat_message_reactions (application_id, message_id);
-- Deleting a user cascades here and to the reports: without these it would scan both tables.
CREATE INDEX chat_message_reactions_user ON chat_message_reactions (user_id);
CREATE INDEX chat_message_reports_user ON chat_message_reports (user_id);

-- Nothing made reports before this version; any row there gets its message's application.
ALTER TABLE chat_message_reports ADD COLUMN application_id INTEGER NOT NULL DEFAULT 0;
UPDATE chat_message_reports SET application_id = (
    SELECT m.application_id FROM chat_messages m WHERE m.id = chat_message_reports.message_id
);
ALTER TABLE chat_message_reports ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
-- Also counts a page's reports without reading the rows.
CREATE INDEX chat_message_reports_app_message ON chat_message_reports (application_id, message_id, user_id);
