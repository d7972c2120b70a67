-- 联合检查: an inspection may be joint (with other departments); a joint inspection covering an
-- item this year excludes separate routine inspections of it (README "Methods").
ALTER TABLE inspections ADD COLUMN joint boolean NOT NULL DEFAULT false;

-- 年度监督检查计划: one plan per (year, region prefix, industry); '' = all. A DRAFT is rebuilt
-- in place (revision + 1); a PUBLISHED plan is frozen.
CREATE TABLE annual_plans (
  plan_id         text PRIMARY KEY,
  idempotency_key text UNIQUE,
  year            int  NOT NULL,
  region_code     text NOT NULL,
  industry        text NOT NULL,
  status          int  NOT NULL,  -- regsuite.inspection.v1.AnnualPlanStatus
  revision        int  NOT NULL,
  plan            text NOT NULL,  -- base64 serialized AnnualPlan (no entries)
  update_time     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (year, region_code, industry)
);

-- Enterprises with at least one inspection due; the reason is recomputed from the columns and
-- the plan's rules.
CREATE TABLE annual_plan_entries (
  plan_id         text NOT NULL REFERENCES annual_plans (plan_id),
  uscc            text COLLATE "C" NOT NULL,  -- pages in byte order of the USCC
  name            text NOT NULL,
  region_code     text NOT NULL,
  industry        text NOT NULL,
  credit_tier     int  NOT NULL,
  key_enterprise  boolean NOT NULL,
  sampled         boolean NOT NULL,
  category        int  NOT NULL,  -- regsuite.inspection.v1.AnnualPlanCategory
  inspections_due int  NOT NULL,
  PRIMARY KEY (plan_id, uscc)
);
