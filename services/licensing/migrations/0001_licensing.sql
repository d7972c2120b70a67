-- Licensing service schema (行政许可法 2019; DOMAIN.md "Licensing").
-- Entities are stored as their proto3 JSON (column `data`) plus the columns queries filter on;
-- the code keeps both in step inside one transaction.

-- Permit catalogue (事项清单): one row per dated version of a permit type.
CREATE TABLE permit_types (
  code                text        NOT NULL,
  effective_from      date        NOT NULL,
  name                text        NOT NULL,
  commitment_eligible boolean     NOT NULL DEFAULT false,
  data                jsonb       NOT NULL,
  version             bigint      NOT NULL DEFAULT 1,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (code, effective_from)
);

CREATE TABLE applications (
  application_id          text        PRIMARY KEY,
  idempotency_key         text        UNIQUE,
  kind                    text        NOT NULL,
  permit_type_code        text        NOT NULL,
  uscc                    text        NOT NULL,
  status                  text        NOT NULL,
  review_route            text,
  received_date           date        NOT NULL,
  accepted_date           date,
  due_date                date,
  promised_due_date       date,
  decided_date            date,
  decision_working_days   integer,
  instant                 boolean     NOT NULL DEFAULT false,
  commitment_check_status text,
  false_commitment        boolean     NOT NULL DEFAULT false,
  renewal_of              text,
  version                 bigint      NOT NULL DEFAULT 1,
  data                    jsonb       NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_by_status ON applications (status, due_date);
CREATE INDEX applications_by_uscc ON applications (uscc);
CREATE INDEX applications_by_type_received ON applications (permit_type_code, received_date);
CREATE INDEX applications_false_commitment ON applications (uscc) WHERE false_commitment;

-- Every status change, append-only (actor, time, reason).
CREATE TABLE application_transitions (
  id             bigserial   PRIMARY KEY,
  application_id text        NOT NULL REFERENCES applications (application_id),
  from_status    text        NOT NULL,
  to_status      text        NOT NULL,
  actor          text        NOT NULL,
  reason         text        NOT NULL DEFAULT '',
  at             timestamptz NOT NULL
);
CREATE INDEX application_transitions_by_app ON application_transitions (application_id, id);

CREATE TABLE certificates (
  certificate_no    text        PRIMARY KEY,
  application_id    text        NOT NULL,
  uscc              text        NOT NULL,
  permit_type_code  text        NOT NULL,
  status            text        NOT NULL,
  valid_until       date        NOT NULL,
  suspended_until   date,
  verification_code text        NOT NULL,
  version           bigint      NOT NULL DEFAULT 1,
  data              jsonb       NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificates_by_status_expiry ON certificates (status, valid_until);
CREATE INDEX certificates_by_uscc ON certificates (uscc);

-- Per-year counters of certificate and decision numbers.
CREATE TABLE number_sequences (
  scope      text   NOT NULL,
  year       int    NOT NULL,
  last_value bigint NOT NULL,
  PRIMARY KEY (scope, year)
);

-- Expiry reminders: the primary key makes each (certificate, kind) reminder exist once, however
-- many replicas run the job. Rows are the notification queue for the SMS/portal channel.
CREATE TABLE certificate_reminders (
  certificate_no text        NOT NULL REFERENCES certificates (certificate_no),
  kind           text        NOT NULL,
  uscc           text        NOT NULL,
  valid_until    date        NOT NULL,
  remind_date    date        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  sent_at        timestamptz,
  PRIMARY KEY (certificate_no, kind)
);
