//! What is chosen on the validation windows once the weights are learnt:
//! how much of the head's correction to keep, the calibrated band, whether
//! the text is read at all (the run's own ablation), and the test score.

use anyhow::Result;
use candle_core::Tensor;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::bert::Dropout;
use super::checkpoint::TrainState;
use super::events::{EvalMetrics, Stop, TEXT_MIN_GAIN, TextAblation};
use super::model::{Calibration, Correction};
use super::train::{DemandModel, Prepared, TextInput, TextSide, Trained, predict_split, predict_split_as, score};

#[derive(Debug, Clone)]
pub struct Outcome {
    pub stop: Stop,
    pub state: TrainState,
    pub best: EvalMetrics,
    pub test: Option<EvalMetrics>,
    pub calibration: Calibration,
    /// How much of the head's correction to the base is kept, and why.
    pub correction: Correction,
    pub parameters: usize,
    /// Head mode: the frozen encoder's embedding of every text (row i is
    /// `prep.texts[i]`), so the run can cache them without encoding again.
    pub text_table: Option<Tensor>,
    /// What the text adds on the validation windows (None for a run
    /// trained without text, or without validation windows).
    pub text: Option<TextAblation>,
    /// When the text did not help: the one embedding every product gets
    /// in its place (the mean over the run's texts).
    pub text_mean: Option<Tensor>,
}

/// Choose on the validation windows and score the test window: what a run
/// keeps of its training.
pub fn finish(model: &mut DemandModel, trained: Trained, prep: &Prepared, seed: u64) -> Result<Outcome> {
    let Trained {
        stop,
        state,
        parameters,
        side,
    } = trained;
    let h = prep.horizon;
    let (correction, vpred) = choose_correction(model, &side, prep)?;
    let calibration = Calibration {
        correction: correction.chosen,
        ..Calibration::fit(&vpred, &prep.validation, h)
    };
    let best = score(&vpred, &prep.validation, h, calibration);
    let test = if prep.test.n > 0 {
        let tpred = predict_split(model, &side, &prep.texts, &prep.test)?;
        Some(score(&tpred, &prep.test, h, calibration))
    } else {
        None
    };
    let mut outcome = Outcome {
        stop,
        state,
        best,
        test,
        calibration,
        correction,
        parameters,
        text_table: None,
        text: None,
        text_mean: None,
    };
    if model.head.config.use_text && prep.validation.n > 0 && !prep.texts.is_empty() {
        text_ablation(model, &side, prep, seed, &mut outcome)?;
    }
    if let TextSide::Cached(t) = side {
        outcome.text_table = Some(t);
    }
    Ok(outcome)
}

fn text_ablation(model: &DemandModel, side: &TextSide, prep: &Prepared, seed: u64, out: &mut Outcome) -> Result<()> {
    let h = prep.horizon;
    let n = prep.texts.len();
    let loss_of = |pred: &[f32]| -> (Calibration, f64) {
        let cal = Calibration {
            correction: out.calibration.correction,
            ..Calibration::fit(pred, &prep.validation, h)
        };
        (cal, score(pred, &prep.validation, h, cal).loss)
    };
    // A fixed derangement-like shuffle: every text moves when it can.
    let mut map: Vec<u32> = (0..n as u32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7e57);
    map.shuffle(&mut rng);
    if n > 1 {
        for i in 0..n {
            if map[i] as usize == i {
                let j = (i + 1) % n;
                map.swap(i, j);
            }
        }
    }
    let shuffled = predict_split_as(model, side, &prep.texts, &prep.validation, &TextInput::Shuffled(map))?;
    let (_, shuffled_loss) = loss_of(&shuffled);
    // The mean embedding over every text of the run.
    let ids: Vec<u32> = (0..n as u32).collect();
    let mut sum: Option<Tensor> = None;
    for chunk in ids.chunks(256) {
        let emb = side.embed(model, &prep.texts, chunk, &mut Dropout::off())?;
        // Detached: in top-k and full mode the embedding carries the
        // encoder's graph, and a running sum would keep every chunk's.
        let s = emb.sum_keepdim(0)?.detach();
        sum = Some(match sum {
            Some(t) => (t + s)?,
            None => s,
        });
    }
    let Some(sum) = sum else { return Ok(()) };
    let mean = (sum / n as f64)?;
    let same = predict_split_as(
        model,
        side,
        &prep.texts,
        &prep.validation,
        &TextInput::Same(mean.clone()),
    )?;
    let (none_cal, none_loss) = loss_of(&same);
    let own = out.best.loss;
    let used = own < none_loss * (1.0 - TEXT_MIN_GAIN);
    out.text = Some(TextAblation {
        own,
        shuffled: shuffled_loss,
        none: none_loss,
        used,
    });
    if !used {
        // Forecast as validation chose: without the text.
        out.calibration = none_cal;
        out.best = score(&same, &prep.validation, h, none_cal);
        if prep.test.n > 0 {
            let t = predict_split_as(model, side, &prep.texts, &prep.test, &TextInput::Same(mean.clone()))?;
            out.test = Some(score(&t, &prep.test, h, none_cal));
        }
        out.text_mean = Some(mean);
    }
    Ok(())
}

/// Shares of the correction tried, from the base alone to all of it.
const SHARES: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// How much of its learnt correction the head should add to the base
/// forecast: the share with the lowest pinball loss on the validation
/// windows (band calibrated for each). The head is trained on windows
/// from every season of earlier years and can learn a correction that
/// fits them and not the present; shrinking it toward the
/// multiplicative base when the most recent windows say so is plain
/// model selection, and with no base (or no validation windows) the
/// whole correction is kept. Leaves the chosen share set on the head and
/// returns the validation predictions made with it.
pub fn choose_correction(model: &mut DemandModel, side: &TextSide, prep: &Prepared) -> Result<(Correction, Vec<f32>)> {
    let h = prep.horizon;
    model.head.correction = 1.0;
    let all = predict_split(model, side, &prep.texts, &prep.validation)?;
    if model.head.config.base_offset.is_none() || prep.validation.n == 0 {
        let kept = Correction {
            chosen: 1.0,
            losses: Vec::new(),
        };
        return Ok((kept, all));
    }
    // The median is base + share x correction and the band moves with it,
    // so two passes (no correction, all of it) give every share.
    model.head.correction = 0.0;
    let none = predict_split(model, side, &prep.texts, &prep.validation)?;
    let at = |share: f64| -> Vec<f32> {
        let mut pred = all.clone();
        for r in 0..prep.validation.n {
            for d in 0..h {
                let mid = r * 3 * h + h + d;
                let shift = (share as f32 - 1.0) * (all[mid] - none[mid]);
                for k in 0..3 {
                    pred[r * 3 * h + k * h + d] += shift;
                }
            }
        }
        pred
    };
    let losses: Vec<(f64, f64)> = SHARES
        .iter()
        .map(|&share| {
            let pred = at(share);
            let cal = Calibration::fit(&pred, &prep.validation, h);
            (share, score(&pred, &prep.validation, h, cal).loss)
        })
        .collect();
    // Ties go to the larger share (SHARES ascends): the model as trained.
    let chosen = losses
        .iter()
        .copied()
        .filter(|(_, l)| l.is_finite())
        .fold(None::<(f64, f64)>, |best, (s, l)| match best {
            Some((_, bl)) if bl < l => best,
            _ => Some((s, l)),
        })
        .map_or(1.0, |(s, _)| s);
    model.head.correction = chosen;
    Ok((Correction { chosen, losses }, at(chosen)))
}
