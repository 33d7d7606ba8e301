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

    /// Without a command, the full-screen workstation opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The full-screen workstation (what `skuplan` alone opens).
    Tui(TuiArgs),
    /// Import data files (CSV, Parquet, or workbooks: .xlsx, .xls, .ods) or
    /// folders of them; with --check, only report on them.
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
    /// Edit the saved delivery plan: move orders, lock routes, re-optimise.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
    /// Replay the restock policy over held-out history and report the
    /// service level it achieved against its targets.
    Simulate(SimulateArgs),
    /// What-if scenarios: demand overrides kept apart from the forecast.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Measure speed against a reference in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Encoder models: bring a Hugging Face BERT folder into skuplan.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Fine-tune the demand model (headless; progress on stderr).
    Train(TrainArgs),
    /// Refit a trained run on later data (up to the data's last day) with
    /// its settings and best epoch count, into RUN/refit.
    Refit(RefitArgs),
    /// Forecast the days after a run's train end with its model.
    Forecast(ForecastArgs),
    /// Products whose encoder embeddings are nearest to a SKU's.
    Similar(SimilarArgs),
}

#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// Data folder or files (default: the workspace's data, else the
    /// shipped sample data).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// A local BERT-family model folder (default: the shipped MiniLM).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Copy a Hugging Face BERT folder (config.json, tokenizer.json or
    /// vocab.txt, model.safetensors or pytorch_model.bin) into the form
    /// skuplan uses, checking that it loads.
    Import {
        /// The Hugging Face folder.
        dir: PathBuf,
        /// Where to write it (default: <data dir>/models/<folder name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Weight precision on disk; training always runs in f32.
        #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
        dtype: DtypeArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    F16,
    F32,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data folder or sales file; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// A local BERT-family model folder (default: the shipped MiniLM).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Which weights train: head = a head on frozen embeddings, no encoder
    /// weight; top-k = the head and the encoder's last --top-k layers;
    /// full = the head and every encoder weight. Default: head on a CPU,
    /// top-k on CUDA.
    #[arg(long, value_enum)]
    pub mode: Option<crate::engine::Mode>,
    /// Encoder layers that train in top-k mode.
    #[arg(long, default_value_t = 2)]
    pub top_k: usize,
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
    /// Stop after this many minutes of training (the best epoch so far is
    /// kept): compare modes within one budget.
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Periods the model forecasts, in the data's period (default 28 days,
    /// 13 weeks or 6 months).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// The last day the model may learn from (default: the data's last day
    /// minus the horizon, so the run can be judged on the days after it
    /// before it is refit).
    #[arg(long)]
    pub train_end: Option<NaiveDate>,
    /// After training, refit on the data up to this day (default: the data's
    /// last day) with the same settings and the best epoch count, into
    /// RUN/refit: plans forecast with the refit where the run wins.
    #[arg(long, value_name = "DATE")]
    pub refit_until: Option<NaiveDate>,
    /// Skip the refit (plans then use the run's own weights).
    #[arg(long, conflicts_with = "refit_until")]
    pub no_refit: bool,
    /// The run folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value = "auto")]
    pub device: crate::engine::DeviceChoice,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate of the head.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Training windows are subsampled to at most this many.
    #[arg(long)]
    pub max_samples: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Epochs without improvement before stopping.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Ignore the text (an ablation, to measure what the encoder adds).
    #[arg(long)]
    pub no_text: bool,
}

#[derive(Debug, Args)]
pub struct RefitArgs {
    /// The training run.
    pub run: PathBuf,
    /// Data folder or sales file; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// The last day the refit learns from (default: the data's last day).
    #[arg(long)]
    pub until: Option<NaiveDate>,
    #[arg(long, default_value = "auto")]
    pub device: crate::engine::DeviceChoice,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// The training run.
    #[arg(long)]
    pub run: PathBuf,
    /// Data to forecast from (default: the data the run learnt from), read
    /// with the run's column mapping.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// CSV to write: sku,warehouse,date,p10,p50,p90,model.
    #[arg(long)]
    pub out: PathBuf,
    /// Forecast from this day with the run's own weights. By default: from
    /// the data's last day, with the run's refit for this data when it has
    /// one (the forecast a plan uses).
    #[arg(long)]
    pub origin: Option<NaiveDate>,
    #[arg(long, default_value = "auto")]
    pub device: crate::engine::DeviceChoice,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    pub sku: String,
    /// Data folder or files; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// A local BERT-family model folder (default: the shipped MiniLM).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// How many to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Restock orders from the champion forecasts (and a scenario's overrides).
    Restock(PlanRestockArgs),
    /// Delivery routes for a day's open orders (locked routes are kept).
    Deliveries(PlanDeliveriesArgs),
}

#[derive(Debug, Args)]
pub struct PlanDeliveriesArgs {
    /// Data folder or files; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// The day to plan (YYYY-MM-DD); by default the first order day from today on.
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// Also write every stop, with its route's state, to this CSV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seconds the solver may take at most.
    #[arg(long, default_value_t = 5.0)]
    pub time_limit: f64,
    /// Solver iterations (default 2,000 per order); the plan repeats for a
    /// seed when these end the search before the time limit.
    #[arg(long)]
    pub iterations: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Road distances and times: CSV from,to,distance_km,duration_min with
    /// order and warehouse ids.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Plan afresh, dropping the locks of the saved plan.
    #[arg(long)]
    pub unlock_all: bool,
}

/// Edits to the saved delivery plan.
#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// The saved plan, route by route.
    Show,
    /// Move an order onto a vehicle (its route is then locked).
    Move {
        order: String,
        /// The vehicle to carry it.
        #[arg(long)]
        to: String,
        /// Stop number on that vehicle (1 = first); by default where it adds the least distance.
        #[arg(long)]
        position: Option<usize>,
    },
    /// Keep a vehicle's route as it is when re-planning.
    Lock {
        vehicle: String,
    },
    Unlock {
        vehicle: String,
    },
    /// Re-plan everything but the locked routes.
    Reoptimise {
        #[arg(long, default_value_t = 5.0)]
        time_limit: f64,
        #[arg(long)]
        iterations: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Args)]
pub struct PlanRestockArgs {
    /// Data folder or files; by default the workspace's data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub map: MapArgs,
    /// Apply this scenario's overrides; by default the workspace's what-ifs
    /// (those the workstation plans with), if there are any.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Plan without the workspace's what-ifs.
    #[arg(long, conflicts_with = "scenario")]
    pub no_what_ifs: bool,
    /// Also write the lines that order, and those a decision or a budget cut
    /// names, each with its state, to this CSV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Days between two orders of a line (at most a year: the plan
    /// forecasts that far ahead).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub review_days: u32,
    /// Spend caps per warehouse: WH=AMOUNT,...
    #[arg(long, value_delimiter = ',', value_name = "WH=AMOUNT")]
    pub budget: Vec<String>,
    /// Correlation assumed between forecast errors of different days.
    #[arg(long)]
    pub error_correlation: Option<f64>,
    /// Put this training run among the champions (and make it the
    /// workspace's active run); by default the active run, if one is on.
    #[arg(long, value_name = "RUN")]
    pub run: Option<PathBuf>,
    /// Plan from the baselines alone, and switch the active run off.
    #[arg(long, conflicts_with = "run")]
    pub no_run: bool,
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
    /// Days between two orders of a line (at most a year: the plan
    /// forecasts that far ahead).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub review_days: u32,
    /// Forecasting method used at each review: "champion" (each series'
    /// champion, as plans use) or a baseline's name.
    #[arg(long, default_value = "champion")]
    pub method: String,
    /// Correlation assumed between forecast errors of different days.
    #[arg(long)]
    pub error_correlation: Option<f64>,
    /// Stock every class to its target quantile as it is, without fitting
    /// the levels on the days before the replay (to see what fitting does).
    #[arg(long)]
    pub unfitted: bool,
    /// Replay with this training run among the champions beside the
    /// baselines-only replay; its train end must be before the replay.
    #[arg(long, value_name = "RUN")]
    pub run: Option<PathBuf>,
    /// Train that run first (into --run's folder): up to 28 days before the
    /// replay, judged on those 28 days, refit up to the replay's eve.
    #[arg(long, requires = "run")]
    pub train: bool,
    /// Epochs when training with --train.
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
    /// Re-judge the run every DAYS of the replay, as a planner retraining
    /// it that often would: its lumpy lines' mean is then scaled by what it
    /// fell short by on the DAYS just before (the weights are kept).
    #[arg(long, value_name = "DAYS", requires = "run", value_parser = clap::value_parser!(u32).range(1..))]
    pub rejudge_every: Option<u32>,
    /// The encoder model folder when training with --train.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ApproveCommand {
    /// Approve (or reject) restock lines of the saved plan.
    Restock(ApproveArgs),
    /// Approve (or reject) routes of the saved delivery plan.
    Deliveries {
        /// Only this vehicle's route.
        #[arg(long)]
        vehicle: Option<String>,
        /// Every route.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Only this SKU.
    #[arg(long)]
    pub sku: Option<String>,
    /// Only this warehouse.
    #[arg(long)]
    pub warehouse: Option<String>,
    /// Every line that orders something (instead of --sku or --warehouse).
    #[arg(long, conflicts_with_all = ["sku", "warehouse"])]
    pub all: bool,
    /// Reject instead of approve.
    #[arg(long)]
    pub reject: bool,
    /// Order this quantity instead of the proposed one (recorded, then
    /// approved), raised to the MOQ and a whole number of packs as plan
    /// quantities are; 0 orders none.
    #[arg(long, conflicts_with = "reject", value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::plan::approval::MAX_PLANNER_QTY)))]
    pub qty: Option<u32>,
    #[arg(long)]
    pub comment: Option<String>,
    /// Decide on the saved plan even though the data it was planned from
    /// changed since (otherwise refused: plan again first).
    #[arg(long)]
    pub stale_ok: bool,
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
        /// Export the saved plan even though the data it was planned from
        /// changed since (otherwise refused: plan again first).
        #[arg(long)]
        stale_ok: bool,
    },
    /// The stops of approved routes (or all, with their state) as CSV.
    Deliveries {
        #[arg(long)]
        out: PathBuf,
        /// Every route, whatever its state.
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
    /// Compare a scenario's restock plan with the base plan (both with the
    /// active run among the champions when it is on), or with `--model` the
    /// baselines-only plan with the plan that has the active run (or --run).
    Compare {
        #[arg(required_unless_present = "model")]
        name: Option<String>,
        #[arg(long, value_name = "PATH")]
        data: Option<PathBuf>,
        #[command(flatten)]
        map: MapArgs,
        /// Compare the plans without and with the model.
        #[arg(long)]
        model: bool,
        /// The run for --model (default: the workspace's active run).
        #[arg(long, value_name = "RUN")]
        run: Option<PathBuf>,
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

#[derive(Debug, Args, Default)]
pub struct MapArgs {
    /// Column mapping, field=column pairs: --map sku=item,warehouse=store,quantity=sales
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub map: Option<ColumnMap>,
    /// Date format (chrono syntax) when the dates are ambiguous, e.g. %d/%m/%Y
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// Count demand per day, week or month. By default the period is found
    /// from the sales dates (transaction lines count in days); a longer
    /// period sums the rows into Monday-to-Sunday weeks or calendar months.
    #[arg(long, value_name = "day|week|month")]
    pub period: Option<crate::domain::PeriodKind>,
    /// Reject sales rows with a negative quantity (by default they are read
    /// as returns: counted apart from demand, with a warning).
    #[arg(long)]
    pub strict: bool,
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
    /// Periods each window forecasts, in the data's period (default 28
    /// days, 13 weeks or 6 months, or the run's horizon).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Number of rolling windows (default 4; with --run, 1: the days after
    /// its train end).
    #[arg(long)]
    pub windows: Option<usize>,
    /// Periods between origins (default: the horizon).
    #[arg(long)]
    pub step: Option<usize>,
    /// The last day the latest window may learn from; earlier windows step
    /// back from it. Default: the last day of data minus the horizon.
    #[arg(long)]
    pub origin: Option<NaiveDate>,
    /// Only these methods (comma separated), e.g. snaive7,snaive364,ets
    #[arg(long, value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    /// Lag of the MASE scale (default: 7 on days, 52 on weeks, 12 on
    /// months); 1 where the history is shorter than a year.
    #[arg(long)]
    pub mase_lag: Option<usize>,
    /// Write metrics_by_series.csv and champion_forecast.csv here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Add a training run's model as one more method. Its forecasts start
    /// after the run's train end, so that is the latest origin (and the
    /// horizon is the run's, unless given).
    #[arg(long)]
    pub run: Option<PathBuf>,
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
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub skus: u64,
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub warehouses: u64,
    /// Days of sales history (at least 28: a plan needs four weeks to
    /// learn from).
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u64).range(28..))]
    pub days: u64,
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
    /// Frame time of the Forecasts and Restock tabs with many rows, beside
    /// drawing an empty frame; key press to redrawn frame.
    Tui {
        #[arg(long, value_delimiter = ',', default_values_t = vec![10_000, 100_000])]
        rows: Vec<usize>,
        #[arg(long, default_value_t = 30)]
        repeat: usize,
    },
    /// The workstation's start on a data set: import and baselines computed
    /// (and cached), then the same start from the workspace cache.
    Start {
        /// Data folder or files (default: the shipped sample data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// New SKUs: hide most of the history of a share of SKUs, train with
    /// and without text, and score them against short-history baselines.
    Coldstart {
        /// Data folder (default: the shipped sample data).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        model: Option<PathBuf>,
        /// Share of SKUs made new.
        #[arg(long, default_value_t = 0.1)]
        share: f64,
        /// Days of history they keep.
        #[arg(long, default_value_t = 14)]
        history: usize,
        #[arg(long, default_value_t = 28)]
        horizon: usize,
        #[arg(long, default_value_t = 6)]
        epochs: usize,
    },
    /// What the product text is worth: the run with text, the run without
    /// it (same mode and minutes) and the best classical baseline on one
    /// split, for all series, new products and launches (first sale inside
    /// the window: sales hidden, launch dates given).
    Text {
        /// Data folder or file (sales or transactions with product text).
        #[arg(long)]
        data: PathBuf,
        /// Last day anything learns from (default: the last day minus the
        /// horizon).
        #[arg(long)]
        origin: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 28)]
        horizon: usize,
        /// Training minutes of each run (0: no runs, the launches alone).
        #[arg(long, default_value_t = 6.0)]
        minutes: f64,
        #[arg(long, default_value_t = 8)]
        epochs: usize,
        /// Model folder (default: the shipped MiniLM).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Encoding the data's product texts in token-count order (as the
    /// engine does) beside the same texts in their own order.
    Encode {
        /// Data folder or file (default: the shipped sample data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Model folder (default: the shipped MiniLM).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Encode only this many texts, spread over all of them.
        #[arg(long)]
        texts: Option<usize>,
    },
    /// Training-step throughput of an encoder in each mode, beside the f32
    /// matrix-multiply rate candle reaches here; forecast throughput with
    /// cached embeddings.
    Train {
        /// Model folder (default: the shipped MiniLM).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Sequence lengths to measure.
        #[arg(long, value_delimiter = ',', default_values_t = vec![32, 64])]
        seq: Vec<usize>,
        /// Timed steps per case.
        #[arg(long, default_value_t = 5)]
        steps: usize,
        /// Series in the forecast-throughput case.
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        /// auto | cpu | cuda[:N] (host memory only is reported).
        #[arg(long, default_value = "auto")]
        device: crate::engine::DeviceChoice,
    },
    /// Import of a generated sales CSV (daily, or weekly rows stamped on
    /// Fridays), beside the time to read the file's bytes and polars' own
    /// typed read of it.
    Import {
        /// Rows in the generated file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// The generated file's period: day or week.
        #[arg(long, default_value = "day", value_name = "day|week")]
        period: crate::domain::PeriodKind,
    },
    /// Weekly or monthly demand: daily data summed into Monday-to-Sunday
    /// weeks or calendar months (written as a file and imported as one),
    /// then every baseline of that period, the champions and the model
    /// forecast the same periods from one origin; MASE on the yearly lag.
    Periods {
        /// Daily data (a folder or sales/transactions file), or data already
        /// in the period.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "week", value_name = "week|month")]
        period: crate::domain::PeriodKind,
        /// The last day any method learns from (default: the last period
        /// minus the horizon).
        #[arg(long)]
        origin: Option<NaiveDate>,
        /// Periods forecast (default 13 weeks or 6 months).
        #[arg(long)]
        horizon: Option<usize>,
        /// Encoder folder (default: the shipped MiniLM).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        epochs: usize,
        /// Baselines only.
        #[arg(long)]
        no_model: bool,
        /// Lag of the MASE scale (default: a year: 52 weeks, 12 months).
        #[arg(long)]
        mase_lag: Option<usize>,
        /// Keep the converted sales file in this folder.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Solve the Solomon VRPTW instances in a folder, check every route, and
    /// compare vehicles and distance with the best-known solutions.
    Vrp {
        /// Folder with the instances (*.txt) and solomon_bks.csv.
        #[arg(long)]
        solomon: PathBuf,
        /// Seconds per instance.
        #[arg(long, default_value_t = 10.0)]
        time_limit: f64,
        /// Stop after this many iterations instead (repeatable for a seed;
        /// the time limit still caps it).
        #[arg(long)]
        iterations: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
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
