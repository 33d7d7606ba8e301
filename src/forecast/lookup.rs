//! Reading a series by period index, as the features do: before its start
//! nothing is known, past its recorded end (but within the data) nothing
//! was sold.

use crate::domain::DemandSeries;

pub(crate) fn value(series: &DemandSeries, i: i64) -> Option<f64> {
    if i < 0 {
        None
    } else {
        // Past the recorded end (but within the data) nothing was sold.
        Some(series.values.get(i as usize).copied().unwrap_or(0.0))
    }
}

pub(crate) fn promo(series: &DemandSeries, i: i64) -> f32 {
    match &series.promo {
        Some(p) if i >= 0 => p.get(i as usize).map_or(0.0, |b| if *b { 1.0 } else { 0.0 }),
        _ => 0.0,
    }
}

/// Mean of the known values in `[from, to]` (inclusive), and how many.
pub(crate) fn mean(series: &DemandSeries, from: i64, to: i64) -> (f64, usize) {
    let mut sum = 0.0;
    let mut n = 0;
    for i in from.max(0)..=to {
        if let Some(v) = value(series, i) {
            sum += v;
            n += 1;
        }
    }
    if n == 0 { (0.0, 0) } else { (sum / n as f64, n) }
}
