//! End-to-end tests: the real app over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod admin;
mod api;
mod audiences;
mod authz;
mod campaign_faults;
mod campaigns;
pub mod cli;
mod contact_edit;
mod contacts;
mod dnd;
mod erasure;
mod faults;
mod hostile;
mod identity;
mod imports;
mod lgpd;
mod limits;
mod login;
mod odd_bytes;
mod providers;
mod security;
mod segments;
mod servers;
mod setup;
mod undo;
mod whatsapp_sms;
