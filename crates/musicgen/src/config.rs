//! The three sections of a Hugging Face `MusicgenForConditionalGeneration` `config.json`.
//!
//! Every size is read from the file; defaults are only those transformers itself falls back to
//! when a field is absent, so a config written by transformers parses to the same model.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MusicgenConfig {
    pub text_encoder: T5Config,
    pub audio_encoder: EncodecConfig,
    pub decoder: DecoderConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T5Config {
    pub vocab_size: usize,
    pub d_model: usize,
    pub d_kv: usize,
    pub d_ff: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: usize,
    #[serde(default = "default_t5_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default_ff_proj")]
    pub feed_forward_proj: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub ffn_dim: usize,
    pub num_codebooks: usize,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_activation")]
    pub activation_function: String,
    #[serde(default)]
    pub scale_embedding: bool,
    #[serde(default = "default_pad")]
    pub pad_token_id: u32,
    #[serde(default = "default_pad")]
    pub bos_token_id: u32,
    #[serde(default = "default_one")]
    pub audio_channels: usize,
    #[serde(default)]
    pub cross_attention_hidden_size: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodecConfig {
    pub sampling_rate: u32,
    #[serde(default = "default_one")]
    pub audio_channels: usize,
    pub hidden_size: usize,
    pub num_filters: usize,
    #[serde(default = "default_one")]
    pub num_residual_layers: usize,
    pub upsampling_ratios: Vec<usize>,
    #[serde(default = "default_norm_type")]
    pub norm_type: String,
    #[serde(default = "default_kernel")]
    pub kernel_size: usize,
    #[serde(default = "default_kernel")]
    pub last_kernel_size: usize,
    #[serde(default = "default_residual_kernel")]
    pub residual_kernel_size: usize,
    #[serde(default = "default_two")]
    pub dilation_growth_rate: usize,
    #[serde(default = "default_true")]
    pub use_causal_conv: bool,
    #[serde(default = "default_pad_mode")]
    pub pad_mode: String,
    #[serde(default = "default_two")]
    pub compress: usize,
    #[serde(default = "default_two")]
    pub num_lstm_layers: usize,
    #[serde(default = "default_true")]
    pub use_conv_shortcut: bool,
    pub codebook_size: usize,
    #[serde(default)]
    pub codebook_dim: Option<usize>,
}

impl EncodecConfig {
    /// Audio samples per codebook frame: the product of the upsampling ratios.
    pub fn hop_length(&self) -> usize {
        self.upsampling_ratios.iter().product()
    }

    pub fn frame_rate(&self) -> f64 {
        f64::from(self.sampling_rate) / self.hop_length() as f64
    }

    pub fn codebook_dim(&self) -> usize {
        self.codebook_dim.unwrap_or(self.hidden_size)
    }
}

impl MusicgenConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Self = serde_json::from_str(&text).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate().map_err(|reason| Error::InvalidConfig {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(config)
    }

    /// transformers adds `enc_to_dec_proj` only when the widths differ and the decoder does not
    /// project inside its cross-attention.
    pub fn has_enc_to_dec_proj(&self) -> bool {
        self.text_encoder.d_model != self.decoder.hidden_size
            && self.decoder.cross_attention_hidden_size.is_none()
    }

    /// Checks the combinations this implementation supports; the message names the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let (d, a, t) = (&self.decoder, &self.audio_encoder, &self.text_encoder);
        if d.audio_channels != 1 || a.audio_channels != 1 {
            return Err("only mono models are supported (audio_channels must be 1)".into());
        }
        if d.vocab_size != a.codebook_size {
            return Err(format!(
                "decoder.vocab_size {} differs from audio_encoder.codebook_size {}",
                d.vocab_size, a.codebook_size
            ));
        }
        if d.num_attention_heads == 0 || d.hidden_size % d.num_attention_heads != 0 {
            return Err("decoder.hidden_size must be a multiple of num_attention_heads".into());
        }
        if d.num_codebooks == 0 {
            return Err("decoder.num_codebooks must be at least 1".into());
        }
        if d.activation_function != "gelu" {
            return Err(format!(
                "decoder.activation_function `{}` is not supported (gelu only)",
                d.activation_function
            ));
        }
        if let Some(width) = d.cross_attention_hidden_size {
            if width != t.d_model {
                return Err("decoder.cross_attention_hidden_size must equal text d_model".into());
            }
        }
        if !matches!(t.feed_forward_proj.as_str(), "relu" | "gated-gelu") {
            return Err(format!(
                "text_encoder.feed_forward_proj `{}` is not supported",
                t.feed_forward_proj
            ));
        }
        if a.norm_type != "weight_norm" {
            return Err(format!(
                "audio_encoder.norm_type `{}` is not supported (weight_norm only)",
                a.norm_type
            ));
        }
        if !matches!(a.pad_mode.as_str(), "reflect" | "constant") {
            return Err(format!(
                "audio_encoder.pad_mode `{}` is not supported",
                a.pad_mode
            ));
        }
        if a.upsampling_ratios.is_empty() || a.upsampling_ratios.contains(&0) {
            return Err("audio_encoder.upsampling_ratios must be non-empty and positive".into());
        }
        Ok(())
    }
}

fn default_buckets() -> usize {
    32
}
fn default_max_distance() -> usize {
    128
}
fn default_t5_eps() -> f64 {
    1e-6
}
fn default_ff_proj() -> String {
    "relu".into()
}
fn default_max_positions() -> usize {
    2048
}
fn default_activation() -> String {
    "gelu".into()
}
fn default_pad() -> u32 {
    2048
}
fn default_one() -> usize {
    1
}
fn default_two() -> usize {
    2
}
fn default_kernel() -> usize {
    7
}
fn default_residual_kernel() -> usize {
    3
}
fn default_true() -> bool {
    true
}
fn default_norm_type() -> String {
    "weight_norm".into()
}
fn default_pad_mode() -> String {
    "reflect".into()
}
