//! The POST body and its validation into [`JobParams`], the only form the queue accepts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::settings::Limits;

/// Largest seed a JavaScript client can hold exactly (2^53 − 1).
pub const MAX_SEED: u64 = (1 << 53) - 1;
pub const MAX_TOP_K: u32 = 2048;
pub const MAX_TEMPERATURE: f64 = 5.0;
pub const MAX_GUIDANCE: f64 = 20.0;
pub const MIN_DURATION_SECONDS: f64 = 1.0;

/// Defaults follow audiocraft's MusicGen.
pub const DEFAULT_TOP_K: u32 = 250;
pub const DEFAULT_TOP_P: f64 = 0.0;
pub const DEFAULT_TEMPERATURE: f64 = 1.0;
pub const DEFAULT_GUIDANCE: f64 = 3.0;

/// A request for one piece of music. Unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationRequest {
    /// What to compose: 1 to `limits.max_prompt_chars` (default 500) characters after trimming,
    /// no control characters.
    #[schema(example = "lo-fi hip hop beat with warm piano chords")]
    pub prompt: String,
    /// Length of the result in seconds: 1 to `limits.max_duration_seconds` (default 30).
    #[schema(minimum = 1.0, example = 8.0)]
    pub duration_seconds: f64,
    /// Sample among the k most likely tokens: 0..=2048, 0 turns it off. Default 250.
    #[schema(minimum = 0, maximum = 2048)]
    pub top_k: Option<u32>,
    /// Nucleus sampling threshold: 0..=1, 0 turns it off. Default 0.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub top_p: Option<f64>,
    /// Sampling temperature: 0..=5, 0 = greedy. Default 1.0.
    #[schema(minimum = 0.0, maximum = 5.0)]
    pub temperature: Option<f64>,
    /// Classifier-free guidance scale: 0..=20. Default 3.0.
    #[schema(minimum = 0.0, maximum = 20.0)]
    pub guidance_scale: Option<f64>,
    /// Random seed: 0..=2^53−1. Random when absent; the chosen seed is reported back.
    #[schema(minimum = 0, maximum = 9007199254740991_u64)]
    pub seed: Option<u64>,
}

/// A validated request: every parameter present and in bounds. This is what the queue carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobParams {
    pub prompt: String,
    pub duration_seconds: f64,
    pub top_k: u32,
    pub top_p: f64,
    pub temperature: f64,
    pub guidance_scale: f64,
    pub seed: u64,
}

/// Why a request was refused; `field` is the JSON field name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

fn bounded(field: &'static str, value: f64, low: f64, high: f64) -> Result<f64, ValidationError> {
    if !value.is_finite() || value < low || value > high {
        return Err(ValidationError {
            field,
            message: format!("{field} must be a number from {low} to {high}, got {value}"),
        });
    }
    Ok(value)
}

impl GenerationRequest {
    pub fn validate(self, limits: &Limits) -> Result<JobParams, ValidationError> {
        let prompt = self.prompt.trim().to_string();
        let chars = prompt.chars().count();
        if chars == 0 {
            return Err(ValidationError {
                field: "prompt",
                message: "prompt must not be empty".into(),
            });
        }
        if chars > limits.max_prompt_chars {
            return Err(ValidationError {
                field: "prompt",
                message: format!(
                    "prompt must be at most {} characters, got {chars}",
                    limits.max_prompt_chars
                ),
            });
        }
        if let Some(c) = prompt.chars().find(|c| c.is_control()) {
            return Err(ValidationError {
                field: "prompt",
                message: format!("prompt must not contain control characters, got {:?}", c),
            });
        }
        let duration_seconds = bounded(
            "duration_seconds",
            self.duration_seconds,
            MIN_DURATION_SECONDS,
            limits.max_duration_seconds,
        )?;
        let top_k = self.top_k.unwrap_or(DEFAULT_TOP_K);
        if top_k > MAX_TOP_K {
            return Err(ValidationError {
                field: "top_k",
                message: format!("top_k must be from 0 to {MAX_TOP_K}, got {top_k}"),
            });
        }
        let top_p = bounded("top_p", self.top_p.unwrap_or(DEFAULT_TOP_P), 0.0, 1.0)?;
        let temperature = bounded(
            "temperature",
            self.temperature.unwrap_or(DEFAULT_TEMPERATURE),
            0.0,
            MAX_TEMPERATURE,
        )?;
        let guidance_scale = bounded(
            "guidance_scale",
            self.guidance_scale.unwrap_or(DEFAULT_GUIDANCE),
            0.0,
            MAX_GUIDANCE,
        )?;
        let seed = match self.seed {
            Some(seed) if seed > MAX_SEED => {
                return Err(ValidationError {
                    field: "seed",
                    message: format!("seed must be from 0 to {MAX_SEED}, got {seed}"),
                })
            }
            Some(seed) => seed,
            None => rand::random::<u64>() & MAX_SEED,
        };
        Ok(JobParams {
            prompt,
            duration_seconds,
            top_k,
            top_p,
            temperature,
            guidance_scale,
            seed,
        })
    }
}
