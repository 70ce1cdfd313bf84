//! TenantGate: a Git-backed policy-as-code workflow engine for Microsoft 365 tenants.
//!
//! The library does the work; `main.rs` only calls [`cli::main`]. See `docs/architecture.md`.

pub mod cli;
pub mod config;
pub mod graph;
pub mod lint;
pub mod policy;
pub mod report;
pub mod seed;
pub mod sim;
pub mod snapshot;
pub mod source;
pub mod store;
