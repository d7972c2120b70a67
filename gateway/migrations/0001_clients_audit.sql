-- Gateway clients (other government systems, and the services' own identities), their access,
-- and the hash-chained audit log.

-- HMAC verification needs the secret itself, so it cannot be stored hashed: it is stored
-- encrypted (AES-256-GCM) under the gateway's master key, which comes from the environment or
-- a file outside the repository (see gateway/README.md).
CREATE TABLE clients (
  app_key          text        PRIMARY KEY CHECK (app_key ~ '^[A-Za-z0-9_.-]{3,64}$'),
  display_name     text        NOT NULL,
  kind             text        NOT NULL CHECK (kind IN ('system', 'service', 'platform')),
  secret_sealed    bytea       NOT NULL,
  signature_method text        NOT NULL DEFAULT 'HMAC-SHA256'
                   CHECK (signature_method IN ('HMAC-SHA256', 'HMAC-SM3')),
  disabled         boolean     NOT NULL DEFAULT false,
  -- mTLS: the client certificate's subject CN mapped to this client (optional).
  cert_subject     text        UNIQUE,
  -- Per-client token bucket: requests per second and burst; 0 = gateway default.
  rate_per_second  double precision NOT NULL DEFAULT 0,
  burst            integer     NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Allowed method patterns: 'regsuite.credit.v1.CreditService/*' or an exact
-- 'regsuite.credit.v1.CreditService/CheckSubject'. Nothing else is allowed (deny by default).
CREATE TABLE client_access (
  app_key  text NOT NULL REFERENCES clients (app_key) ON DELETE CASCADE,
  pattern  text NOT NULL CHECK (pattern ~ '^[A-Za-z0-9_.]+/([A-Za-z0-9_]+|\*)$'),
  -- optional per-method limit (requests per second); 0 = client's limit only
  rate_per_second double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (app_key, pattern)
);

-- Bumped by every change to clients or access, so gateways refresh their in-memory copy by
-- polling one row instead of reading clients per request.
CREATE TABLE client_registry_version (
  id      boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint  NOT NULL
);
INSERT INTO client_registry_version (id, version) VALUES (true, 1);

CREATE FUNCTION bump_client_registry_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE client_registry_version SET version = version + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_client_registry_version();
CREATE TRIGGER client_access_changed AFTER INSERT OR UPDATE OR DELETE ON client_access
  FOR EACH STATEMENT EXECUTE FUNCTION bump_client_registry_version();

-- Every call through the gateway. row_hash = H(prev_hash || canonical text of the row), so an
-- edited or deleted row breaks the chain from that row on (`regctl audit verify`).
CREATE TABLE audit_log (
  id             bigint      PRIMARY KEY,
  at             timestamptz NOT NULL,
  client         text        NOT NULL,
  method         text        NOT NULL,
  route          text        NOT NULL,
  target_uscc    text        NOT NULL DEFAULT '',
  status_code    integer     NOT NULL,
  latency_us     bigint      NOT NULL,
  request_bytes  bigint      NOT NULL,
  response_bytes bigint      NOT NULL,
  request_id     text        NOT NULL,
  peer           text        NOT NULL DEFAULT '',
  hash_algorithm text        NOT NULL CHECK (hash_algorithm IN ('SHA-256', 'SM3')),
  prev_hash      text        NOT NULL,
  row_hash       text        NOT NULL
);
CREATE INDEX audit_log_client_at ON audit_log (client, at);
CREATE INDEX audit_log_method_at ON audit_log (method, at);
CREATE INDEX audit_log_uscc_at ON audit_log (target_uscc, at) WHERE target_uscc <> '';

-- The head of the chain; writers lock it (FOR UPDATE) so several gateways append in turn.
CREATE TABLE audit_head (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_id   bigint  NOT NULL,
  last_hash text    NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');
