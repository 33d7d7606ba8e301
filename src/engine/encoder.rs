//! A model folder (config, tokenizer, weights) and the text encoder built
//! from it: tokenise, run [`Bert`], mean-pool.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use tokenizers::Tokenizer;

use super::bert::{self, Batch, Bert, BertConfig, Dropout};

/// The folder name of the shipped default model under `assets/models/`.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// Where the shipped model lives: `./assets/models/...` when run from a
/// checkout, else the checkout this binary was built from.
pub fn default_model_dir() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("assets/models").join(DEFAULT_MODEL),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/models")
            .join(DEFAULT_MODEL),
    ];
    candidates.into_iter().find(|p| p.join("config.json").is_file())
}

/// The files of a local Hugging Face BERT folder.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub path: PathBuf,
    pub config: BertConfig,
    pub weights: PathBuf,
    tokenizer_json: Option<PathBuf>,
    vocab_txt: Option<PathBuf>,
}

impl ModelDir {
    pub fn open(path: &Path) -> Result<ModelDir> {
        if !path.is_dir() {
            bail!(
                "{}: not a folder (expected a Hugging Face model folder with config.json, tokenizer.json or vocab.txt, and model.safetensors or pytorch_model.bin)",
                path.display()
            );
        }
        let config = BertConfig::from_file(&path.join("config.json"))?;
        let weights = ["model.safetensors", "pytorch_model.bin"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| anyhow!("{}: no model.safetensors or pytorch_model.bin", path.display()))?;
        let tokenizer_json = Some(path.join("tokenizer.json")).filter(|p| p.is_file());
        let vocab_txt = Some(path.join("vocab.txt")).filter(|p| p.is_file());
        if tokenizer_json.is_none() && vocab_txt.is_none() {
            bail!("{}: no tokenizer.json or vocab.txt", path.display());
        }
        Ok(ModelDir {
            path: path.to_path_buf(),
            config,
            weights,
            tokenizer_json,
            vocab_txt,
        })
    }

    pub fn tokenizer(&self) -> Result<Tokenizer> {
        if let Some(p) = &self.tokenizer_json {
            let mut tok = Tokenizer::from_file(p).map_err(|e| anyhow!("{}: {e}", p.display()))?;
            // Many exported tokenizers pad every text to a fixed length
            // (MiniLM's to 128); we pad each batch to its longest text and
            // truncate at our own max_len instead.
            tok.with_padding(None);
            tok.with_truncation(None).map_err(|e| anyhow!("{}: {e}", p.display()))?;
            return Ok(tok);
        }
        match &self.vocab_txt {
            Some(v) => wordpiece_tokenizer(v),
            None => bail!("{}: no tokenizer", self.path.display()),
        }
    }

    pub fn files(&self) -> (Option<&Path>, Option<&Path>) {
        (self.tokenizer_json.as_deref(), self.vocab_txt.as_deref())
    }
}

/// An uncased BERT WordPiece tokenizer from a `vocab.txt`.
pub fn wordpiece_tokenizer(vocab: &Path) -> Result<Tokenizer> {
    use tokenizers::Model;
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;
    let path = vocab
        .to_str()
        .ok_or_else(|| anyhow!("{}: path is not UTF-8", vocab.display()))?;
    let wp = WordPiece::from_file(path)
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| anyhow!("{}: {e}", vocab.display()))?;
    let id = |t: &str| {
        wp.get_vocab()
            .get(t)
            .copied()
            .ok_or_else(|| anyhow!("{}: no {t} token", vocab.display()))
    };
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    let mut tok = Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::default()))
        .map_err(|e| anyhow!("{}: {e}", vocab.display()))?;
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_post_processor(Some(BertProcessing::new(("[SEP]".into(), sep), ("[CLS]".into(), cls))));
    Ok(tok)
}

/// The encoder with its tokenizer; its weights live in their own
/// [`VarMap`] under their Hugging Face names.
pub struct Encoder {
    pub bert: Bert,
    pub varmap: VarMap,
    pub tokenizer: Tokenizer,
    pub device: Device,
    pub max_len: usize,
    pub name: String,
}

impl Encoder {
    /// Load a model folder onto `device` (weights as f32, whatever the
    /// file holds).
    pub fn load(dir: &ModelDir, device: &Device, max_len: usize) -> Result<Encoder> {
        let varmap = VarMap::new();
        let bert = bert::build(&dir.config, &varmap, device)?;
        let tensors = bert::read_canonical(&dir.weights)?;
        bert::load_weights(&varmap, "", &tensors, &dir.weights)?;
        let name = dir
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "encoder".into());
        Ok(Encoder {
            bert,
            varmap,
            tokenizer: dir.tokenizer()?,
            device: device.clone(),
            max_len: max_len.min(dir.config.max_position_embeddings),
            name,
        })
    }

    /// A randomly initialised encoder (tests, and the tiny benchmark).
    pub fn random(cfg: &BertConfig, tokenizer: Tokenizer, device: &Device, max_len: usize) -> Result<Encoder> {
        let varmap = VarMap::new();
        let bert = bert::build(cfg, &varmap, device)?;
        Ok(Encoder {
            bert,
            varmap,
            tokenizer,
            device: device.clone(),
            max_len: max_len.min(cfg.max_position_embeddings),
            name: "random".into(),
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.bert.config.hidden_size
    }

    /// Token ids and mask, padded to the longest text (at most `max_len`).
    pub fn tokenize(&self, texts: &[String]) -> Result<Batch> {
        let tokens = self.token_ids(texts)?;
        self.pad(&tokens.iter().map(Vec::as_slice).collect::<Vec<_>>())
    }

    /// Each text's real token ids (special tokens included, padding not),
    /// cut at `max_len`.
    fn token_ids(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        Ok(enc
            .iter()
            .map(|e| {
                // Real tokens only (a tokenizer may still pad).
                let real = e.get_attention_mask().iter().take_while(|m| **m == 1).count();
                e.get_ids()[..real.min(self.max_len)].to_vec()
            })
            .collect())
    }

    /// One batch of token rows, padded to the longest.
    fn pad(&self, rows: &[&[u32]]) -> Result<Batch> {
        let len = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
        let pad = self.bert.config.pad_token_id;
        let mut ids = Vec::with_capacity(rows.len() * len);
        let mut mask = Vec::with_capacity(rows.len() * len);
        for r in rows {
            ids.extend_from_slice(r);
            mask.extend(std::iter::repeat_n(1u32, r.len()));
            ids.extend(std::iter::repeat_n(pad, len - r.len()));
            mask.extend(std::iter::repeat_n(0u32, len - r.len()));
        }
        let shape = (rows.len(), len);
        Ok(Batch {
            ids: Tensor::from_vec(ids, shape, &self.device)?,
            mask: Tensor::from_vec(mask, shape, &self.device)?,
        })
    }

    /// The order to encode `texts` in: by token count, ties in their own
    /// order. A batch is padded to its longest text, and every padded
    /// position costs as much as a real one, so batches of texts of one
    /// length do the least work; what a text encodes to does not depend on
    /// its batch (padding is masked out of attention and pooling).
    pub fn length_order(&self, texts: &[String]) -> Result<Vec<usize>> {
        Ok(by_length(&self.token_ids(texts)?))
    }

    /// Each text's token count as encoded (cut at `max_len`).
    pub fn token_counts(&self, texts: &[String]) -> Result<Vec<usize>> {
        Ok(self.token_ids(texts)?.iter().map(Vec::len).collect())
    }

    /// Mean-pooled embeddings of `texts`, (n, hidden) f32, no gradient.
    pub fn embed(&self, texts: &[String], batch_size: usize) -> Result<Tensor> {
        self.embed_each(texts, batch_size, &mut |_, _| Ok(()))
    }

    /// [`embed`](Self::embed), calling `each(done, total)` after every
    /// batch; an error from it stops the work (a cancel) and is returned.
    /// The texts are encoded in [`length_order`](Self::length_order); the
    /// rows come back in the texts' own order.
    pub fn embed_each(&self, texts: &[String], batch_size: usize, each: &mut Progress<'_>) -> Result<Tensor> {
        self.embed_in(texts, batch_size, true, each)
    }

    /// [`embed_each`](Self::embed_each), in length order or (`by_length`
    /// false, the benchmark's reference) in the texts' own order.
    pub fn embed_in(
        &self,
        texts: &[String],
        batch_size: usize,
        by_length: bool,
        each: &mut Progress<'_>,
    ) -> Result<Tensor> {
        if texts.is_empty() {
            return Ok(Tensor::zeros((0, self.hidden_size()), DType::F32, &self.device)?);
        }
        let tokens = self.token_ids(texts)?;
        let order = if by_length {
            self::by_length(&tokens)
        } else {
            (0..texts.len()).collect()
        };
        let mut parts = Vec::new();
        let mut done = 0;
        for chunk in order.chunks(batch_size.max(1)) {
            let rows: Vec<&[u32]> = chunk.iter().map(|&i| tokens[i].as_slice()).collect();
            let batch = self.pad(&rows)?;
            let hidden = self.bert.forward(&batch, &mut Dropout::off())?;
            parts.push(Bert::mean_pool(&hidden, &batch.mask)?.detach());
            done += chunk.len();
            each(done, texts.len())?;
        }
        let sorted = Tensor::cat(&parts, 0)?;
        if !by_length {
            return Ok(sorted);
        }
        // Row k of `sorted` is text order[k]; put each back in its place.
        let mut place = vec![0u32; texts.len()];
        for (k, &i) in order.iter().enumerate() {
            place[i] = k as u32;
        }
        let place = Tensor::from_vec(place, texts.len(), &self.device)?;
        Ok(sorted.index_select(&place, 0)?)
    }

    /// Hidden states after the first `upto` layers for each text, kept
    /// unpadded (seq_i, hidden) so any batch can be re-padded later;
    /// `each(done, total)` after every batch, as in [`Encoder::embed_each`]
    /// (and, like it, encoded in [`length_order`](Self::length_order)).
    pub fn lower_states(&self, texts: &[String], upto: usize, each: &mut Progress<'_>) -> Result<Vec<Tensor>> {
        let tokens = self.token_ids(texts)?;
        let order = by_length(&tokens);
        let mut out: Vec<Option<Tensor>> = vec![None; texts.len()];
        let mut done = 0;
        for chunk in order.chunks(64) {
            let rows: Vec<&[u32]> = chunk.iter().map(|&i| tokens[i].as_slice()).collect();
            let batch = self.pad(&rows)?;
            let hidden = self.bert.forward_lower(&batch, upto, &mut Dropout::off())?.detach();
            for (k, (&i, r)) in chunk.iter().zip(&rows).enumerate() {
                out[i] = Some(hidden.get(k)?.narrow(0, 0, r.len())?);
            }
            done += chunk.len();
            each(done, texts.len())?;
        }
        out.into_iter()
            .map(|t| t.ok_or_else(|| anyhow!("a text was not encoded")))
            .collect()
    }
}

/// Indices of `tokens` by token count, ties in their own order (see
/// [`Encoder::length_order`]).
fn by_length(tokens: &[Vec<u32>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| tokens[i].len());
    order
}

/// Told (texts done, texts in all) as texts are encoded; an error stops the
/// encoding (a cancel).
pub type Progress<'a> = dyn FnMut(usize, usize) -> Result<()> + 'a;

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// Copy a Hugging Face BERT folder into the form skuplan uses: config.json,
/// the tokenizer files, and `model.safetensors` holding only the encoder's
/// weights under canonical names, in `dtype` (f16 halves the size).
pub fn import_model(src: &Path, dest: &Path, dtype: DType) -> Result<ImportedModel> {
    let dir = ModelDir::open(src)?;
    // Prove the folder loads and tokenises before writing anything.
    let tensors = bert::read_canonical(&dir.weights)?;
    let varmap = VarMap::new();
    let _probe = bert::build(&dir.config, &varmap, &Device::Cpu)?;
    bert::load_weights(&varmap, "", &tensors, &dir.weights)?;
    dir.tokenizer()?;
    let wanted: std::collections::HashSet<String> = varmap
        .data()
        .lock()
        .map_err(|_| anyhow!("poisoned variables"))?
        .keys()
        .cloned()
        .collect();
    let mut out = std::collections::HashMap::new();
    for (name, t) in tensors {
        if wanted.contains(&name) {
            out.insert(name, t.to_dtype(dtype)?);
        }
    }
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let tmp = dest.join(".model.safetensors.tmp");
    candle_core::safetensors::save(&out, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dest.join("model.safetensors"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest.join("model.safetensors"), std::fs::Permissions::from_mode(0o644))?;
    }
    let mut copied = vec!["model.safetensors".to_string()];
    for name in [
        "config.json",
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        let from = src.join(name);
        if from.is_file() {
            let bytes = std::fs::read(&from)?;
            crate::fsio::atomic_write(&dest.join(name), &bytes)?;
            copied.push(name.to_string());
        }
    }
    let params: usize = out.values().map(|t| t.elem_count()).sum();
    Ok(ImportedModel {
        dest: dest.to_path_buf(),
        parameters: params,
        tensors: out.len(),
        files: copied,
    })
}

#[derive(Debug)]
pub struct ImportedModel {
    pub dest: PathBuf,
    pub parameters: usize,
    pub tensors: usize,
    pub files: Vec<String>,
}

/// Words of the tiny test vocabulary: enough for the texts `forecast::text`
/// builds (unknown words fall back to letters via `##` pieces).
const TINY_WORDS: &str = "the a of and on in item product category brand warehouse season \
    winter spring summer autumn promotion budget mid priced premium order shipped late delivery \
    was delayed bananas are yellow mouse wireless store";

/// Write a randomly initialised BERT folder (config.json, vocab.txt,
/// model.safetensors) for tests and smoke runs: `cfg` with the vocabulary
/// size set to what the written vocabulary holds.
pub fn write_random_model(dir: &Path, cfg: &BertConfig, seed: u64) -> Result<BertConfig> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    std::fs::create_dir_all(dir)?;
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    vocab.extend(TINY_WORDS.split_whitespace().map(str::to_string));
    for c in ('a'..='z').chain('0'..='9') {
        vocab.push(c.to_string());
        vocab.push(format!("##{c}"));
    }
    let mut cfg = cfg.clone();
    cfg.vocab_size = vocab.len();
    std::fs::write(dir.join("vocab.txt"), vocab.join("\n") + "\n")?;
    std::fs::write(dir.join("config.json"), serde_json::to_vec_pretty(&cfg)?)?;
    // Seeded weights (candle's own initialisers cannot be seeded on CPU).
    let varmap = VarMap::new();
    let _bert = bert::build(&cfg, &varmap, &Device::Cpu)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 0.02).map_err(|e| anyhow!("{e}"))?;
    let mut names: Vec<(String, candle_core::Var)> = varmap
        .data()
        .lock()
        .map_err(|_| anyhow!("poisoned variables"))?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = std::collections::HashMap::new();
    for (name, var) in names {
        let n = var.elem_count();
        let values: Vec<f32> = if name.ends_with("LayerNorm.weight") {
            vec![1.0; n]
        } else if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            (0..n).map(|_| normal.sample(&mut rng)).collect()
        };
        out.insert(name, Tensor::from_vec(values, var.dims(), &Device::Cpu)?);
    }
    candle_core::safetensors::save(&out, dir.join("model.safetensors"))?;
    Ok(cfg)
}
