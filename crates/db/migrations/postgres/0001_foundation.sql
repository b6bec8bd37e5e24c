-- Foundation: schools, users, memberships, sessions, one-time links, login throttling, audit log.
-- Kept in step with ../sqlite/0001_foundation.sql (a test compares the resulting tables and columns).
-- Ids are UUIDv7 text made by the application; timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
-- written by the application, so they sort as text and read the same on both backends.
-- Booleans are BOOLEAN here and INTEGER 0/1 in SQLite (sqlx's Any driver cannot read SQLite's BOOLEAN).

CREATE TABLE schools (
    id          TEXT PRIMARY KEY,
    naam        TEXT NOT NULL,
    brin        TEXT NOT NULL,
    dependance  TEXT NOT NULL,
    schoolkey   TEXT,
    created_at  TEXT NOT NULL,
    CONSTRAINT schools_brin_dependance_key UNIQUE (brin, dependance)
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_lower         TEXT NOT NULL,
    naam                TEXT NOT NULL,
    password_hash       TEXT,
    is_operator         BOOLEAN NOT NULL,
    disabled            BOOLEAN NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT,
    CONSTRAINT users_email_lower_key UNIQUE (email_lower)
);

CREATE TABLE memberships (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('beheerder', 'leerkracht', 'ib')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, school_id, role)
);
CREATE INDEX memberships_school_idx ON memberships (school_id);

CREATE TABLE sessions (
    token_hash          TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token          TEXT NOT NULL,
    current_school_id   TEXT REFERENCES schools (id) ON DELETE SET NULL,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    expires_at          TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE user_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('setup', 'invite', 'reset')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id);

CREATE TABLE login_failures (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('account', 'ip')),
    key_hash    TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (scope, key_hash, at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    school_id   TEXT,
    source      TEXT NOT NULL
);
CREATE INDEX audit_log_school_idx ON audit_log (school_id, at);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
