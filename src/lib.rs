//! Meridian: the REST backend of cross-border capacity-building programmes
//! in AI between China and countries of the Global South.

pub mod api;
pub mod audit;
pub mod auth;
pub mod bench_data;
pub mod certificates;
pub mod cli;
pub mod cohorts;
pub mod config;
pub mod db;
pub mod demo;
pub mod email;
pub mod enrollments;
pub mod error;
pub mod exchanges;
pub mod incubators;
pub mod institutions;
pub mod jobs;
pub mod lifecycle;
pub mod local_pg;
pub mod milestones;
pub mod openapi;
pub mod ops;
pub mod programmes;
pub mod schema;
pub mod service_requests;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod trainees;
pub mod types;
pub mod users;
pub mod ventures;
