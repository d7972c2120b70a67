-- Requests for government information (依申请公开), appeals and the annual report notes.
CREATE TABLE info_requests (
  request_id      text PRIMARY KEY,
  idempotency_key text UNIQUE,
  applicant_key   text NOT NULL,
  applicant_type  integer NOT NULL,
  status          integer NOT NULL,
  received_date   date NOT NULL,
  due_date        date,
  replied_date    date,
  reply_type      integer NOT NULL DEFAULT 0,
  reply_reason    integer NOT NULL DEFAULT 0,
  fee_fen         bigint NOT NULL DEFAULT 0,
  -- The whole request (proto3 JSON), ID number included; served masked only.
  body            jsonb NOT NULL,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX info_requests_by_applicant_month ON info_requests (applicant_key, received_date);
CREATE INDEX info_requests_open ON info_requests (due_date) WHERE status NOT IN (5, 6);
CREATE INDEX info_requests_by_received ON info_requests (received_date);
CREATE INDEX info_requests_by_replied ON info_requests (replied_date);

CREATE TABLE appeals (
  appeal_id       text PRIMARY KEY,
  info_request_id text NOT NULL DEFAULT '',
  kind            integer NOT NULL,
  outcome         integer NOT NULL,
  filed_date      date NOT NULL,
  concluded_date  date,
  note            text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appeals_by_filed ON appeals (filed_date);

CREATE TABLE annual_report_notes (
  year                      integer PRIMARY KEY,
  agency_name               text NOT NULL DEFAULT '',
  overview                  text NOT NULL DEFAULT '',
  problems_and_improvements text NOT NULL DEFAULT '',
  other_matters             text NOT NULL DEFAULT '',
  updated_at                timestamptz NOT NULL DEFAULT now()
);
