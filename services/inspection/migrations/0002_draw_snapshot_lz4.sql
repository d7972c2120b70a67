-- A province-wide draw records snapshots of tens of megabytes (every candidate enterprise and
-- inspector, so that anyone can re-verify it). lz4 compresses them several times faster than
-- PostgreSQL's default pglz, which dominated the time of such a draw.
ALTER TABLE draws
  ALTER COLUMN candidate_snapshot SET COMPRESSION lz4,
  ALTER COLUMN inspector_snapshot SET COMPRESSION lz4,
  ALTER COLUMN draw SET COMPRESSION lz4;
