-- "Validar sem importar" keeps what it found, and the upload itself for a while, so the
-- same file can be imported without choosing it again.
CREATE TABLE import_validations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    -- The kept upload (as an audience names it); NULL when the file cannot be imported.
    upload TEXT,
    -- The form's choices and the report, as JSON.
    spec TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX import_validations_expires ON import_validations (expires_at);
