//! Checkpoints: the trainable weights and the optimiser's moments as
//! safetensors, the training state as JSON. `state.json` is written last
//! and atomically, so it only ever names complete files; a resumed run
//! reads it and continues with the same numbers an uninterrupted run gets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use super::optim::AdamW;
use crate::fsio::atomic_write;

/// Tag of the best weights so far.
pub const BEST: &str = "best";

/// One row of RUN/metrics.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    pub step: usize,
    pub epoch: usize,
    pub train_loss: f64,
    pub val_mse: Option<f64>,
    pub val_mae: Option<f64>,
    pub samples_per_sec: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: usize,
    pub step: usize,
    pub best_loss: Option<f64>,
    pub best_epoch: usize,
    pub bad_epochs: usize,
    pub history: Vec<MetricRow>,
}

impl TrainState {
    pub fn last_tag(&self) -> String {
        format!("epoch-{:03}", self.epochs_done)
    }
}

fn weights_path(dir: &Path, tag: &str) -> PathBuf {
    dir.join(format!("{tag}.safetensors"))
}

fn optim_path(dir: &Path, tag: &str) -> PathBuf {
    dir.join(format!("{tag}.optim.safetensors"))
}

/// Write tensors to `path` atomically (temp file, fsync, rename).
pub fn save_tensors(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent folder", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Named as every atomic write names its temp file: one left by a
    // process killed midway is swept by the next save in the folder.
    let tmp = crate::fsio::temp_path(dir, &name);
    // Tensors on a GPU are copied to the CPU to be written.
    let cpu: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.to_device(&Device::Cpu)?)))
        .collect::<Result<_>>()?;
    candle_core::safetensors::save(&cpu, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    crate::fsio::sweep_stale_temps(dir, "");
    Ok(())
}

fn values(vars: &[(String, Var, bool)]) -> HashMap<String, Tensor> {
    vars.iter()
        .map(|(n, v, _)| (n.clone(), v.as_tensor().clone()))
        .collect()
}

/// Save the epoch's weights and optimiser state, the best weights when
/// `improved`, then the state; older epoch files are removed.
pub fn save(dir: &Path, vars: &[(String, Var, bool)], opt: &AdamW, state: &TrainState, improved: bool) -> Result<()> {
    let tag = state.last_tag();
    let weights = values(vars);
    save_tensors(&weights, &weights_path(dir, &tag))?;
    save_tensors(&opt.state()?, &optim_path(dir, &tag))?;
    if improved {
        save_tensors(&weights, &weights_path(dir, BEST))?;
    }
    let json = serde_json::to_vec_pretty(state)?;
    atomic_write(&dir.join("state.json"), &json)?;
    // Only now are the older epochs unreferenced.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("epoch-") && !name.starts_with(&format!("{tag}.")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

pub fn load_state(dir: &Path) -> Result<TrainState> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a training state", path.display()))
}

/// Read a checkpoint's tensors by tag.
pub fn read_weights(dir: &Path, tag: &str) -> Result<HashMap<String, Tensor>> {
    let path = weights_path(dir, tag);
    candle_core::safetensors::load(&path, &Device::Cpu).with_context(|| format!("reading {}", path.display()))
}

/// Load the tagged weights into `vars` (and the optimiser's state).
pub fn load_into(
    dir: &Path,
    tag: &str,
    vars: &[(String, Var, bool)],
    opt: Option<&mut AdamW>,
    step: usize,
) -> Result<()> {
    let tensors = read_weights(dir, tag)?;
    for (name, var, _) in vars {
        let t = tensors.get(name).ok_or_else(|| {
            anyhow!(
                "{}: no weights for {name}: the checkpoint was written by another model or mode",
                weights_path(dir, tag).display()
            )
        })?;
        if t.dims() != var.dims() {
            bail!("{name}: checkpoint shape {:?}, model {:?}", t.dims(), var.dims());
        }
        var.set(&t.to_device(var.device())?)?;
    }
    if let Some(opt) = opt {
        let path = optim_path(dir, tag);
        let state = candle_core::safetensors::load(&path, &Device::Cpu)
            .with_context(|| format!("reading {}", path.display()))?;
        opt.load_state(&state, step)?;
    }
    Ok(())
}
