//! Forecasting: classical baselines, error measures, rolling-origin
//! backtests and the champion per series.

pub mod backtest;
pub mod baselines;
pub mod ets;
pub mod features;
pub mod launch;
mod lookup;
pub mod metrics;
pub mod periodic;
pub mod pooled;
pub mod text;

pub use backtest::{Backtest, BacktestSpec, SkuClass};
pub use baselines::{Forecaster, QuantileForecast, all_baselines};
pub mod report;
