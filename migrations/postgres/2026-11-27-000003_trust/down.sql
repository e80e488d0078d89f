DROP INDEX contacts_customer_code_lower_idx;
DROP INDEX contact_tags_tag_lower_idx;
CREATE INDEX contact_tags_tag_idx ON contact_tags (tag);
ALTER TABLE audiences DROP COLUMN description_search;
ALTER TABLE api_tokens DROP COLUMN expires_at;
DROP INDEX audiences_form_token_key;
ALTER TABLE audiences DROP COLUMN form_token;
DROP INDEX contacts_document_key;
CREATE INDEX contacts_document_idx ON contacts (document);
UPDATE contacts SET document = d.document FROM document_conflicts d
 WHERE d.contact_id = contacts.id AND d.resolved_at IS NULL;
DROP TABLE document_conflicts;
DROP TABLE user_sessions;
