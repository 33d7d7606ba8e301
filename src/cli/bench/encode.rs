//! `skuplan bench encode`: encoding a data set's product texts in length
//! order (what the engine does) beside the same texts in their own order.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};

/// Positions a batch computes: its size times its longest text.
fn padded(lens: &[usize], order: &[usize], batch: usize) -> usize {
    order
        .chunks(batch)
        .map(|c| c.len() * c.iter().map(|&i| lens[i]).max().unwrap_or(0))
        .sum()
}

/// Encode the product text of every SKU of `data` (each distinct text
/// once; every k-th of them when `limit` is smaller) both ways: the
/// reference in the texts' own (sorted) order, as the engine did before,
/// and by token count. The two alternate slice by slice (eight batches
/// each), so load that comes and goes on a shared machine weighs on both;
/// the padded positions are those of whole-set batches.
/// Prints time, texts/s and padded positions of each, the ratio, and the
/// largest difference between the two embeddings.
pub fn encode_bench(data: &crate::domain::Dataset, model: &Path, batch: usize, limit: Option<usize>) -> Result<String> {
    use crate::engine::encoder::{Encoder, ModelDir};
    use crate::engine::similar::{PRODUCT_TEXT_TOKENS, skus};
    use crate::forecast::text::TextBuilder;

    let tb = TextBuilder::new(data);
    let mut texts: Vec<String> = skus(data).iter().map(|s| tb.product_text(s)).collect();
    texts.sort();
    texts.dedup();
    if let Some(n) = limit.filter(|&n| n > 0 && n < texts.len()) {
        let step = texts.len() as f64 / n as f64;
        texts = (0..n).map(|k| texts[(k as f64 * step) as usize].clone()).collect();
    }
    if texts.is_empty() {
        bail!("the data has no products to encode");
    }
    let enc = Encoder::load(&ModelDir::open(model)?, &candle_core::Device::Cpu, PRODUCT_TEXT_TOKENS)?;
    let batch = batch.max(1);
    let slice = batch * 8;
    let lens = enc.token_counts(&texts)?;
    let own: Vec<usize> = (0..texts.len()).collect();
    let by_len = enc.length_order(&texts)?;
    let (mut t_own, mut t_len) = (0f64, 0f64);
    let mut rows_own = vec![Vec::new(); texts.len()];
    let mut rows_len = vec![Vec::new(); texts.len()];
    // Slice k of each order in turn: the reference's in the texts' order,
    // the other's from the whole set sorted by token count, as the engine
    // sorts every text it has to encode.
    for (a, b) in own.chunks(slice).zip(by_len.chunks(slice)) {
        for (ids, by_length, time, rows) in [
            (a, false, &mut t_own, &mut rows_own),
            (b, true, &mut t_len, &mut rows_len),
        ] {
            let part: Vec<String> = ids.iter().map(|&i| texts[i].clone()).collect();
            let clock = Instant::now();
            let emb = enc.embed_in(&part, batch, by_length, &mut |_, _| Ok(()))?;
            *time += clock.elapsed().as_secs_f64();
            for (&i, row) in ids.iter().zip(emb.to_vec2::<f32>()?) {
                rows[i] = row;
            }
        }
    }
    let worst = rows_own
        .iter()
        .zip(&rows_len)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
        .fold(0f32, f32::max);
    let (pad_own, pad_len) = (padded(&lens, &own, batch), padded(&lens, &by_len, batch));
    let real: usize = lens.iter().sum();
    let mut out = String::new();
    writeln!(
        out,
        "bench encode: {} distinct product texts, {real} tokens ({:.1} a text, longest {}), batch {batch}, \
         {}, slices of {slice} texts",
        texts.len(),
        real as f64 / texts.len() as f64,
        lens.iter().max().copied().unwrap_or(0),
        enc.name
    )?;
    writeln!(
        out,
        "{:<20} {:>9} {:>10} {:>16}",
        "order", "seconds", "texts/s", "padded tokens"
    )?;
    for (name, t, pad) in [("own (reference)", t_own, pad_own), ("by token count", t_len, pad_len)] {
        writeln!(
            out,
            "{name:<20} {t:>9.2} {:>10.1} {pad:>16}",
            texts.len() as f64 / t.max(1e-9)
        )?;
    }
    writeln!(
        out,
        "by token count / own: {:.3} of the time; largest difference in an embedding value: {worst:.1e}",
        t_len / t_own.max(1e-9)
    )?;
    Ok(out)
}
