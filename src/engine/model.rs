//! The fusion head: [pooled text embedding ; numeric features] -> MLP ->
//! H days x (p10, p50, p90), on targets scaled per series.
//!
//! Quantiles cannot cross by construction: the head predicts the median and
//! two non-negative widths (softplus), p10 = p50 - lower, p90 = p50 + upper.

use candle_core::{D, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::bert::Dropout;
use super::fused::gelu_erf;

/// The quantile levels the head predicts, in output order.
pub const QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// Width of the pooled text embedding (the encoder's hidden size).
    pub text_dim: usize,
    /// The text embedding is projected to this many numbers first, so 384
    /// text dimensions do not drown a few dozen numeric ones.
    pub text_proj: usize,
    pub features: usize,
    pub hidden: usize,
    pub horizon: usize,
    pub dropout: f64,
    /// false: the text embedding is ignored (zeros), to measure what the
    /// encoder adds.
    #[serde(default = "yes")]
    pub use_text: bool,
    /// Where among the features the base forecast sits (the median is a
    /// correction to it); None: the head predicts the median outright.
    #[serde(default)]
    pub base_offset: Option<usize>,
}

fn yes() -> bool {
    true
}

pub struct DemandHead {
    text_proj: Linear,
    l1: Linear,
    l2: Linear,
    out: Linear,
    pub config: HeadConfig,
    /// The share of its learnt correction the head adds to the base
    /// forecast (1 while training; after it, the share that scores best on
    /// the validation windows, see `selection::choose_correction`).
    pub correction: f64,
}

fn softplus(x: &Tensor) -> candle_core::Result<Tensor> {
    // relu(x) + log(1 + exp(-|x|)): stable for large |x|.
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    x.relu()?.add(&tail)
}

impl DemandHead {
    pub fn new(cfg: &HeadConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(DemandHead {
            text_proj: candle_nn::linear(cfg.text_dim, cfg.text_proj, vb.pp("text_proj"))?,
            l1: candle_nn::linear(cfg.text_proj + cfg.features, cfg.hidden, vb.pp("l1"))?,
            l2: candle_nn::linear(cfg.hidden, cfg.hidden, vb.pp("l2"))?,
            out: candle_nn::linear(cfg.hidden, 3 * cfg.horizon, vb.pp("out"))?,
            config: cfg.clone(),
            correction: 1.0,
        })
    }

    /// `text` (batch, text_dim), `features` (batch, features) ->
    /// (batch, 3, horizon): p10, p50, p90 on the scaled axis.
    pub fn forward(&self, text: &Tensor, features: &Tensor, drop: &mut Dropout) -> candle_core::Result<Tensor> {
        let t = self.text_proj.forward(text)?.tanh()?;
        let t = if self.config.use_text { t } else { t.zeros_like()? };
        let x = Tensor::cat(&[&t, features], D::Minus1)?;
        let x = gelu_erf(&self.l1.forward(&x)?)?;
        let x = drop.apply(&x, self.config.dropout)?;
        let x = gelu_erf(&self.l2.forward(&x)?)?;
        let x = drop.apply(&x, self.config.dropout)?;
        let raw = self.out.forward(&x)?;
        let (b, _) = raw.dims2()?;
        let raw = raw.reshape((b, 3, self.config.horizon))?;
        // The median is a correction to the base forecast among the
        // features (see features::base_offset): the head starts from a
        // forecast a multiplicative model would make and learns what it
        // misses.
        let mut mid = raw.narrow(1, 1, 1)?;
        if let Some(at) = self.config.base_offset {
            let base = features.narrow(1, at, self.config.horizon)?.unsqueeze(1)?;
            if self.correction != 1.0 {
                mid = (mid * self.correction)?;
            }
            mid = mid.add(&base)?;
        }
        let lower = softplus(&raw.narrow(1, 0, 1)?)?;
        let upper = softplus(&raw.narrow(1, 2, 1)?)?;
        Tensor::cat(&[&mid.sub(&lower)?, &mid, &mid.add(&upper)?], 1)
    }
}

/// Mean pinball loss over the three quantiles; `pred` (b, 3, h), `target`
/// (b, h).
pub fn pinball_loss(pred: &Tensor, target: &Tensor) -> candle_core::Result<Tensor> {
    let mut total: Option<Tensor> = None;
    for (k, q) in QUANTILES.iter().enumerate() {
        let p = pred.narrow(1, k, 1)?.squeeze(1)?;
        let diff = target.sub(&p)?;
        let l = ((diff.relu()? * *q)? + (diff.neg()?.relu()? * (1.0 - q))?)?.mean_all()?;
        total = Some(match total {
            None => l,
            Some(t) => t.add(&l)?,
        });
    }
    let total = total.ok_or_else(|| candle_core::Error::Msg("no quantiles".into()))?;
    total / QUANTILES.len() as f64
}

/// Widens or narrows the p10..p90 band so that, on the validation windows,
/// 10 % of actuals fall below p10 and 10 % above p90.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub lower: f64,
    pub upper: f64,
    /// The share of the head's correction to the base forecast that is
    /// kept (see `selection::choose_correction`); runs from before it kept all.
    #[serde(default = "one")]
    pub correction: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            lower: 1.0,
            upper: 1.0,
            correction: 1.0,
        }
    }
}

impl Calibration {
    pub fn apply(&self, p10: f64, p50: f64, p90: f64) -> (f64, f64, f64) {
        (
            p50 - (p50 - p10).max(0.0) * self.lower,
            p50,
            p50 + (p90 - p50).max(0.0) * self.upper,
        )
    }
}

/// The validation pinball loss with each share of the head's correction
/// to the base forecast, and the share chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub chosen: f64,
    pub losses: Vec<(f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn quantiles_never_cross_even_for_random_weights() {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let cfg = HeadConfig {
            text_dim: 8,
            text_proj: 4,
            features: 9,
            hidden: 16,
            horizon: 7,
            dropout: 0.0,
            use_text: true,
            base_offset: Some(1),
        };
        let head = DemandHead::new(&cfg, vb).unwrap();
        let text = (Tensor::randn(0f32, 10.0, (64, 8), &dev).unwrap()).clone();
        let feats = Tensor::randn(0f32, 10.0, (64, 9), &dev).unwrap();
        let out = head.forward(&text, &feats, &mut Dropout::off()).unwrap();
        let v: Vec<Vec<Vec<f32>>> = out.to_vec3().unwrap();
        for row in v {
            for ((lo, mid), hi) in row[0].iter().zip(&row[1]).zip(&row[2]) {
                assert!(lo <= mid && mid <= hi);
            }
        }
    }

    #[test]
    fn pinball_matches_hand_computation() {
        let dev = Device::Cpu;
        // one sample, one day: p10=1, p50=2, p90=3, y=2.5
        let pred = Tensor::new(&[[[1f32], [2.0], [3.0]]], &dev).unwrap();
        let y = Tensor::new(&[[2.5f32]], &dev).unwrap();
        let l: f32 = pinball_loss(&pred, &y).unwrap().to_scalar().unwrap();
        // 0.1*1.5 + 0.5*0.5 + 0.1*0.5 = 0.15 + 0.25 + 0.05
        assert!((l - 0.45 / 3.0).abs() < 1e-6, "{l}");
    }
}
