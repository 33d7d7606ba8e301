//! The forecasting engine: our trainable BERT encoder, the fusion head that
//! turns text and numbers into daily demand quantiles, training, and the
//! background thread that owns the device and the model.

pub mod bert;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod encoder;
pub mod events;
pub mod fused;
pub mod memory;
pub mod model;
pub mod optim;
pub mod protocol;
pub mod run;
pub mod selection;
pub mod similar;
pub mod text_cache;
pub mod train;
pub mod worker;

pub use config::{Mode, TrainConfig};
pub use device::DeviceChoice;
pub use events::{EngineCommand, EngineEvent};
pub use worker::Engine;
