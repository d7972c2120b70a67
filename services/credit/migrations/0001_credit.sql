-- Credit schema: subjects, credit records, listings with their procedure, repairs, and the dated
-- rule data (publication periods) and the measures catalogue. DOMAIN.md "Credit".

-- One row per subject credit holds anything on. `version` increases with every change to the
-- subject's listings or records; the Redis cache entry carries it, so a filler that read an
-- older state can never overwrite a newer one.
CREATE TABLE subjects (
  uscc        text        PRIMARY KEY,
  name        text        NOT NULL DEFAULT '',
  version     bigint      NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE credit_records (
  record_id             uuid        PRIMARY KEY,
  event_id              text        NOT NULL UNIQUE,
  uscc                  text        NOT NULL REFERENCES subjects (uscc),
  subject_name          text        NOT NULL DEFAULT '',
  kind                  integer     NOT NULL,
  severity              integer     NOT NULL DEFAULT 0,
  accident_level        integer     NOT NULL DEFAULT 0,
  source_service        text        NOT NULL DEFAULT '',
  decision_ref          text        NOT NULL DEFAULT '',
  summary               text        NOT NULL DEFAULT '',
  basis                 text        NOT NULL DEFAULT '',
  occurred_date         date,
  decided_date          date,
  fine_fen              bigint      NOT NULL DEFAULT 0,
  fine_multiple         double precision NOT NULL DEFAULT 0,
  standardisation_grade integer     NOT NULL DEFAULT 0,
  publication_end_date  date,
  published             boolean     NOT NULL DEFAULT true,
  annulled              boolean     NOT NULL DEFAULT false,
  evidence_refs         text[]      NOT NULL DEFAULT '{}',
  create_time           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_records_by_subject ON credit_records (uscc, occurred_date);
CREATE INDEX credit_records_published ON credit_records (publication_end_date) WHERE published;

CREATE TABLE listings (
  listing_id           uuid        PRIMARY KEY,
  uscc                 text        NOT NULL REFERENCES subjects (uscc),
  subject_name         text        NOT NULL DEFAULT '',
  list_type            integer     NOT NULL,
  status               integer     NOT NULL,
  reason_code          text        NOT NULL,
  basis                text        NOT NULL DEFAULT '',
  evidence_refs        text[]      NOT NULL DEFAULT '{}',
  record_ids           text[]      NOT NULL DEFAULT '{}',
  authority            text        NOT NULL DEFAULT '',
  proposed_by          text        NOT NULL DEFAULT '',
  proposed_date        date        NOT NULL,
  notified_date        date,
  notice_ref           text        NOT NULL DEFAULT '',
  objection_deadline   date,
  objection_waived     boolean     NOT NULL DEFAULT false,
  decision_approve     boolean,
  decision_reason      text        NOT NULL DEFAULT '',
  decided_by           text        NOT NULL DEFAULT '',
  decided_at           timestamptz,
  decision_no          text        NOT NULL DEFAULT '',
  effective_from       date,
  effective_until      date,
  repair_eligible_from date,
  removed_date         date,
  removal_reason       text        NOT NULL DEFAULT '',
  repair_id            text        NOT NULL DEFAULT '',
  disclosure_index_no  text        NOT NULL DEFAULT '',
  idempotency_key      text        UNIQUE,
  version              integer     NOT NULL DEFAULT 1,
  create_time          timestamptz NOT NULL DEFAULT now(),
  update_time          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listings_by_subject ON listings (uscc, status);
-- The expiry job's scan: ACTIVE (3) listings by end date.
CREATE INDEX listings_active_until ON listings (effective_until) WHERE status = 3;

CREATE TABLE listing_objections (
  objection_id  uuid        PRIMARY KEY,
  listing_id    uuid        NOT NULL REFERENCES listings (listing_id),
  statement     text        NOT NULL,
  evidence_refs text[]      NOT NULL DEFAULT '{}',
  received_at   timestamptz NOT NULL,
  received_by   text        NOT NULL DEFAULT '',
  response      text        NOT NULL DEFAULT ''
);
CREATE INDEX listing_objections_by_listing ON listing_objections (listing_id);

-- Append-only history of every listing step (repair steps included).
CREATE TABLE listing_events (
  listing_id  uuid        NOT NULL REFERENCES listings (listing_id),
  sequence    integer     NOT NULL,
  action      integer     NOT NULL,
  from_status integer     NOT NULL,
  to_status   integer     NOT NULL,
  actor       text        NOT NULL DEFAULT '',
  at          timestamptz NOT NULL DEFAULT now(),
  note        text        NOT NULL DEFAULT '',
  PRIMARY KEY (listing_id, sequence)
);

CREATE FUNCTION listing_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'listing_events is append-only';
END;
$$;
CREATE TRIGGER listing_events_no_update BEFORE UPDATE OR DELETE ON listing_events
  FOR EACH ROW EXECUTE FUNCTION listing_events_append_only();

CREATE TABLE repairs (
  repair_id          uuid        PRIMARY KEY,
  listing_id         uuid        NOT NULL REFERENCES listings (listing_id),
  uscc               text        NOT NULL,
  commitment         text        NOT NULL,
  evidence_refs      text[]      NOT NULL DEFAULT '{}',
  penalty_fulfilled  boolean     NOT NULL,
  harm_removed       boolean     NOT NULL,
  status             integer     NOT NULL,
  applied_at         timestamptz NOT NULL DEFAULT now(),
  due_date           date        NOT NULL,
  decision_approve   boolean,
  decision_reason    text        NOT NULL DEFAULT '',
  decided_by         text        NOT NULL DEFAULT '',
  decided_at         timestamptz,
  revocation_reason  text        NOT NULL DEFAULT '',
  revoked_by         text        NOT NULL DEFAULT '',
  revoked_at         timestamptz,
  applicant_contact  text        NOT NULL DEFAULT '',
  idempotency_key    text        UNIQUE,
  version            integer     NOT NULL DEFAULT 1,
  update_time        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX repairs_pending_due ON repairs (due_date) WHERE status = 1;
-- At most one pending repair per listing.
CREATE UNIQUE INDEX repairs_one_pending ON repairs (listing_id) WHERE status = 1;

-- Publication periods of dishonesty information as dated rules (DOMAIN.md "Credit"): the rule
-- in force on a record's decision date applies. Months; default = the period used when the
-- producer does not choose one. severity 1 minor, 2 general, 3 serious.
CREATE TABLE publication_rules (
  effective_from date    NOT NULL,
  rule_name      text    NOT NULL,
  severity       integer NOT NULL,
  min_months     integer NOT NULL,
  max_months     integer NOT NULL,
  default_months integer NOT NULL,
  PRIMARY KEY (effective_from, severity)
);
-- 58号令 (before 2026-04-01): min 3 months, max 3 years; safety production min 1 year (every
-- record here is a safety-production record, so the floor is 12 months).
INSERT INTO publication_rules VALUES
  ('2000-01-01', '发改委令第58号', 1, 12, 36, 12),
  ('2000-01-01', '发改委令第58号', 2, 12, 36, 12),
  ('2000-01-01', '发改委令第58号', 3, 12, 36, 36),
-- 36号令 (from 2026-04-01): minor ≤ 3 months; general 3 months–1 year; serious 1–3 years.
  ('2026-04-01', '发改委令第36号', 1, 0, 3, 3),
  ('2026-04-01', '发改委令第36号', 2, 3, 12, 12),
  ('2026-04-01', '发改委令第36号', 3, 12, 36, 36);

-- Joint reward and punishment measures (联合奖惩) and the service enforcing each.
-- list_type 1 red, 2 black, 0 record-based.
CREATE TABLE measures (
  code              text    PRIMARY KEY,
  name              text    NOT NULL,
  enforcing_service text    NOT NULL,
  basis             text    NOT NULL,
  list_type         integer NOT NULL,
  sort_order        integer NOT NULL
);
INSERT INTO measures VALUES
  ('NO_COMMITMENT_APPROVAL', '不适用告知承诺制等简化审批', 'licensing', '应急管理部令第11号; 国办发〔2020〕42号', 2, 10),
  ('MIN_INSPECTIONS_2_PER_YEAR', '提高检查频次(每年不少于2次)', 'inspection', '应急管理部令第11号', 2, 20),
  ('NO_AWARDS_OR_SUBSIDIES', '不得参加评先评优, 限制财政资金支持', 'external', '应急管理部令第11号', 2, 30),
  ('INDUSTRY_BAN', '依法实施行业禁入', 'external', '应急管理部令第11号 (法律允许时)', 2, 40),
  ('MAX_INSPECTIONS_1_PER_YEAR', '降低检查频次(每年不超过1次)', 'inspection', '守信激励', 1, 50),
  ('FAST_TRACK_APPROVAL', '行政审批绿色通道', 'licensing', '守信激励', 1, 60),
  ('PRIORITY_FUNDS_AND_AWARDS', '资金和评优优先', 'external', '守信激励', 1, 70);
