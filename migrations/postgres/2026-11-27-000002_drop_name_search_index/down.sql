CREATE INDEX contacts_name_search_idx ON contacts (name_search);
