//! Plans: restock orders from forecasts, the planner's what-if overrides,
//! the policy's replay, the plan's cached base, approvals, delivery routes
//! and their CSV exports.

pub mod abc;
pub mod approval;
pub mod base;
pub mod calibration;
pub mod delivery;
pub mod demand;
pub mod export;
pub mod model_fit;
pub mod reason;
pub mod replay;
pub mod restock;
pub mod route_check;
pub mod route_drift;
pub mod scenario;
pub mod simulate;
pub mod solomon;
pub mod summary;
pub mod vrp;
pub mod vrp_cost;

pub use restock::{RestockLine, RestockPlan, RestockSettings, build_plan};
