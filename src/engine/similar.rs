//! Products whose encoder embeddings are nearest: the neighbours a new SKU
//! borrows from, and candidate substitutes.

use anyhow::{Result, bail};

use super::encoder::{Encoder, cosine};
use crate::domain::Dataset;
use crate::forecast::text::TextBuilder;

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
/// texts' embeddings: (sku, cosine, text), nearest first.
pub fn nearest(enc: &Encoder, data: &Dataset, sku: &str, top: usize) -> Result<Vec<(String, f32, String)>> {
    let all = skus(data);
    if !all.iter().any(|s| s == sku) {
        bail!("SKU {sku:?} is not in the data ({} SKUs)", all.len());
    }
    let emb = product_embeddings(enc, data)?;
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
/// sales), each distinct text encoded once.
pub fn product_embeddings(enc: &Encoder, data: &Dataset) -> Result<std::collections::HashMap<String, Vec<f32>>> {
    let all = skus(data);
    let tb = TextBuilder::new(data);
    let texts: Vec<String> = all.iter().map(|s| tb.product_text(s)).collect();
    let mut uniq = texts.clone();
    uniq.sort();
    uniq.dedup();
    let emb: Vec<Vec<f32>> = enc.embed(&uniq, 64)?.to_vec2()?;
    let at: std::collections::HashMap<&str, usize> = uniq.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    Ok(all
        .into_iter()
        .zip(&texts)
        .map(|(sku, t)| (sku, emb[at[t.as_str()]].clone()))
        .collect())
}

/// Launch forecasts of the `horizon` periods after `origin`, neighbours
/// found by `enc` (see `forecast::launch`).
pub fn launches(
    enc: &Encoder,
    data: &Dataset,
    origin: chrono::NaiveDate,
    horizon: usize,
) -> Result<crate::forecast::launch::Launches> {
    let emb = product_embeddings(enc, data)?;
    Ok(crate::forecast::launch::forecast_launches(
        data,
        origin,
        horizon,
        Some(&emb),
    ))
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
/// `horizon` periods, neighbours found by the encoder in `model_dir`.
/// None when no product waits for a launch.
pub fn plan_launches(
    data: &Dataset,
    horizon: usize,
    model_dir: &std::path::Path,
) -> Result<Option<crate::forecast::launch::Launches>> {
    if !has_launches(data) {
        return Ok(None);
    }
    let Some((_, last)) = data.date_range() else {
        return Ok(None);
    };
    let dir = super::encoder::ModelDir::open(model_dir)?;
    let enc = Encoder::load(&dir, &candle_core::Device::Cpu, 48)?;
    Ok(Some(launches(&enc, data, last, horizon)?))
}
