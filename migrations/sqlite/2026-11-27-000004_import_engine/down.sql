DROP TABLE audience_descriptions;
DROP TABLE contact_names;
