ALTER TABLE contact_channels DROP COLUMN whatsapp_marketing_at;
ALTER TABLE contact_channels DROP COLUMN whatsapp_marketing;
ALTER TABLE unmatched_receipts DROP COLUMN provider;
ALTER TABLE campaign_messages DROP COLUMN provider;
DROP INDEX form_submissions_created;
DROP TABLE form_submissions;
