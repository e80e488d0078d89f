-- WhatsApp and SMS on the campaign pipeline: approved WhatsApp templates, a template
-- campaign's parameters, what providers report after sending, what a WhatsApp callback
-- taught about a phone, and replies recorded once however often a provider retries.

CREATE TABLE whatsapp_templates (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    parameters INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (name, language)
);

ALTER TABLE campaigns ADD COLUMN template_id BIGINT;
-- One "n=text" per line: what each {{n}} of the template takes.
ALTER TABLE campaigns ADD COLUMN template_params TEXT NOT NULL DEFAULT '';
-- Comma-separated: strip_accents, exclude_no_whatsapp.
ALTER TABLE campaigns ADD COLUMN options TEXT NOT NULL DEFAULT '';

-- A WhatsApp message's template parameters as sent (a JSON array of texts).
ALTER TABLE campaign_messages ADD COLUMN parameters TEXT;
CREATE INDEX campaign_messages_provider ON campaign_messages (provider_id) WHERE provider_id IS NOT NULL;

-- 'yes' after a delivered or read WhatsApp message, 'no' after a failure that means the
-- number cannot receive WhatsApp; with when it was learnt.
ALTER TABLE contact_channels ADD COLUMN whatsapp TEXT;
ALTER TABLE contact_channels ADD COLUMN whatsapp_at BIGINT;

-- The provider's id of an incoming message: a retried callback is recorded once.
ALTER TABLE interactions ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX interactions_external ON interactions (external_id) WHERE external_id IS NOT NULL;

-- Receipts that came before the send's own answer was recorded (the provider is fast, the
-- commit a moment later): kept briefly and applied when the message's id is recorded.
CREATE TABLE unmatched_receipts (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX unmatched_receipts_provider ON unmatched_receipts (provider_id);
