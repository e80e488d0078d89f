//! Engajar: audience import and the contact base behind it, served as a pt-BR web app.

pub mod campaigns;
pub mod channels;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod db;
pub mod domain;
pub mod files;
pub mod import;
pub mod layout;
pub mod messages;
pub mod models;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod time;
pub mod web;
