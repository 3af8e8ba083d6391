//! `coda generate`: one prompt to one WAV, no queue. Useful to try a model or a setting by hand.

use std::time::Instant;

use anyhow::Context;
use coda_musicgen::{GenerationObserver, GenerationParams, LoadOptions, MusicGen, Stage};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::GenerateArgs;

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    crate::threads::in_force_first(args.threads, "--threads")?;
    // A GGUF file from `coda quantize` is taken as is.
    let dir = coda_musicgen::resolve_quantized_model(
        &args.model,
        &args.data_dir,
        coda_musicgen::Quantization::None,
    )
    .with_context(|| format!("finding model `{}`", args.model))?;
    let options = LoadOptions {
        threads: args.threads,
        ..LoadOptions::default()
    };
    let load_started = Instant::now();
    let model =
        MusicGen::load(&dir, &options).with_context(|| format!("loading {}", dir.display()))?;
    eprintln!(
        "model loaded from {} in {:.2?}",
        dir.display(),
        load_started.elapsed()
    );

    let frames = match args.frames {
        Some(frames) => frames,
        None => {
            anyhow::ensure!(
                args.duration.is_finite() && args.duration > 0.0,
                "--duration must be a positive number of seconds, got {}",
                args.duration
            );
            coda_jobs::frames_for_seconds(args.duration, model.frame_rate())
        }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    let params = GenerationParams {
        prompt: args.prompt.clone(),
        frames,
        top_k: args.top_k,
        top_p: args.top_p,
        temperature: args.temperature,
        guidance_scale: args.guidance,
        seed,
    };

    let mut bar = Bar::new(model.decoding_steps(frames));
    let generation = model.generate(&params, &mut bar).context("generating")?;
    bar.bar.finish_and_clear();

    coda_musicgen::write_wav(&args.out, &generation.samples, generation.sample_rate)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if let Some(path) = &args.codes_out {
        let json = serde_json::to_string(&generation.codes)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }

    let t = &generation.timings;
    let seconds = generation.samples.len() as f64 / f64::from(generation.sample_rate);
    println!(
        "wrote {} ({seconds:.2} s of audio, {frames} frames, seed {seed})",
        args.out.display()
    );
    println!(
        "{:.1} steps/s ({} steps in {:.0} ms; prompt {:.0} ms; audio {:.0} ms)",
        t.decode_steps as f64 / (t.decode_ms / 1000.0).max(1e-9),
        t.decode_steps,
        t.decode_ms,
        t.text_ms,
        t.audio_ms
    );
    Ok(())
}

/// Terminal progress for the three stages of a generation.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(total: usize) -> Self {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len} steps ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        Self { bar }
    }
}

impl GenerationObserver for Bar {
    fn on_stage(&mut self, stage: Stage) {
        match stage {
            Stage::EncodingPrompt => self.bar.set_message("encoding prompt"),
            Stage::Composing { step, total, .. } => {
                self.bar.set_message("composing");
                self.bar.set_length(total as u64);
                self.bar.set_position(step as u64);
            }
            Stage::RenderingAudio => self.bar.set_message("rendering audio"),
        }
    }

    fn should_stop(&self) -> bool {
        false
    }
}
