//! How a model trains: the mode (which weights train) and every setting of a
//! run, saved in its run.json.

use serde::{Deserialize, Serialize};

/// Which weights train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A head on frozen embeddings: no encoder weight trains; each text is
    /// embedded once (the CPU default).
    #[default]
    Head,
    /// The head and the last k encoder layers train.
    #[value(name = "top-k")]
    TopK,
    /// The head and every encoder weight train.
    Full,
}

impl Mode {
    /// The default on a device: on a CPU a head on frozen embeddings (full
    /// fine-tuning runs at about a second a step of 32 there); on CUDA the
    /// head and the encoder's top layers.
    pub fn default_for(cuda: bool) -> Mode {
        if cuda { Mode::TopK } else { Mode::Head }
    }

    /// Which weights train, in the words the Training tab and README use.
    pub fn trains(self, top_k: usize) -> String {
        match self {
            Mode::Head => "a head on frozen embeddings (no encoder weight trains)".to_string(),
            Mode::TopK => format!("the head and the encoder's last {top_k} layers (the rest frozen)"),
            Mode::Full => "the head and every encoder weight".to_string(),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Head => "head",
            Mode::TopK => "top-k",
            Mode::Full => "full",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub mode: Mode,
    /// Encoder layers that train in `top-k` mode.
    pub top_k: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate of the head.
    pub lr: f64,
    /// Peak learning rate of encoder weights (fine-tuning wants it small).
    pub encoder_lr: f64,
    pub weight_decay: f64,
    pub warmup_frac: f64,
    pub clip_norm: f64,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    pub horizon: usize,
    pub seed: u64,
    /// Training windows are subsampled to at most this many.
    pub max_train_samples: usize,
    /// Days between two training origins (3 cycles through the weekdays).
    pub origin_step: usize,
    /// Longest text, in tokens.
    pub max_len: usize,
    pub hidden: usize,
    pub text_proj: usize,
    pub dropout: f64,
    /// Write a metrics row every this many steps.
    pub log_every: usize,
    /// false: train without the text (an ablation: what does the encoder
    /// add?).
    pub use_text: bool,
    /// Stop once this many minutes of training have passed (at the end of
    /// a step; the best epoch so far is kept). None: no limit.
    pub budget_minutes: Option<f64>,
    /// Tests only: panic at this step, to prove a panic on the engine
    /// thread becomes a Failed event. Never read from a file.
    #[serde(skip)]
    pub panic_at_step: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            mode: Mode::Head,
            top_k: 2,
            epochs: 8,
            batch_size: 128,
            lr: 1e-3,
            encoder_lr: 3e-5,
            weight_decay: 1e-4,
            warmup_frac: 0.05,
            clip_norm: 1.0,
            patience: 3,
            horizon: 28,
            seed: 42,
            max_train_samples: 60_000,
            origin_step: 3,
            max_len: 48,
            hidden: 256,
            text_proj: 32,
            dropout: 0.1,
            log_every: 20,
            use_text: true,
            budget_minutes: None,
            panic_at_step: None,
        }
    }
}
