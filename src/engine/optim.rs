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
use skuplan_kernels::{AdamWStep, adamw_in_place, is_host_f32};

/// Run `f` on a tensor's values when they are contiguous f32 on the CPU.
fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else {
        return None;
    };
    let (a, b) = layout.contiguous_offsets()?;
    let values = cpu.as_slice::<f32>().ok()?;
    Some(f(values.get(a..b)?))
}

pub struct Param {
    pub name: String,
    pub var: Var,
    /// Multiplies the schedule's rate (the encoder learns slower).
    pub lr_scale: f64,
    pub decay: bool,
    moments: Moments,
}

/// The first and second moment estimates of one parameter: plain vectors
/// updated in place beside an f32 CPU weight (a full fine-tuning step
/// would otherwise allocate, fault in and copy three fresh copies of the
/// 47 MB word-embedding table every step), tensors anywhere else.
enum Moments {
    Host { m: Vec<f32>, v: Vec<f32> },
    Tensors { m: Tensor, v: Tensor },
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
        let moments = if is_host_f32(var.as_tensor()) {
            let n = var.elem_count();
            Moments::Host {
                m: vec![0.0; n],
                v: vec![0.0; n],
            }
        } else {
            Moments::Tensors {
                m: var.zeros_like()?,
                v: var.zeros_like()?,
            }
        };
        self.params.push(Param {
            name: name.to_string(),
            var,
            lr_scale,
            decay,
            moments,
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
                let fused = with_f32(g, |s| s.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>());
                total += match fused {
                    Some(s) => s,
                    None => f64::from(g.sqr()?.sum_all()?.to_dtype(DType::F32)?.to_scalar::<f32>()?),
                };
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
        let (beta1, beta2, eps) = (self.beta1, self.beta2, self.eps);
        for p in &mut self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            let rate = lr * p.lr_scale;
            let decay = if p.decay { self.weight_decay } else { 0.0 };
            let (m, v) = match &mut p.moments {
                Moments::Host { m, v } => {
                    let step = AdamWStep {
                        beta1,
                        beta2,
                        eps,
                        factor,
                        rate,
                        decay,
                        bias: (bc1, bc2),
                    };
                    adamw_in_place(p.var.as_tensor(), g, m, v, step)?;
                    continue;
                }
                Moments::Tensors { m, v } => (m, v),
            };
            let g = (g * factor)?;
            let new_m = ((&*m * beta1)? + (&g * (1.0 - beta1))?)?;
            let new_v = ((&*v * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
            let mhat = (&new_m / bc1)?;
            let vhat = (&new_v / bc2)?;
            let update = (mhat / (vhat.sqrt()? + eps)?)?;
            let mut w = p.var.as_tensor().clone();
            if decay > 0.0 {
                w = (w * (1.0 - rate * decay))?;
            }
            let w = (w - (update * rate)?)?;
            p.var.set(&w.detach())?;
            *m = new_m.detach();
            *v = new_v.detach();
        }
        Ok(StepInfo {
            grad_norm: norm,
            clipped: factor < 1.0,
        })
    }

    /// The moment estimates, named `m.<param>` and `v.<param>`.
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for p in &self.params {
            let (m, v) = match &p.moments {
                Moments::Host { m, v } => {
                    let shape = p.var.shape();
                    let dev = p.var.device();
                    (Tensor::from_slice(m, shape, dev)?, Tensor::from_slice(v, shape, dev)?)
                }
                Moments::Tensors { m, v } => (m.clone(), v.clone()),
            };
            out.insert(format!("m.{}", p.name), m);
            out.insert(format!("v.{}", p.name), v);
        }
        Ok(out)
    }

    pub fn load_state(&mut self, state: &HashMap<String, Tensor>, step: usize) -> Result<()> {
        for p in &mut self.params {
            let get = |k: String| {
                let t = state
                    .get(&k)
                    .ok_or_else(|| anyhow!("the checkpoint has no optimiser state {k}"))?;
                if t.shape() != p.var.shape() {
                    return Err(anyhow!(
                        "the checkpoint's optimiser state {k} has shape {:?}, the model's {:?}",
                        t.dims(),
                        p.var.dims()
                    ));
                }
                Ok(t.clone())
            };
            let (m, v) = (get(format!("m.{}", p.name))?, get(format!("v.{}", p.name))?);
            match &mut p.moments {
                Moments::Host { m: hm, v: hv } => {
                    *hm = m.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
                    *hv = v.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
                }
                Moments::Tensors { m: tm, v: tv } => {
                    *tm = m.to_device(p.var.device())?;
                    *tv = v.to_device(p.var.device())?;
                }
            }
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

    /// The one-pass update is AdamW: after one step from zero moments the
    /// update is the sign of the gradient (|g| / (|g| + eps)), weights
    /// shrink by the decay, and the moments are (1 - beta) g and g².
    #[test]
    fn the_fused_step_is_adamw() {
        let dev = Device::Cpu;
        let w = Var::new(&[[1f32, -2.0, 3.0]], &dev).unwrap();
        let mut opt = AdamW::new(0.01);
        opt.add("w", w.clone(), 1.0).unwrap();
        let g = Tensor::new(&[[0.5f32, 0.5, -1.0]], &dev).unwrap();
        let loss = w.as_tensor().mul(&g).unwrap().sum_all().unwrap();
        opt.step(&loss.backward().unwrap(), 0.1, 0.0).unwrap();
        let got: Vec<Vec<f32>> = w.as_tensor().to_vec2().unwrap();
        let want = [1.0 * 0.999 - 0.1, -2.0 * 0.999 - 0.1, 3.0 * 0.999 + 0.1];
        for (a, b) in got[0].iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{got:?} vs {want:?}");
        }
        let state = opt.state().unwrap();
        let m: Vec<Vec<f32>> = state["m.w"].to_vec2().unwrap();
        let v: Vec<Vec<f32>> = state["v.w"].to_vec2().unwrap();
        assert!(
            (m[0][2] + 0.1).abs() < 1e-6 && (v[0][2] - 0.001).abs() < 1e-7,
            "{m:?} {v:?}"
        );
    }

    /// The in-place CPU update and the tensor-op one (CUDA's) agree over
    /// several steps with decay and clipping, moments included.
    #[test]
    fn the_in_place_and_tensor_updates_agree() {
        let dev = Device::Cpu;
        let start = Tensor::new(&[[0.5f32, -1.5, 2.0], [0.1, 0.0, -0.3]], &dev).unwrap();
        let a = Var::from_tensor(&start).unwrap();
        let b = Var::from_tensor(&start).unwrap();
        let mut opt = AdamW::new(0.05);
        opt.add("a", a.clone(), 1.0).unwrap();
        opt.add("b", b.clone(), 1.0).unwrap();
        // The second parameter takes the path a GPU tensor would.
        opt.params[1].moments = Moments::Tensors {
            m: b.zeros_like().unwrap(),
            v: b.zeros_like().unwrap(),
        };
        assert!(matches!(opt.params[0].moments, Moments::Host { .. }));
        let target = Tensor::new(&[[1f32, 2.0, -1.0], [0.5, 0.5, 0.5]], &dev).unwrap();
        for _ in 0..5 {
            let loss = (a.as_tensor().sub(&target).unwrap().sqr().unwrap().sum_all().unwrap()
                + b.as_tensor().sub(&target).unwrap().sqr().unwrap().sum_all().unwrap())
            .unwrap();
            opt.step(&loss.backward().unwrap(), 0.1, 1.0).unwrap();
        }
        let state = opt.state().unwrap();
        for (x, y) in [
            (a.as_tensor().clone(), b.as_tensor().clone()),
            (state["m.a"].clone(), state["m.b"].clone()),
            (state["v.a"].clone(), state["v.b"].clone()),
        ] {
            let x: Vec<Vec<f32>> = x.to_vec2().unwrap();
            let y: Vec<Vec<f32>> = y.to_vec2().unwrap();
            for (p, q) in x.iter().flatten().zip(y.iter().flatten()) {
                assert!((p - q).abs() < 1e-5, "{x:?} vs {y:?}");
            }
        }
        assert_ne!(a.as_tensor().to_vec2::<f32>().unwrap(), start.to_vec2::<f32>().unwrap());
    }
}
