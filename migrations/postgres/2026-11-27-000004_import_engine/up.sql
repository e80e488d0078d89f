-- The import engine (README, "Foreign keys and integrity"): the bulk tables keep no
-- foreign keys. Each key cost a trigger per inserted row (a SELECT ... FOR KEY SHARE on
-- the contact), more than half of a large import. Integrity is kept in code: contacts
-- and audiences are deleted only through `models::erase`, which removes their
-- dependants in the same transaction, and `engajar db check` reports any orphan.
ALTER TABLE contact_channels DROP CONSTRAINT contact_channels_contact_id_fkey;
ALTER TABLE contact_tags DROP CONSTRAINT contact_tags_contact_id_fkey;
ALTER TABLE contact_segments DROP CONSTRAINT contact_segments_contact_id_fkey;
ALTER TABLE contact_segments DROP CONSTRAINT contact_segments_segment_id_fkey;
ALTER TABLE audience_members DROP CONSTRAINT audience_members_audience_id_fkey;
ALTER TABLE audience_members DROP CONSTRAINT audience_members_contact_id_fkey;

-- Words of a name, and of an audience's description, found on an index: trigrams of the
-- folded (accent- and case-free) text answer LIKE '%word%'.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_name_trgm_idx ON contacts USING gin (name_search gin_trgm_ops);
CREATE INDEX audiences_description_trgm_idx ON audiences USING gin (description_search gin_trgm_ops);

-- Uploads waiting for the worker live in the database, so several app servers share
-- nothing but PostgreSQL: 1 MiB pieces, written as the upload arrives.
CREATE TABLE uploads (
    id BIGSERIAL PRIMARY KEY,
    size BIGINT NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE upload_chunks (
    upload_id BIGINT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
