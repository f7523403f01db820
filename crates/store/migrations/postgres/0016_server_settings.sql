-- Values every instance on this database must agree on, by name: the secrets key's check value
-- (an HMAC of a fixed label under the key), so that an instance given another key stops at
-- start instead of failing to open secrets later.

CREATE TABLE server_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
