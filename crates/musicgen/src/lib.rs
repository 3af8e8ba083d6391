//! MusicGen text-to-music inference on candle: loads Hugging Face MusicGen checkpoints (or
//! generates a tiny random one), encodes the prompt with T5, decodes codebook tokens with the
//! delay pattern and classifier-free guidance, renders audio with EnCodec and writes WAV.
//!
//! Everything here is synchronous and CPU-bound. A loaded [`MusicGen`] holds only weights and
//! is `Send + Sync`; each [`MusicGen::generate`] call keeps its own state, so callers run it on
//! a blocking thread and share the model in an `Arc`. Progress and cancellation go through a
//! [`GenerationObserver`], called on the generating thread after/before every decoding step.

mod activations;
mod attention;
pub mod bench;
mod cache;
mod compose;
mod config;
mod decoder;
mod delay;
mod dense;
mod encodec;
mod encodec_layers;
mod error;
mod generation;
mod gguf;
mod hub;
mod int8;
mod linear;
mod model;
mod norm;
pub mod presets;
mod quantize;
mod quantized_model;
mod random;
mod scaled;
mod shared_out;
mod simd;
mod t5;
#[cfg(test)]
mod test_util;
mod threads;
mod tiny;
mod tiny_vocab;
mod wav;
mod weights;

pub use candle_core::{Device, Tensor};

pub use config::{DecoderConfig, EncodecConfig, MusicgenConfig, T5Config};
pub use delay::DelayPattern;
pub use error::{Error, Result};
pub use generation::{
    Generation, GenerationObserver, GenerationParams, NoopObserver, Stage, Timings,
};
pub use gguf::is_gguf;
pub use hub::{resolve_model, MODEL_FILES};
pub use model::{LoadOptions, MusicGen};
pub use quantize::{Quantization, QuantizeSummary};
pub use quantized_model::{
    quantize_model, quantize_random, quantized_model_path, resolve_quantized_model,
};
pub use random::WeightNormNaming;
pub use threads::{set_threads, threads_in_use};
pub use tiny::{make_tiny_model, make_tiny_model_with};
pub use wav::write_wav;
