//! Published MusicGen shapes, for benchmarking with random weights (no download needed) and
//! for checking what a checkpoint should look like.

use candle_core::Device;

use crate::config::{DecoderConfig, EncodecConfig, MusicgenConfig, T5Config};
use crate::error::Result;
use crate::load::LoadOptions;
use crate::model::MusicGen;
use crate::random::{random_weights, WeightNormNaming};
use crate::tiny::tiny_tokenizer;
use crate::weights::Weights;

/// The shapes of `facebook/musicgen-small` (≈ 591M parameters).
pub fn musicgen_small() -> MusicgenConfig {
    musicgen(1024, 24, 16)
}

/// The shapes of `facebook/musicgen-medium` (≈ 1.5B parameters).
pub fn musicgen_medium() -> MusicgenConfig {
    musicgen(1536, 48, 24)
}

/// The shapes of `facebook/musicgen-large` (≈ 3.3B parameters).
pub fn musicgen_large() -> MusicgenConfig {
    musicgen(2048, 48, 32)
}

fn musicgen(hidden: usize, layers: usize, heads: usize) -> MusicgenConfig {
    MusicgenConfig {
        text_encoder: T5Config {
            vocab_size: 32128,
            d_model: 768,
            d_kv: 64,
            d_ff: 3072,
            num_layers: 12,
            num_heads: 12,
            relative_attention_num_buckets: 32,
            relative_attention_max_distance: 128,
            layer_norm_epsilon: 1e-6,
            feed_forward_proj: "relu".into(),
        },
        audio_encoder: EncodecConfig {
            sampling_rate: 32000,
            audio_channels: 1,
            hidden_size: 128,
            num_filters: 64,
            num_residual_layers: 1,
            upsampling_ratios: vec![8, 5, 4, 4],
            norm_type: "weight_norm".into(),
            kernel_size: 7,
            last_kernel_size: 7,
            residual_kernel_size: 3,
            dilation_growth_rate: 2,
            use_causal_conv: false,
            pad_mode: "reflect".into(),
            compress: 2,
            num_lstm_layers: 2,
            use_conv_shortcut: false,
            codebook_size: 2048,
            codebook_dim: Some(128),
        },
        decoder: DecoderConfig {
            vocab_size: 2048,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            ffn_dim: 4 * hidden,
            num_codebooks: 4,
            max_position_embeddings: 2048,
            activation_function: "gelu".into(),
            scale_embedding: false,
            pad_token_id: 2048,
            bos_token_id: 2048,
            audio_channels: 1,
            cross_attention_hidden_size: None,
        },
    }
}

impl MusicGen {
    /// A model of `config`'s shapes with deterministic random weights and the tiny model's
    /// tokenizer: for measuring speed without a checkpoint. Its audio is noise.
    pub fn with_random_weights(
        config: MusicgenConfig,
        seed: u64,
        opts: &LoadOptions,
    ) -> Result<Self> {
        config
            .validate()
            .map_err(|reason| crate::Error::InvalidConfig {
                path: "<preset>".into(),
                reason,
            })?;
        if let Some(threads) = opts.threads {
            crate::threads::use_threads(threads);
        }
        let device: &Device = &opts.device;
        let mut weights = Weights::from_map(random_weights(
            &config,
            seed,
            WeightNormNaming::Legacy,
            device,
        )?);
        crate::quantize::quantize_weights(&mut weights, opts.quantization)?;
        Self::from_weights(config, tiny_tokenizer()?, &weights, opts)
    }
}
