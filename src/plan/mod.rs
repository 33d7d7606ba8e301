//! Plans: restock orders from forecasts, the planner's what-if overrides,
//! and approvals.

pub mod approval;
pub mod delivery;
pub mod restock;
pub mod scenario;
pub mod simulate;
pub mod solomon;
pub mod vrp;

pub use restock::{RestockLine, RestockPlan, RestockSettings, build_plan};
