-- Durable cross-service events (DESIGN.md "Cross-service flows"), created in every service schema.
-- A row is written in the same transaction as the change it announces; a relay delivers it.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  event_id        uuid        NOT NULL,
  aggregate_type  text        NOT NULL,
  aggregate_id    text        NOT NULL,
  event_type      text        NOT NULL,
  -- Full gRPC method path, e.g. /regsuite.disclosure.v1.DisclosureService/DeliverEvent;
  -- target_service is its service part and, with the aggregate, the ordering key.
  target_method   text        NOT NULL,
  target_service  text        NOT NULL,
  payload         bytea       NOT NULL,
  trace_parent    text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  delivered_at    timestamptz,
  UNIQUE (event_id, target_method)
);
CREATE INDEX outbox_pending_by_aggregate ON outbox (target_service, aggregate_type, aggregate_id, id)
  WHERE delivered_at IS NULL;
CREATE INDEX outbox_pending_due ON outbox (id) WHERE delivered_at IS NULL;

-- Events already applied by this service; inserted in the same transaction as their effect,
-- so a redelivered event is recognised and acknowledged without a second effect.
CREATE TABLE inbox (
  event_id       uuid        PRIMARY KEY,
  source_service text        NOT NULL,
  event_type     text        NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now()
);
