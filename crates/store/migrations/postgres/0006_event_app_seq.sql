-- Events are numbered per application by a counter row locked in the appending transaction
-- (the last statement of every write), so numbers follow commit order: a consumer that has read
-- up to a number never misses an event committed later with a smaller one, as it could with
-- identity values on PostgreSQL. The global `seq` stays as the row's key.
CREATE TABLE event_counters (
    application_id BIGINT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL
);
ALTER TABLE events ADD COLUMN app_seq BIGINT NOT NULL DEFAULT 0;

-- Existing events keep their numbers, so consumers' offsets stay valid.
UPDATE events SET app_seq = seq;
INSERT INTO event_counters (application_id, last_seq)
    SELECT application_id, MAX(seq) FROM events GROUP BY application_id;

DROP INDEX events_app_seq;
CREATE UNIQUE INDEX events_app_seq ON events (application_id, app_seq);
