-- The same rows written into Engajar's own tables by plain SQL from the bare table that
-- `sqlite3 .import` filled (table `bare`): the cost of the schema itself, with no parsing,
-- validation or lookups. Run on a copy of that database after creating the schema.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -65536;
.timer on
BEGIN;
INSERT INTO contacts (id, name, name_search, document, customer_code, priority, created_at, updated_at)
  SELECT rowid, NOME_CLIENTE, lower(NOME_CLIENTE), CPFCNPJ, CODCLIENTE,
         coalesce(nullif(PRIORIDADE, ''), 'BAIXA'), 1, 1 FROM bare;
-- The name index (FTS5 trigram), as the import writes it beside the contacts.
INSERT INTO contact_names (rowid, name) SELECT id, name_search FROM contacts;
INSERT INTO contact_channels (contact_id, kind, value, created_at)
  SELECT rowid, TIPO_DE_REGISTRO, VALOR_DO_REGISTRO, 1 FROM bare;
INSERT INTO contact_tags SELECT rowid, TAG, 1 FROM bare;
INSERT INTO contact_segments SELECT rowid, 1, 1 FROM bare;
INSERT INTO audience_members (audience_id, contact_id, line, outcome, channel_kind, channel_value,
    message, coringa1, coringa2, coringa3, coringa4, coringa5, tag, priority)
  SELECT 1, rowid, rowid + 1, 'created', TIPO_DE_REGISTRO, VALOR_DO_REGISTRO, MENSAGEM,
         CORINGA1, CORINGA2, CORINGA3, CORINGA4, CORINGA5, TAG, nullif(PRIORIDADE, '') FROM bare;
COMMIT;
