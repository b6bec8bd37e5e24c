-- Pupils, groups, toetsdoelen and the history Startblok owns (issue: pupils, groups and team).
-- Kept in step with ../sqlite/0002_pupils.sql. Dates are text 'YYYY-MM-DD'.

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    naam        TEXT NOT NULL,
    naam_lower  TEXT NOT NULL,
    jaargroep   TEXT,
    las_key     TEXT,
    actief      BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL,
    CONSTRAINT groups_school_naam_key UNIQUE (school_id, naam_lower)
);

CREATE TABLE group_teachers (
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_teachers_user_idx ON group_teachers (school_id, user_id);

CREATE TABLE toetsdoelen (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    naam        TEXT NOT NULL,
    actief      BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL,
    CONSTRAINT toetsdoelen_school_code_key UNIQUE (school_id, code)
);

CREATE TABLE pupils (
    id                      TEXT PRIMARY KEY,
    school_id               TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    -- From the LAS (read-only when imported):
    las_key                 TEXT,
    eck_id                  TEXT,
    achternaam              TEXT NOT NULL,
    voorvoegsel             TEXT,
    voornamen               TEXT,
    roepnaam                TEXT,
    naam_lower              TEXT NOT NULL,
    geboortedatum           TEXT,
    geslacht                TEXT,
    group_id                TEXT REFERENCES groups (id) ON DELETE SET NULL,
    jaargroep               TEXT,
    instroomdatum           TEXT,
    uitstroomdatum          TEXT,
    imported                BOOLEAN NOT NULL,
    -- Owned by Startblok (never overwritten by an import):
    aankomst_nl             TEXT,
    aankomst_bron           TEXT,
    start_nieuwkomers       TEXT,
    thuistalen              TEXT,
    land_herkomst           TEXT,
    jaren_onderwijs         BIGINT,
    gealfabetiseerd_latijns BOOLEAN,
    leerroute               TEXT,
    uitstroomprofiel        TEXT,
    verwachte_uitstroom     TEXT,
    boom_leerlingnummer     TEXT,
    toetsdoel_id            TEXT REFERENCES toetsdoelen (id),
    uitgeschreven_op        TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX pupils_school_idx ON pupils (school_id, naam_lower);
CREATE INDEX pupils_group_idx ON pupils (group_id);
-- A Boom-leerlingnummer is unique among the school's active pupils.
CREATE UNIQUE INDEX pupils_boom_active_key ON pupils (school_id, boom_leerlingnummer)
    WHERE boom_leerlingnummer IS NOT NULL AND uitgeschreven_op IS NULL;

CREATE TABLE pupil_boom_history (
    id          TEXT PRIMARY KEY,
    pupil_id    TEXT NOT NULL REFERENCES pupils (id) ON DELETE CASCADE,
    school_id   TEXT NOT NULL,
    value       TEXT,
    changed_at  TEXT NOT NULL,
    changed_by  TEXT NOT NULL
);
CREATE INDEX pupil_boom_history_idx ON pupil_boom_history (pupil_id, changed_at);

CREATE TABLE pupil_toetsdoel_history (
    id            TEXT PRIMARY KEY,
    pupil_id      TEXT NOT NULL REFERENCES pupils (id) ON DELETE CASCADE,
    school_id     TEXT NOT NULL,
    toetsdoel_id  TEXT REFERENCES toetsdoelen (id),
    valid_from    TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    changed_by    TEXT NOT NULL
);
CREATE INDEX pupil_toetsdoel_history_idx ON pupil_toetsdoel_history (pupil_id, valid_from);

CREATE TABLE pupil_fase_entries (
    id          TEXT PRIMARY KEY,
    pupil_id    TEXT NOT NULL REFERENCES pupils (id) ON DELETE CASCADE,
    school_id   TEXT NOT NULL,
    fase        BIGINT NOT NULL,
    vanaf       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX pupil_fase_entries_idx ON pupil_fase_entries (pupil_id, vanaf);
