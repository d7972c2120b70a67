-- A province-wide draw's snapshots (every candidate enterprise and eligible inspector, so that
-- anyone can re-verify it) are tens of megabytes of text. The service now stores them
-- zstd-compressed (about 13:1) instead of sending the text for PostgreSQL to compress: the
-- text columns stay for the draws recorded before, exactly one form of each is present.
ALTER TABLE draws
  ALTER COLUMN candidate_snapshot DROP NOT NULL,
  ALTER COLUMN inspector_snapshot DROP NOT NULL,
  ADD COLUMN candidate_snapshot_zstd bytea,
  ADD COLUMN inspector_snapshot_zstd bytea,
  ADD CONSTRAINT draws_one_candidate_snapshot
    CHECK ((candidate_snapshot IS NULL) <> (candidate_snapshot_zstd IS NULL)),
  ADD CONSTRAINT draws_one_inspector_snapshot
    CHECK ((inspector_snapshot IS NULL) <> (inspector_snapshot_zstd IS NULL));
-- Already compressed: stored out of line without a second compression attempt.
ALTER TABLE draws
  ALTER COLUMN candidate_snapshot_zstd SET STORAGE EXTERNAL,
  ALTER COLUMN inspector_snapshot_zstd SET STORAGE EXTERNAL;
-- The draw_published event carries every drawn enterprise and team (megabytes): lz4.
ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
