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
-- The register of titulars' requests (LGPD art. 18; art. 19: a complete answer within 15
-- days of the request).
CREATE TABLE titular_requests (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    requester TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    answered_at BIGINT,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX titular_requests_open ON titular_requests (status, due_at);
-- Revogar consentimento: the rows a person's consent brought in are marked, not deleted.
ALTER TABLE audience_members ADD COLUMN consent_revoked_at BIGINT;
