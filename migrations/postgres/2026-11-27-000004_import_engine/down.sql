DROP TABLE upload_chunks;
DROP TABLE uploads;
DROP INDEX audiences_description_trgm_idx;
DROP INDEX contacts_name_trgm_idx;
DELETE FROM contact_channels c WHERE NOT EXISTS (SELECT 1 FROM contacts WHERE id = c.contact_id);
DELETE FROM contact_tags c WHERE NOT EXISTS (SELECT 1 FROM contacts WHERE id = c.contact_id);
DELETE FROM contact_segments c WHERE NOT EXISTS (SELECT 1 FROM contacts WHERE id = c.contact_id)
    OR NOT EXISTS (SELECT 1 FROM segments WHERE id = c.segment_id);
DELETE FROM audience_members m WHERE NOT EXISTS (SELECT 1 FROM contacts WHERE id = m.contact_id)
    OR NOT EXISTS (SELECT 1 FROM audiences WHERE id = m.audience_id);
ALTER TABLE contact_channels ADD FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE contact_tags ADD FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE contact_segments ADD FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE contact_segments ADD FOREIGN KEY (segment_id) REFERENCES segments (id) ON DELETE CASCADE;
ALTER TABLE audience_members ADD FOREIGN KEY (audience_id) REFERENCES audiences (id) ON DELETE CASCADE;
ALTER TABLE audience_members ADD FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
