-- Published records (双公示, 一公开, policy documents), their index-number sequence and the
-- refusals of events whose content may never be published.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE index_sequences (
  year     integer PRIMARY KEY,
  last_seq integer NOT NULL
);

CREATE TABLE records (
  index_no             text PRIMARY KEY,
  year                 integer NOT NULL,
  seq                  integer NOT NULL,
  category             integer NOT NULL,
  status               integer NOT NULL,
  source_service       text NOT NULL,
  source_id            text NOT NULL,
  uscc                 text NOT NULL DEFAULT '',
  certificate_no       text NOT NULL DEFAULT '',
  decision_date        date,
  publication_due_date date,
  publish_date         date,
  publication_end_date date,
  withdrawal_due_date  date,
  removed_date         date,
  -- Masked text only: the original never reaches the index.
  search_text          text NOT NULL DEFAULT '',
  -- The desensitised record as served (proto3 JSON) and the original as received.
  masked               jsonb NOT NULL,
  original             jsonb NOT NULL,
  version              integer NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (year, seq),
  CONSTRAINT records_one_per_source UNIQUE (source_service, source_id, category)
);

CREATE INDEX records_search_trgm ON records USING gin (search_text public.gin_trgm_ops);
CREATE INDEX records_by_status_order ON records (status, category, year DESC, seq DESC);
CREATE INDEX records_by_uscc ON records (uscc, year DESC, seq DESC) WHERE uscc <> '';
CREATE INDEX records_expiring ON records (publication_end_date) WHERE status = 2;
CREATE INDEX records_pending ON records (publication_due_date) WHERE status = 1;
CREATE INDEX records_by_certificate ON records (certificate_no) WHERE certificate_no <> '';
CREATE INDEX records_by_decision_date ON records (category, decision_date);

-- Events whose content is never published (warning alone, simple procedure, minor party,
-- invalid content); kept so the refusal is on record and counted in the annual report.
CREATE TABLE publication_refusals (
  event_id       text PRIMARY KEY,
  source_service text NOT NULL,
  source_id      text NOT NULL,
  category       integer NOT NULL,
  decision_date  date,
  rule           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX publication_refusals_by_date ON publication_refusals (category, decision_date);
