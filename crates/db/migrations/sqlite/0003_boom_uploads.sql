-- Files with Boom-leerlingnummers between upload and apply (mapping and preview happen in
-- between, possibly on another app server). Kept in step with ../postgres/0003_boom_uploads.sql.
CREATE TABLE boom_uploads (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name   TEXT NOT NULL,
    -- The file's table as JSON: {"headers": [...], "rows": [[...], ...]}.
    content     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX boom_uploads_school_idx ON boom_uploads (school_id, created_at);
