//! End-to-end tests: the real app over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod admin;
mod api;
mod audiences;
mod authz;
mod campaign_faults;
mod campaign_guards;
mod campaigns;
pub mod cli;
mod contact_edit;
mod contacts;
mod dnd;
mod erasure;
mod faults;
mod hardening;
mod hostile;
mod identity;
mod imports;
mod lgpd;
mod limits;
mod login;
mod names;
mod odd_bytes;
mod providers;
mod retention;
mod security;
mod segments;
mod servers;
mod setup;
mod undo;
mod whatsapp_sms;
