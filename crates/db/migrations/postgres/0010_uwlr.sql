-- UWLR intake (uwlr-intake.md): deliveries (leveringen), the results received in them with
-- their identity and history, and refused calls. Kept in step with ../sqlite/0010_uwlr.sql.

-- One accepted BrengLeerresultaten call. The raw body is kept until body_bewaard_tot (then set
-- to NULL); everything derived from it stays. A byte-identical repeat of an earlier delivery is
-- recorded with herhaling_van and changes nothing else.
CREATE TABLE leveringen (
    id                TEXT PRIMARY KEY,
    school_id         TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    koppeling_id      TEXT NOT NULL REFERENCES koppelingen (id) ON DELETE CASCADE,
    ontvangen_op      TEXT NOT NULL,
    schooljaar        TEXT NOT NULL,
    aanmaakdatum      TEXT,
    auteur            TEXT,
    xsdversie         TEXT,
    sha256            TEXT NOT NULL,
    grootte           INTEGER NOT NULL,
    body              TEXT,
    body_bewaard_tot  TEXT NOT NULL,
    herhaling_van     TEXT REFERENCES leveringen (id) ON DELETE SET NULL,
    aantal            INTEGER NOT NULL,
    nieuw             INTEGER NOT NULL,
    gewijzigd         INTEGER NOT NULL,
    ongewijzigd       INTEGER NOT NULL
);
CREATE INDEX leveringen_school_idx ON leveringen (school_id, ontvangen_op);
CREATE INDEX leveringen_sha_idx ON leveringen (koppeling_id, sha256);

-- A received result, one row per identity (koppeling, leerlingid, toetscode, versie,
-- onderdeel, afnamedatum; '' where the message has no versie or onderdeel). `gegevens` is the
-- current version as JSON (key, eckid, score, toetsscore, referentiescores, anderresultaat,
-- infourl, the toets definition); earlier versions are in ontvangen_resultaat_versies.
-- te_verwerken = 1 while processing is due; a worker claims rows with geclaimd_tot.
-- status: nieuw (not processed yet), verwerkt, fout (with fout = the error kind), genegeerd
-- (dismissed by a Beheerder, with a reason). When the pupil is known, resultaat_id is the row in
-- resultaten (herkomst boom) that shows it.
CREATE TABLE ontvangen_resultaten (
    id                TEXT PRIMARY KEY,
    school_id         TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    koppeling_id      TEXT NOT NULL REFERENCES koppelingen (id) ON DELETE CASCADE,
    leerlingid        TEXT NOT NULL,
    toetscode         TEXT NOT NULL,
    versie            TEXT NOT NULL,
    onderdeel         TEXT NOT NULL,
    afnamedatum       TEXT NOT NULL,
    levering_id       TEXT NOT NULL REFERENCES leveringen (id) ON DELETE CASCADE,
    versie_nr         INTEGER NOT NULL,
    inhoud_sha256     TEXT NOT NULL,
    gegevens          TEXT NOT NULL,
    te_verwerken      INTEGER NOT NULL CHECK (te_verwerken IN (0, 1)),
    geclaimd_tot      TEXT,
    status            TEXT NOT NULL CHECK (status IN ('nieuw', 'verwerkt', 'fout', 'genegeerd')),
    fout              TEXT,
    genegeerd_reden   TEXT,
    pupil_id          TEXT REFERENCES pupils (id) ON DELETE SET NULL,
    resultaat_id      TEXT REFERENCES resultaten (id) ON DELETE SET NULL,
    verwerkt_op       TEXT,
    created_at        TEXT NOT NULL,
    CONSTRAINT ontvangen_resultaten_identiteit_key
        UNIQUE (koppeling_id, leerlingid, toetscode, versie, onderdeel, afnamedatum),
    CHECK ((status = 'fout') = (fout IS NOT NULL))
);
CREATE INDEX ontvangen_resultaten_werk_idx ON ontvangen_resultaten (te_verwerken, geclaimd_tot);
CREATE INDEX ontvangen_resultaten_status_idx ON ontvangen_resultaten (school_id, status, fout);
CREATE INDEX ontvangen_resultaten_levering_idx ON ontvangen_resultaten (levering_id);

-- Earlier versions of a received result, replaced by a later delivery.
CREATE TABLE ontvangen_resultaat_versies (
    ontvangen_resultaat_id  TEXT NOT NULL REFERENCES ontvangen_resultaten (id) ON DELETE CASCADE,
    versie_nr               INTEGER NOT NULL,
    levering_id             TEXT NOT NULL REFERENCES leveringen (id) ON DELETE CASCADE,
    gegevens                TEXT NOT NULL,
    vervangen_op            TEXT NOT NULL,
    PRIMARY KEY (ontvangen_resultaat_id, versie_nr)
);

-- Refused calls: when, the koppeling if known, the fault code, size and SHA-256. Never the body.
CREATE TABLE uwlr_weigeringen (
    id            TEXT PRIMARY KEY,
    ontvangen_op  TEXT NOT NULL,
    koppeling_id  TEXT REFERENCES koppelingen (id) ON DELETE SET NULL,
    foutcode      TEXT NOT NULL,
    grootte       INTEGER NOT NULL,
    sha256        TEXT NOT NULL
);
CREATE INDEX uwlr_weigeringen_tijd_idx ON uwlr_weigeringen (ontvangen_op);
