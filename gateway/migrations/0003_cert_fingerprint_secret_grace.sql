-- mTLS: a client certificate authenticates the client it is registered to, by the SHA-256
-- fingerprint of the certificate (lower-case hex of the DER), so a re-issued certificate with
-- the same subject is not accepted until it is registered.
ALTER TABLE clients ADD COLUMN cert_fingerprint text UNIQUE
  CHECK (cert_fingerprint ~ '^[0-9a-f]{64}$');

-- Secret rotation with a grace period: the previous secret (sealed like the current one) stays
-- valid until previous_secret_until, so an integrator can switch without a failed call.
ALTER TABLE clients ADD COLUMN previous_secret_sealed bytea;
ALTER TABLE clients ADD COLUMN previous_secret_until timestamptz;
