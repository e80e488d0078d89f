-- The data subject (LGPD): who looked at or changed a contact is recorded against it, and
-- an eliminated person's channels and document may be kept as keyed hashes only, so a
-- later import skips them without the values being stored.
ALTER TABLE audit_log ADD COLUMN contact_id BIGINT;
CREATE INDEX audit_log_contact ON audit_log (contact_id) WHERE contact_id IS NOT NULL;
CREATE TABLE suppressed_keys (
    key TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
