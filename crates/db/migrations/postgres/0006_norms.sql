-- Norms, part 1: a school's vakken and its DLE norms per (toetsdoel, vak, fase), as norms.md
-- describes them. Values are school data (the demo loads example norms). DLE values are stored in
-- tenths of a month, so 25,5 is exact. Kept in step with ../sqlite/0006_norms.sql.

CREATE TABLE vakken (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    naam        TEXT NOT NULL,
    naam_lower  TEXT NOT NULL,
    position    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    CONSTRAINT vakken_school_naam_key UNIQUE (school_id, naam_lower)
);

CREATE TABLE dle_normen (
    school_id           TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    toetsdoel_id        TEXT NOT NULL REFERENCES toetsdoelen (id) ON DELETE CASCADE,
    vak_id              TEXT NOT NULL REFERENCES vakken (id) ON DELETE CASCADE,
    fase                INTEGER NOT NULL CHECK (fase BETWEEN 1 AND 9),
    ondergrens_tenths   INTEGER NOT NULL CHECK (ondergrens_tenths BETWEEN 0 AND 600),
    streef_tenths       INTEGER NOT NULL CHECK (streef_tenths BETWEEN 0 AND 600),
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (toetsdoel_id, vak_id, fase),
    CHECK (ondergrens_tenths <= streef_tenths)
);
CREATE INDEX dle_normen_school_idx ON dle_normen (school_id);
