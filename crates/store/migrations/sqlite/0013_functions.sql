-- Chat functions: each application's Node.js runtime (its npm dependencies, environment
-- variables, initialization script, semantic version and the state of its installation), its
-- functions (one per trigger), their numbered versions, and the record of each invocation.

CREATE TABLE runtimes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One runtime per application, made with defaults on first use.
    application_id INTEGER NOT NULL UNIQUE REFERENCES applications (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    -- `v0.0.1`, bumped by every change.
    version TEXT NOT NULL,
    -- JSON array of {name, version, default_dependency}.
    dependencies TEXT NOT NULL,
    -- JSON object of names to values.
    environment_variables TEXT NOT NULL,
    initialization_script TEXT,
    -- The install of the current version: PENDING, INSTALLING, INSTALLED or FAILED, what it
    -- printed and when it ended; and the newest version installed so far.
    install_state TEXT NOT NULL,
    install_output TEXT,
    install_finished INTEGER,
    installed_version TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE functions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- The trigger (`user.sent.message`, …): one function per trigger and application.
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    initialize_asynchronously BOOLEAN NOT NULL,
    -- The number of the newest version; 0 before the first. Versions take their number from
    -- it, so it is incremented in the transaction that inserts the version.
    current_version_number INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    UNIQUE (application_id, type)
);
CREATE INDEX functions_app ON functions (application_id, id);

CREATE TABLE function_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    function_id INTEGER NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
    version_number INTEGER NOT NULL,
    handler_script TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (function_id, version_number)
);

CREATE TABLE function_invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    function_id INTEGER NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
    version_number INTEGER NOT NULL,
    -- JSON objects: what the function was called with, and {payload} once it returned.
    args TEXT NOT NULL,
    result TEXT NOT NULL,
    -- RUNNING, SUCCEEDED or FAILED.
    status TEXT NOT NULL,
    error TEXT,
    -- What the handler printed.
    output TEXT,
    created INTEGER NOT NULL,
    ended INTEGER
);
-- A function's invocations, newest first.
CREATE INDEX function_invocations_function ON function_invocations (function_id, id);
