//! AdamW with decoupled weight decay, gradient clipping by global norm and
//! a warm-up + cosine learning-rate schedule.
//!
//! Our own rather than candle_nn::AdamW because a checkpoint must hold the
//! moment estimates for a resumed run to reproduce an uninterrupted one,
//! and candle's optimiser keeps them private.

use std::collections::HashMap;

use anyhow::{Result, anyhow};
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};

pub struct Param {
    pub name: String,
    pub var: Var,
    /// Multiplies the schedule's rate (the encoder learns slower).
    pub lr_scale: f64,
    pub decay: bool,
    m: Tensor,
    v: Tensor,
}

pub struct AdamW {
    pub params: Vec<Param>,
    pub step: usize,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

/// What one optimiser step saw.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo {
    pub grad_norm: f64,
    pub clipped: bool,
}

impl AdamW {
    pub fn new(weight_decay: f64) -> Self {
        AdamW {
            params: Vec::new(),
            step: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }

    pub fn add(&mut self, name: &str, var: Var, lr_scale: f64) -> Result<()> {
        // Biases and layer-norm gains are not decayed (the usual practice).
        let decay = var.rank() > 1;
        let m = var.zeros_like()?;
        let v = var.zeros_like()?;
        self.params.push(Param {
            name: name.to_string(),
            var,
            lr_scale,
            decay,
            m,
            v,
        });
        Ok(())
    }

    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }

    /// Global L2 norm of the gradients of our parameters.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut total = 0f64;
        for p in &self.params {
            if let Some(g) = grads.get(p.var.as_tensor()) {
                let s: f32 = g.sqr()?.sum_all()?.to_dtype(DType::F32)?.to_scalar()?;
                total += s as f64;
            }
        }
        Ok(total.sqrt())
    }

    /// One update at learning rate `lr`, clipping the global gradient norm
    /// to `clip` first. Errors if the gradients are not finite.
    pub fn step(&mut self, grads: &GradStore, lr: f64, clip: f64) -> Result<StepInfo> {
        let norm = self.grad_norm(grads)?;
        if !norm.is_finite() {
            return Err(anyhow!("the gradient norm is {norm}"));
        }
        let factor = if clip > 0.0 && norm > clip { clip / norm } else { 1.0 };
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        for p in &mut self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            let g = (g * factor)?;
            let m = ((&p.m * self.beta1)? + (&g * (1.0 - self.beta1))?)?;
            let v = ((&p.v * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let rate = lr * p.lr_scale;
            let mhat = (&m / bc1)?;
            let vhat = (&v / bc2)?;
            let update = (mhat / (vhat.sqrt()? + self.eps)?)?;
            let mut w = p.var.as_tensor().clone();
            if p.decay && self.weight_decay > 0.0 {
                w = (w * (1.0 - rate * self.weight_decay))?;
            }
            let w = (w - (update * rate)?)?;
            p.var.set(&w.detach())?;
            p.m = m.detach();
            p.v = v.detach();
        }
        Ok(StepInfo {
            grad_norm: norm,
            clipped: factor < 1.0,
        })
    }

    /// The moment estimates, named `m.<param>` and `v.<param>`.
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for p in &self.params {
            out.insert(format!("m.{}", p.name), p.m.clone());
            out.insert(format!("v.{}", p.name), p.v.clone());
        }
        out
    }

    pub fn load_state(&mut self, state: &HashMap<String, Tensor>, step: usize) -> Result<()> {
        for p in &mut self.params {
            let get = |k: String| {
                state
                    .get(&k)
                    .cloned()
                    .ok_or_else(|| anyhow!("the checkpoint has no optimiser state {k}"))
            };
            p.m = get(format!("m.{}", p.name))?.to_device(p.var.device())?;
            p.v = get(format!("v.{}", p.name))?.to_device(p.var.device())?;
        }
        self.step = step;
        Ok(())
    }
}

/// Linear warm-up over `warmup` steps, then cosine decay to 10 % of `base`
/// at `total`.
pub fn schedule(base: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    base * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!(schedule(1.0, 0, 10, 100) < schedule(1.0, 5, 10, 100));
        assert!((schedule(1.0, 9, 10, 100) - 1.0).abs() < 1e-12);
        assert!(schedule(1.0, 50, 10, 100) < 1.0);
        assert!((schedule(1.0, 100, 10, 100) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn minimises_a_quadratic() {
        let dev = Device::Cpu;
        let w = Var::new(&[3f32, -2.0], &dev).unwrap();
        let mut opt = AdamW::new(0.0);
        opt.add("w", w.clone(), 1.0).unwrap();
        for _ in 0..500 {
            let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            opt.step(&grads, 0.05, 0.0).unwrap();
        }
        let v: Vec<f32> = w.as_tensor().to_vec1().unwrap();
        assert!(v.iter().all(|x| x.abs() < 0.05), "{v:?}");
    }
}
