-- DL (norms.md): the pupil's start of groep 3 from the LAS export (EDEXML), and the school's DL
-- month table and doublure policy in School Setup. Kept in step with ../sqlite/0009_dl.sql.

ALTER TABLE pupils ADD COLUMN start_groep3 TEXT;
ALTER TABLE school_setup ADD COLUMN maandtabel TEXT;
ALTER TABLE school_setup ADD COLUMN doublure TEXT;
