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
    n BIGINT NOT NULL,
    -- Bot last: an organisation's count is the sum over its bots' rows of one key.
    PRIMARY KEY (table_name, organisation_id, field, value, is_null, bot_id)
);

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

-- Adds `delta` to one key's count (`v` NULL for a NULL value); a count that falls to 0 is
-- removed. A decrement always finds its key: the row it takes off was counted there.
CREATE FUNCTION content_count_add(t TEXT, org TEXT, bot TEXT, f TEXT, v TEXT, delta BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    left_over BIGINT;
BEGIN
    IF delta > 0 THEN
        INSERT INTO content_counts AS c
            (table_name, organisation_id, bot_id, field, value, is_null, n)
        VALUES (t, org, bot, f, COALESCE(v, ''), v IS NULL, delta)
        ON CONFLICT (table_name, organisation_id, field, value, is_null, bot_id)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        UPDATE content_counts SET n = n + delta
        WHERE table_name = t AND organisation_id = org AND field = f
          AND value = COALESCE(v, '') AND is_null = (v IS NULL) AND bot_id = bot
        RETURNING n INTO left_over;
        IF left_over = 0 THEN
            DELETE FROM content_counts
            WHERE table_name = t AND organisation_id = org AND field = f
              AND value = COALESCE(v, '') AND is_null = (v IS NULL) AND bot_id = bot AND n = 0;
        END IF;
    END IF;
END
$$;

-- A row counts +1 on its keys when inserted, -1 when deleted; an update that moves it (another
-- bot or organisation) or changes a counted field takes it off its old keys and puts it on its
-- new ones. `UPDATE OF` fires when a column is set even to its own value, hence the WHEN.
--
-- Lock order: every change takes its bot's total row first (the old bot's, then the new one's
-- on a move), so that concurrent writes to one bot's content queue there instead of
-- deadlocking on its value rows.

CREATE FUNCTION flakes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_count_add('flakes', OLD.organisation_id, OLD.bot_id, '', '', -1);
        PERFORM content_count_add('flakes', OLD.organisation_id, OLD.bot_id, 'status', OLD.status, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM content_count_add('flakes', NEW.organisation_id, NEW.bot_id, '', '', 1);
        PERFORM content_count_add('flakes', NEW.organisation_id, NEW.bot_id, 'status', NEW.status, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER flakes_counted AFTER INSERT OR DELETE ON flakes
    FOR EACH ROW EXECUTE FUNCTION flakes_count();
CREATE TRIGGER flakes_recounted AFTER UPDATE OF organisation_id, bot_id, status ON flakes
    FOR EACH ROW
    WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
          OR OLD.bot_id IS DISTINCT FROM NEW.bot_id OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION flakes_count();

-- Tags, categories and channels: their totals only.
CREATE FUNCTION content_total_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM content_count_add(TG_TABLE_NAME, OLD.organisation_id, OLD.bot_id, '', '', -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM content_count_add(TG_TABLE_NAME, NEW.organisation_id, NEW.bot_id, '', '', 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tags_counted AFTER INSERT OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION content_total_count();
CREATE TRIGGER tags_recounted AFTER UPDATE OF organisation_id, bot_id ON tags
    FOR EACH ROW
    WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
          OR OLD.bot_id IS DISTINCT FROM NEW.bot_id)
    EXECUTE FUNCTION content_total_count();

CREATE TRIGGER categories_counted AFTER INSERT OR DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION content_total_count();
CREATE TRIGGER categories_recounted AFTER UPDATE OF organisation_id, bot_id ON categories
    FOR EACH ROW
    WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
          OR OLD.bot_id IS DISTINCT FROM NEW.bot_id)
    EXECUTE FUNCTION content_total_count();

CREATE TRIGGER channels_counted AFTER INSERT OR DELETE ON channels
    FOR EACH ROW EXECUTE FUNCTION content_total_count();
CREATE TRIGGER channels_recounted AFTER UPDATE OF organisation_id, bot_id ON channels
    FOR EACH ROW
    WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
          OR OLD.bot_id IS DISTINCT FROM NEW.bot_id)
    EXECUTE FUNCTION content_total_count();
