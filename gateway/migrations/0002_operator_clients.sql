-- Operators (the bureau's own front ends and regctl users) are a client kind of their own.
ALTER TABLE clients DROP CONSTRAINT clients_kind_check;
ALTER TABLE clients ADD CONSTRAINT clients_kind_check
  CHECK (kind IN ('system', 'service', 'platform', 'operator'));
