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
    let Some(me) = all.iter().position(|s| s == sku) else {
        bail!("SKU {sku:?} is not in the data ({} SKUs)", all.len());
    };
    let tb = TextBuilder::new(data);
    let texts: Vec<String> = all.iter().map(|s| tb.product_text(s)).collect();
    let emb: Vec<Vec<f32>> = enc.embed(&texts, 64)?.to_vec2()?;
    let mut scored: Vec<(String, f32, String)> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != me)
        .map(|(i, s)| (s.clone(), cosine(&emb[me], &emb[i]), texts[i].clone()))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    scored.truncate(top);
    Ok(scored)
}
