-- PostgreSQL counterpart of model_floor_sqlite.sql: from the table `bare` that
-- `psql \copy` filled, into Engajar's tables (schema from migrations/postgres), with
-- their indexes and foreign keys.
\timing on
BEGIN;
INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
  VALUES ('bench@example.com', 'Bench', 'admin', 'x', 1, 1);
INSERT INTO segments (name, name_key, created_at) VALUES ('Bench', 'bench', 1);
INSERT INTO audiences (description, segment_id, file_name, legal_basis, status, created_at)
  VALUES ('Bench', 1, 'publico.csv', 'consentimento', 'processing', 1);
CREATE TEMP TABLE src AS SELECT row_number() OVER () AS n, * FROM bare;
INSERT INTO contacts (id, name, name_search, document, customer_code, priority, created_at, updated_at)
  SELECT n, d, lower(d), e, f, coalesce(nullif(m, ''), 'BAIXA'), 1, 1 FROM src;
INSERT INTO contact_channels (contact_id, kind, value, created_at) SELECT n, a, b, 1 FROM src;
INSERT INTO contact_tags SELECT n, g, 1 FROM src;
INSERT INTO contact_segments SELECT n, 1, 1 FROM src;
INSERT INTO audience_members (audience_id, contact_id, line, outcome, channel_kind, channel_value,
    message, coringa1, coringa2, coringa3, coringa4, coringa5, tag, priority)
  SELECT 1, n, n + 1, 'created', a, b, c, h, i, j, k, l, g, nullif(m, '') FROM src;
COMMIT;
