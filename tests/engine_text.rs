//! The engine and text: launch forecasts from an encoder's neighbours, the
//! product-embedding cache, and a tiny model learning a title word.

use std::sync::Arc;

use candle_core::Device;
use skuplan::engine::encoder::{Encoder, ModelDir};
use skuplan::engine::events::TrainJob;
use skuplan::engine::run;
use skuplan::engine::{DeviceChoice, Mode, TrainConfig};
use skuplan::workspace::DataSources;

mod engine_support;
use engine_support::{Quiet, push_titled, small_cfg, tiny_encoder, tiny_model};

/// The engine's launch forecasts (embeddings from an encoder, here a tiny
/// random one): a product with a launch date and no sales gets a non-zero
/// forecast from its launch on, naming its neighbours; one without a date
/// gets none and the reason; `plan_launches` finds nothing to do on data
/// where nothing waits for a launch.
#[test]
fn a_dated_launch_gets_a_forecast_from_its_neighbours_and_an_undated_one_a_reason() {
    use skuplan::domain::{Dataset, Product, ProductDefaults};
    let dir = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(dir.path());
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut ds = Dataset::default();
    for i in 0..30usize {
        let sku = format!("P{i:02}");
        let launch = 30 + i * 5;
        let values = (0..240usize)
            .map(|d| if d < launch { 0.0 } else { 3.0 + (d % 7) as f64 })
            .collect();
        let title = format!("{} mug {i}", if i % 2 == 0 { "red" } else { "blue" });
        push_titled(&mut ds, sku, &title, start, values);
    }
    let (_, last) = ds.date_range().unwrap();
    assert!(
        skuplan::engine::similar::plan_launches(&ds, 28, &tiny_model(dir.path()), None)
            .unwrap()
            .is_none()
    );
    let dated = last + chrono::Days::new(5);
    for (sku, date) in [("NEW", Some(dated)), ("UNDATED", None)] {
        let mut p = Product::made_from_sales(sku, None, &ProductDefaults::default());
        p.title = "red mug new".into();
        p.synthesized = false;
        p.launch_date = date;
        ds.products.push(p);
    }
    assert!(skuplan::engine::similar::has_launches(&ds));
    let l = skuplan::engine::similar::launches(&enc, &ds, last, 28, None, &mut |_, _| Ok(())).unwrap();
    let f = l.get("NEW", "W").expect("the dated launch is forecast");
    assert_eq!(f.launch, dated);
    assert!(f.forecast.p50[..4].iter().all(|v| *v == 0.0));
    assert!(f.forecast.p50[4..].iter().sum::<f64>() > 0.0, "{:?}", f.forecast.p50);
    assert!(!f.neighbours.is_empty() && f.neighbours.iter().all(|n| n.similarity.is_finite()));
    assert!(l.get("UNDATED", "W").is_none());
    let why = l.not_forecast.iter().find(|n| n.sku == "UNDATED").expect("a reason");
    assert!(why.reason.contains("no launch date"), "{}", why.reason);
}

/// The embedding cache: the first use encodes each distinct product text
/// and saves them; the next reads them back (nothing encoded) and gives the
/// same vectors and the same launch forecast as no cache. A cache made by
/// another encoder, or a damaged file, is ignored and rewritten.
#[test]
fn product_embeddings_are_kept_between_starts_for_the_same_encoder_only() {
    use skuplan::domain::{Dataset, Product, ProductDefaults};
    use skuplan::engine::similar::{launches, product_embeddings};
    use skuplan::engine::text_cache::EmbeddingCache;
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let enc = Encoder::load(&ModelDir::open(&model).unwrap(), &Device::Cpu, 32).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut ds = Dataset::default();
    for i in 0..12usize {
        let sku = format!("P{i:02}");
        let title = format!("{} mug {}", if i % 2 == 0 { "red" } else { "blue" }, i / 2);
        let values = (0..200usize).map(|d| if d < 20 + 10 * i { 0.0 } else { 4.0 }).collect();
        push_titled(&mut ds, sku, &title, start, values);
    }
    let mut p = Product::made_from_sales("NEW", None, &ProductDefaults::default());
    p.title = "red mug new".into();
    p.synthesized = false;
    let (_, last) = ds.date_range().unwrap();
    p.launch_date = Some(last + chrono::Days::new(3));
    ds.products.push(p);
    let file = dir.path().join("ws").join("cache").join("embeddings.msgpack");
    let identity = EmbeddingCache::identity(&model, enc.max_len).unwrap();

    let plain = product_embeddings(&enc, &ds, None, &mut |_, _| Ok(())).unwrap();
    let mut first = EmbeddingCache::open(&file, identity.clone());
    assert!(first.is_empty());
    let cached = product_embeddings(&enc, &ds, Some(&mut first), &mut |_, _| Ok(())).unwrap();
    let tb = skuplan::forecast::text::TextBuilder::new(&ds);
    let mut distinct: Vec<String> = skuplan::engine::similar::skus(&ds)
        .iter()
        .map(|s| tb.product_text(s))
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(first.added(), distinct.len(), "each distinct text is encoded once");
    assert!(file.exists(), "the cache is saved");
    for (sku, v) in &plain {
        let c = &cached[sku];
        assert!(v.iter().zip(c).all(|(a, b)| (a - b).abs() < 1e-5), "{sku}");
    }

    let mut second = EmbeddingCache::open(&file, identity.clone());
    assert_eq!(second.len(), first.added());
    let again = launches(&enc, &ds, last, 28, Some(&mut second), &mut |_, _| Ok(())).unwrap();
    assert_eq!(second.added(), 0, "nothing encoded on the second start");
    let fresh = launches(&enc, &ds, last, 28, None, &mut |_, _| Ok(())).unwrap();
    let (a, b) = (again.get("NEW", "W").unwrap(), fresh.get("NEW", "W").unwrap());
    assert_eq!(a.forecast.p50, b.forecast.p50);
    assert!(a.forecast.p50.iter().sum::<f64>() > 0.0);

    // Another encoder (here: another token limit) starts afresh.
    let other = EmbeddingCache::open(&file, EmbeddingCache::identity(&model, 16).unwrap());
    assert!(other.is_empty());
    // A damaged file is ignored, and rewritten whole by the next use.
    std::fs::write(&file, b"not a cache").unwrap();
    let mut damaged = EmbeddingCache::open(&file, identity.clone());
    assert!(damaged.is_empty());
    product_embeddings(&enc, &ds, Some(&mut damaged), &mut |_, _| Ok(())).unwrap();
    assert_eq!(EmbeddingCache::open(&file, identity.clone()).len(), damaged.added());
    // Other data's texts join the ones held (a training and its refit
    // share most of theirs): neither use evicts the other.
    let mut other = Dataset::default();
    push_titled(&mut other, "Q1".into(), "green kettle", start, vec![1.0; 60]);
    let mut c = EmbeddingCache::open(&file, identity.clone());
    product_embeddings(&enc, &other, Some(&mut c), &mut |_, _| Ok(())).unwrap();
    assert_eq!(c.added(), 1);
    assert_eq!(EmbeddingCache::open(&file, identity).len(), distinct.len() + 1);
}

/// Demand that depends only on a word of the title: every product sells
/// alike for its first two weeks, then "bananas" triple and "mouse"
/// products fall to a fifth. A young product's history cannot tell which it
/// is; its title can. A tiny model learns the word: its own texts beat one
/// mean embedding for all clearly on the validation windows, and the run
/// keeps its text.
#[test]
fn a_tiny_model_learns_a_title_word_that_alone_sets_demand() {
    use rand::{Rng, SeedableRng};
    use skuplan::domain::Dataset;
    let dir = tempfile::tempdir().unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut ds = Dataset::default();
    let days = 300usize;
    for i in 0..120usize {
        let sku = format!("P{i:03}");
        let rising = i % 2 == 0;
        // Launched over the whole span, each sells for 6 weeks.
        let launch = (i * 37) % (days - 20);
        let values = (launch..days)
            .map(|d| {
                if d >= launch + 42 {
                    return 0.0;
                }
                let age = (d - launch) as f64;
                let level = if age < 14.0 {
                    10.0
                } else if rising {
                    10.0 * (1.0 + 2.0 * ((age - 14.0) / 14.0).min(1.0))
                } else {
                    10.0 * (1.0 - 0.8 * ((age - 14.0) / 14.0).min(1.0))
                };
                (level * (0.8 + 0.4 * rng.random::<f64>())).round()
            })
            .collect();
        // Words the tiny model's vocabulary holds whole.
        let title = if rising { "yellow bananas" } else { "wireless mouse" };
        push_titled(&mut ds, sku, title, start + chrono::Days::new(launch as u64), values);
    }
    let job = TrainJob {
        dataset: Arc::new(ds),
        sources: DataSources::default(),
        train_end: None,
        model_dir: tiny_model(dir.path()),
        config: TrainConfig {
            max_train_samples: 4000,
            batch_size: 64,
            horizon: 14,
            ..small_cfg(Mode::Head, 30)
        },
        out: dir.path().join("run"),
        device: DeviceChoice::Cpu,
        text_cache: None,
        resume: false,
    };
    let summary = run::train_run(&job, &mut Quiet).unwrap();
    let t = summary.text.expect("a run with text measures it");
    assert!(t.used, "{t:?}");
    assert!(t.own < 0.9 * t.none, "own texts {:.4} vs none {:.4}", t.own, t.none);
    assert!(t.own < t.shuffled, "{t:?}");
}

/// The encoder batches texts by token count (so a batch pads little) and
/// hands the rows back in the texts' own order: each text's embedding and
/// lower-layer states are what it gets alone, whatever batch it shared.
#[test]
fn texts_encoded_by_length_come_back_in_their_own_order_as_if_each_were_alone() {
    let dir = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(dir.path());
    let texts: Vec<String> = [
        "a much longer product title with many words. category kitchen. brand acme. budget",
        "mug",
        "red mug. category kitchen",
        "candle set of three in a gift box. category home",
        "tin",
        "blue mug with a handle. brand acme",
        "lantern",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let counts = enc.token_counts(&texts).unwrap();
    let order = enc.length_order(&texts).unwrap();
    let mut seen = order.clone();
    seen.sort();
    assert_eq!(seen, (0..texts.len()).collect::<Vec<_>>(), "a permutation");
    assert!(
        order.windows(2).all(|w| counts[w[0]] <= counts[w[1]]),
        "{order:?} by {counts:?}"
    );
    assert_ne!(order, seen, "the texts were chosen out of length order");

    let alone: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| {
            enc.embed(std::slice::from_ref(t), 1)
                .unwrap()
                .to_vec2()
                .unwrap()
                .remove(0)
        })
        .collect();
    let quiet = &mut |_: usize, _: usize| Ok(());
    for by_length in [false, true] {
        let rows: Vec<Vec<f32>> = enc.embed_in(&texts, 3, by_length, quiet).unwrap().to_vec2().unwrap();
        for (i, (row, one)) in rows.iter().zip(&alone).enumerate() {
            let diff = row.iter().zip(one).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(
                diff < 1e-5,
                "text {i} (by length: {by_length}) differs by {diff} from itself alone"
            );
        }
    }
    let mut told = Vec::new();
    let states = enc
        .lower_states(&texts, 1, &mut |done, total| {
            told.push((done, total));
            Ok(())
        })
        .unwrap();
    assert_eq!(told.last(), Some(&(texts.len(), texts.len())));
    for (i, t) in texts.iter().enumerate() {
        let one = enc.lower_states(std::slice::from_ref(t), 1, quiet).unwrap().remove(0);
        assert_eq!(states[i].dims(), one.dims(), "text {i}");
        assert_eq!(states[i].dims()[0], counts[i]);
        let diff: f32 = (&states[i] - &one)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-5, "text {i}'s lower states differ by {diff}");
    }
}
