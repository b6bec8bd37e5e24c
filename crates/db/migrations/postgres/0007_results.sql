-- Norms, part 2: the test catalogue, conversion tables and results (norms.md, uwlr-intake.md).
-- Kept in step with ../sqlite/0007_results.sql.

-- The test catalogue: (leverancier, toetscode, versie) with its onderdelen maps to a vak. A test
-- learnt from an incoming message may have no vak yet.
CREATE TABLE toetsen (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    leverancier TEXT NOT NULL,
    toetscode   TEXT NOT NULL,
    versie      TEXT NOT NULL,
    naam        TEXT NOT NULL,
    vak_id      TEXT REFERENCES vakken (id),
    created_at  TEXT NOT NULL,
    CONSTRAINT toetsen_school_code_key UNIQUE (school_id, leverancier, toetscode, versie)
);

CREATE TABLE toetsonderdelen (
    toets_id    TEXT NOT NULL REFERENCES toetsen (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (toets_id, code)
);

-- A conversion table per (toets, onderdeel; '' is the whole test): score ranges to a DLE.
CREATE TABLE conversieregels (
    school_id   TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    toets_id    TEXT NOT NULL REFERENCES toetsen (id) ON DELETE CASCADE,
    onderdeel   TEXT NOT NULL,
    bron        TEXT NOT NULL CHECK (bron IN ('score', 'vaardigheidsscore')),
    van         DOUBLE PRECISION NOT NULL,
    tot_en_met  DOUBLE PRECISION NOT NULL,
    dle_tenths  INTEGER NOT NULL CHECK (dle_tenths BETWEEN 0 AND 600),
    PRIMARY KEY (toets_id, onderdeel, van)
);
CREATE INDEX conversieregels_school_idx ON conversieregels (school_id);

-- A result of a pupil: what was measured (as given), and what processing derived from it with
-- the school's data (DLE and its source, fase, toetsdoel, norm, judgement) or the error kind.
-- A removed result is kept (verwijderd_op), never deleted.
CREATE TABLE resultaten (
    id                      TEXT PRIMARY KEY,
    school_id               TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    pupil_id                TEXT NOT NULL REFERENCES pupils (id) ON DELETE CASCADE,
    herkomst                TEXT NOT NULL CHECK (herkomst IN ('handmatig', 'boom')),
    vak_id                  TEXT REFERENCES vakken (id),
    toets_id                TEXT REFERENCES toetsen (id),
    toetsnaam               TEXT,
    onderdeel               TEXT,
    afnamedatum             TEXT NOT NULL,
    score                   TEXT,
    vaardigheidsscore       TEXT,
    referentie_dle          TEXT,
    referentie_fn           TEXT,
    dle                     TEXT,
    dle_tenths              INTEGER CHECK (dle_tenths BETWEEN 0 AND 600),
    dle_bron                TEXT CHECK (dle_bron IN ('referentiescore', 'conversietabel', 'functioneringsniveau')),
    fase                    INTEGER,
    toetsdoel_id            TEXT REFERENCES toetsdoelen (id) ON DELETE SET NULL,
    norm_ondergrens_tenths  INTEGER,
    norm_streef_tenths      INTEGER,
    oordeel                 TEXT CHECK (oordeel IN ('onder_norm', 'op_norm', 'op_streefniveau')),
    status                  TEXT NOT NULL CHECK (status IN ('verwerkt', 'fout')),
    fout                    TEXT,
    verwerkt_op             TEXT NOT NULL,
    ingevoerd_door          TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at              TEXT NOT NULL,
    verwijderd_op           TEXT,
    verwijderd_door         TEXT REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((status = 'verwerkt') = (fout IS NULL)),
    CHECK (status = 'fout' OR oordeel IS NOT NULL)
);
CREATE INDEX resultaten_pupil_idx ON resultaten (school_id, pupil_id, vak_id, afnamedatum);
CREATE INDEX resultaten_fout_idx ON resultaten (school_id, status);
