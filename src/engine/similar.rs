//! Products whose encoder embeddings are nearest: the neighbours a new SKU
//! borrows from, and candidate substitutes.

use anyhow::{Result, bail};

use super::encoder::{Encoder, Progress, cosine};
use super::text_cache::EmbeddingCache;
use crate::domain::Dataset;
use crate::forecast::text::TextBuilder;

/// Tokens of a product text the encoder reads when products are compared
/// (the workstation and the CLI alike, so they share one embedding cache).
pub const PRODUCT_TEXT_TOKENS: usize = 48;

/// Every SKU of the data (products and sales), sorted.
pub fn skus(data: &Dataset) -> Vec<String> {
    let mut v: Vec<String> = data
        .products
        .iter()
        .map(|p| p.sku.clone())
        .chain(data.demand.iter().map(|s| s.sku.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The `top` products nearest to `sku` by the cosine of their product
/// texts' embeddings (kept in `cache` when given): (sku, cosine, text),
/// nearest first. `each` hears (done, total) of the texts encoded, and
/// stops the encoding by returning an error.
pub fn nearest(
    enc: &Encoder,
    data: &Dataset,
    (sku, top): (&str, usize),
    cache: Option<&mut EmbeddingCache>,
    each: &mut Progress<'_>,
) -> Result<Vec<(String, f32, String)>> {
    let all = skus(data);
    if !all.iter().any(|s| s == sku) {
        bail!("SKU {sku:?} is not in the data ({} SKUs)", all.len());
    }
    let emb = product_embeddings(enc, data, cache, each)?;
    let Some(mine) = emb.get(sku) else {
        bail!("SKU {sku:?} has no embedding");
    };
    let tb = TextBuilder::new(data);
    let mut scored: Vec<(String, f32, String)> = all
        .iter()
        .filter(|s| *s != sku)
        .filter_map(|s| Some((s.clone(), cosine(mine, emb.get(s)?), tb.product_text(s))))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    scored.truncate(top);
    Ok(scored)
}

/// The product text embedding of every SKU of the data (products and
/// sales), each distinct text encoded once; with a cache, only the texts
/// it does not hold are encoded, and the cache is saved with them (also
/// when `each`, told (done, total) after every batch, stops the encoding
/// by returning an error: what was encoded then is not encoded again).
pub fn product_embeddings(
    enc: &Encoder,
    data: &Dataset,
    cache: Option<&mut EmbeddingCache>,
    each: &mut Progress<'_>,
) -> Result<std::collections::HashMap<String, Vec<f32>>> {
    let all = skus(data);
    let tb = TextBuilder::new(data);
    let texts: Vec<String> = all.iter().map(|s| tb.product_text(s)).collect();
    let emb = match cache {
        Some(cache) => cache.embed_and_keep(enc, &texts, each)?,
        None => EmbeddingCache::scratch().embed_each(enc, &texts, each)?,
    };
    Ok(all.into_iter().zip(emb).collect())
}

/// Launch forecasts of the `horizon` periods after `origin`, neighbours
/// found by `enc` (see `forecast::launch`), its embeddings kept in `cache`,
/// with the same forecasts a horizon back for the short histories then
/// (for the plan to judge; `Launches::past_short`). `each` as for
/// [`product_embeddings`].
pub fn launches(
    enc: &Encoder,
    data: &Dataset,
    origin: chrono::NaiveDate,
    horizon: usize,
    cache: Option<&mut EmbeddingCache>,
    each: &mut Progress<'_>,
) -> Result<crate::forecast::launch::Launches> {
    let emb = product_embeddings(enc, data, cache, each)?;
    let mut out = crate::forecast::launch::forecast_launches(data, origin, horizon, Some(&emb));
    out.past_short = crate::forecast::launch::past_short_histories(data, origin, horizon, Some(&emb));
    Ok(out)
}

/// True when the plan has work for launch forecasts: a product waiting for
/// its launch, or a series with under four weeks of sales (whose launch
/// forecast the plan judges before it uses it).
pub fn wants_launches(data: &Dataset) -> bool {
    has_launches(data) || crate::forecast::launch::has_short_histories(data)
}

/// True when some product waits for a launch forecast: a launch date and
/// no sales yet.
pub fn has_launches(data: &Dataset) -> bool {
    let sold: std::collections::HashSet<&str> = data
        .demand
        .iter()
        .filter(|s| s.values.iter().any(|v| *v > 0.0))
        .map(|s| s.sku.as_str())
        .collect();
    data.products
        .iter()
        .any(|p| p.launch_date.is_some() && !sold.contains(p.sku.as_str()))
}

/// The launches of a plan: forecast from the data's last day over
/// `horizon` periods, neighbours found by the encoder in `model_dir`, its
/// embeddings kept in the file `cache` when given. None when there is
/// nothing for them to do ([`wants_launches`]).
pub fn plan_launches(
    data: &Dataset,
    horizon: usize,
    model_dir: &std::path::Path,
    cache: Option<&std::path::Path>,
) -> Result<Option<crate::forecast::launch::Launches>> {
    if !wants_launches(data) {
        return Ok(None);
    }
    let Some((_, last)) = data.date_range() else {
        return Ok(None);
    };
    let dir = super::encoder::ModelDir::open(model_dir)?;
    let enc = Encoder::load(&dir, &candle_core::Device::Cpu, PRODUCT_TEXT_TOKENS)?;
    let mut cache = EmbeddingCache::at(cache, model_dir, &enc)?;
    Ok(Some(launches(
        &enc,
        data,
        last,
        horizon,
        cache.as_mut(),
        &mut |_, _| Ok(()),
    )?))
}
