//! skuplan's CPU kernels for training the encoder: candle runs
//! element-wise ops on one thread, makes a temporary per op, and reduces a
//! broadcast's gradient with a strided loop; these run in parallel, in one
//! pass forward and one backward, and the AdamW step updates weights in
//! place. Each entry point takes this path for contiguous f32 tensors on
//! the CPU and candle's own ops anywhere else (CUDA), so both train alike.
//!
//! A crate of its own so that it is compiled optimised even in debug
//! builds (see the workspace's Cargo.toml): unoptimised, these loops made
//! `cargo run`'s training several times slower than candle's own ops.

use std::cell::RefCell;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Elements (or rows x width) per parallel task.
const ELEMENTS: usize = 1 << 13;

fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// (x - mean) / sqrt(var + eps) over the last dimension.
pub fn normalize(x: &Tensor, eps: f32) -> candle_core::Result<Tensor> {
    if fused(x) {
        x.contiguous()?.apply_op1(Normalize { eps })
    } else {
        let mean = x.mean_keepdim(candle_core::D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
        centred.broadcast_div(&(var + eps as f64)?.sqrt()?)
    }
}

/// (x - mean) / sqrt(var + eps) over the last dimension, f32 on the CPU, in
/// one pass over each row, and its gradient in one more:
/// dx = (g - mean(g) - y * mean(g * y)) / sqrt(var + eps), y the output.
struct Normalize {
    eps: f32,
}

/// The row length and the contiguous f32 data of a CPU tensor's storage.
fn rows_of<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<(usize, &'a [f32])> {
    let (a, b) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("a fused op's input is not contiguous".into()))?;
    let dim = *l
        .shape()
        .dims()
        .last()
        .ok_or_else(|| candle_core::Error::Msg("a fused op's input is a scalar".into()))?;
    Ok((dim.max(1), &s.as_slice::<f32>()?[a..b]))
}

impl CustomOp1 for Normalize {
    fn name(&self) -> &'static str {
        "skuplan-normalize"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (dim, x) = rows_of(s, l)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(dim).zip(x.par_chunks(dim)).for_each(|(o, r)| {
            let n = r.len() as f32;
            let mean = r.iter().sum::<f32>() / n;
            let var = r.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = (var + self.eps).sqrt().recip();
            for (o, v) in o.iter_mut().zip(r) {
                *o = (v - mean) * inv;
            }
        });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let grad = grad_res.contiguous()?;
        let g = arg.apply_op3_no_bwd(res, &grad, &NormalizeGrad { eps: self.eps })?;
        Ok(Some(g))
    }
}

/// The gradient of [`Normalize`] from its input, output and the output's
/// gradient.
struct NormalizeGrad {
    eps: f32,
}

impl CustomOp3 for NormalizeGrad {
    fn name(&self) -> &'static str {
        "skuplan-normalize-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sy: &CpuStorage,
        ly: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (dim, x) = rows_of(sx, lx)?;
        let (_, y) = rows_of(sy, ly)?;
        let (_, g) = rows_of(sg, lg)?;
        if x.len() != y.len() || x.len() != g.len() {
            candle_core::bail!("normalize-grad: shapes differ");
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(dim)
            .zip(x.par_chunks(dim).zip(y.par_chunks(dim).zip(g.par_chunks(dim))))
            .for_each(|(o, (xr, (yr, gr)))| {
                let n = xr.len() as f32;
                let mean = xr.iter().sum::<f32>() / n;
                let var = xr.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
                let inv = (var + self.eps).sqrt().recip();
                let mean_g = gr.iter().sum::<f32>() / n;
                let mean_gy = gr.iter().zip(yr).map(|(a, b)| a * b).sum::<f32>() / n;
                for ((o, gv), yv) in o.iter_mut().zip(gr).zip(yr) {
                    *o = (gv - mean_g - yv * mean_gy) * inv;
                }
            });
        Ok((CpuStorage::F32(out), lx.shape().clone()))
    }
}

/// GELU, the erf form.
pub fn gelu_erf(x: &Tensor) -> candle_core::Result<Tensor> {
    if fused(x) {
        x.contiguous()?.apply_op1(Gelu)
    } else {
        x.gelu_erf()
    }
}

/// erf(z) for z >= 0 and exp(-z^2): Abramowitz and Stegun 7.1.26 (largest
/// error 1.5e-7, a few f32 steps near 1), about five times
/// cheaper than libm's erff; the exponential is handed back because the
/// gradient needs it too.
#[inline]
fn erf_and_gauss(z: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152, 1.061_405_4];
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = (-z * z).exp();
    (1.0 - poly * gauss, gauss)
}

/// Phi(x), the standard normal CDF, and exp(-x^2 / 2).
#[inline]
fn cdf_and_gauss(x: f32) -> (f32, f32) {
    let (erf, gauss) = erf_and_gauss(x.abs() * std::f32::consts::FRAC_1_SQRT_2);
    (0.5 * (1.0 + erf.copysign(x)), gauss)
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "skuplan-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, x) = rows_of(s, l)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ELEMENTS)
            .zip(x.par_chunks(ELEMENTS))
            .for_each(|(o, x)| {
                for (o, &v) in o.iter_mut().zip(x) {
                    *o = v * cdf_and_gauss(v).0;
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let grad = grad_res.contiguous()?;
        Ok(Some(arg.apply_op2_no_bwd(&grad, &GeluGrad)?))
    }
}

/// d gelu / dx = Phi(x) + x phi(x), times the output's gradient.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "skuplan-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        // 1 / sqrt(2 pi)
        const INV_SQRT_TAU: f32 = 0.398_942_3;
        let (_, x) = rows_of(sx, lx)?;
        let (_, g) = rows_of(sg, lg)?;
        if x.len() != g.len() {
            candle_core::bail!("gelu-grad: shapes differ");
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ELEMENTS)
            .zip(x.par_chunks(ELEMENTS).zip(g.par_chunks(ELEMENTS)))
            .for_each(|(o, (x, g))| {
                for ((o, &v), &gv) in o.iter_mut().zip(x).zip(g) {
                    let (cdf, gauss) = cdf_and_gauss(v);
                    *o = gv * (cdf + v * INV_SQRT_TAU * gauss);
                }
            });
        Ok((CpuStorage::F32(out), lx.shape().clone()))
    }
}

/// x + b, b broadcast over the rows of x (its last dimension): a linear
/// layer's bias.
pub fn add_bias(x: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if fused(x) && fused(b) && b.rank() == 1 && x.dims().last() == Some(&b.elem_count()) {
        x.contiguous()?.apply_op2(&b.contiguous()?, AddBias)
    } else {
        x.broadcast_add(b)
    }
}

/// x * w + b, w and b broadcast over the rows of x: a layer norm's gain
/// and shift.
pub fn scale_shift(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let width = x.dims().last().copied();
    if fused(x)
        && fused(w)
        && fused(b)
        && w.rank() == 1
        && b.rank() == 1
        && width == Some(w.elem_count())
        && width == Some(b.elem_count())
    {
        x.contiguous()?
            .apply_op3(&w.contiguous()?, &b.contiguous()?, ScaleShift)
    } else {
        x.broadcast_mul(w)?.broadcast_add(b)
    }
}

/// Whole rows of `width` values per parallel task, about ELEMENTS in all.
fn row_block(width: usize) -> usize {
    (ELEMENTS / width.max(1)).max(1) * width.max(1)
}

/// Column sums of row-major `rows x width` values, and of their products
/// with `by` when given, in parallel blocks of rows.
fn column_sums(g: &[f32], by: Option<&[f32]>, width: usize) -> (Vec<f32>, Vec<f32>) {
    let block = row_block(width);
    let zero = || (vec![0f32; width], vec![0f32; width]);
    let part = |k: usize, rows: &[f32]| {
        let (mut sum, mut dot) = zero();
        for (r, row) in rows.chunks(width).enumerate() {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
            if let Some(by) = by {
                let at = k * block + r * width;
                for ((d, v), w) in dot.iter_mut().zip(row).zip(&by[at..at + width]) {
                    *d += v * w;
                }
            }
        }
        (sum, dot)
    };
    g.par_chunks(block)
        .enumerate()
        .map(|(k, rows)| part(k, rows))
        .reduce(zero, |(mut s1, mut d1), (s2, d2)| {
            for (a, b) in s1.iter_mut().zip(&s2) {
                *a += b;
            }
            for (a, b) in d1.iter_mut().zip(&d2) {
                *a += b;
            }
            (s1, d1)
        })
}

/// Column sums of a (rows x width) gradient: a bias's gradient.
struct ColumnSums;

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "skuplan-column-sums"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (width, g) = rows_of(s, l)?;
        Ok((CpuStorage::F32(column_sums(g, None, width).0), Shape::from(width)))
    }
}

/// Column sums of grad x x (row 0) and of grad (row 1), both (rows x
/// width): a gain's and a shift's gradients.
struct ColumnDots;

impl CustomOp2 for ColumnDots {
    fn name(&self) -> &'static str {
        "skuplan-column-dots"
    }

    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        sx: &CpuStorage,
        lx: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (width, g) = rows_of(sg, lg)?;
        let (_, x) = rows_of(sx, lx)?;
        if x.len() != g.len() {
            candle_core::bail!(
                "column-dots: the gradient has {} values, the input {}",
                g.len(),
                x.len()
            );
        }
        let (sum, mut dot) = column_sums(g, Some(x), width);
        dot.extend_from_slice(&sum);
        Ok((CpuStorage::F32(dot), Shape::from((2, width))))
    }
}

struct AddBias;

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "skuplan-add-bias"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (width, x) = rows_of(sx, lx)?;
        let (_, b) = rows_of(sb, lb)?;
        if b.len() != width {
            candle_core::bail!("add-bias: the bias has {} values for rows of {width}", b.len());
        }
        let mut out = x.to_vec();
        let block = row_block(width);
        out.par_chunks_mut(block).for_each(|rows| {
            for row in rows.chunks_mut(width) {
                for (v, b) in row.iter_mut().zip(b) {
                    *v += b;
                }
            }
        });
        Ok((CpuStorage::F32(out), lx.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad_res.contiguous()?;
        let sums = grad.apply_op1_no_bwd(&ColumnSums)?.reshape(b.shape())?;
        Ok((Some(grad), Some(sums)))
    }
}

struct ScaleShift;

impl CustomOp3 for ScaleShift {
    fn name(&self) -> &'static str {
        "skuplan-scale-shift"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (width, x) = rows_of(sx, lx)?;
        let (_, w) = rows_of(sw, lw)?;
        let (_, b) = rows_of(sb, lb)?;
        if w.len() != width || b.len() != width {
            candle_core::bail!("scale-shift: gain and shift must have {width} values");
        }
        let mut out = vec![0f32; x.len()];
        let block = row_block(width);
        out.par_chunks_mut(block).zip(x.par_chunks(block)).for_each(|(o, x)| {
            for (orow, xrow) in o.chunks_mut(width).zip(x.chunks(width)) {
                for (((o, x), w), b) in orow.iter_mut().zip(xrow).zip(w).zip(b) {
                    *o = x * w + b;
                }
            }
        });
        Ok((CpuStorage::F32(out), lx.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad_res.contiguous()?;
        // Row 0: the column sums of grad x x; row 1: of grad.
        let sums = grad.apply_op2_no_bwd(&x.contiguous()?, &ColumnDots)?;
        let (dot, sum) = (sums.get(0)?.reshape(w.shape())?, sums.get(1)?.reshape(b.shape())?);
        let grad_x = grad.broadcast_mul(w)?;
        Ok((Some(grad_x), Some(dot), Some(sum)))
    }
}

/// The largest absolute difference between two tensors (the tests compare
/// the kernels with candle's ops).
pub fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    let d = a
        .sub(b)
        .and_then(|d| d.abs())
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0));
    d.and_then(|d| d.to_scalar()).unwrap_or(f32::INFINITY)
}

/// AdamW's constants for one step of one parameter.
#[derive(Debug, Clone, Copy)]
pub struct AdamWStep {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Gradient clipping's factor.
    pub factor: f64,
    pub rate: f64,
    pub decay: f64,
    /// 1 - beta1^t and 1 - beta2^t.
    pub bias: (f64, f64),
}

/// One AdamW step for an f32 CPU `weight` (see [`is_host_f32`]), in place,
/// with its moments `m` and `v` updated beside it in the same parallel
/// pass (the tensor-op version makes a dozen temporaries per parameter:
/// most of a full fine-tuning step on a CPU).
pub fn adamw_in_place(
    weight: &Tensor,
    grad: &Tensor,
    m: &mut [f32],
    v: &mut [f32],
    step: AdamWStep,
) -> candle_core::Result<()> {
    // candle takes the storages' locks in a fixed order and refuses a
    // gradient that shares the weight's storage.
    weight.inplace_op2(
        &grad.contiguous()?,
        &HostUpdate {
            m: RefCell::new(m),
            v: RefCell::new(v),
            step,
        },
    )
}

/// Whether [`adamw_in_place`] can update this weight.
pub fn is_host_f32(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32 && t.is_contiguous()
}

/// The AdamW update of one f32 CPU weight, applied to its storage in
/// place, with the moments updated beside it, in one parallel pass (the
/// tensor-op version makes a dozen temporaries per parameter: most of a
/// full fine-tuning step on a CPU).
struct HostUpdate<'a> {
    m: RefCell<&'a mut [f32]>,
    v: RefCell<&'a mut [f32]>,
    step: AdamWStep,
}

impl candle_core::InplaceOp2 for HostUpdate<'_> {
    fn name(&self) -> &'static str {
        "adamw-host"
    }

    fn cpu_fwd(
        &self,
        storage: &mut CpuStorage,
        layout: &Layout,
        g_storage: &CpuStorage,
        g_layout: &Layout,
    ) -> candle_core::Result<()> {
        const CHUNK: usize = 1 << 14;
        let CpuStorage::F32(all) = storage else {
            candle_core::bail!("adamw-host: the weight is not f32");
        };
        let Some((a, b)) = layout.contiguous_offsets() else {
            candle_core::bail!("adamw-host: the weight is not contiguous");
        };
        let w = &mut all[a..b];
        let CpuStorage::F32(g_all) = g_storage else {
            candle_core::bail!("adamw-host: the gradient is not f32");
        };
        let Some((ga, gb)) = g_layout.contiguous_offsets() else {
            candle_core::bail!("adamw-host: the gradient is not contiguous");
        };
        let g = &g_all[ga..gb];
        let mut m = self.m.borrow_mut();
        let mut v = self.v.borrow_mut();
        let n = w.len();
        if g.len() != n || m.len() != n || v.len() != n {
            candle_core::bail!(
                "adamw-host: sizes differ (weight {n}, gradient {}, moments {})",
                g.len(),
                m.len()
            );
        }
        let s = self.step;
        let (b1, b2, eps) = (s.beta1 as f32, s.beta2 as f32, s.eps as f32);
        let (factor, rate) = (s.factor as f32, s.rate as f32);
        let (bc1, bc2) = (s.bias.0 as f32, s.bias.1 as f32);
        let shrink = 1.0 - rate * s.decay as f32;
        w.par_chunks_mut(CHUNK)
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .zip(g.par_chunks(CHUNK))
            .for_each(|(((cw, cm), cv), cg)| {
                for i in 0..cw.len() {
                    let gi = cg[i] * factor;
                    let mi = b1 * cm[i] + (1.0 - b1) * gi;
                    let vi = b2 * cv[i] + (1.0 - b2) * gi * gi;
                    cm[i] = mi;
                    cv[i] = vi;
                    let update = (mi / bc1) / ((vi / bc2).sqrt() + eps);
                    cw[i] = cw[i] * shrink - rate * update;
                }
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn var(shape: &[usize], mean: f32, std: f32) -> Var {
        Var::from_tensor(&Tensor::randn(mean, std, shape, &Device::Cpu).unwrap()).unwrap()
    }

    #[test]
    fn fused_gelu_matches_candles_forward_and_backward() {
        // Wide enough to span several parallel chunks, with values out in
        // both tails.
        let x = var(&[4, 3, 1500], 0.0, 3.0);
        let r = Tensor::randn(0f32, 1.0, (4, 3, 1500), &Device::Cpu).unwrap();
        let fused = gelu_erf(x.as_tensor()).unwrap();
        let plain = x.as_tensor().gelu_erf().unwrap();
        assert!(max_diff(&fused, &plain) < 1e-5, "forward {}", max_diff(&fused, &plain));
        let gf = fused.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
        let gp = plain.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
        let (a, b) = (gf.get(x.as_tensor()).unwrap(), gp.get(x.as_tensor()).unwrap());
        // candle's derivative rounds 1/sqrt(2 pi) to 0.398942.
        assert!(max_diff(a, b) < 1e-4, "gradient {}", max_diff(a, b));
        let total: f32 = a.abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!(total > 1.0, "the gradient is all but zero: {total}");
    }

    #[test]
    fn the_erf_approximation_is_within_f32_resolution() {
        for k in 0..=4000 {
            let z = k as f32 * 0.001 * 4.0 - 8.0;
            let want = candle_core::cpu::erf::erf_f64(f64::from(z) * std::f64::consts::FRAC_1_SQRT_2);
            let got = 2.0 * cdf_and_gauss(z).0 - 1.0;
            assert!((f64::from(got) - want).abs() < 5e-7, "erf({z}/sqrt 2): {got} vs {want}");
        }
    }

    /// Bias and gain-and-shift: the same values and gradients as candle's
    /// broadcast ops, for a 3-d input whose rows span several blocks.
    #[test]
    fn bias_and_scale_shift_match_broadcasting() {
        let x = var(&[5, 70, 33], 0.5, 2.0);
        let w = var(&[33], 1.0, 0.3);
        let b = var(&[33], 0.0, 0.3);
        let r = Tensor::randn(0f32, 1.0, (5, 70, 33), &Device::Cpu).unwrap();
        let cases: [(&str, Tensor, Tensor, Vec<&Var>); 2] = [
            (
                "bias",
                add_bias(x.as_tensor(), b.as_tensor()).unwrap(),
                x.as_tensor().broadcast_add(b.as_tensor()).unwrap(),
                vec![&x, &b],
            ),
            (
                "scale-shift",
                scale_shift(x.as_tensor(), w.as_tensor(), b.as_tensor()).unwrap(),
                x.as_tensor()
                    .broadcast_mul(w.as_tensor())
                    .unwrap()
                    .broadcast_add(b.as_tensor())
                    .unwrap(),
                vec![&x, &w, &b],
            ),
        ];
        for (name, fused, plain, vars) in cases {
            assert!(max_diff(&fused, &plain) < 1e-5, "{name} forward");
            let gf = fused.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
            let gp = plain.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
            for v in vars {
                let (a, c) = (gf.get(v.as_tensor()).unwrap(), gp.get(v.as_tensor()).unwrap());
                assert_eq!(a.dims(), c.dims(), "{name}");
                assert!(max_diff(a, c) < 1e-3, "{name} gradient {}", max_diff(a, c));
            }
        }
    }
}
