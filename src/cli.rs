//! The command line: clap definitions only. What each command does lives in
//! the library modules; `main.rs` wires the two together.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::ColumnMap;

#[derive(Debug, Parser)]
#[command(
    name = "skuplan",
    version,
    about = "A terminal planning workstation for e-commerce supply chains"
)]
pub struct Cli {
    /// Config file to use instead of the default one.
    #[arg(long, global = true, env = "SKUPLAN_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import data files (CSV or Parquet) or folders of them; with --check,
    /// only report on them.
    Import(ImportArgs),
    /// Write a generated, realistic e-commerce data set.
    SampleData(SampleArgs),
    /// Backtest every baseline on the data (rolling origins), pick a
    /// champion per series and print the scores.
    Evaluate(EvaluateArgs),
    /// Compute a plan headless and save it in the workspace.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Record approval decisions on the saved plan (the same audit log the
    /// TUI writes).
    #[command(subcommand)]
    Approve(ApproveCommand),
    /// Export approved plan lines to CSV.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Replay the restock policy over held-out history and report the
    /// service level it achieved against its targets.
    Simulate(SimulateArgs),
    /// What-if scenarios: demand overrides kept apart from the forecast.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Measure speed against a reference in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Restock orders from the champion forecasts (and a scenario's overrides).
    Restock(PlanRestockArgs),
}

#[derive(Debug, Args)]
pub struct PlanRestockArgs {
    /// Data folder or files; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// Apply this scenario's overrides.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Also write every line, with its state, to this CSV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Days between two orders of a line.
    #[arg(long, default_value_t = 7)]
    pub review_days: u32,
    /// Spend caps per warehouse: WH=AMOUNT,...
    #[arg(long, value_delimiter = ',', value_name = "WH=AMOUNT")]
    pub budget: Vec<String>,
    /// Correlation assumed between forecast errors of different days.
    #[arg(long)]
    pub error_correlation: Option<f64>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Data folder or files; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// Days at the end of the history to replay.
    #[arg(long, default_value_t = 182)]
    pub days: usize,
    #[arg(long, default_value_t = 7)]
    pub review_days: u32,
    /// Forecasting method used at each review: "champion" (each series'
    /// champion, as plans use) or a baseline's name.
    #[arg(long, default_value = "champion")]
    pub method: String,
    /// Correlation assumed between forecast errors of different days.
    #[arg(long)]
    pub error_correlation: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum ApproveCommand {
    /// Approve (or reject) restock lines of the saved plan.
    Restock(ApproveArgs),
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Only this SKU.
    #[arg(long)]
    pub sku: Option<String>,
    /// Only this warehouse.
    #[arg(long)]
    pub warehouse: Option<String>,
    /// Every line that orders something (needed when neither --sku nor
    /// --warehouse is given).
    #[arg(long)]
    pub all: bool,
    /// Reject instead of approve.
    #[arg(long)]
    pub reject: bool,
    /// Order this quantity instead of the proposed one (recorded, then approved).
    #[arg(long)]
    pub qty: Option<u32>,
    #[arg(long)]
    pub comment: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Approved restock lines (or all, with their state) as CSV.
    Restock {
        #[arg(long)]
        out: PathBuf,
        /// Every line that orders something or carries a decision.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Start an empty scenario.
    New { name: String },
    /// Add a demand override to a scenario.
    Set(ScenarioSetArgs),
    /// List saved scenarios.
    List,
    /// Compare a scenario's restock plan with the base plan.
    Compare {
        name: String,
        #[arg(long, value_name = "PATH")]
        data: Option<PathBuf>,
        #[command(flatten)]
        map: MapArgs,
    },
    /// Delete a scenario.
    Discard { name: String },
}

#[derive(Debug, Args)]
pub struct ScenarioSetArgs {
    pub name: String,
    /// SKUs it applies to (comma separated); all when omitted.
    #[arg(long, value_delimiter = ',')]
    pub sku: Vec<String>,
    #[arg(long)]
    pub warehouse: Option<String>,
    /// First day.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (default: the first).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Change by this percentage (e.g. 30 or -20).
    #[arg(
        long,
        allow_negative_numbers = true,
        conflicts_with = "qty",
        required_unless_present = "qty"
    )]
    pub pct: Option<f64>,
    /// Set demand to this many units a day.
    #[arg(long)]
    pub qty: Option<f64>,
    /// Why (shown on every line it changes).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// Column mapping, field=column pairs: --map sku=item,warehouse=store,quantity=sales
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub map: Option<ColumnMap>,
    /// Date format (chrono syntax) when the dates are ambiguous, e.g. %d/%m/%Y
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders to import; by default the workspace's data, or the
    /// shipped sample data.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// Only check the data and print the summary; change nothing.
    #[arg(long)]
    pub check: bool,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Data folder or sales file; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// Days each window forecasts.
    #[arg(long, default_value_t = 28)]
    pub horizon: usize,
    /// Number of rolling windows.
    #[arg(long, default_value_t = 4)]
    pub windows: usize,
    /// Days between origins (default: the horizon).
    #[arg(long)]
    pub step: Option<usize>,
    /// The last day the latest window may learn from; earlier windows step
    /// back from it. Default: the last day of data minus the horizon.
    #[arg(long)]
    pub origin: Option<NaiveDate>,
    /// Only these methods (comma separated), e.g. snaive7,snaive364,ets
    #[arg(long, value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    /// Write metrics_by_series.csv and champion_forecast.csv here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SalesFormatArg {
    Csv,
    Parquet,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Folder to write into (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 200)]
    pub skus: usize,
    #[arg(long, default_value_t = 3)]
    pub warehouses: usize,
    /// Days of sales history.
    #[arg(long, default_value_t = 730)]
    pub days: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last day of history (orders are for the day after).
    #[arg(long, default_value = "2026-11-27")]
    pub end: NaiveDate,
    /// File format of the sales history (the other files are always CSV).
    #[arg(long, value_enum, default_value_t = SalesFormatArg::Csv)]
    pub sales_format: SalesFormatArg,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Import and daily aggregation of a generated sales CSV, beside the time
    /// to merely read the file's bytes.
    Import {
        /// Rows in the generated file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Solve the Solomon VRPTW instances in a folder, check every route, and
    /// compare vehicles and distance with the best-known solutions.
    Vrp {
        /// Folder with the instances (*.txt) and solomon_bks.csv.
        #[arg(long)]
        solomon: PathBuf,
        /// Seconds per instance.
        #[arg(long, default_value_t = 10)]
        time_limit: usize,
        /// Only instances whose name starts with this (e.g. C1, RC2).
        #[arg(long)]
        only: Option<String>,
        /// Write each instance's routes as DIR/<instance>.csv (vehicle,seq,customer).
        #[arg(long)]
        routes_out: Option<PathBuf>,
    },
    /// Recompute a restock plan of N lines with a what-if override, beside a
    /// plain pass over the same forecasts.
    Plan {
        #[arg(long, default_value_t = 10_000)]
        lines: usize,
    },
    /// Backtest every baseline (4 windows) on generated data sets of these
    /// sizes, with time per method and peak memory.
    Backtest {
        /// Numbers of series, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "500,10000")]
        series: Vec<usize>,
        #[arg(long, default_value_t = 4)]
        windows: usize,
        #[arg(long, default_value_t = 28)]
        horizon: usize,
    },
}
