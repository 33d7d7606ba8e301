//! The Forecasts tab's state: a row per series (its champion, forecast
//! sums and backtest MASE), the filtered and sorted view, and products like
//! the selected SKU (asked of the encoder).

use std::collections::{HashMap, HashSet};

use super::{App, Effect, Loaded};
use crate::domain::SeriesForecast;
use crate::engine::EngineCommand;
use crate::plan::scenario::Scenario;

/// A similar product: (sku, cosine, product text).
pub type Neighbour = (String, f32, String);

/// A row of the Forecasts table.
#[derive(Debug, Clone)]
pub struct ForecastRow {
    /// Its demand series (None: a launch, not sold yet).
    pub series: Option<usize>,
    pub sku: String,
    pub warehouse: String,
    pub method: String,
    /// Demand of the near term: 7 days, 4 weeks or 3 months.
    pub next: f64,
    pub horizon_total: f64,
    pub mase: Option<f64>,
    pub overridden: bool,
}

/// The Forecasts table from the base and the what-ifs (a row is marked
/// when a what-if touches its SKU).
pub(super) fn forecast_rows(l: &Loaded, run_on: bool, scenario: &Scenario) -> Vec<ForecastRow> {
    let overridden: HashSet<&str> = scenario
        .overrides
        .iter()
        .flat_map(|o| o.skus.iter().map(String::as_str))
        .collect();
    let base = l.active(run_on);
    let bt = &base.backtest;
    let fc: HashMap<(&str, &str), &SeriesForecast> = base
        .forecasts
        .iter()
        .map(|f| ((f.sku.as_str(), f.warehouse.as_str()), f))
        .collect();
    let launch = |f: &SeriesForecast| f.model == crate::forecast::launch::METHOD;
    let mut rows: Vec<ForecastRow> = l
        .dataset
        .demand
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let choice = base.champions.final_choice.get(i).copied().flatten();
            let f = fc.get(&(s.sku.as_str(), s.warehouse.as_str()));
            let sum = |n: usize| f.map_or(0.0, |f| f.p50.iter().take(n).sum::<f64>());
            let mase = choice.and_then(|m| {
                let acc = bt.series_total(i, m);
                let m = acc.metrics();
                m.mase.is_finite().then_some(m.mase)
            });
            ForecastRow {
                series: Some(i),
                sku: s.sku.clone(),
                warehouse: s.warehouse.clone(),
                method: match f {
                    Some(f) if launch(f) => f.model.clone(),
                    _ => choice
                        .and_then(|m| bt.methods.get(m).cloned())
                        .unwrap_or_else(|| "-".into()),
                },
                next: sum(s.period.near()),
                horizon_total: sum(usize::MAX),
                mase,
                overridden: overridden.contains(s.sku.as_str()),
            }
        })
        .collect();
    // Launches: products not sold yet, after the series.
    let have: HashSet<(&str, &str)> = l
        .dataset
        .demand
        .iter()
        .map(|s| (s.sku.as_str(), s.warehouse.as_str()))
        .collect();
    for f in base.forecasts.iter().filter(|f| launch(f)) {
        if have.contains(&(f.sku.as_str(), f.warehouse.as_str())) {
            continue;
        }
        rows.push(ForecastRow {
            series: None,
            sku: f.sku.clone(),
            warehouse: f.warehouse.clone(),
            method: f.model.clone(),
            next: f.p50.iter().take(f.period.near()).sum(),
            horizon_total: f.p50.iter().sum(),
            mase: None,
            overridden: overridden.contains(f.sku.as_str()),
        });
    }
    rows
}

impl App {
    /// Indices into `forecast_rows` shown (filtered, sorted).
    pub fn forecast_view(&self) -> Vec<usize> {
        // Product titles and suppliers, as the Restock tab's filter reads
        // them (a title word found lines there and no series here).
        let products: HashMap<&str, &crate::domain::Product> = match (&self.loaded, self.filter.is_empty()) {
            (Some(l), false) => l.dataset.products.iter().map(|p| (p.sku.as_str(), p)).collect(),
            _ => HashMap::new(),
        };
        let mut v: Vec<usize> = self
            .forecast_rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let p = products.get(r.sku.as_str());
                let fields = super::filter::Fields {
                    sku: &r.sku,
                    warehouse: &r.warehouse,
                    supplier: p.and_then(|p| p.supplier.as_deref()).unwrap_or(""),
                };
                self.matches(&fields, &[&r.method, p.map_or("", |p| p.title.as_str())])
            })
            .map(|(i, _)| i)
            .collect();
        let rows = &self.forecast_rows;
        match self.sort % 3 {
            1 => v.sort_by(|a, b| rows[*b].horizon_total.total_cmp(&rows[*a].horizon_total)),
            2 => v.sort_by(|a, b| rows[*b].mase.unwrap_or(0.0).total_cmp(&rows[*a].mase.unwrap_or(0.0))),
            _ => {}
        }
        v
    }

    /// Ask the engine for launch forecasts when some product waits for
    /// its launch and the encoder is there (the plan says why otherwise).
    pub(super) fn ask_launches(&mut self) -> Vec<Effect> {
        // Any launches asked for before were for data now replaced: their
        // answer is dropped, so nothing is being made for this data yet.
        self.launching = false;
        let (Some(l), Some(dir)) = (&self.loaded, &self.model_dir) else {
            return Vec::new();
        };
        if !crate::engine::similar::wants_launches(&l.dataset) {
            return Vec::new();
        }
        let horizon = l.base.forecasts.iter().map(|f| f.p50.len()).max().unwrap_or(28);
        self.launching = true;
        vec![Effect::Engine(EngineCommand::Launches {
            model_dir: dir.clone(),
            data: l.dataset.clone(),
            horizon,
            cache: Some(self.workspace.embeddings_path()),
        })]
    }

    /// n on a launch: the products its forecast borrowed from.
    fn launch_neighbours(&mut self, sku: &str) -> bool {
        let Some(launches) = self.loaded.as_ref().and_then(|l| l.launches.clone()) else {
            return false;
        };
        let view = self.forecast_view();
        let Some(r) = view
            .get(self.selected[super::Tab::Forecasts.index()])
            .map(|&i| &self.forecast_rows[i])
        else {
            return false;
        };
        let Some(f) = launches
            .get(sku, &r.warehouse)
            .filter(|_| r.method == crate::forecast::launch::METHOD)
        else {
            return false;
        };
        let items: Vec<Neighbour> = f
            .neighbours
            .iter()
            .map(|n| (n.sku.clone(), n.similarity, n.title.clone()))
            .collect();
        self.status = format!(
            "{sku} (launch {}): {} similar products' {}, {} nearest listed",
            f.launch,
            f.borrowed_from(),
            if f.recent_sales { "recent sales" } else { "launches" },
            items.len()
        );
        self.similar = Some((sku.to_string(), items));
        true
    }

    /// n: the neighbours of a launch, or ask the encoder for products like
    /// the selected SKU.
    pub(super) fn find_similar(&mut self) -> Vec<Effect> {
        if let Some(sku) = self.selected_sku()
            && self.launch_neighbours(&sku)
        {
            return Vec::new();
        }
        let (Some(sku), Some(l), Some(dir)) = (self.selected_sku(), &self.loaded, &self.model_dir) else {
            self.status = "similar products need the encoder (assets/models or --model DIR)".into();
            return Vec::new();
        };
        self.status = format!("finding products like {sku} ...");
        vec![Effect::Engine(EngineCommand::Similar {
            model_dir: dir.clone(),
            data: l.dataset.clone(),
            sku,
            top: 5,
            cache: Some(self.workspace.embeddings_path()),
        })]
    }
}
