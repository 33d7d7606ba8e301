//! Text embeddings kept in the workspace between starts and runs: product
//! texts (launches, similar products; about 25 s for 4,300 products on two
//! cores) and head mode's training texts (most of a short run's time). A
//! text already embedded by the same encoder is read back instead.
//!
//! The cache is only ever a shortcut: a file that is missing, unreadable or
//! made by another encoder (its weights file, their size and time, the
//! token limit) is ignored and rewritten, never trusted half-read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::encoder::{Encoder, ModelDir};

/// Texts a saved cache may always hold beyond its caller's.
const MIN_KEPT: usize = 20_000;

/// The file as saved: texts and their vectors, row by row.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    identity: String,
    dim: usize,
    texts: Vec<String>,
    vectors: Vec<f32>,
}

/// Embeddings by text, for one encoder.
#[derive(Debug)]
pub struct EmbeddingCache {
    /// The file; None for a cache that lives only as long as one call.
    path: Option<PathBuf>,
    identity: String,
    by_text: HashMap<String, Vec<f32>>,
    /// Texts embedded since the file was read.
    added: usize,
}

impl EmbeddingCache {
    /// What makes an encoder's embeddings the same as another's: its
    /// weights file (path, size, modification time) and its token limit.
    pub fn identity(dir: &Path, max_len: usize) -> Result<String> {
        let model = ModelDir::open(dir)?;
        let meta = std::fs::metadata(&model.weights).with_context(|| format!("reading {}", model.weights.display()))?;
        let modified = crate::fsio::modified_nanos(&meta).unwrap_or(0);
        let path = model.weights.canonicalize().unwrap_or(model.weights);
        Ok(format!("{}|{}|{modified}|{max_len}", path.display(), meta.len()))
    }

    /// The cache in `path` for the encoder with this identity; empty when
    /// the file is absent, unreadable or another encoder's.
    pub fn open(path: &Path, identity: String) -> EmbeddingCache {
        let mut by_text = HashMap::new();
        if let Ok(bytes) = std::fs::read(path) {
            match rmp_serde::from_slice::<Stored>(&bytes) {
                Ok(s) if s.identity == identity && s.dim > 0 && s.vectors.len() == s.texts.len() * s.dim => {
                    by_text = s
                        .texts
                        .into_iter()
                        .zip(s.vectors.chunks(s.dim).map(<[f32]>::to_vec))
                        .collect();
                }
                Ok(_) => tracing::info!(path = %path.display(), "embedding cache of another encoder, starting afresh"),
                Err(e) => tracing::warn!(path = %path.display(), "unreadable embedding cache, starting afresh: {e}"),
            }
        }
        EmbeddingCache {
            path: Some(path.to_path_buf()),
            identity,
            by_text,
            added: 0,
        }
    }

    /// An empty cache with no file: each distinct text embedded once, and
    /// nothing saved.
    pub fn scratch() -> EmbeddingCache {
        EmbeddingCache {
            path: None,
            identity: String::new(),
            by_text: HashMap::new(),
            added: 0,
        }
    }

    /// The cache in the file `path`, when one is given, for the encoder
    /// `enc` loaded from `model_dir`.
    pub fn at(path: Option<&Path>, model_dir: &Path, enc: &Encoder) -> Result<Option<EmbeddingCache>> {
        match path {
            Some(path) => Ok(Some(EmbeddingCache::open(
                path,
                EmbeddingCache::identity(model_dir, enc.max_len)?,
            ))),
            None => Ok(None),
        }
    }

    /// Texts held.
    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }

    /// Texts embedded by the encoder since the cache was opened.
    pub fn added(&self) -> usize {
        self.added
    }

    /// The embedding of each text, in order: read from the cache, or
    /// embedded by `enc` (each distinct missing text once) and kept.
    pub fn embed(&mut self, enc: &Encoder, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.embed_each(enc, texts, &mut |_, _| Ok(()))
    }

    /// [`embed`](Self::embed), telling `each` (done, total) of the missing
    /// texts as they are encoded. Each batch is held as soon as it is
    /// encoded, so a cancel (an error from `each`) keeps what was done.
    pub fn embed_each(
        &mut self,
        enc: &Encoder,
        texts: &[String],
        each: &mut super::encoder::Progress<'_>,
    ) -> Result<Vec<Vec<f32>>> {
        let mut missing: Vec<String> = texts
            .iter()
            .filter(|t| !self.by_text.contains_key(*t))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        // Batches of texts of about one length pad least (see
        // `Encoder::length_order`).
        let order = enc.length_order(&missing)?;
        let missing: Vec<String> = order.into_iter().map(|i| std::mem::take(&mut missing[i])).collect();
        let mut done = 0;
        for batch in missing.chunks(64) {
            let vectors: Vec<Vec<f32>> = enc.embed(batch, 64)?.to_vec2()?;
            self.added += batch.len();
            self.by_text.extend(batch.iter().cloned().zip(vectors));
            done += batch.len();
            each(done, missing.len())?;
        }
        texts
            .iter()
            .map(|t| {
                self.by_text
                    .get(t)
                    .cloned()
                    .with_context(|| format!("no embedding for the text {t:?}"))
            })
            .collect()
    }

    /// [`embed`](Self::embed), then [`save`](Self::save) with these texts,
    /// also when the encoding was cancelled part way (what was encoded
    /// then need not be encoded again); a failed save is only logged (the
    /// cache is a shortcut, the caller's work goes on).
    pub fn embed_and_keep(
        &mut self,
        enc: &Encoder,
        texts: &[String],
        each: &mut super::encoder::Progress<'_>,
    ) -> Result<Vec<Vec<f32>>> {
        let rows = self.embed_each(enc, texts, each);
        if let Err(e) = self.save(texts) {
            tracing::warn!("the embedding cache was not saved: {e:#}");
        }
        rows
    }

    /// Save what is held, atomically, when anything was added: the texts in
    /// `keep` (the caller's) first, then others held from earlier uses (a
    /// training and its refit use overlapping texts), up to twice `keep`
    /// and at least `MIN_KEPT`, so a cache never grows without bound.
    pub fn save(&self, keep: &[String]) -> Result<()> {
        let Some(path) = self.path.as_ref().filter(|_| self.added > 0) else {
            return Ok(());
        };
        let mut texts: Vec<&String> = keep.iter().filter(|t| self.by_text.contains_key(*t)).collect();
        texts.sort();
        texts.dedup();
        let limit = (2 * texts.len()).max(MIN_KEPT);
        let wanted: std::collections::HashSet<&String> = texts.iter().copied().collect();
        let mut others: Vec<&String> = self.by_text.keys().filter(|t| !wanted.contains(t)).collect();
        others.sort();
        texts.extend(others.into_iter().take(limit.saturating_sub(wanted.len())));
        let dim = texts.first().and_then(|t| self.by_text.get(*t)).map_or(0, Vec::len);
        let stored = Stored {
            identity: self.identity.clone(),
            dim,
            vectors: texts
                .iter()
                .filter_map(|t| self.by_text.get(*t))
                .flatten()
                .copied()
                .collect(),
            texts: texts.into_iter().cloned().collect(),
        };
        let bytes = rmp_serde::to_vec(&stored).context("encoding the embedding cache")?;
        crate::fsio::atomic_write(path, &bytes)
    }
}
