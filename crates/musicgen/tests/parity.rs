//! Parity with the reference implementation, Hugging Face transformers'
//! `MusicgenForConditionalGeneration`.
//!
//! `tests/fixtures/parity/model` is a small random MusicGen saved in the published layout, and
//! `golden.safetensors` holds what transformers computes with it, stage by stage (see
//! `versions.json` for the library versions and `scripts/make_parity_fixtures.py` to rebuild
//! them). Greedy codes must be identical; every float within `TOLERANCE` (max abs diff).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use coda_musicgen::{GenerationParams, LoadOptions, MusicGen, NoopObserver};

const TOLERANCE: f32 = 1e-4;
const GUIDANCE: f64 = 3.0;

struct Fixture {
    model: MusicGen,
    golden: HashMap<String, Tensor>,
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = fixture_dir();
        let model = MusicGen::load(&dir.join("model"), &LoadOptions::default())
            .expect("load fixture model");
        let golden = candle_core::safetensors::load(dir.join("golden.safetensors"), &Device::Cpu)
            .expect("load golden tensors");
        Fixture { model, golden }
    })
}

fn golden(name: &str) -> &'static Tensor {
    fixture()
        .golden
        .get(name)
        .unwrap_or_else(|| panic!("golden tensor {name} missing"))
}

/// An integer golden tensor (stored as i64) as rows of `u32`.
fn rows(name: &str) -> Vec<Vec<u32>> {
    let t = golden(name).to_dtype(DType::U32).expect("ids to u32");
    match t.rank() {
        1 => vec![t.to_vec1().expect("ids")],
        _ => t.to_vec2().expect("ids"),
    }
}

fn max_abs_diff(stage: &str, got: &Tensor, want: &Tensor) -> f32 {
    assert_eq!(got.dims(), want.dims(), "{stage}: shape");
    let diff = (got.to_dtype(DType::F32).unwrap() - want.to_dtype(DType::F32).unwrap()).unwrap();
    let max = diff.abs().unwrap().flatten_all().unwrap().max(0).unwrap();
    max.to_scalar::<f32>().unwrap()
}

fn assert_close(stage: &str, got: &Tensor, want: &Tensor) {
    let diff = max_abs_diff(stage, got, want);
    let scale = want
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    println!("{stage}: max abs diff {diff:.3e} (reference max abs {scale:.3e})");
    assert!(
        diff <= TOLERANCE,
        "{stage}: max abs diff {diff:e} exceeds {TOLERANCE:e}"
    );
}

#[test]
fn tokenizer_gives_the_reference_ids() {
    let f = fixture();
    let ids = f
        .model
        .tokenize(include_str!("fixtures/parity/prompt.txt").trim())
        .unwrap();
    assert_eq!(vec![ids], rows("prompt_ids"));
}

#[test]
fn t5_hidden_state_matches_for_one_prompt() {
    let got = fixture()
        .model
        .encode_prompt_ids(&rows("prompt_ids"), &rows("prompt_mask"))
        .unwrap();
    assert_close("t5 hidden, one prompt", &got, golden("t5_hidden"));
}

#[test]
fn t5_hidden_state_matches_for_a_padded_batch() {
    let got = fixture()
        .model
        .encode_prompt_ids(&rows("batch_ids"), &rows("batch_mask"))
        .unwrap();
    assert_close(
        "t5 hidden, padded batch of two",
        &got,
        golden("batch_t5_hidden"),
    );
}

#[test]
fn projected_encoder_states_match() {
    let model = &fixture().model;
    let got = model
        .encode_prompt_ids_projected(&rows("prompt_ids"), &rows("prompt_mask"))
        .unwrap();
    assert_close("enc_to_dec_proj, one prompt", &got, golden("projected"));
    let got = model
        .encode_prompt_ids_projected(&rows("batch_ids"), &rows("batch_mask"))
        .unwrap();
    assert_close(
        "enc_to_dec_proj, padded batch of two",
        &got,
        golden("batch_projected"),
    );
}

#[test]
fn guided_logits_of_the_first_step_match() {
    let ids = rows("prompt_ids").remove(0);
    let model = &fixture().model;
    let got = model.guided_logits_step0(&ids, GUIDANCE).unwrap();
    assert_close(
        "step-0 logits, guidance 3",
        &got,
        golden("step0_logits_guided"),
    );
    let cond_only = model.guided_logits_step0(&ids, 1.0).unwrap();
    assert_close(
        "step-0 logits, conditional row",
        &cond_only,
        golden("step0_logits_cond"),
    );
}

#[test]
fn greedy_generation_gives_the_reference_codes_and_audio() {
    let codes = rows("codes");
    let model = &fixture().model;
    let params = GenerationParams {
        prompt: String::new(),
        frames: codes[0].len(),
        top_k: 0,
        top_p: 0.0,
        temperature: 0.0,
        guidance_scale: GUIDANCE,
        seed: 0,
    };
    let ids = rows("prompt_ids").remove(0);
    let generation = model
        .generate_from_ids(&ids, &params, &mut NoopObserver)
        .unwrap();
    if generation.codes != codes {
        let first = (0..codes.len())
            .flat_map(|k| (0..codes[k].len()).map(move |t| (k, t)))
            .find(|&(k, t)| generation.codes[k][t] != codes[k][t]);
        panic!(
            "greedy codes differ, first at (codebook, frame) {first:?}\n got {:?}\nwant {:?}",
            generation.codes, codes
        );
    }
    let samples = generation.samples.len();
    assert_eq!(
        samples,
        codes[0].len() * model.hop_length(),
        "samples = frames × hop"
    );
    let got = Tensor::from_vec(generation.samples, samples, &Device::Cpu).unwrap();
    assert_close("audio of the greedy generation", &got, golden("audio"));
}

#[test]
fn audio_decoded_from_the_reference_codes_matches() {
    let samples = fixture().model.decode_audio(&rows("codes")).unwrap();
    let n = samples.len();
    let got = Tensor::from_vec(samples, n, &Device::Cpu).unwrap();
    assert_close(
        "encodec decode of the reference codes",
        &got,
        golden("audio"),
    );
}

#[test]
fn every_steps_guided_logits_match_alone_and_decoded_beside_other_jobs() {
    let model = &fixture().model;
    let codes = rows("codes");
    let ids = rows("prompt_ids").remove(0);
    let want = golden("step_scores_guided");
    let steps = want.dim(0).unwrap();
    // Mates of other prompts, lengths and guidance, fed codes of their own.
    let short_ids: Vec<u32> = ids[ids.len() - 5..].to_vec();
    let other_codes: Vec<Vec<u32>> = codes
        .iter()
        .map(|row| row.iter().rev().take(9).copied().collect())
        .collect();
    let longer_codes: Vec<Vec<u32>> = codes
        .iter()
        .map(|row| row.iter().chain(row).copied().collect())
        .collect();
    let alone = model
        .guided_logits_along_together(&[(&ids, &codes, GUIDANCE)])
        .unwrap()
        .remove(0);
    let together = model
        .guided_logits_along_together(&[
            (&short_ids, &other_codes, 1.0),
            (&ids, &codes, GUIDANCE),
            (&ids[3..], &longer_codes, 5.0),
        ])
        .unwrap()
        .remove(1);
    for (what, got) in [("alone", alone), ("beside two other jobs", together)] {
        assert_eq!(got.len(), steps, "{what}: steps");
        for (step, logits) in got.iter().enumerate() {
            let want = want.get(step).unwrap();
            assert_close(&format!("step {step} guided logits, {what}"), logits, &want);
        }
    }
}
