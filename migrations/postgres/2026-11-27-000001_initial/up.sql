-- The whole product's schema, PostgreSQL dialect. Timestamps are Unix seconds (UTC);
-- flags are integers (0/1) because diesel's MultiConnection has no portable boolean.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE segments (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE audiences (
    id BIGSERIAL PRIMARY KEY,
    description TEXT NOT NULL,
    segment_id BIGINT NOT NULL REFERENCES segments (id),
    file_name TEXT NOT NULL,
    spool_path TEXT,
    legal_basis TEXT NOT NULL,
    opt_verify INTEGER NOT NULL DEFAULT 0,
    opt_nao_perturbe INTEGER NOT NULL DEFAULT 0,
    opt_manter_segmento INTEGER NOT NULL DEFAULT 0,
    opt_limpar_tag INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'done_with_rejections', 'failed')),
    rows_total BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    imported BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    dnd_skipped BIGINT NOT NULL DEFAULT 0,
    verify_discarded BIGINT NOT NULL DEFAULT 0,
    duplicate_rows BIGINT NOT NULL DEFAULT 0,
    contacts_created BIGINT NOT NULL DEFAULT 0,
    contacts_updated BIGINT NOT NULL DEFAULT 0,
    file_errors BIGINT NOT NULL DEFAULT 0,
    -- Why a job failed for a reason other than the file (e.g. its upload was lost).
    failure TEXT,
    -- NULL when imported from the command line.
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX audiences_created_at_idx ON audiences (created_at);
CREATE INDEX audiences_segment_idx ON audiences (segment_id);
CREATE INDEX audiences_status_idx ON audiences (status);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT,
    name_search TEXT,
    document TEXT,
    customer_code TEXT,
    priority TEXT NOT NULL DEFAULT 'BAIXA' CHECK (priority IN ('BAIXA', 'MEDIA', 'ALTA')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_document_idx ON contacts (document);
CREATE INDEX contacts_customer_code_idx ON contacts (customer_code);
CREATE INDEX contacts_name_search_idx ON contacts (name_search);

CREATE TABLE contact_channels (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('TELEFONE', 'EMAIL')),
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX contact_channels_contact_idx ON contact_channels (contact_id);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag_idx ON contact_tags (tag);

CREATE TABLE contact_segments (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (contact_id, segment_id)
);
CREATE INDEX contact_segments_segment_idx ON contact_segments (segment_id);

CREATE TABLE audience_members (
    id BIGSERIAL PRIMARY KEY,
    audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged')),
    channel_kind TEXT NOT NULL CHECK (channel_kind IN ('TELEFONE', 'EMAIL')),
    channel_value TEXT NOT NULL,
    message TEXT,
    coringa1 TEXT,
    coringa2 TEXT,
    coringa3 TEXT,
    coringa4 TEXT,
    coringa5 TEXT,
    tag TEXT,
    priority TEXT CHECK (priority IN ('BAIXA', 'MEDIA', 'ALTA'))
);
CREATE INDEX audience_members_audience_idx ON audience_members (audience_id, line);
CREATE INDEX audience_members_contact_idx ON audience_members (contact_id);

CREATE TABLE audience_row_errors (
    id BIGSERIAL PRIMARY KEY,
    audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('file', 'row')),
    line BIGINT,
    column_name TEXT,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    value TEXT,
    raw_row TEXT
);
CREATE INDEX audience_row_errors_audience_idx ON audience_row_errors (audience_id, level, line);

CREATE TABLE dnd_entries (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('TELEFONE', 'EMAIL')),
    value TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (kind, value)
);

CREATE TABLE interactions (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
    channel_kind TEXT NOT NULL CHECK (channel_kind IN ('TELEFONE', 'EMAIL')),
    channel_value TEXT NOT NULL,
    body TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    attended_at BIGINT,
    attended_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX interactions_channel_idx ON interactions (channel_kind, channel_value);
CREATE INDEX interactions_contact_idx ON interactions (contact_id);
CREATE INDEX interactions_pending_idx ON interactions (attended_at, occurred_at);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_created_at_idx ON audit_log (created_at);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, created_at);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);
