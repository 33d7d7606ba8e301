//! Our own trainable BERT encoder.
//!
//! candle-transformers' `BertModel` cannot be fine-tuned: `candle_nn::LayerNorm`
//! on a contiguous input takes a fused kernel with no backward, and
//! `softmax_last_dim` likewise, so gradients silently stop at every layer
//! norm and only a head on top would learn. This encoder is built from ops
//! that all have a backward (layer norm: our own one-pass op on the CPU,
//! `layer_norm_slow` elsewhere; `softmax`, `gelu_erf`,
//! matmul, index_select) and loads the same Hugging Face weight names.
//!
//! Every weight lives in a [`VarMap`], so an optimiser can train any subset
//! of them (the head only, the top k layers, or everything).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Embedding, VarBuilder, VarMap};

use super::fused;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The fields of a Hugging Face `config.json` that a BERT encoder needs;
/// every other field is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "default_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: u32,
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_positions() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

impl BertConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: BertConfig = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a BERT config (expected vocab_size, hidden_size, num_hidden_layers, \
                 num_attention_heads, intermediate_size)",
                path.display()
            )
        })?;
        cfg.validate().with_context(|| format!("{}", path.display()))?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        if let Some(t) = &self.model_type
            && !matches!(t.as_str(), "bert" | "roberta" | "distilbert-like" | "xlm-roberta")
        {
            bail!("model_type {t:?} is not a BERT-family encoder this build can run");
        }
        if self.num_attention_heads == 0 || !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "relu") {
            bail!(
                "hidden_act {:?} is not supported (gelu, gelu_new, relu)",
                self.hidden_act
            );
        }
        Ok(())
    }

    /// A small random configuration for tests.
    pub fn tiny(vocab_size: usize) -> Self {
        BertConfig {
            vocab_size,
            hidden_size: 32,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 64,
            hidden_act: "gelu".into(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            model_type: Some("bert".into()),
        }
    }
}

/// Dropout with masks drawn from our own seeded generator, so a training
/// run (and a resumed one) is reproducible; candle's CPU generator cannot
/// be seeded.
pub struct Dropout<'a> {
    rng: Option<&'a mut ChaCha8Rng>,
}

impl<'a> Dropout<'a> {
    /// Inference: dropout is the identity.
    pub fn off() -> Self {
        Dropout { rng: None }
    }

    pub fn train(rng: &'a mut ChaCha8Rng) -> Self {
        Dropout { rng: Some(rng) }
    }

    pub fn apply(&mut self, x: &Tensor, p: f64) -> candle_core::Result<Tensor> {
        let Some(rng) = self.rng.as_deref_mut() else {
            return Ok(x.clone());
        };
        if p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        let n = x.elem_count();
        let mask: Vec<f32> = (0..n)
            .map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}

#[derive(Debug, Clone)]
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<Self> {
        let weight = vb.get_with_hints(size, "weight", candle_nn::Init::Const(1.0))?;
        let bias = vb.get_with_hints(size, "bias", candle_nn::Init::Const(0.0))?;
        Ok(LayerNorm {
            weight,
            bias,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        // On the CPU, one pass with its own backward (crates/kernels); elsewhere the
        // chain of small ops candle can differentiate (candle's fused
        // kernel has no backward).
        if x.device().is_cpu() && x.dtype() == DType::F32 {
            fused::scale_shift(&fused::normalize(x, self.eps)?, &self.weight, &self.bias)
        } else {
            candle_nn::ops::layer_norm_slow(x, &self.weight, &self.bias, self.eps)
        }
    }
}

/// A dense layer, `weight` (output, input) and `bias` (output) as Hugging
/// Face names them: candle_nn's `Linear`, with the bias added by a fused
/// op whose gradient is a parallel column sum (candle reduces a
/// broadcast's gradient with a slow strided loop: 7 % of a full
/// fine-tuning step).
struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dims = x.dims().to_vec();
        let (&input, lead) = dims
            .split_last()
            .ok_or_else(|| candle_core::Error::Msg("a dense layer needs at least one dimension".into()))?;
        let rows: usize = lead.iter().product();
        let y = x.contiguous()?.reshape((rows, input))?.matmul(&self.weight.t()?)?;
        let y = fused::add_bias(&y, &self.bias)?;
        let mut out = lead.to_vec();
        out.push(self.bias.elem_count());
        y.reshape(out)
    }
}

fn linear(input: usize, output: usize, vb: VarBuilder) -> candle_core::Result<Dense> {
    let inner = candle_nn::linear(input, output, vb)?;
    let bias = inner
        .bias()
        .cloned()
        .ok_or_else(|| candle_core::Error::Msg("a dense layer without a bias".into()))?;
    Ok(Dense {
        weight: inner.weight().clone(),
        bias,
    })
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    dropout: f64,
}

impl Embeddings {
    fn new(cfg: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Embeddings {
            word: candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                cfg.max_position_embeddings,
                cfg.hidden_size,
                vb.pp("position_embeddings"),
            )?,
            token_type: candle_nn::embedding(cfg.type_vocab_size, cfg.hidden_size, vb.pp("token_type_embeddings"))?,
            norm: LayerNorm::new(cfg.hidden_size, cfg.layer_norm_eps, vb.pp("LayerNorm"))?,
            dropout: cfg.hidden_dropout_prob,
        })
    }

    fn forward(&self, ids: &Tensor, drop: &mut Dropout) -> candle_core::Result<Tensor> {
        let (_b, seq) = ids.dims2()?;
        let positions = Tensor::arange(0u32, seq as u32, ids.device())?;
        let words = self.word.forward(ids)?;
        let pos = self.position.forward(&positions)?;
        let types = self.token_type.forward(&ids.zeros_like()?)?;
        let x = words.broadcast_add(&pos)?.add(&types)?;
        let x = self.norm.forward(&x)?;
        drop.apply(&x, self.dropout)
    }
}

struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attn_out: Dense,
    attn_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    out_norm: LayerNorm,
    heads: usize,
    head_dim: usize,
    act: String,
    hidden_dropout: f64,
    attn_dropout: f64,
}

impl Layer {
    fn new(cfg: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        let att = vb.pp("attention");
        Ok(Layer {
            query: linear(h, h, att.pp("self").pp("query"))?,
            key: linear(h, h, att.pp("self").pp("key"))?,
            value: linear(h, h, att.pp("self").pp("value"))?,
            attn_out: linear(h, h, att.pp("output").pp("dense"))?,
            attn_norm: LayerNorm::new(h, cfg.layer_norm_eps, att.pp("output").pp("LayerNorm"))?,
            intermediate: linear(h, cfg.intermediate_size, vb.pp("intermediate").pp("dense"))?,
            output: linear(cfg.intermediate_size, h, vb.pp("output").pp("dense"))?,
            out_norm: LayerNorm::new(h, cfg.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
            act: cfg.hidden_act.clone(),
            hidden_dropout: cfg.hidden_dropout_prob,
            attn_dropout: cfg.attention_probs_dropout_prob,
        })
    }

    fn split_heads(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        x.reshape((b, s, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// `bias` is the additive attention mask, shape (batch, 1, 1, seq).
    fn forward(&self, x: &Tensor, bias: &Tensor, drop: &mut Dropout) -> candle_core::Result<Tensor> {
        let (b, s, h) = x.dims3()?;
        let q = self.split_heads(&self.query.forward(x)?)?;
        let k = self.split_heads(&self.key.forward(x)?)?;
        let v = self.split_heads(&self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let scores = scores.broadcast_add(bias)?;
        // candle_nn::ops::softmax, not softmax_last_dim: the latter has no
        // backward.
        let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let probs = drop.apply(&probs, self.attn_dropout)?;
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((b, s, h))?;
        let attn = drop.apply(&self.attn_out.forward(&ctx)?, self.hidden_dropout)?;
        let x = self.attn_norm.forward(&attn.add(x)?)?;
        let inner = self.intermediate.forward(&x)?;
        let inner = match self.act.as_str() {
            "relu" => inner.relu()?,
            "gelu_new" => inner.gelu()?,
            _ => fused::gelu_erf(&inner)?,
        };
        let out = drop.apply(&self.output.forward(&inner)?, self.hidden_dropout)?;
        self.out_norm.forward(&out.add(&x)?)
    }
}

/// The encoder. Weight names follow Hugging Face's `BertModel` (with no
/// `bert.` prefix; [`load_weights`] maps prefixed checkpoints).
pub struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    pub config: BertConfig,
}

/// Token ids and the attention mask of a batch, both (batch, seq) u32.
pub struct Batch {
    pub ids: Tensor,
    pub mask: Tensor,
}

impl Bert {
    pub fn new(cfg: &BertConfig, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let embeddings = Embeddings::new(cfg, vb.pp("embeddings"))?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::new(cfg, vb.pp("encoder").pp("layer").pp(i)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Bert {
            embeddings,
            layers,
            config: cfg.clone(),
        })
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The additive mask: 0 where a token is real, -1e4 on padding (not
    /// f32::MIN, which overflows in f16).
    pub fn attention_bias(mask: &Tensor, dtype: DType) -> candle_core::Result<Tensor> {
        let (b, s) = mask.dims2()?;
        let m = mask.to_dtype(DType::F32)?;
        ((m - 1.0)? * 1e4)?.reshape((b, 1, 1, s))?.to_dtype(dtype)
    }

    /// Hidden states after the embeddings and the first `upto` layers.
    pub fn forward_lower(&self, batch: &Batch, upto: usize, drop: &mut Dropout) -> candle_core::Result<Tensor> {
        let mut x = self.embeddings.forward(&batch.ids, drop)?;
        let bias = Self::attention_bias(&batch.mask, x.dtype())?;
        for layer in &self.layers[..upto.min(self.layers.len())] {
            x = layer.forward(&x, &bias, drop)?;
        }
        Ok(x)
    }

    /// Continue from hidden states after layer `from` through the rest.
    pub fn forward_upper(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        from: usize,
        drop: &mut Dropout,
    ) -> candle_core::Result<Tensor> {
        let bias = Self::attention_bias(mask, hidden.dtype())?;
        let mut x = hidden.clone();
        for layer in &self.layers[from.min(self.layers.len())..] {
            x = layer.forward(&x, &bias, drop)?;
        }
        Ok(x)
    }

    pub fn forward(&self, batch: &Batch, drop: &mut Dropout) -> candle_core::Result<Tensor> {
        self.forward_lower(batch, self.layers.len(), drop)
    }

    /// Mean of the hidden states over real tokens: (batch, hidden).
    pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let m = mask.to_dtype(hidden.dtype())?.unsqueeze(2)?;
        let sum = hidden.broadcast_mul(&m)?.sum(1)?;
        let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        sum.broadcast_div(&count)
    }

    /// Variable-name prefixes of each layer, to pick the trainable subset.
    pub fn layer_prefix(i: usize) -> String {
        format!("encoder.layer.{i}.")
    }
}

/// Build a `Bert` whose weights live in `varmap`, randomly initialised.
pub fn build(cfg: &BertConfig, varmap: &VarMap, device: &Device) -> Result<Bert> {
    let vb = VarBuilder::from_varmap(varmap, DType::F32, device);
    Bert::new(cfg, vb)
}

/// Read every tensor of a checkpoint file: safetensors, or a PyTorch
/// `pytorch_model.bin` through candle's pickle reader.
pub fn read_checkpoint(path: &Path) -> Result<HashMap<String, Tensor>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let tensors: Vec<(String, Tensor)> = if name.ends_with(".safetensors") {
        candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("reading {}", path.display()))?
            .into_iter()
            .collect()
    } else {
        candle_core::pickle::read_all(path)
            .with_context(|| format!("reading {} as a PyTorch checkpoint", path.display()))?
    };
    Ok(tensors.into_iter().collect())
}

/// Map a checkpoint name to ours: drop a `bert.` prefix, and old TF-style
/// `gamma` / `beta` names of layer norms.
pub fn canonical_name(name: &str) -> String {
    let n = name.strip_prefix("bert.").unwrap_or(name);
    n.strip_suffix(".gamma")
        .map(|p| format!("{p}.weight"))
        .or_else(|| n.strip_suffix(".beta").map(|p| format!("{p}.bias")))
        .unwrap_or_else(|| n.to_string())
}

/// Overwrite every variable of `varmap` whose name starts with `prefix`
/// from the checkpoint tensors (names already canonical). Every encoder
/// variable must be present with the right shape; tensors are converted to
/// the variable's dtype (f16 files train in f32).
pub fn load_weights(varmap: &VarMap, prefix: &str, tensors: &HashMap<String, Tensor>, source: &Path) -> Result<usize> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("the model's variables are poisoned by an earlier panic"))?;
    let mut loaded = 0;
    let mut missing = Vec::new();
    for (name, var) in data.iter() {
        let Some(local) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(t) = tensors.get(local) else {
            missing.push(local.to_string());
            continue;
        };
        if t.dims() != var.dims() {
            bail!(
                "{}: {local} has shape {:?}, the config says {:?}",
                source.display(),
                t.dims(),
                var.dims()
            );
        }
        let t = t.to_dtype(var.dtype())?.to_device(var.device())?;
        var.set(&t)?;
        loaded += 1;
    }
    if !missing.is_empty() {
        missing.sort();
        bail!(
            "{}: {} weights the encoder needs are missing (first: {})",
            source.display(),
            missing.len(),
            missing[0]
        );
    }
    Ok(loaded)
}

/// Canonical-named tensors of a checkpoint.
pub fn read_canonical(path: &Path) -> Result<HashMap<String, Tensor>> {
    Ok(read_checkpoint(path)?
        .into_iter()
        .map(|(k, v)| (canonical_name(&k), v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// The one-pass normalisation and its backward agree with candle's
    /// chain of small ops, in value and in every gradient.
    #[test]
    fn fused_layer_norm_matches_the_slow_one_forward_and_backward() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&(Tensor::randn(0f32, 2.0, (3, 5, 16), &dev).unwrap() + 0.7).unwrap()).unwrap();
        let w = Var::from_tensor(&Tensor::randn(1f32, 0.3, 16, &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, 16, &dev).unwrap()).unwrap();
        let ln = LayerNorm {
            weight: w.as_tensor().clone(),
            bias: b.as_tensor().clone(),
            eps: 1e-12,
        };
        // A loss that weighs each output differently, so every gradient
        // term matters.
        let r = Tensor::randn(0f32, 1.0, (3, 5, 16), &dev).unwrap();
        let fused = ln.forward(x.as_tensor()).unwrap();
        let slow = candle_nn::ops::layer_norm_slow(x.as_tensor(), w.as_tensor(), b.as_tensor(), 1e-12).unwrap();
        let diff = skuplan_kernels::max_diff;
        assert!(diff(&fused, &slow) < 1e-5, "forward {}", diff(&fused, &slow));
        let gf = fused.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
        let gs = slow.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
        for (name, v) in [("x", &x), ("weight", &w), ("bias", &b)] {
            let a = gf.get(v.as_tensor()).unwrap();
            let c = gs.get(v.as_tensor()).unwrap();
            assert!(diff(a, c) < 1e-4, "gradient of {name}: {}", diff(a, c));
        }
    }
}
