ALTER TABLE dnd_entries DROP COLUMN source;
DROP TABLE channel_slots;
DROP TABLE dispatchers;
DROP TABLE campaign_messages;
DROP TABLE campaign_runs;
DROP TABLE campaigns;
