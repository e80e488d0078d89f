DROP TABLE contact_former_values;
