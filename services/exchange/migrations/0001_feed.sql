-- The outbound change feed (DESIGN.md "Data-sharing platform: Outbound"). Entries are appended
-- under a transaction-scoped advisory lock, so cursors become visible in increasing order and a
-- reader never skips an entry that commits later with a smaller cursor.
CREATE TABLE changes (
  cursor          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity_type     integer     NOT NULL,
  entity_id       text        NOT NULL,
  operation       integer     NOT NULL,
  -- The masked public form only (proto3 JSON); never unmasked personal data.
  payload         jsonb       NOT NULL,
  payload_type    text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  source_event_id text        NOT NULL UNIQUE,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_by_type ON changes (entity_type, cursor);

-- Push progress (one row). inflight_* is the batch chosen and not yet acknowledged: after a
-- restart exactly that range is sent again, with the same Idempotency-Key.
CREATE TABLE push_state (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  acknowledged_cursor  bigint      NOT NULL DEFAULT 0,
  inflight_first       bigint,
  inflight_last        bigint,
  last_success_at      timestamptz,
  last_attempt_at      timestamptz,
  consecutive_failures integer     NOT NULL DEFAULT 0,
  last_error           text        NOT NULL DEFAULT ''
);
INSERT INTO push_state DEFAULT VALUES;

-- Batches the platform rejected permanently (4xx). state: PARKED (waiting for an operator),
-- REQUEUED (`regctl exchange retry`; sent again before new changes), DELIVERED.
CREATE TABLE parked_batches (
  batch_id     text PRIMARY KEY,
  first_cursor bigint      NOT NULL,
  last_cursor  bigint      NOT NULL,
  http_status  integer     NOT NULL,
  error        text        NOT NULL,
  state        text        NOT NULL DEFAULT 'PARKED'
               CHECK (state IN ('PARKED', 'REQUEUED', 'DELIVERED')),
  parked_at    timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_batches_open ON parked_batches (state, first_cursor) WHERE state <> 'DELIVERED';

-- Enterprise base-data (法人库) batches already imported: a repeated batch_id returns the
-- first report (ImportEnterpriseBatchResponse in proto3 JSON).
CREATE TABLE import_batches (
  batch_id    text PRIMARY KEY,
  source      text        NOT NULL,
  report      jsonb       NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
