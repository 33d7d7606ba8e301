//! Forecast error measures, defined once and used by the backtests, the CLI
//! and the TUI. Every function takes plain slices; none of them panics on
//! empty input, zeros or a perfect forecast.
//!
//! Definitions (the same as the reference table in the shared data README):
//! - sMAPE: mean over points of 200 |f - a| / (|a| + |f|), with 0/0 = 0.
//! - MASE: mean |f - a| divided by the in-sample mean absolute seasonal
//!   (lag m, 7 for daily data) difference of the series' own history.
//! - WAPE: sum |f - a| / sum |a|. Bias: sum (f - a) / sum a.
//! - Pinball loss at quantile q: mean of max(q (a - f), (q - 1)(a - f)).
//! - Weighted quantile loss: 2 sum of pinball losses / sum |a|, averaged
//!   over the quantiles.

/// sMAPE of one point, in percent; 0 when actual and forecast are both 0.
pub fn smape_point(actual: f64, forecast: f64) -> f64 {
    let denom = actual.abs() + forecast.abs();
    if denom == 0.0 {
        0.0
    } else {
        200.0 * (forecast - actual).abs() / denom
    }
}

/// Mean sMAPE over the points, in percent (NaN for no points).
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    mean(actual.iter().zip(forecast).map(|(a, f)| smape_point(*a, *f)))
}

/// The MASE scale of a history: mean absolute difference at `lag`. `None`
/// when the history is too short or flat (every difference zero).
pub fn mase_scale(history: &[f64], lag: usize) -> Option<f64> {
    if lag == 0 || history.len() <= lag {
        return None;
    }
    let s = mean(history.windows(lag + 1).map(|w| (w[lag] - w[0]).abs()));
    (s > 0.0 && s.is_finite()).then_some(s)
}

/// Mean absolute error over `scale`.
pub fn mase(actual: &[f64], forecast: &[f64], scale: f64) -> f64 {
    mae(actual, forecast) / scale
}

pub fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    mean(actual.iter().zip(forecast).map(|(a, f)| (f - a).abs()))
}

pub fn mse(actual: &[f64], forecast: &[f64]) -> f64 {
    mean(actual.iter().zip(forecast).map(|(a, f)| (f - a).powi(2)))
}

/// Sum |f - a| / sum |a|; NaN when every actual is zero (and the forecast
/// is not), 0 for a perfect forecast of zeros.
pub fn wape(actual: &[f64], forecast: &[f64]) -> f64 {
    ratio(
        actual.iter().zip(forecast).map(|(a, f)| (f - a).abs()).sum(),
        actual.iter().map(|a| a.abs()).sum(),
    )
}

/// Sum (f - a) / sum a: positive when the forecast is too high.
pub fn bias(actual: &[f64], forecast: &[f64]) -> f64 {
    ratio(
        actual.iter().zip(forecast).map(|(a, f)| f - a).sum(),
        actual.iter().sum(),
    )
}

/// Pinball (quantile) loss of one point.
pub fn pinball_point(actual: f64, forecast: f64, q: f64) -> f64 {
    let d = actual - forecast;
    if d >= 0.0 { q * d } else { (q - 1.0) * d }
}

/// Mean pinball loss at quantile `q`.
pub fn pinball(actual: &[f64], forecast: &[f64], q: f64) -> f64 {
    mean(actual.iter().zip(forecast).map(|(a, f)| pinball_point(*a, *f, q)))
}

/// Share of actuals inside [lower, upper].
pub fn coverage(actual: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    mean(
        actual
            .iter()
            .zip(lower.iter().zip(upper))
            .map(|(a, (l, u))| if *a >= *l && *a <= *u { 1.0 } else { 0.0 }),
    )
}

fn ratio(num: f64, den: f64) -> f64 {
    if den != 0.0 {
        num / den
    } else if num == 0.0 {
        0.0
    } else {
        f64::NAN
    }
}

/// Mean of an iterator; NaN when it is empty.
pub fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = it.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Sums that add up over series and windows, so totals are exact (not means
/// of means) and per-series figures come from the same numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Accum {
    pub points: usize,
    pub smape_sum: f64,
    pub abs_err: f64,
    pub sq_err: f64,
    pub err: f64,
    pub abs_actual: f64,
    pub actual: f64,
    /// Sum over points of |e| / scale (points of series with a scale only).
    pub scaled_abs_err: f64,
    pub scaled_points: usize,
    /// Pinball sums at p10, p50, p90.
    pub pinball: [f64; 3],
    pub covered: usize,
}

/// The quantile levels every forecast in skuplan carries.
pub const QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

impl Accum {
    /// Add one window of one series. `scale` is the MASE scale of the
    /// history the forecast was made from.
    pub fn add(&mut self, actual: &[f64], p10: &[f64], p50: &[f64], p90: &[f64], scale: Option<f64>) {
        for i in 0..actual.len().min(p50.len()).min(p10.len()).min(p90.len()) {
            let (a, f) = (actual[i], p50[i]);
            let e = f - a;
            self.points += 1;
            self.smape_sum += smape_point(a, f);
            self.abs_err += e.abs();
            self.sq_err += e * e;
            self.err += e;
            self.abs_actual += a.abs();
            self.actual += a;
            if let Some(s) = scale {
                self.scaled_abs_err += e.abs() / s;
                self.scaled_points += 1;
            }
            for (k, (q, fq)) in QUANTILES.iter().zip([p10[i], f, p90[i]]).enumerate() {
                self.pinball[k] += pinball_point(a, fq, *q);
            }
            if a >= p10[i] && a <= p90[i] {
                self.covered += 1;
            }
        }
    }

    pub fn merge(&mut self, o: &Accum) {
        self.points += o.points;
        self.smape_sum += o.smape_sum;
        self.abs_err += o.abs_err;
        self.sq_err += o.sq_err;
        self.err += o.err;
        self.abs_actual += o.abs_actual;
        self.actual += o.actual;
        self.scaled_abs_err += o.scaled_abs_err;
        self.scaled_points += o.scaled_points;
        for k in 0..3 {
            self.pinball[k] += o.pinball[k];
        }
        self.covered += o.covered;
    }

    pub fn metrics(&self) -> Metrics {
        let n = self.points as f64;
        let per = |x: f64| if self.points == 0 { f64::NAN } else { x / n };
        Metrics {
            points: self.points,
            smape: per(self.smape_sum),
            mase: if self.scaled_points == 0 {
                f64::NAN
            } else {
                self.scaled_abs_err / self.scaled_points as f64
            },
            wape: ratio(self.abs_err, self.abs_actual),
            bias: ratio(self.err, self.actual),
            mae: per(self.abs_err),
            mse: per(self.sq_err),
            pinball: [per(self.pinball[0]), per(self.pinball[1]), per(self.pinball[2])],
            wql: ratio(2.0 * self.pinball.iter().sum::<f64>() / 3.0, self.abs_actual),
            coverage: per(self.covered as f64),
        }
    }
}

/// Error measures of a set of forecasts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub points: usize,
    pub smape: f64,
    pub mase: f64,
    pub wape: f64,
    pub bias: f64,
    pub mae: f64,
    pub mse: f64,
    /// Mean pinball loss at p10, p50, p90.
    pub pinball: [f64; 3],
    /// Weighted quantile loss over p10, p50, p90.
    pub wql: f64,
    /// Share of actuals within p10..p90.
    pub coverage: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn hand_computed_cases() {
        let a = [10.0, 0.0, 5.0, 0.0];
        let f = [12.0, 0.0, 0.0, 2.0];
        // sMAPE points: 200*2/22, 0 (0/0), 200*5/5, 200*2/2
        assert!(close(smape(&a, &f), (400.0 / 22.0 + 0.0 + 200.0 + 200.0) / 4.0));
        assert!(close(wape(&a, &f), 9.0 / 15.0));
        assert!(close(bias(&a, &f), (2.0 - 5.0 + 2.0) / 15.0));
        assert!(close(mse(&a, &f), (4.0 + 25.0 + 4.0) / 4.0));
        assert!(close(mae(&a, &f), 9.0 / 4.0));
        // Pinball at 0.9: under-forecast costs 0.9 per unit, over 0.1.
        assert!(close(
            pinball(&a, &f, 0.9),
            (0.1 * 2.0 + 0.0 + 0.9 * 5.0 + 0.1 * 2.0) / 4.0
        ));
        assert!(close(coverage(&a, &[9.0, 0.0, 6.0, 1.0], &[11.0, 1.0, 7.0, 3.0]), 0.5));
    }

    #[test]
    fn perfect_forecast_scores_zero() {
        let a = [3.0, 0.0, 7.0];
        assert_eq!(smape(&a, &a), 0.0);
        assert_eq!(wape(&a, &a), 0.0);
        assert_eq!(bias(&a, &a), 0.0);
        assert_eq!(mase(&a, &a, 2.0), 0.0);
        assert_eq!(pinball(&a, &a, 0.1), 0.0);
    }

    #[test]
    fn all_zeros_and_constant_series() {
        let z = [0.0; 5];
        assert_eq!(smape(&z, &z), 0.0);
        assert_eq!(wape(&z, &z), 0.0);
        assert!(wape(&z, &[1.0; 5]).is_nan());
        assert_eq!(smape(&z, &[1.0; 5]), 200.0);
        // A flat history has no MASE scale.
        assert_eq!(mase_scale(&[4.0; 30], 7), None);
        assert_eq!(mase_scale(&[1.0, 2.0], 7), None);
        // Lag 1 of 1,3,2: |3-1| and |2-3| -> 1.5
        assert_eq!(mase_scale(&[1.0, 3.0, 2.0], 1), Some(1.5));
        assert!(smape(&[], &[]).is_nan());
    }

    #[test]
    fn accum_totals_match_the_slice_functions() {
        let a = [10.0, 0.0, 5.0, 0.0, 8.0];
        let p50 = [12.0, 0.0, 0.0, 2.0, 8.0];
        let p10 = [8.0, 0.0, 0.0, 0.0, 6.0];
        let p90 = [14.0, 1.0, 3.0, 4.0, 10.0];
        let mut acc = Accum::default();
        acc.add(&a[..2], &p10[..2], &p50[..2], &p90[..2], Some(2.0));
        let mut other = Accum::default();
        other.add(&a[2..], &p10[2..], &p50[2..], &p90[2..], Some(2.0));
        acc.merge(&other);
        let m = acc.metrics();
        assert!(close(m.smape, smape(&a, &p50)));
        assert!(close(m.wape, wape(&a, &p50)));
        assert!(close(m.mase, mase(&a, &p50, 2.0)));
        assert!(close(m.pinball[2], pinball(&a, &p90, 0.9)));
        assert!(close(m.coverage, coverage(&a, &p10, &p90)));
        let wql = 2.0 * (pinball(&a, &p10, 0.1) + pinball(&a, &p50, 0.5) + pinball(&a, &p90, 0.9)) * 5.0 / 3.0 / 23.0;
        assert!(close(m.wql, wql));
    }
}
