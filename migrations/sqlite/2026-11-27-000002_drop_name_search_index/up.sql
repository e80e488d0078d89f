-- Names are searched anywhere in them (LIKE '%word%'), which no B-tree index serves;
-- the index only cost every import a random insertion per contact.
DROP INDEX contacts_name_search_idx;
