ALTER TABLE audience_members DROP COLUMN consent_revoked_at;
DROP TABLE titular_requests;
DROP TABLE suppressed_keys;
DROP INDEX audit_log_contact;
ALTER TABLE audit_log DROP COLUMN contact_id;
