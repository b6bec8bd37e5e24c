-- The raw body of a levering in pieces of about 256 KB, so that storing (and purging) a message
-- of up to 32 MiB never puts it whole into one statement: the intake's memory stays bounded by
-- a batch. leveringen.body stays for deliveries stored before this and is NULL for new ones.
-- The pieces are deleted when the body's retention ends. Kept in step with the other backend's
-- 0011_levering_berichtdelen.sql.
CREATE TABLE levering_berichtdelen (
    levering_id  TEXT NOT NULL REFERENCES leveringen (id) ON DELETE CASCADE,
    deel         INTEGER NOT NULL,
    inhoud       TEXT NOT NULL,
    PRIMARY KEY (levering_id, deel)
);
