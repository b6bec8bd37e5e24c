-- EDEXML imports: the roster between upload and confirm, then the report kept as history.
-- Kept in step with ../postgres/0004_imports.sql.
CREATE TABLE edexml_imports (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    -- SHA-256 of the file as uploaded, hex.
    file_hash   TEXT NOT NULL,
    -- The allow-listed roster as JSON (never the file itself), only until applied or discarded.
    roster      TEXT,
    -- 'voorvertoning' (uploaded), 'bezig' (being applied), 'toegepast', 'mislukt', 'vervallen'.
    status      TEXT NOT NULL CHECK (status IN ('voorvertoning', 'bezig', 'toegepast', 'mislukt', 'vervallen')),
    -- Counts and warnings as JSON, written with the changes in one transaction.
    report      TEXT,
    message     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX edexml_imports_school_idx ON edexml_imports (school_id, created_at);

-- Which team member a teacher's LAS key stands for, per school (teachers are users).
CREATE TABLE team_las_keys (
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    las_key     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (school_id, las_key)
);

CREATE INDEX pupils_las_key_idx ON pupils (school_id, las_key);
CREATE INDEX pupils_eck_id_idx ON pupils (school_id, eck_id);
