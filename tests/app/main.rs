//! End-to-end tests: the real app over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod access;
mod audiences;
mod cli;
mod imports;
mod login;
mod segments;
mod setup;
