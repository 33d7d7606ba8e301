//! `skuplan bench text`: what the product text is worth on one split. The
//! run with text and the run without it (same mode, same time budget), and
//! the best classical baseline, forecast the same days; launches (first
//! sale inside the window) have their sales hidden and are forecast from
//! their product rows and launch dates alone.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

use crate::data::{ImportOptions, import_paths};
use crate::domain::{Dataset, SeriesForecast};
use crate::forecast::QuantileForecast;
use crate::forecast::launch::{Launches, forecast_launches};
use crate::forecast::metrics::Accum;

/// What `skuplan bench text` runs.
pub struct TextBench {
    pub data: PathBuf,
    /// The last day anything learns from (default: the data's last day
    /// minus the horizon).
    pub origin: Option<NaiveDate>,
    pub horizon: usize,
    /// Training minutes of each run (the same for both).
    pub minutes: f64,
    pub epochs: usize,
    pub model: Option<PathBuf>,
}

/// Products first sold this shortly before the origin are "new".
const NEW_DAYS: i64 = 90;

/// Scores of one method: all series, new products, launches.
#[derive(Default)]
struct Row {
    all: Accum,
    new: Accum,
    launch: Accum,
    /// Σ |forecast total - actual total| and Σ actual total over launches.
    launch_total: (f64, f64),
    /// Launch days: how the band sits on them (see [`LaunchDays`]).
    launch_days: LaunchDays,
}

/// Where the launch days fell against their p10..p90 band. A day without
/// sales is inside the band whenever p10 is 0, as it is for most launches
/// (they sell on few days), so the coverage is read with the share of such
/// days and the shares below p10 and above p90 (of all launch days).
#[derive(Default)]
struct LaunchDays {
    without_sales: usize,
    with_sales: usize,
    below_p10: usize,
    above_p90: usize,
}

impl LaunchDays {
    fn add(&mut self, a: &[f64], p10: &[f64], p90: &[f64]) {
        for ((a, lo), hi) in a.iter().zip(p10).zip(p90) {
            if *a > 0.0 {
                self.with_sales += 1;
            } else {
                self.without_sales += 1;
            }
            // Outside the band as Accum's coverage counts it.
            self.below_p10 += usize::from(*a < *lo);
            self.above_p90 += usize::from(*a > *hi);
        }
    }
}

impl Row {
    fn add(&mut self, group: Group, actual: &[f64], f: &QuantileForecast) {
        let n = actual.len().min(f.p50.len());
        let (a, p10, p50, p90) = (&actual[..n], &f.p10[..n], &f.p50[..n], &f.p90[..n]);
        self.all.add(a, p10, p50, p90, None);
        match group {
            Group::New => self.new.add(a, p10, p50, p90, None),
            Group::Launch => {
                self.launch.add(a, p10, p50, p90, None);
                self.launch_days.add(a, p10, p90);
                let (fs, as_): (f64, f64) = (p50.iter().sum(), a.iter().sum());
                self.launch_total.0 += (fs - as_).abs();
                self.launch_total.1 += as_;
            }
            Group::Old => {}
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Group {
    Old,
    New,
    Launch,
}

/// The series of `full` scored on the window, with the days each is
/// scored on (a launch from its first sale).
struct Target {
    /// Index in `full.demand`.
    full: usize,
    /// Index in the cut data (None for a launch).
    cut: Option<usize>,
    group: Group,
    /// First scored period of the window (0 unless a launch).
    from: usize,
    actual: Vec<f64>,
}

fn quantiles(f: &SeriesForecast, from: usize) -> QuantileForecast {
    QuantileForecast {
        p10: f.p10.get(from..).unwrap_or_default().to_vec(),
        p50: f.p50.get(from..).unwrap_or_default().to_vec(),
        p90: f.p90.get(from..).unwrap_or_default().to_vec(),
    }
}

/// Split `full` at `origin`: the data as it stood then, with each launch's
/// product row given its launch date and its sales hidden.
fn split(full: &Dataset, origin: NaiveDate, horizon: usize) -> Result<(Dataset, Vec<Target>)> {
    let period = full.period();
    let start = period.step(origin, 1);
    let end = period.step(origin, horizon as i64);
    let (_, last) = full.date_range().context("the data has no sales history")?;
    if end > last {
        bail!("the window {start}..{end} runs past the data's last day ({last}): choose an earlier --origin");
    }
    let mut cut = full.up_to(origin);
    cut.demand.retain(|s| s.values.iter().any(|v| *v > 0.0));
    let cut_at = cut.series_index();
    let new_from = origin - chrono::Days::new(NEW_DAYS as u64);
    let mut launch_dates: HashMap<String, NaiveDate> = HashMap::new();
    let mut targets = Vec::new();
    for (i, s) in full.demand.iter().enumerate() {
        let Some(f) = s.values.iter().position(|v| *v > 0.0) else {
            continue;
        };
        let first = s.date_at(f);
        if first > end {
            continue;
        }
        let w0 = period.between(s.start, start);
        let window: Vec<f64> = (0..horizon)
            .map(|j| {
                let k = w0 + j as i64;
                if k >= 0 {
                    s.values.get(k as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                }
            })
            .collect();
        let cut_i = cut_at.get(&(s.sku.as_str(), s.warehouse.as_str())).copied();
        let (group, from) = if first >= start {
            let d = launch_dates.entry(s.sku.clone()).or_insert(first);
            *d = (*d).min(first);
            (Group::Launch, period.between(start, first).max(0) as usize)
        } else if first > new_from {
            (Group::New, 0)
        } else {
            (Group::Old, 0)
        };
        if group != Group::Launch && cut_i.is_none() {
            continue;
        }
        targets.push(Target {
            full: i,
            cut: if group == Group::Launch { None } else { cut_i },
            group,
            from,
            actual: window[from..].to_vec(),
        });
    }
    // The planner knows the launches' product rows and dates, and nothing
    // about products that first sell after the window.
    let known: std::collections::HashSet<String> = cut.demand.iter().map(|s| s.sku.clone()).collect();
    cut.products
        .retain(|p| known.contains(&p.sku) || launch_dates.contains_key(&p.sku));
    for p in &mut cut.products {
        p.launch_date = launch_dates.get(&p.sku).copied();
    }
    Ok((cut, targets))
}

fn train_and_forecast(
    cut: &Dataset,
    model_dir: &Path,
    origin: NaiveDate,
    b: &TextBench,
    use_text: bool,
    tmp: &Path,
) -> Result<(Vec<SeriesForecast>, String)> {
    use crate::engine::events::TrainJob;
    use crate::engine::run;
    use crate::engine::{DeviceChoice, TrainConfig};
    let cuda = crate::engine::device::select(DeviceChoice::Auto).is_ok_and(|s| s.device.is_cuda());
    let job = TrainJob {
        dataset: std::sync::Arc::new(cut.clone()),
        sources: Default::default(),
        train_end: Some(origin),
        model_dir: model_dir.to_path_buf(),
        config: TrainConfig {
            mode: crate::engine::Mode::default_for(cuda),
            epochs: b.epochs,
            horizon: b.horizon,
            use_text,
            budget_minutes: Some(b.minutes),
            ..TrainConfig::default()
        },
        out: tmp.join(if use_text { "text" } else { "notext" }),
        device: DeviceChoice::Auto,
        resume: false,
        text_cache: None,
    };
    eprint!("training {}", if use_text { "with text" } else { "without text" });
    let summary = run::train_run(&job, &mut super::EpochDots)?;
    eprintln!(" {:.0} s", summary.train_seconds);
    let loaded = run::load_run(&job.out, None)?;
    let fc = run::forecast(&loaded, cut, Some(origin))?;
    Ok((fc, summary.describe()))
}

/// Run the comparison and return its report.
pub fn text_bench(b: &TextBench) -> Result<String> {
    use crate::engine::encoder::{Encoder, ModelDir};
    use crate::forecast::baselines::baselines_for;
    let full = import_paths(std::slice::from_ref(&b.data), &ImportOptions::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .dataset;
    let period = full.period();
    let (_, last) = full.date_range().context("the data has no sales history")?;
    let h = b.horizon.max(1);
    let origin = period.floor(b.origin.unwrap_or_else(|| period.step(period.floor(last), -(h as i64))));
    let (cut, targets) = split(&full, origin, h)?;
    let count = |g: Group| targets.iter().filter(|t| t.group == g).count();
    let mut out = String::new();
    writeln!(
        out,
        "bench text: {}, learn up to {origin}, forecast {}..{} ({h} {}); {} series scored: {} new (first sale \
         under {NEW_DAYS} days before), {} launches (first sale inside the window: sales hidden, launch dates given)",
        b.data.display(),
        period.step(origin, 1),
        period.step(origin, h as i64),
        period.plural(),
        targets.len(),
        count(Group::New),
        count(Group::Launch),
    )?;

    // Launches, with and without text.
    let model_dir = crate::cli::engine::model_dir(b.model.as_ref())?;
    let clock = Instant::now();
    let enc = Encoder::load(
        &ModelDir::open(&model_dir)?,
        &candle_core::Device::Cpu,
        crate::engine::similar::PRODUCT_TEXT_TOKENS,
    )?;
    let emb = crate::engine::similar::product_embeddings(&enc, &cut, None, &mut |_, _| Ok(()))?;
    let embed_s = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let with_text = forecast_launches(&cut, origin, h, Some(&emb));
    let without = forecast_launches(&cut, origin, h, None);
    let launch_s = clock.elapsed().as_secs_f64();
    writeln!(
        out,
        "embeddings of {} product texts {embed_s:.1} s; launch forecasts (both) {launch_s:.1} s",
        emb.len()
    )?;
    writeln!(out, "launches with text:    {}", with_text.describe())?;
    writeln!(out, "launches without text: {}", without.describe())?;
    let tried: Vec<String> = with_text
        .fit
        .tried
        .iter()
        .chain(&without.fit.tried)
        .map(|(n, e)| match e.is_finite() {
            true => format!("{n} {e:.3}"),
            false => format!("{n} n/a (nothing sold)"),
        })
        .collect();
    writeln!(
        out,
        "launch totals tried on the quarter before (launch-total error): {}",
        tried.join(", ")
    )?;

    // The best single baseline on these days (chosen after the fact: the
    // strictest reference).
    let methods = baselines_for(period);
    let mut best: Option<(f64, String, Vec<Option<QuantileForecast>>)> = None;
    for m in &methods {
        let fc: Vec<Option<QuantileForecast>> = cut.demand.iter().map(|s| m.forecast(&s.values, h).ok()).collect();
        let mut acc = Accum::default();
        for t in &targets {
            if let Some(f) = t.cut.and_then(|c| fc[c].as_ref()) {
                acc.add(&t.actual, &f.p10, &f.p50, &f.p90, None);
            }
        }
        let wql = acc.metrics().wql;
        if best.as_ref().is_none_or(|b| wql < b.0) {
            best = Some((wql, m.name().to_string(), fc));
        }
    }
    let (_, best_name, best_fc) = best.context("no baseline forecast this data")?;

    // The runs (with --minutes 0 the best baseline stands in for both, to
    // measure the launches alone).
    let tmp = tempfile::tempdir()?;
    let (run_text, run_plain) = if b.minutes > 0.0 {
        let (run_text, about_text) = train_and_forecast(&cut, &model_dir, origin, b, true, tmp.path())?;
        let (run_plain, about_plain) = train_and_forecast(&cut, &model_dir, origin, b, false, tmp.path())?;
        writeln!(out, "run with text:    {about_text}")?;
        writeln!(out, "run without text: {about_plain}")?;
        (run_text, run_plain)
    } else {
        writeln!(
            out,
            "no runs (--minutes 0): {best_name} forecasts the series in both rows"
        )?;
        let as_series: Vec<SeriesForecast> = cut
            .demand
            .iter()
            .zip(&best_fc)
            .map(|(s, f)| {
                let f = f.clone().unwrap_or_else(|| QuantileForecast {
                    p10: vec![0.0; h],
                    p50: vec![0.0; h],
                    p90: vec![0.0; h],
                });
                SeriesForecast {
                    sku: s.sku.clone(),
                    warehouse: s.warehouse.clone(),
                    start: period.step(origin, 1),
                    p10: f.p10,
                    p50: f.p50,
                    p90: f.p90,
                    model: best_name.clone(),
                    period,
                }
            })
            .collect();
        (as_series.clone(), as_series)
    };

    let launch_of = |l: &Launches, t: &Target| {
        let s = &full.demand[t.full];
        l.get(&s.sku, &s.warehouse).map(|f| quantiles(&f.forecast, t.from))
    };
    let zero = |n: usize| QuantileForecast {
        p10: vec![0.0; n],
        p50: vec![0.0; n],
        p90: vec![0.0; n],
    };
    // A row as a plan sees it: launches from `l`, every series with sales
    // from the run (series with under four weeks of sales too: see the
    // line on them below).
    let model_row = |run: &[SeriesForecast], l: &Launches| {
        let mut r = Row::default();
        for t in &targets {
            let f = match (t.group, t.cut) {
                (Group::Launch, _) => launch_of(l, t).unwrap_or_else(|| zero(t.actual.len())),
                (_, Some(c)) => quantiles(&run[c], 0),
                (_, None) => continue,
            };
            r.add(t.group, &t.actual, &f);
        }
        r
    };
    let text_row = model_row(&run_text, &with_text);
    let plain_row = model_row(&run_plain, &without);
    let mut base_row = Row::default();
    for t in &targets {
        let f = match t.cut.and_then(|c| best_fc[c].clone()) {
            Some(f) => f,
            None => zero(t.actual.len()),
        };
        base_row.add(t.group, &t.actual, &f);
    }

    writeln!(
        out,
        "\n{:<26} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "method", "WAPE", "wQL", "new", "new", "launch", "launch", "launch", "launch"
    )?;
    writeln!(
        out,
        "{:<26} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "", "all", "all", "WAPE", "wQL", "WAPE", "wQL", "total", "p10-p90"
    )?;
    let line = |out: &mut String, name: &str, r: &Row| -> Result<()> {
        let (a, n, l) = (r.all.metrics(), r.new.metrics(), r.launch.metrics());
        writeln!(
            out,
            "{name:<26} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>8.3} {:>7.1}%",
            a.wape,
            a.wql,
            n.wape,
            n.wql,
            l.wape,
            l.wql,
            r.launch_total.0 / r.launch_total.1.max(1e-9),
            100.0 * l.coverage
        )?;
        Ok(())
    };
    line(&mut out, "text", &text_row)?;
    line(&mut out, "no text", &plain_row)?;
    line(&mut out, &format!("{best_name} (best baseline)"), &base_row)?;
    // Short histories: the launch forecast (what the plan uses) beside the
    // run's own.
    let mut short = [Accum::default(), Accum::default()];
    let mut short_sums = [0.0; 4];
    // The base forecast the run's head corrects, for the same series.
    let pooled = crate::forecast::features::Pooled::build(&cut.demand, origin).with_events(&cut.events);
    let base_sum = |c: usize| -> f64 {
        let s = &cut.demand[c];
        let o = period.between(s.start, origin);
        let mut f = Vec::new();
        let scale = crate::forecast::features::push_features(s, o, h, &pooled, &mut f);
        let at = crate::forecast::features::base_offset_for(period, h);
        f.get(at..at + h)
            .map_or(0.0, |b| b.iter().map(|v| f64::from(*v) * scale).sum())
    };
    for t in &targets {
        if let (Group::New | Group::Old, Some(c), Some(f)) = (t.group, t.cut, launch_of(&with_text, t)) {
            short[0].add(&t.actual, &f.p10, &f.p50, &f.p90, None);
            let r = quantiles(&run_text[c], 0);
            short[1].add(&t.actual, &r.p10, &r.p50, &r.p90, None);
            short_sums[0] += t.actual.iter().sum::<f64>();
            short_sums[1] += f.p50.iter().sum::<f64>();
            short_sums[2] += r.p50.iter().sum::<f64>();
            short_sums[3] += base_sum(c);
        }
    }
    writeln!(
        out,
        "short histories: actual {:.0} units, launch forecast {:.0}, the run's {:.0} (its base forecast {:.0})",
        short_sums[0], short_sums[1], short_sums[2], short_sums[3]
    )?;
    if short[0].points > 0 {
        let (l, r) = (short[0].metrics(), short[1].metrics());
        writeln!(
            out,
            "series with under {} days of sales ({} points): launch forecast WAPE {:.3} wQL {:.3}; the run's own \
             WAPE {:.3} wQL {:.3}",
            crate::forecast::launch::SHORT_HISTORY_DAYS,
            l.points,
            l.wape,
            l.wql,
            r.wape,
            r.wql
        )?;
    }
    // The largest launches, forecast against what they sold.
    let mut big: Vec<&Target> = targets.iter().filter(|t| t.group == Group::Launch).collect();
    big.sort_by(|a, b| b.actual.iter().sum::<f64>().total_cmp(&a.actual.iter().sum::<f64>()));
    let sum_of = |l: &Launches, t: &Target| launch_of(l, t).map_or(0.0, |f| f.p50.iter().sum::<f64>());
    let (mut ft, mut fp, mut at) = (0.0, 0.0, 0.0);
    for t in &big {
        ft += sum_of(&with_text, t);
        fp += sum_of(&without, t);
        at += t.actual.iter().sum::<f64>();
    }
    writeln!(
        out,
        "\nlaunch totals: actual {at:.0}, forecast with text {ft:.0}, without {fp:.0}; the largest ten:"
    )?;
    for t in big.iter().take(10) {
        let s = &full.demand[t.full];
        let title = full.product(&s.sku).map_or("", |p| p.title.as_str());
        let nearest = with_text
            .get(&s.sku, &s.warehouse)
            .and_then(|l| l.neighbours.first())
            .map_or(String::new(), |n| format!("{} ({:.2})", n.title, n.similarity));
        writeln!(
            out,
            "  {:<8} {:<34.34} from {} sold {:>6.0}  text {:>6.0}  no text {:>6.0}  nearest {nearest:.40}",
            s.sku,
            title,
            period.step(origin, 1 + t.from as i64),
            t.actual.iter().sum::<f64>(),
            sum_of(&with_text, t),
            sum_of(&without, t),
        )?;
    }
    let gain = |a: f64, b: f64| 100.0 * (1.0 - a / b);
    let (t, p, c) = (text_row.all.metrics(), plain_row.all.metrics(), base_row.all.metrics());
    let (tn, pn) = (text_row.new.metrics(), plain_row.new.metrics());
    let tl = text_row.launch.metrics();
    let lt = text_row.launch_total.0 / text_row.launch_total.1.max(1e-9);
    writeln!(out, "\ngoals:")?;
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    if b.minutes > 0.0 {
        for (what, ours, theirs, goal) in [
            ("text vs no text, new products", tn.wql, pn.wql, 5.0),
            ("text vs no text, all", t.wql, p.wql, 2.0),
            ("text vs best baseline, all", t.wql, c.wql, 15.0),
        ] {
            let g = gain(ours, theirs);
            writeln!(out, "  {what} wQL: {g:+.1} % (goal >= {goal} %: {})", mark(g >= goal))?;
        }
    } else {
        // Both rows are the baseline's: a gain of 0 would read as a miss.
        writeln!(
            out,
            "  text vs no text, and the run vs the best baseline: not measured (--minutes 0 trains no run)"
        )?;
    }
    writeln!(
        out,
        "  launch-total error {lt:.3} (goal <= 0.80: {}; zero scores 1.0), coverage {:.1} % (goal 70-90 %: {})",
        mark(lt <= 0.80),
        100.0 * tl.coverage,
        mark((0.7..=0.9).contains(&tl.coverage))
    )?;
    let d = &text_row.launch_days;
    let days = d.with_sales + d.without_sales;
    let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    writeln!(
        out,
        "  launch days: {days}, {:.1} % without sales; below p10 on {:.1} % of them, above p90 on {:.1} % \
         (a calibrated band: 10 % each, less below p10 where p10 is 0)",
        pct(d.without_sales, days),
        pct(d.below_p10, days),
        pct(d.above_p90, days),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::LaunchDays;

    #[test]
    fn launch_days_count_where_each_day_fell_against_its_band() {
        let mut d = LaunchDays::default();
        // No sales inside a band from 0; sales inside, over and under.
        d.add(
            &[0.0, 0.0, 5.0, 20.0, 1.0],
            &[0.0, 0.0, 1.0, 1.0, 2.0],
            &[3.0, 3.0, 10.0, 10.0, 4.0],
        );
        assert_eq!((d.without_sales, d.with_sales), (2, 3));
        assert_eq!((d.below_p10, d.above_p90), (1, 1));
    }
}
