-- Expiry reminders go out through the outbox (event licensing.certificate_expiry_reminder to the
-- exchange service, written in the transaction that inserts the reminder row). `event_id` is
-- that outbox event; `sent_at` is copied from the outbox row's delivered_at by the deadline job
-- (the moment exchange acknowledged it for the platform's notification channel).
ALTER TABLE certificate_reminders ADD COLUMN event_id uuid;
CREATE INDEX certificate_reminders_unsent ON certificate_reminders (event_id) WHERE sent_at IS NULL;
