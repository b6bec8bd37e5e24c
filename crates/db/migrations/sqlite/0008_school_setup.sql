-- School Setup (norms.md): the fase bands a school uses (months since the start in newcomer
-- education at which fase 2, 3, … begin; no row: the default 6, 12, 18, 24) and its test periods.
-- Kept in step with ../postgres/0008_school_setup.sql.

CREATE TABLE school_setup (
    school_id   TEXT PRIMARY KEY REFERENCES schools (id) ON DELETE CASCADE,
    fasegrenzen TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE toetsperiodes (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    naam        TEXT NOT NULL,
    van         TEXT NOT NULL,
    tot_en_met  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK (van <= tot_en_met)
);
CREATE INDEX toetsperiodes_school_idx ON toetsperiodes (school_id, van);
