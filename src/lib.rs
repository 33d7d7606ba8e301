//! skuplan: a terminal planning workstation for e-commerce supply chains.
//!
//! The library holds everything; `main.rs` and the TUI are thin front ends.
//! See DESIGN.md (shared with the project) for the map of modules.

pub mod cli;
pub mod config;
pub mod data;
pub mod domain;
pub mod engine;
pub mod forecast;
pub mod fsio;
pub mod logging;
pub mod plan;
pub mod tui;
pub mod workspace;
