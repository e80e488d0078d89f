-- Words of a name, and of an audience's description, found on an index: FTS5 trigram
-- tables of the folded (accent- and case-free) text, keyed by the contact's and the
-- audience's id. The import writes them in bulk beside the contacts (`models::search`);
-- SQLite keeps its foreign keys (README, "Foreign keys and integrity").
CREATE VIRTUAL TABLE contact_names USING fts5 (name, tokenize = 'trigram');
INSERT INTO contact_names (rowid, name)
SELECT id, name_search FROM contacts WHERE name_search IS NOT NULL;
CREATE VIRTUAL TABLE audience_descriptions USING fts5 (description, tokenize = 'trigram');
INSERT INTO audience_descriptions (rowid, description)
SELECT id, description_search FROM audiences WHERE description_search IS NOT NULL;
