//! Model folders: the tiny model's layout, both weight-norm namings, and model ids.

mod common;

use coda_musicgen::{
    make_tiny_model, make_tiny_model_with, resolve_model, DelayPattern, Error, LoadOptions,
    MusicGen, MusicgenConfig, WeightNormNaming, MODEL_FILES,
};

#[test]
fn the_tiny_model_is_written_in_the_hugging_face_layout_and_deterministically() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    make_tiny_model(a.path()).unwrap();
    make_tiny_model(b.path()).unwrap();
    for file in MODEL_FILES {
        let (x, y) = (
            std::fs::read(a.path().join(file)).unwrap(),
            std::fs::read(b.path().join(file)).unwrap(),
        );
        assert!(x == y, "{file} differs between two builds");
    }
    let config = MusicgenConfig::from_file(&a.path().join("config.json")).unwrap();
    assert_eq!(config.audio_encoder.sampling_rate, 32_000);
    assert_eq!(config.audio_encoder.hop_length(), 640);
    assert_eq!(config.decoder.num_codebooks, 4);

    let tensors = candle_core::safetensors::load(
        a.path().join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    for name in [
        "text_encoder.shared.weight",
        "enc_to_dec_proj.bias",
        "decoder.model.decoder.embed_tokens.3.weight",
        "decoder.model.decoder.layers.1.encoder_attn.out_proj.weight",
        "decoder.lm_heads.0.weight",
        "audio_encoder.decoder.layers.0.conv.weight_g",
        "audio_encoder.decoder.layers.1.lstm.weight_hh_l1",
        "audio_encoder.quantizer.layers.3.codebook.embed",
    ] {
        assert!(tensors.contains_key(name), "missing {name}");
    }
}

#[test]
fn the_tiny_tokenizer_appends_end_of_sequence_and_knows_music_words() {
    let model = common::tiny();
    let ids = model.tokenize("Lofi piano with soft drums").unwrap();
    assert_eq!(ids.len(), 6);
    assert_eq!(*ids.last().unwrap(), 1, "`</s>` is appended");
    assert!(
        ids[..5].iter().all(|&id| id > 2),
        "every word is known: {ids:?}"
    );
}

#[test]
fn parametrizations_naming_loads_to_the_same_model() {
    let legacy = common::tiny();
    let dir = tempfile::tempdir().unwrap();
    make_tiny_model_with(dir.path(), WeightNormNaming::Parametrizations).unwrap();
    let names = candle_core::safetensors::load(
        dir.path().join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    assert!(
        names.contains_key("audio_encoder.decoder.layers.0.conv.parametrizations.weight.original0")
    );
    assert!(!names.keys().any(|n| n.ends_with("weight_g")));

    let renamed = MusicGen::load(dir.path(), &LoadOptions::default()).unwrap();
    let pattern = DelayPattern {
        codebooks: 4,
        frames: 12,
        pad: 2048,
    };
    let codes: Vec<Vec<u32>> = (0..4u32)
        .map(|k| (0..12u32).map(|t| (k * 97 + t * 13) % 2048).collect())
        .collect();
    assert_eq!(pattern.undo(&pattern.apply(&codes)), codes);
    assert_eq!(
        renamed.decode_audio(&codes).unwrap(),
        legacy.decode_audio(&codes).unwrap()
    );
}

#[test]
fn decode_audio_rejects_codes_outside_the_codebook() {
    let err = common::tiny()
        .decode_audio(&vec![vec![2048u32; 3]; 4])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

#[test]
fn a_missing_tensor_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    make_tiny_model(dir.path()).unwrap();
    let path = dir.path().join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
    tensors.remove("decoder.lm_heads.2.weight");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let err = MusicGen::load(dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("decoder.lm_heads.2.weight"),
        "{err}"
    );
}

#[test]
fn tiny_resolves_to_a_generated_folder_and_existing_folders_to_themselves() {
    let data = tempfile::tempdir().unwrap();
    let dir = resolve_model("tiny", data.path()).unwrap();
    assert_eq!(dir, data.path().join("models/tiny"));
    assert!(MODEL_FILES.iter().all(|f| dir.join(f).is_file()));
    let again = resolve_model(dir.to_str().unwrap(), data.path()).unwrap();
    assert_eq!(again, dir);
}

#[test]
fn an_unknown_id_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let err = resolve_model("no-such-model", data.path()).unwrap_err();
    assert!(matches!(err, Error::ModelNotFound { .. }), "{err}");
}

#[test]
fn a_hub_id_offline_says_what_to_download_and_where() {
    // Only the hub cache is consulted when offline; point it at an empty folder.
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("HF_HUB_OFFLINE", "1");
    std::env::set_var("HF_HOME", cache.path());
    let err = resolve_model("facebook/musicgen-small", data.path())
        .unwrap_err()
        .to_string();
    for needle in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "facebook--musicgen-small",
    ] {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
}
