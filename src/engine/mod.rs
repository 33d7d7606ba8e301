//! The forecasting engine: our trainable BERT encoder, the fusion head that
//! turns text and numbers into daily demand quantiles, training, and the
//! background thread that owns the device and the model.

pub mod bert;
pub mod checkpoint;
pub mod device;
pub mod encoder;
pub mod fused;
pub mod memory;
pub mod model;
pub mod optim;
pub mod run;
pub mod similar;
pub mod train;
pub mod worker;

pub use device::DeviceChoice;
pub use train::{Mode, TrainConfig};
pub use worker::{Engine, EngineCommand, EngineEvent};
