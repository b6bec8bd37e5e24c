-- Koppelingen: registered educational applications (their UWLR klantcode and klantnaam), a
-- school's koppeling with one of them, and its autorisatiesleutels (stored only as a SHA-256 hash
-- and their last 4 characters). Kept in step with ../postgres/0005_koppelingen.sql.

CREATE TABLE applicaties (
    id          TEXT PRIMARY KEY,
    -- Short name for the CLI (`--applicatie boom`).
    slug        TEXT NOT NULL,
    naam        TEXT NOT NULL,
    klantnaam   TEXT NOT NULL,
    klantcode   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT applicaties_slug_key UNIQUE (slug),
    CONSTRAINT applicaties_klantcode_key UNIQUE (klantcode)
);

-- Boom testcentrum is there by default. Its klantcode is the operator's to confirm with Boom (the
-- demo sets BOOM-DEMO, the code in the example delivery).
INSERT INTO applicaties (id, slug, naam, klantnaam, klantcode, created_at, updated_at)
VALUES ('0193a000-0000-7000-8000-00000000b001', 'boom', 'Boom testcentrum', 'Boom testcentrum', 'BOOM',
        '2026-12-04T00:00:00.000000Z', '2026-12-04T00:00:00.000000Z');

CREATE TABLE koppelingen (
    id              TEXT PRIMARY KEY,
    school_id       TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    applicatie_id   TEXT NOT NULL REFERENCES applicaties (id),
    created_at      TEXT NOT NULL,
    -- The first accepted message (the koppeling is "verbonden" from then on).
    connected_at    TEXT,
    revoked_at      TEXT,
    CONSTRAINT koppelingen_school_applicatie_key UNIQUE (school_id, applicatie_id)
);

CREATE TABLE koppeling_keys (
    id              TEXT PRIMARY KEY,
    koppeling_id    TEXT NOT NULL REFERENCES koppelingen (id) ON DELETE CASCADE,
    key_hash        TEXT NOT NULL,
    last4           TEXT NOT NULL,
    -- 'uitgegeven' (made by Startblok) or 'demo' (the example key of the manual, demo only).
    origin          TEXT NOT NULL CHECK (origin IN ('uitgegeven', 'demo')),
    issued_at       TEXT NOT NULL,
    -- Set when a newer key replaced this one: valid until the end of the grace period.
    valid_until     TEXT,
    revoked_at      TEXT,
    CONSTRAINT koppeling_keys_hash_key UNIQUE (key_hash)
);
CREATE INDEX koppeling_keys_koppeling_idx ON koppeling_keys (koppeling_id);

-- Single-use links (24 hours) that let a Beheerder of the school fetch a new key once, after
-- logging in. The key is made when the link is used, so no key waits anywhere in the clear.
CREATE TABLE key_links (
    token_hash      TEXT PRIMARY KEY,
    koppeling_id    TEXT NOT NULL REFERENCES koppelingen (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    used_by         TEXT
);
CREATE INDEX key_links_koppeling_idx ON key_links (koppeling_id);

-- Requests for a koppeling from the public order form, for the operator to process.
CREATE TABLE koppeling_aanvragen (
    id              TEXT PRIMARY KEY,
    soort           TEXT NOT NULL CHECK (soort IN ('nieuw', 'bestaand')),
    schoolnaam      TEXT NOT NULL,
    brin            TEXT NOT NULL,
    dependance      TEXT NOT NULL,
    contactnaam     TEXT NOT NULL,
    email           TEXT NOT NULL,
    telefoon        TEXT NOT NULL,
    las             TEXT NOT NULL,
    opmerking       TEXT NOT NULL,
    -- A hash of the sender's address, only to limit how many requests one sender makes.
    source_hash     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'verwerkt', 'afgewezen')),
    created_at      TEXT NOT NULL,
    decided_at      TEXT,
    decided_by      TEXT,
    school_id       TEXT REFERENCES schools (id) ON DELETE SET NULL
);
CREATE INDEX koppeling_aanvragen_status_idx ON koppeling_aanvragen (status, created_at);
CREATE INDEX koppeling_aanvragen_source_idx ON koppeling_aanvragen (source_hash, created_at);
