//! MusicGen text-to-music inference on candle: loads Hugging Face MusicGen checkpoints (or
//! generates a tiny random one), encodes the prompt with T5, decodes codebook tokens with the
//! delay pattern and classifier-free guidance, renders audio with EnCodec and writes WAV.
//!
//! Everything here is synchronous and CPU-bound. A loaded [`MusicGen`] holds only weights and
//! is `Send + Sync`; each [`MusicGen::generate`] call keeps its own state, so callers run it on
//! a blocking thread and share the model in an `Arc`. Progress and cancellation go through a
//! [`GenerationObserver`], called on the generating thread after/before every decoding step.
//!
//! To serve many jobs at once, [`MusicGen`] implements [`coda_engine::Batched`]: the engine's
//! thread admits [`Composition`]s, decodes every admitted job in one pass of the decoder per
//! step (each with its own caches, position, prompt, sampling settings and generator, so a job's
//! result does not depend on its batch mates) and renders finished ones on its finishing
//! thread. [`MusicGen::generate`] takes the same steps as a batch of one.
//!
//! # Threads
//!
//! The computation runs on two process-wide pools, and candle picks between them per
//! operation, so neither can stand in for the other:
//! - candle's worker pool (`candle_core::utils::barrier_pool`) runs its quantized matmuls and
//!   element-wise ops, and every kernel of this crate (attention over the cache, few-row and
//!   Q8_0 products, the LSTM step, the transposed convolutions' sums, ELU and GELU). Its threads
//!   spin between ops, so the crate's kernels join them rather than wake a pool of their own
//!   that would compete with them for the cores within a step.
//! - rayon's global pool runs candle's dense matmuls of many rows and its convolutions (the
//!   prompt in T5, EnCodec's layers) and the quantization of weights at load.
//!
//! One count sizes both, once per process: `model.threads` / `--threads`, else candle's
//! default (one thread per physical core; rayon's pool then has one per logical core). candle
//! sizes its pool from `CANDLE_NUM_THREADS` when its first operation runs and has no other way
//! in, so the count must be in the environment the process starts with:
//! [`restart_with_threads`], called by the `coda` binary before anything else, runs the program
//! again with `CANDLE_NUM_THREADS` and `RAYON_NUM_THREADS` set for the new run (this process's
//! environment is never written: that is unsound while other threads run). rayon's pool reads
//! the same variable, and [`LoadOptions::threads`] also sizes it through rayon's API when
//! nothing has started it yet. [`threads_in_use`] reports candle's pool, the one a decoding
//! step runs on.

mod activations;
mod attention;
mod batched;
pub mod bench;
mod bench_engine;
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
mod kernels;
mod linear;
mod load;
mod model;
mod norm;
pub mod presets;
mod quantize;
mod quantized_model;
mod random;
mod scaled;
mod settings;
mod t5;
#[cfg(test)]
mod test_util;
#[cfg(feature = "testing")]
pub mod testing;
mod threads;
mod tiny;
mod tiny_vocab;
mod wav;
mod weights;

pub use batched::{Composing, Composition};
pub use bench_engine::{run_engine_bench, EngineReport, StepTimingReport};
pub use candle_core::Device;

pub use config::{DecoderConfig, EncodecConfig, MusicgenConfig, T5Config};
pub use error::{Error, Result};
pub use generation::{
    Generation, GenerationObserver, GenerationParams, NoopObserver, Stage, Timings,
};
pub use hub::{resolve_model, MODEL_FILES};
pub use load::LoadOptions;
pub use model::MusicGen;
pub use quantize::{Quantization, QuantizeSummary};
pub use quantized_model::{quantize_model, quantize_random, resolve_quantized_model};
pub use settings::{InvalidSetting, ModelSettings};
pub use threads::{restart_with_threads, threads_in_use};
pub use tiny::make_tiny_model;
pub use wav::write_wav;

// For the crate's own tests, benches and examples only (see `testing.rs`).
#[cfg(feature = "testing")]
pub use {
    candle_core::Tensor, delay::DelayPattern, gguf::is_gguf, quantized_model::quantized_model_path,
    random::WeightNormNaming, tiny::make_tiny_model_with,
};
