-- Inspection service schema: 两库一单 directories, draws, inspections, hazards, penalties,
-- complaints, monthly plans, the credit tier cache and the seeded discretion benchmark.

CREATE TABLE enterprises (
  uscc                  text PRIMARY KEY,
  name                  text NOT NULL,
  industry              text NOT NULL,
  region_code           text NOT NULL,
  address               text NOT NULL DEFAULT '',
  legal_representative  text NOT NULL DEFAULT '',
  risk_level            int  NOT NULL DEFAULT 0,
  standardisation_grade int  NOT NULL DEFAULT 0,
  key_enterprise        boolean NOT NULL DEFAULT false,
  specialised_sme       boolean NOT NULL DEFAULT false,
  tags                  text[] NOT NULL DEFAULT '{}',
  operating_status      int  NOT NULL DEFAULT 1,
  source                text NOT NULL DEFAULT 'manual',
  version               bigint NOT NULL DEFAULT 1,
  update_time           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_region_industry ON enterprises (region_code text_pattern_ops, industry);

CREATE TABLE import_batches (
  batch_id    text PRIMARY KEY,
  report      text NOT NULL,  -- base64 serialized ImportEnterprisesResponse
  create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspectors (
  inspector_id       text PRIMARY KEY,
  name               text NOT NULL,
  certificate_no     text NOT NULL,
  certificate_expiry date NOT NULL,
  unit               text NOT NULL DEFAULT '',
  region_code        text NOT NULL,
  active             boolean NOT NULL,
  conflict_usccs     text[] NOT NULL DEFAULT '{}',
  industries         text[] NOT NULL DEFAULT '{}',
  version            bigint NOT NULL DEFAULT 1,
  update_time        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE check_items (
  code            text PRIMARY KEY,
  name            text NOT NULL,
  legal_basis     text NOT NULL,
  industries      text[] NOT NULL DEFAULT '{}',
  safety_critical boolean NOT NULL DEFAULT false,
  description     text NOT NULL DEFAULT '',
  effective_from  text NOT NULL DEFAULT '',
  version         bigint NOT NULL DEFAULT 1,
  update_time     timestamptz NOT NULL DEFAULT now()
);

-- Tiers learnt from credit.listing_changed events (fallback when the gateway is unreachable).
CREATE TABLE credit_listing_cache (
  uscc        text NOT NULL,
  listing_id  text NOT NULL,
  list_type   int  NOT NULL,
  active      boolean NOT NULL,
  update_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (uscc, listing_id)
);

-- A draw: its request, the recorded snapshots (canonical texts, README "Draw algorithm") and
-- the result as a serialized regsuite.inspection.v1.Draw.
CREATE TABLE draws (
  draw_id              text PRIMARY KEY,
  idempotency_key      text UNIQUE,
  check_item_code      text NOT NULL,
  seed                 numeric(20, 0) NOT NULL,
  draw_date            date NOT NULL,
  candidate_snapshot   text NOT NULL,
  inspector_snapshot   text NOT NULL,
  draw                 text NOT NULL,  -- base64 of the serialized Draw
  drawn_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspections (
  inspection_id   text PRIMARY KEY,
  idempotency_key text UNIQUE,
  origin          int  NOT NULL,
  origin_ref      text NOT NULL DEFAULT '',
  uscc            text NOT NULL REFERENCES enterprises (uscc),
  check_item_codes text[] NOT NULL,
  inspector_ids   text[] NOT NULL,
  step            int  NOT NULL,
  status          int  NOT NULL,
  result          int  NOT NULL DEFAULT 0,
  planned_date    date NOT NULL,
  year            int  NOT NULL,
  started_at      timestamptz NOT NULL,
  closed_at       timestamptz,
  draw_id         text NOT NULL DEFAULT '',
  inspection      text NOT NULL,  -- base64 serialized Inspection (no hazards, no record entries)
  version         bigint NOT NULL DEFAULT 1,
  update_time     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inspections_uscc_year ON inspections (uscc, year);
CREATE INDEX inspections_year ON inspections (year);

-- 执法全过程记录: append-only (updates and deletes are refused by the trigger below).
CREATE TABLE record_entries (
  seq           bigserial PRIMARY KEY,
  entry_id      text NOT NULL UNIQUE,
  inspection_id text NOT NULL REFERENCES inspections (inspection_id),
  step          int  NOT NULL,
  kind          int  NOT NULL,
  description   text NOT NULL,
  document_ref  text NOT NULL DEFAULT '',
  content_hash  text NOT NULL DEFAULT '',
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL
);
CREATE INDEX record_entries_inspection ON record_entries (inspection_id, seq);

CREATE FUNCTION record_entries_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'record_entries is append-only (执法全过程记录)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER record_entries_no_update BEFORE UPDATE OR DELETE ON record_entries
  FOR EACH ROW EXECUTE FUNCTION record_entries_append_only();

CREATE TABLE hazards (
  hazard_id        text PRIMARY KEY,
  seq              bigserial NOT NULL,
  inspection_id    text NOT NULL REFERENCES inspections (inspection_id),
  uscc             text NOT NULL,
  level            int  NOT NULL,
  status           int  NOT NULL,
  deadline         date NOT NULL,
  year             int  NOT NULL,
  credit_event_sent boolean NOT NULL DEFAULT false,
  hazard           text NOT NULL,  -- base64 serialized Hazard
  version          bigint NOT NULL DEFAULT 1,
  create_time      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hazards_open_deadline ON hazards (status, deadline);
CREATE INDEX hazards_inspection ON hazards (inspection_id);

-- Discretion benchmark (自由裁量基准), dated: a case uses the row in force on its date.
CREATE TABLE discretion_benchmarks (
  violation_code       text NOT NULL,
  effective_from       date NOT NULL,
  violation_name       text NOT NULL,
  legal_basis          text NOT NULL,
  management_type      boolean NOT NULL DEFAULT false,
  first_violation_list boolean NOT NULL DEFAULT false,
  PRIMARY KEY (violation_code, effective_from)
);
CREATE TABLE discretion_ranges (
  violation_code text NOT NULL,
  effective_from date NOT NULL,
  circumstance   int  NOT NULL,   -- regsuite.inspection.v1.Circumstance
  min_fine_fen   bigint NOT NULL,
  max_fine_fen   bigint NOT NULL,
  kinds          int[] NOT NULL,  -- regsuite.inspection.v1.PenaltyKind
  description    text NOT NULL DEFAULT '',
  PRIMARY KEY (violation_code, effective_from, circumstance),
  FOREIGN KEY (violation_code, effective_from) REFERENCES discretion_benchmarks
);

CREATE TABLE penalty_cases (
  case_id         text PRIMARY KEY,
  idempotency_key text UNIQUE,
  uscc            text NOT NULL DEFAULT '',
  violation_code  text NOT NULL,
  status          int  NOT NULL,
  filed_date      date NOT NULL,
  decided_date    date,
  decision_no     text UNIQUE,
  fine_fen        bigint NOT NULL DEFAULT 0,
  penalty_case    text NOT NULL,  -- base64 serialized PenaltyCase
  version         bigint NOT NULL DEFAULT 1,
  update_time     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX penalty_cases_uscc ON penalty_cases (uscc, violation_code);

CREATE TABLE complaints (
  complaint_id    text PRIMARY KEY,
  idempotency_key text UNIQUE,
  uscc            text NOT NULL DEFAULT '',
  year            int  NOT NULL,
  complaint       text NOT NULL,  -- base64 serialized Complaint
  update_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE monthly_plans (
  plan_id         text PRIMARY KEY,
  idempotency_key text UNIQUE,
  month           text NOT NULL,
  region_code     text NOT NULL,
  plan            text NOT NULL  -- base64 serialized MonthlyPlan
);

-- Seed benchmark (安全生产法 2021; fines in fen). Ranges per circumstance 轻微/一般/较重/严重
-- (1..4); kinds 1 警告, 3 罚款, 9 责令停产停业, 7 吊销许可证件.
INSERT INTO discretion_benchmarks VALUES
  ('AQ-97-3', '2021-09-01', '未按照规定对从业人员进行安全生产教育和培训',
   '《安全生产法》第九十七条第三项', true, false),
  ('AQ-97-5', '2021-09-01', '未如实记录安全生产教育和培训情况',
   '《安全生产法》第九十七条第四项', true, true),
  ('AQ-102', '2021-09-01', '未采取措施消除事故隐患',
   '《安全生产法》第一百零二条', false, false),
  ('AQ-99-2', '2021-09-01', '安全设备的安装、使用、检测、改造和报废不符合标准',
   '《安全生产法》第九十九条第二项', false, false);
INSERT INTO discretion_ranges VALUES
  ('AQ-97-3', '2021-09-01', 1, 0, 1000000, '{1,3}', '轻微: 警告或1万元以下罚款'),
  ('AQ-97-3', '2021-09-01', 2, 1000000, 5000000, '{1,3}', '一般: 1万元以上5万元以下'),
  ('AQ-97-3', '2021-09-01', 3, 5000000, 8000000, '{3}', '较重: 5万元以上8万元以下'),
  ('AQ-97-3', '2021-09-01', 4, 8000000, 10000000, '{3,9}', '严重: 8万元以上10万元以下，责令停产停业整顿'),
  ('AQ-97-5', '2021-09-01', 1, 0, 500000, '{1,3}', '轻微'),
  ('AQ-97-5', '2021-09-01', 2, 500000, 3000000, '{1,3}', '一般'),
  ('AQ-97-5', '2021-09-01', 3, 3000000, 6000000, '{3}', '较重'),
  ('AQ-97-5', '2021-09-01', 4, 6000000, 10000000, '{3,9}', '严重'),
  ('AQ-102', '2021-09-01', 1, 0, 1000000, '{3}', '轻微'),
  ('AQ-102', '2021-09-01', 2, 1000000, 3000000, '{3}', '一般'),
  ('AQ-102', '2021-09-01', 3, 3000000, 5000000, '{3,9}', '较重'),
  ('AQ-102', '2021-09-01', 4, 5000000, 10000000, '{3,9}', '严重: 拒不执行的责令停产停业整顿'),
  ('AQ-99-2', '2021-09-01', 1, 0, 500000, '{1,3}', '轻微'),
  ('AQ-99-2', '2021-09-01', 2, 500000, 1000000, '{3}', '一般'),
  ('AQ-99-2', '2021-09-01', 3, 1000000, 2000000, '{3,9}', '较重'),
  ('AQ-99-2', '2021-09-01', 4, 2000000, 20000000, '{3,9,7}', '严重: 情节严重的吊销许可证件');
