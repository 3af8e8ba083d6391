//! The tiny model: MusicGen's architecture and tensor names at toy widths, with random weights
//! and a small word-level tokenizer of its own, so tests and offline demos need no download.

use std::collections::HashMap;
use std::path::Path;

use candle_core::Device;
use serde_json::json;
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::normalizers::Lowercase;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

use crate::config::MusicgenConfig;
use crate::error::{Error, Result};
use crate::random::{random_weights, WeightNormNaming};
use crate::tiny_vocab::WORDS;

const SPECIAL: [&str; 3] = ["<pad>", "</s>", "<unk>"];
const EOS_ID: u32 = 1;
/// Fixed so every machine builds the same tiny model.
const TINY_SEED: u64 = 0x00C0_DA00;

/// Writes the tiny model (`config.json`, `model.safetensors`, `tokenizer.json`) to `out_dir`.
/// Deterministic: the same files every time. 32 kHz, hop 640 (50 frames/s), 4 codebooks.
pub fn make_tiny_model(out_dir: &Path) -> Result<()> {
    make_tiny_model_with(out_dir, WeightNormNaming::Legacy)
}

/// [`make_tiny_model`] with a choice of how weight-normalised convolutions are named.
pub fn make_tiny_model_with(out_dir: &Path, naming: WeightNormNaming) -> Result<()> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let tokenizer = tiny_tokenizer()?;
    let config_json = tiny_config_json(tokenizer.get_vocab_size(true));
    let config: MusicgenConfig =
        serde_json::from_value(config_json.clone()).map_err(|source| Error::Json {
            path: out_dir.join("config.json"),
            source,
        })?;
    let weights = random_weights(&config, TINY_SEED, naming, &Device::Cpu)?;

    // Written under temporary names and renamed, so a crash never leaves a half model that
    // `resolve_model` would take for a finished one.
    let write = |name: &str, f: &dyn Fn(&Path) -> Result<()>| -> Result<()> {
        let tmp = out_dir.join(format!(".{name}.partial"));
        f(&tmp)?;
        std::fs::rename(&tmp, out_dir.join(name)).map_err(|e| Error::io(out_dir.join(name), e))
    };
    write("tokenizer.json", &|p| {
        tokenizer
            .save(p, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))
    })?;
    write("model.safetensors", &|p| {
        Ok(candle_core::safetensors::save(&weights, p)?)
    })?;
    write("config.json", &|p| {
        let text =
            serde_json::to_string_pretty(&config_json).expect("JSON values always serialize");
        std::fs::write(p, text).map_err(|e| Error::io(p, e))
    })?;
    Ok(())
}

/// The tiny model's tokenizer: lower-cased words split on whitespace and punctuation, unknown
/// words to `<unk>`, and `</s>` appended like T5's.
pub(crate) fn tiny_tokenizer() -> Result<Tokenizer> {
    let mut vocab: HashMap<String, u32> = HashMap::new();
    for word in SPECIAL.iter().chain(WORDS) {
        let next = vocab.len() as u32;
        vocab.entry((*word).to_string()).or_insert(next);
    }
    let model = WordLevel::builder()
        .vocab(vocab.into_iter().collect())
        .unk_token("<unk>".into())
        .build()
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let post = TemplateProcessing::builder()
        .try_single("$A </s>")
        .map_err(Error::Tokenizer)?
        .special_tokens(vec![("</s>", EOS_ID)])
        .build()
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(Lowercase))
        .with_pre_tokenizer(Some(Whitespace {}))
        .with_post_processor(Some(post));
    let specials: Vec<AddedToken> = SPECIAL.iter().map(|t| AddedToken::from(*t, true)).collect();
    tokenizer.add_special_tokens(&specials);
    Ok(tokenizer)
}

/// `config.json` in the shape transformers writes for `MusicgenForConditionalGeneration`.
fn tiny_config_json(text_vocab: usize) -> serde_json::Value {
    json!({
        "architectures": ["MusicgenForConditionalGeneration"],
        "model_type": "musicgen",
        "is_encoder_decoder": true,
        "torch_dtype": "float32",
        "text_encoder": {
            "model_type": "t5",
            "vocab_size": text_vocab,
            "d_model": 32,
            "d_kv": 8,
            "d_ff": 64,
            "num_layers": 2,
            "num_decoder_layers": 2,
            "num_heads": 4,
            "relative_attention_num_buckets": 32,
            "relative_attention_max_distance": 128,
            "dropout_rate": 0.1,
            "layer_norm_epsilon": 1e-6,
            "initializer_factor": 1.0,
            "feed_forward_proj": "relu",
            "dense_act_fn": "relu",
            "is_gated_act": false,
            "is_encoder_decoder": true,
            "use_cache": true,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "decoder_start_token_id": 0,
            "n_positions": 512
        },
        "audio_encoder": {
            "model_type": "encodec",
            "audio_channels": 1,
            "chunk_length_s": null,
            "codebook_dim": 32,
            "codebook_size": 2048,
            "compress": 2,
            "dilation_growth_rate": 2,
            "hidden_size": 32,
            "kernel_size": 7,
            "last_kernel_size": 7,
            "norm_type": "weight_norm",
            "normalize": false,
            "num_filters": 4,
            "num_lstm_layers": 2,
            "num_residual_layers": 1,
            "overlap": null,
            "pad_mode": "reflect",
            "residual_kernel_size": 3,
            "sampling_rate": 32000,
            "target_bandwidths": [2.2],
            "trim_right_ratio": 1.0,
            "upsampling_ratios": [8, 5, 4, 4],
            "use_causal_conv": false,
            "use_conv_shortcut": false
        },
        "decoder": {
            "model_type": "musicgen_decoder",
            "activation_dropout": 0.0,
            "activation_function": "gelu",
            "attention_dropout": 0.0,
            "audio_channels": 1,
            "bos_token_id": 2048,
            "dropout": 0.1,
            "ffn_dim": 128,
            "hidden_size": 64,
            "initializer_factor": 0.02,
            "layerdrop": 0.0,
            "max_position_embeddings": 2048,
            "num_attention_heads": 4,
            "num_codebooks": 4,
            "num_hidden_layers": 2,
            "pad_token_id": 2048,
            "scale_embedding": false,
            "tie_word_embeddings": false,
            "use_cache": true,
            "vocab_size": 2048
        }
    })
}
