-- What an edit or a merge replaced or removed (a name, a CPF/CNPJ, a phone, an e-mail):
-- kept against the contact so that eliminating the person finds every value they ever
-- had here, and suppresses it too. Erasure deletes these rows with the contact.
CREATE TABLE contact_former_values (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contact_former_values_contact ON contact_former_values (contact_id);
CREATE INDEX contact_former_values_value ON contact_former_values (value);
