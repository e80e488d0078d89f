DROP TABLE import_validations;
