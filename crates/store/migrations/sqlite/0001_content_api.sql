-- The content API: organisations, accounts and their tokens, bots and the bot content.
-- Times are epoch milliseconds; lists and documents are JSON text.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    company_name TEXT,
    plan TEXT,
    email TEXT,
    username TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    bot_id TEXT,
    bot_name TEXT,
    role TEXT NOT NULL,
    platform TEXT,
    phone_no TEXT,
    username TEXT,
    email TEXT NOT NULL,
    "emailVerified" BOOLEAN NOT NULL DEFAULT 0,
    password TEXT NOT NULL,
    "displayName" TEXT,
    "profilePic" TEXT,
    bot TEXT,
    url TEXT,
    type TEXT,
    quiz_sets TEXT,
    read_stories TEXT,
    context_session TEXT,
    level INTEGER,
    user_id TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE UNIQUE INDEX accounts_org_email ON accounts (organisation_id, email);
CREATE INDEX accounts_email ON accounts (email);
CREATE INDEX accounts_org_bot ON accounts (organisation_id, bot_id);

CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    ttl INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX access_tokens_account ON access_tokens (account_id);

CREATE TABLE bots (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT,
    platform TEXT,
    domain TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE INDEX bots_org ON bots (organisation_id, id);

CREATE TABLE flakes (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    title TEXT,
    description TEXT,
    image_url TEXT,
    bullet_points TEXT,
    status TEXT,
    publish_at INTEGER,
    category TEXT,
    tags TEXT,
    author_name TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
-- Serves list-by-status ordered by time, and count-by-status, without touching the table.
CREATE INDEX flakes_bot_status_created ON flakes (organisation_id, bot_id, status, created, id);
CREATE INDEX flakes_bot_created ON flakes (organisation_id, bot_id, created, id);
CREATE INDEX flakes_bot_id ON flakes (organisation_id, bot_id, id);

CREATE TABLE tags (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name TEXT,
    slug TEXT,
    type TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE UNIQUE INDEX tags_bot_slug ON tags (bot_id, slug);
CREATE INDEX tags_bot ON tags (organisation_id, bot_id, id);

CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name TEXT,
    slug TEXT,
    type TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE UNIQUE INDEX categories_bot_slug ON categories (bot_id, slug);
CREATE INDEX categories_bot ON categories (organisation_id, bot_id, id);

CREATE TABLE channels (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name TEXT,
    "keywordSource" TEXT,
    category TEXT,
    cron_time TEXT,
    status TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE INDEX channels_bot ON channels (organisation_id, bot_id, id);
