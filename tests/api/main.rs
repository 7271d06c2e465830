//! End-to-end tests of the API against a real PostgreSQL.

mod access;
mod audit;
mod auth;
mod cohorts;
mod email;
mod enrollments;
mod errors;
mod exchanges;
mod helpers;
mod idempotency;
mod identity;
mod import;
mod institutions;
mod lists;
mod matrix;
mod openapi;
mod operations;
mod replica;
mod resources;
mod smtp;
mod stats;
mod sync;
mod tls;
mod trainees;
mod ventures;
mod webhooks;
