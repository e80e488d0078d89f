-- Campaign guards: a form that starts work is taken once (its one-time token, shared by
-- every app server); a receipt names its provider as well as the provider's id; a phone
-- may have stopped WhatsApp marketing messages.

-- A form's one-time token, taken by the first post; later posts lead where it led.
CREATE TABLE form_submissions (
    token TEXT PRIMARY KEY NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
-- Old tokens are forgotten after a week (`form_submission::prune`).
CREATE INDEX form_submissions_created ON form_submissions (created_at);

-- Who took the message: 'smtp', 'whatsapp', 'zenvia' or 'twilio'.
ALTER TABLE campaign_messages ADD COLUMN provider TEXT;
UPDATE campaign_messages SET provider = CASE
    (SELECT c.channel FROM campaign_runs r JOIN campaigns c ON c.id = r.campaign_id
     WHERE r.id = campaign_messages.run_id)
    WHEN 'whatsapp' THEN 'whatsapp'
    WHEN 'email' THEN 'smtp'
    ELSE CASE WHEN provider_id LIKE 'SM%' AND length(provider_id) = 34 THEN 'twilio' ELSE 'zenvia' END
END
WHERE provider_id IS NOT NULL;
ALTER TABLE unmatched_receipts ADD COLUMN provider TEXT NOT NULL DEFAULT '';
UPDATE unmatched_receipts SET provider = 'whatsapp' WHERE channel = 'whatsapp';

-- 'stop' when the phone's owner stopped WhatsApp marketing messages (Meta's
-- user_preferences webhook or error 131050), 'resume' when they took them back; with when.
ALTER TABLE contact_channels ADD COLUMN whatsapp_marketing TEXT;
ALTER TABLE contact_channels ADD COLUMN whatsapp_marketing_at BIGINT;
