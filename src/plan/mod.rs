//! Plans: restock orders from forecasts, the planner's what-if overrides,
//! and approvals.

pub mod restock;

pub use restock::{RestockLine, RestockPlan, RestockSettings, build_plan};
