//! What a caller asks for and what it gets back: parameters, progress stages, the observer
//! that watches (and may stop) a job, and the result with its timings.

/// One request. Sampling: `temperature` 0 is greedy (argmax); otherwise `top_k` and `top_p`
/// (0 = off) restrict the candidates, top-k first, then nucleus; both off samples from the
/// whole distribution. Coda's defaults follow audiocraft: top-k 250, top-p off,
/// temperature 1, guidance 3.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    pub prompt: String,
    /// Audio frames to generate ([`crate::MusicGen::frame_rate`] per second of audio).
    pub frames: usize,
    pub top_k: usize,
    pub top_p: f64,
    pub temperature: f64,
    /// Classifier-free guidance: `uncond + scale · (cond − uncond)`. At exactly 1.0 the
    /// unconditional pass is skipped, since it cannot change the result.
    pub guidance_scale: f64,
    /// Same seed and parameters give the same codes.
    pub seed: u64,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            prompt: String::new(),
            frames: 250,
            top_k: 250,
            top_p: 0.0,
            temperature: 1.0,
            guidance_scale: 3.0,
            seed: 0,
        }
    }
}

impl GenerationParams {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.frames == 0 {
            return Err("frames must be at least 1".into());
        }
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(format!(
                "temperature must be finite and >= 0, got {}",
                self.temperature
            ));
        }
        if !(0.0..=1.0).contains(&self.top_p) {
            return Err(format!("top_p must be within [0, 1], got {}", self.top_p));
        }
        if !self.guidance_scale.is_finite() || self.guidance_scale < 0.0 {
            return Err(format!(
                "guidance_scale must be finite and >= 0, got {}",
                self.guidance_scale
            ));
        }
        Ok(())
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    EncodingPrompt,
    /// Reported after each decoding step; `step` counts from 1 to `total`. `together`: how
    /// many jobs shared the step (1 alone; more when batched).
    Composing {
        step: usize,
        total: usize,
        together: usize,
    },
    RenderingAudio,
}

/// Watches a job. Called on the generating thread (the engine's, for batched jobs).
pub trait GenerationObserver {
    fn on_stage(&mut self, stage: Stage);
    /// Consulted before every decoding step; `true` ends the job with [`crate::Error::Stopped`].
    fn should_stop(&self) -> bool;
}

/// An observer that watches nothing and never stops.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;

impl GenerationObserver for NoopObserver {
    fn on_stage(&mut self, _stage: Stage) {}
    fn should_stop(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Delay removed: one row per codebook, `frames` codes each.
    pub codes: Vec<Vec<u32>>,
    /// Mono, exactly `frames × hop` samples.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub timings: Timings,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timings {
    pub text_ms: f64,
    pub decode_steps: usize,
    pub decode_ms: f64,
    /// This job's share of its decoding steps: each step's time divided among the jobs that
    /// took it together. What the job cost, where `decode_ms` is how long it took.
    pub decode_share_ms: f64,
    /// Jobs per decoding step on average, this one included (1 alone).
    pub together: f64,
    pub audio_ms: f64,
}

impl Timings {
    /// Milliseconds per decoding step, the figure ETAs are built from.
    pub fn ms_per_step(&self) -> f64 {
        if self.decode_steps == 0 {
            0.0
        } else {
            self.decode_ms / self.decode_steps as f64
        }
    }
}
