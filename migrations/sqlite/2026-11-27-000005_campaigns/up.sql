-- Campaigns: what to send, to whom, when; each occurrence a run; each message a ledger row
-- that is sent at most once.

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'whatsapp', 'sms')),
    audience_id BIGINT,
    segment_id BIGINT,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    -- One "Variable=text" per line.
    fallbacks TEXT NOT NULL DEFAULT '',
    schedule_kind TEXT NOT NULL CHECK (schedule_kind IN ('now', 'once', 'daily', 'weekly', 'monthly')),
    schedule_at BIGINT,
    schedule_time TEXT,
    schedule_days TEXT,
    schedule_until BIGINT,
    next_run_at BIGINT,
    status TEXT NOT NULL,
    last_error TEXT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((audience_id IS NULL) <> (segment_id IS NULL))
);
CREATE INDEX campaigns_due ON campaigns (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX campaigns_audience ON campaigns (audience_id);

CREATE TABLE campaign_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    scheduled_for BIGINT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    recipients BIGINT NOT NULL DEFAULT 0,
    skipped_no_channel BIGINT NOT NULL DEFAULT 0,
    skipped_duplicate BIGINT NOT NULL DEFAULT 0,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    UNIQUE (campaign_id, scheduled_for)
);

CREATE TABLE campaign_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL,
    contact_id BIGINT,
    channel_value TEXT NOT NULL,
    line BIGINT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    skip_reason TEXT,
    provider_id TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (run_id, channel_value)
);
CREATE INDEX campaign_messages_pending ON campaign_messages (run_id, id) WHERE status = 'pending';
CREATE INDEX campaign_messages_claimed ON campaign_messages (claimed_by) WHERE status IN ('queued', 'sending');
CREATE INDEX campaign_messages_run_status ON campaign_messages (run_id, status);
CREATE INDEX campaign_messages_contact ON campaign_messages (contact_id);

-- Each app server's dispatcher, alive while it keeps seen_ms fresh.
CREATE TABLE dispatchers (
    id TEXT PRIMARY KEY,
    seen_ms BIGINT NOT NULL
);

-- The next free sending slot per channel, shared by every server (the rate limit).
CREATE TABLE channel_slots (
    channel TEXT PRIMARY KEY,
    next_ms BIGINT NOT NULL
);

ALTER TABLE dnd_entries ADD COLUMN source TEXT;
