//! Helpers the engine's test files share: a tiny random BERT, products
//! with titles, a small training configuration, a control that never stops.

use std::path::{Path, PathBuf};

use candle_core::Device;
use skuplan::engine::EngineEvent;
use skuplan::engine::bert::BertConfig;
use skuplan::engine::encoder::{Encoder, ModelDir, write_random_model};
use skuplan::engine::{Mode, TrainConfig};

pub fn tiny_model(dir: &Path) -> PathBuf {
    let p = dir.join("tiny-bert");
    write_random_model(&p, &BertConfig::tiny(0), 7).unwrap();
    p
}

pub fn tiny_encoder(dir: &Path) -> Encoder {
    let md = ModelDir::open(&tiny_model(dir)).unwrap();
    Encoder::load(&md, &Device::Cpu, 32).unwrap()
}

/// A product with this title, and its daily sales at warehouse W from `start`.
pub fn push_titled(
    ds: &mut skuplan::domain::Dataset,
    sku: String,
    title: &str,
    start: chrono::NaiveDate,
    values: Vec<f64>,
) {
    use skuplan::domain::{DemandSeries, Product, ProductDefaults};
    let mut p = Product::made_from_sales(&sku, None, &ProductDefaults::default());
    p.title = title.to_string();
    p.synthesized = false;
    ds.products.push(p);
    ds.demand.push(DemandSeries::daily(sku, "W", start, values));
}

pub fn small_cfg(mode: Mode, epochs: usize) -> TrainConfig {
    TrainConfig {
        mode,
        top_k: 1,
        epochs,
        horizon: 7,
        batch_size: 16,
        hidden: 32,
        text_proj: 8,
        max_train_samples: 160,
        patience: 10,
        log_every: 2,
        ..TrainConfig::default()
    }
}

pub struct Quiet;
impl skuplan::engine::train::Control for Quiet {
    fn keep_going(&mut self) -> bool {
        true
    }
    fn report(&mut self, _e: EngineEvent) {}
}
