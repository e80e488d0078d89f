-- Sessions live on the server: logging out, changing a password or an admin's reset
-- ends them for good, on every app server. The cookie holds only a random id, whose
-- SHA-256 is stored.
CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_last_seen_idx ON user_sessions (last_seen_at);

-- No two contacts share a CPF/CNPJ. Contacts that already did keep their document on the
-- oldest one; the others lose it here and are listed for a person to resolve
-- (Contatos → CPF/CNPJ repetidos, and a notice on each contact's page).
CREATE TABLE document_conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    kept_by BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
    found_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by BIGINT REFERENCES users (id)
);
CREATE INDEX document_conflicts_contact_idx ON document_conflicts (contact_id);
INSERT INTO document_conflicts (contact_id, document, kept_by, found_at)
SELECT c.id, c.document, k.kept_by, CAST(strftime('%s', 'now') AS INTEGER)
FROM contacts c
JOIN (SELECT document, MIN(id) AS kept_by FROM contacts
      WHERE document IS NOT NULL GROUP BY document HAVING COUNT(*) > 1) k
  ON k.document = c.document AND c.id <> k.kept_by;
UPDATE contacts SET document = NULL WHERE id IN (SELECT contact_id FROM document_conflicts);
DROP INDEX contacts_document_idx;
CREATE UNIQUE INDEX contacts_document_key ON contacts (document) WHERE document IS NOT NULL;

-- The import form's one-time token: a second POST of the same form finds the first audience.
ALTER TABLE audiences ADD COLUMN form_token TEXT;
CREATE UNIQUE INDEX audiences_form_token_key ON audiences (form_token) WHERE form_token IS NOT NULL;

-- API tokens may expire; one without expires_at lasts until revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

-- Searches ignore case and accents: audience descriptions by a folded copy (filled by the
-- app, which folds accents the same way on both databases), tags and customer codes by
-- their lower-case form.
ALTER TABLE audiences ADD COLUMN description_search TEXT;
DROP INDEX contact_tags_tag_idx;
CREATE INDEX contact_tags_tag_lower_idx ON contact_tags (lower(tag));
CREATE INDEX contacts_customer_code_lower_idx ON contacts (lower(customer_code));
