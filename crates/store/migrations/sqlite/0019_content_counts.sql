-- How many rows of bot content each bot holds, in all and by the value of each counted field
-- (`flakes.status`), kept in step with every insert, delete and update of those rows, so that a
-- count (`/bots/{id}/flakes/count?where={"status":"publish"}`) reads one row per bot instead of
-- visiting every matching row. Triggers, not the code that writes: deleting a bot or an
-- organisation deletes its content by cascade, without naming the rows. The counted fields are
-- declared again in `content_counts.rs`, which answers counts from here: the two change together.
--
-- A key whose count falls to 0 is removed, so that deleted bots and organisations leave nothing.

CREATE TABLE content_counts (
    table_name TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    -- The rows' bot ('' for a table whose rows have none; every table counted so far has one).
    bot_id TEXT NOT NULL,
    -- '' for the total, else the counted field.
    field TEXT NOT NULL,
    -- The field's value: '' for the total and for NULL, told apart from '' by `is_null`.
    value TEXT NOT NULL,
    is_null BOOLEAN NOT NULL,
    n INTEGER NOT NULL,
    -- Bot last: an organisation's count is the sum over its bots' rows of one key.
    PRIMARY KEY (table_name, organisation_id, field, value, is_null, bot_id)
) WITHOUT ROWID;

INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
SELECT 'flakes', organisation_id, bot_id, '', '', FALSE, COUNT(*)
FROM flakes GROUP BY organisation_id, bot_id;
INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
SELECT 'flakes', organisation_id, bot_id, 'status', COALESCE(status, ''), status IS NULL, COUNT(*)
FROM flakes GROUP BY organisation_id, bot_id, status;
INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
SELECT 'tags', organisation_id, bot_id, '', '', FALSE, COUNT(*)
FROM tags GROUP BY organisation_id, bot_id;
INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
SELECT 'categories', organisation_id, bot_id, '', '', FALSE, COUNT(*)
FROM categories GROUP BY organisation_id, bot_id;
INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
SELECT 'channels', organisation_id, bot_id, '', '', FALSE, COUNT(*)
FROM channels GROUP BY organisation_id, bot_id;

-- SQLite triggers have no functions to share: each one spells out its keys. A row counts +1 on
-- its keys when inserted, -1 when deleted; an update that moves it (another bot or
-- organisation) or changes a counted field takes it off its old keys and puts it on its new
-- ones. `AFTER UPDATE OF` fires when a column is set even to its own value, hence the WHEN.

CREATE TRIGGER flakes_counted AFTER INSERT ON flakes
BEGIN
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('flakes', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1),
           ('flakes', NEW.organisation_id, NEW.bot_id, 'status', COALESCE(NEW.status, ''),
            NEW.status IS NULL, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER flakes_uncounted AFTER DELETE ON flakes
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = 'status'
      AND value = COALESCE(OLD.status, '') AND is_null = (OLD.status IS NULL)
      AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
    DELETE FROM content_counts
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = 'status'
      AND value = COALESCE(OLD.status, '') AND is_null = (OLD.status IS NULL)
      AND bot_id = OLD.bot_id AND n = 0;
END;

CREATE TRIGGER flakes_recounted AFTER UPDATE OF organisation_id, bot_id, status ON flakes
WHEN OLD.organisation_id IS NOT NEW.organisation_id OR OLD.bot_id IS NOT NEW.bot_id
  OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = 'status'
      AND value = COALESCE(OLD.status, '') AND is_null = (OLD.status IS NULL)
      AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
    DELETE FROM content_counts
    WHERE table_name = 'flakes' AND organisation_id = OLD.organisation_id AND field = 'status'
      AND value = COALESCE(OLD.status, '') AND is_null = (OLD.status IS NULL)
      AND bot_id = OLD.bot_id AND n = 0;
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('flakes', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1),
           ('flakes', NEW.organisation_id, NEW.bot_id, 'status', COALESCE(NEW.status, ''),
            NEW.status IS NULL, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

-- Tags, categories and channels: their totals only.

CREATE TRIGGER tags_counted AFTER INSERT ON tags
BEGIN
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('tags', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER tags_uncounted AFTER DELETE ON tags
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'tags' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'tags' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
END;

CREATE TRIGGER tags_recounted AFTER UPDATE OF organisation_id, bot_id ON tags
WHEN OLD.organisation_id IS NOT NEW.organisation_id OR OLD.bot_id IS NOT NEW.bot_id
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'tags' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'tags' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('tags', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER categories_counted AFTER INSERT ON categories
BEGIN
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('categories', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER categories_uncounted AFTER DELETE ON categories
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'categories' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'categories' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
END;

CREATE TRIGGER categories_recounted AFTER UPDATE OF organisation_id, bot_id ON categories
WHEN OLD.organisation_id IS NOT NEW.organisation_id OR OLD.bot_id IS NOT NEW.bot_id
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'categories' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'categories' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('categories', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER channels_counted AFTER INSERT ON channels
BEGIN
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('channels', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER channels_uncounted AFTER DELETE ON channels
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'channels' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'channels' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
END;

CREATE TRIGGER channels_recounted AFTER UPDATE OF organisation_id, bot_id ON channels
WHEN OLD.organisation_id IS NOT NEW.organisation_id OR OLD.bot_id IS NOT NEW.bot_id
BEGIN
    UPDATE content_counts SET n = n - 1
    WHERE table_name = 'channels' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id;
    DELETE FROM content_counts
    WHERE table_name = 'channels' AND organisation_id = OLD.organisation_id AND field = ''
      AND value = '' AND is_null = FALSE AND bot_id = OLD.bot_id AND n = 0;
    INSERT INTO content_counts (table_name, organisation_id, bot_id, field, value, is_null, n)
    VALUES ('channels', NEW.organisation_id, NEW.bot_id, '', '', FALSE, 1)
    ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
    DO UPDATE SET n = n + excluded.n;
END;
