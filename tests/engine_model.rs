//! The shipped encoder: it loads, its embeddings mean what they should, and
//! the f16 copy agrees with f32 weights.

use std::path::PathBuf;

use candle_core::Device;
use skuplan::engine::encoder::{Encoder, ModelDir, cosine, default_model_dir};

fn shipped() -> PathBuf {
    default_model_dir().expect("assets/models/all-MiniLM-L6-v2 is shipped with the repository")
}

fn embed(enc: &Encoder, texts: &[&str]) -> Vec<Vec<f32>> {
    let texts: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
    enc.embed(&texts, 8).unwrap().to_vec2().unwrap()
}

#[test]
fn shipped_model_loads_and_its_embeddings_carry_meaning() {
    let dir = ModelDir::open(&shipped()).unwrap();
    assert_eq!(dir.config.num_hidden_layers, 6);
    assert_eq!(dir.config.hidden_size, 384);
    let enc = Encoder::load(&dir, &Device::Cpu, 64).unwrap();
    let e = embed(
        &enc,
        &[
            "the order shipped late",
            "the delivery was delayed",
            "bananas are yellow",
        ],
    );
    let near = cosine(&e[0], &e[1]);
    let far = cosine(&e[0], &e[2]);
    // The f32 original gives about 0.72 and 0.09.
    assert!((near - 0.72).abs() < 0.03, "related sentences: cosine {near}");
    assert!((far - 0.09).abs() < 0.05, "unrelated sentences: cosine {far}");
}

#[test]
fn shipped_weights_are_the_published_ones_in_f16() {
    // The import kept every encoder weight, as f16.
    let t = candle_core::safetensors::load(shipped().join("model.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(t.len(), 101);
    let params: usize = t.values().map(|x| x.elem_count()).sum();
    assert!((22_500_000..22_800_000).contains(&params), "{params}");
    assert!(t.values().all(|x| x.dtype() == candle_core::DType::F16));
}
