//! Quantized decoders stay close to f32, and a GGUF file written by `quantize_model` loads to
//! exactly the model that quantizing at load gives.

use std::path::{Path, PathBuf};

use candle_core::{Tensor, D};
use coda_musicgen::{
    make_tiny_model, presets, quantize_model, quantized_model_path, resolve_quantized_model,
    DelayPattern, GenerationParams, LoadOptions, MusicGen, NoopObserver, Quantization,
};

/// "a calm piano melody" in the tiny tokenizer's ids would do; any in-vocabulary ids work.
const PROMPT: [u32; 6] = [5, 17, 42, 9, 23, 1];

fn tiny_dir(root: &Path) -> PathBuf {
    let dir = root.join("tiny");
    make_tiny_model(&dir).expect("tiny model");
    dir
}

fn load(path: &Path, quantization: Quantization) -> MusicGen {
    MusicGen::load(
        path,
        &LoadOptions {
            quantization,
            ..LoadOptions::default()
        },
    )
    .expect("load")
}

/// ‖got − want‖ / ‖want‖ over all elements.
fn relative_l2(got: &Tensor, want: &Tensor) -> f32 {
    let squared_sum = |t: &Tensor| {
        t.sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    (squared_sum(&(got - want).unwrap()) / squared_sum(want)).sqrt()
}

/// Fraction of codebook rows whose most likely token is the same in both.
fn argmax_agreement(got: &Tensor, want: &Tensor) -> f32 {
    let a: Vec<u32> = got.argmax(D::Minus1).unwrap().to_vec1().unwrap();
    let b: Vec<u32> = want.argmax(D::Minus1).unwrap().to_vec1().unwrap();
    a.iter().zip(&b).filter(|(x, y)| x == y).count() as f32 / a.len() as f32
}

fn greedy(frames: usize) -> GenerationParams {
    GenerationParams {
        frames,
        top_k: 0,
        temperature: 0.0,
        guidance_scale: 3.0,
        ..GenerationParams::default()
    }
}

// Bounds on the relative L2 error of the *guided* step-0 logits. Guidance computes
// `u + 3·(c − u)`, a difference that amplifies errors roughly threefold over one row's logits.
// Q8_0 keeps each weight to 8 bits against a per-32 block scale (≈ 0.5% rms error) and candle
// rounds the activations to 8 bits as well; T5's linear layers are Q8_0 too and the
// self-attention cache keeps 16-bit rows. Measured: 2.8% (tiny model), 3.4% (256-wide model).
// Q4K (4-bit weights, 256-wide super-blocks) measured 12.0%. The bounds leave ~1.5× headroom
// for other seeds and still fail on any layout, transposition or scale mistake, which gives
// errors of order 100%.
const Q8_0_BOUND: f32 = 0.05;
const Q4K_BOUND: f32 = 0.20;

#[test]
fn q8_0_step_zero_logits_stay_close_to_f32() {
    let root = tempfile::tempdir().unwrap();
    let dir = tiny_dir(root.path());
    let (f32_model, q_model) = (
        load(&dir, Quantization::None),
        load(&dir, Quantization::Q8_0),
    );
    let cond = relative_l2(
        &q_model.guided_logits_step0(&PROMPT, 1.0).unwrap(),
        &f32_model.guided_logits_step0(&PROMPT, 1.0).unwrap(),
    );
    let f32_logits = f32_model.guided_logits_step0(&PROMPT, 3.0).unwrap();
    let q_logits = q_model.guided_logits_step0(&PROMPT, 3.0).unwrap();
    let err = relative_l2(&q_logits, &f32_logits);
    let agree = argmax_agreement(&q_logits, &f32_logits);
    println!("tiny model, Q8_0: relative L2 error of step-0 logits {cond:.4} (conditional row), {err:.4} (guided); top-1 agreement {agree}");
    assert!(
        err > 0.0,
        "quantization had no effect: is the decoder still f32?"
    );
    assert!(cond < err, "guidance should amplify the error");
    assert!(
        err < Q8_0_BOUND,
        "relative error {err} exceeds {Q8_0_BOUND}"
    );
}

/// The tiny model is too narrow for Q4K's 256-wide blocks (it falls back to Q8_0), so Q4K is
/// checked on a small random model whose widths are multiples of 256.
#[test]
fn q4k_step_zero_logits_stay_close_to_f32() {
    let mut config = presets::musicgen_small();
    config.decoder.hidden_size = 256;
    config.decoder.ffn_dim = 512;
    config.decoder.num_hidden_layers = 2;
    config.decoder.num_attention_heads = 4;
    config.text_encoder.num_layers = 1;
    let build = |quantization| {
        MusicGen::with_random_weights(
            config.clone(),
            3,
            &LoadOptions {
                quantization,
                ..LoadOptions::default()
            },
        )
        .unwrap()
    };
    let f32_logits = build(Quantization::None)
        .guided_logits_step0(&PROMPT, 3.0)
        .unwrap();
    for (quantization, bound) in [
        (Quantization::Q4k, Q4K_BOUND),
        (Quantization::Q8_0, Q8_0_BOUND),
    ] {
        let q_logits = build(quantization)
            .guided_logits_step0(&PROMPT, 3.0)
            .unwrap();
        let err = relative_l2(&q_logits, &f32_logits);
        println!(
            "256-wide model, {quantization}: relative L2 error of guided step-0 logits {err:.4}"
        );
        assert!(
            err > 0.0 && err < bound,
            "{quantization}: relative error {err} not in (0, {bound})"
        );
    }
}

#[test]
fn a_gguf_file_loads_to_the_same_model_as_quantizing_at_load() {
    let root = tempfile::tempdir().unwrap();
    let dir = tiny_dir(root.path());
    let gguf = root.path().join("tiny-q8_0.gguf");
    let summary = quantize_model(&dir, Quantization::Q8_0, &gguf).unwrap();
    // Decoder: 2 layers × (8 attention + 2 feed-forward) + 4 heads; T5: 2 layers × (4
    // attention + 2 feed-forward) and its token table. All Q8_0.
    assert_eq!(
        summary.tensors_by_type.get("q8_0"),
        Some(&37),
        "{summary:?}"
    );
    assert!(coda_musicgen::is_gguf(&gguf));

    let from_file = load(&gguf, Quantization::None);
    let at_load = load(&dir, Quantization::Q8_0);
    let params = greedy(12);
    let a = from_file
        .generate_from_ids(&PROMPT, &params, &mut NoopObserver)
        .unwrap();
    let b = at_load
        .generate_from_ids(&PROMPT, &params, &mut NoopObserver)
        .unwrap();
    assert_eq!(a.codes, b.codes);
    assert_eq!(
        a.samples, b.samples,
        "EnCodec weights (weight norm folded in the file) differ"
    );
    assert_eq!(
        from_file.tokenize("piano").unwrap(),
        at_load.tokenize("piano").unwrap()
    );
    assert_eq!(from_file.config(), at_load.config());
}

#[test]
fn q4k_on_the_tiny_model_falls_back_to_q8_0_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let dir = tiny_dir(root.path());
    let summary = quantize_model(&dir, Quantization::Q4k, &root.path().join("t.gguf")).unwrap();
    assert_eq!(summary.tensors_by_type.get("q4k"), None);
    assert_eq!(summary.tensors_by_type.get("q8_0"), Some(&37));
    // The 4 heads and T5's 13 are Q8_0 by design; the 20 decoder layer weights are fallbacks.
    assert_eq!(summary.fallbacks.len(), 20, "{summary:?}");
}

#[test]
fn the_quantized_copy_is_written_once_and_reused() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path();
    let path = resolve_quantized_model("tiny", data, Quantization::Q8_0).unwrap();
    assert_eq!(path, quantized_model_path("tiny", data, Quantization::Q8_0));
    assert_eq!(path, data.join("models").join("tiny-q8_0.gguf"));
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    let again = resolve_quantized_model("tiny", data, Quantization::Q8_0).unwrap();
    assert_eq!(again, path);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written,
        "file was rewritten"
    );
    let none = resolve_quantized_model("tiny", data, Quantization::None).unwrap();
    assert_eq!(none, data.join("models").join("tiny"));
}

/// Share of the reference's greedy choices that Q8_0 makes too, each step fed the reference's
/// own history. Compared free-running instead, the first near-tie that quantization noise
/// (≈ 1–2% of the logits) flips decides the score, since every later frame then follows
/// another, equally valid path and agrees only by chance (1/128 per code): random fixture
/// weights make such ties common, and codebook 2's very first code is one (logits 2.155 and
/// 2.141 in f32). Measured step by step: f32 80/80, Q8_0 77/80 (candle's VNNI kernel) and
/// 76/80 (Coda's), both with the byte-row attention cache and T5's token table in Q8_0; a
/// broken kernel would agree by chance only.
const AGREEMENT_FLOOR: f64 = 0.9;

/// The parity fixture (a small random MusicGen with transformers' reference outputs): greedy
/// Q8_0 choices against the f32 reference codes, step by step.
#[test]
fn q8_0_greedy_choices_on_the_parity_model_follow_the_reference() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity");
    let golden = candle_core::safetensors::load(
        fixture.join("golden.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let ids = |name: &str| -> Vec<Vec<u32>> {
        let t = golden[name].to_dtype(candle_core::DType::U32).unwrap();
        if t.rank() == 1 {
            vec![t.to_vec1().unwrap()]
        } else {
            t.to_vec2().unwrap()
        }
    };
    let want = ids("codes");
    let prompt = ids("prompt_ids").remove(0);
    let frames = want[0].len();
    let model = load(&fixture.join("model"), Quantization::Q8_0);
    let guidance = greedy(frames).guidance_scale;
    let logits = model.guided_logits_along(&prompt, &want, guidance).unwrap();

    let pattern = DelayPattern {
        codebooks: want.len(),
        frames,
        pad: model.config().decoder.pad_token_id,
    };
    let fed = pattern.apply(&want);
    let (mut same, mut total) = (0, 0);
    for (step, step_logits) in logits.iter().enumerate() {
        let picks: Vec<u32> = step_logits.argmax(D::Minus1).unwrap().to_vec1().unwrap();
        for (k, pick) in picks.iter().enumerate() {
            if pattern.forced(k, step + 1).is_none() {
                total += 1;
                same += usize::from(*pick == fed[k][step + 1]);
            }
        }
    }
    assert_eq!(total, want.len() * frames, "every code is compared once");
    let rate = same as f64 / total as f64;
    println!("parity model, Q8_0 greedy, step by step: {same}/{total} choices agree ({rate:.3})");
    assert!(
        rate >= AGREEMENT_FLOOR,
        "only {rate:.3} of the choices agree (floor {AGREEMENT_FLOOR})"
    );
}
