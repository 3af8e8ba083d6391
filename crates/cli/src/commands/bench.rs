//! `coda bench`: how fast a model decodes on this machine, one figure per line (or JSON).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use coda_musicgen::bench::{peak_rss_bytes, rss_bytes, run_bench, BenchOptions, BenchReport};
use coda_musicgen::{presets, LoadOptions, MusicGen, MusicgenConfig};

use crate::cli::{BenchArgs, Preset, WeightSource};

/// The shapes of a published size; `tiny` has no preset (it is a generated model: use `--model tiny`).
pub fn preset_config(preset: Preset) -> anyhow::Result<MusicgenConfig> {
    Ok(match preset {
        Preset::Tiny => anyhow::bail!("the tiny model is a generated folder: use `--model tiny`"),
        Preset::Small => presets::musicgen_small(),
        Preset::Medium => presets::musicgen_medium(),
        Preset::Large => presets::musicgen_large(),
    })
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    crate::threads::in_force_first(args.threads, "--threads")?;
    let options = LoadOptions {
        threads: args.threads,
        quantization: args.quantization,
        ..LoadOptions::default()
    };
    let load_started = Instant::now();
    let tiny = (args.preset == Preset::Tiny).then_some("tiny");
    let (model, source) = match args.model.as_deref().or(tiny) {
        Some(id) => {
            let path = coda_musicgen::resolve_quantized_model(
                id,
                &args.data_dir,
                coda_musicgen::Quantization::None,
            )
            .with_context(|| format!("finding model `{id}`"))?;
            let model = MusicGen::load(&path, &options)
                .with_context(|| format!("loading {}", path.display()))?;
            (model, id.to_string())
        }
        None => {
            let WeightSource::Random = args.weights;
            let model = MusicGen::with_random_weights(preset_config(args.preset)?, 0, &options)
                .context("building random weights")?;
            (
                model,
                format!("musicgen-{:?} shapes, random weights", args.preset).to_lowercase(),
            )
        }
    };
    let load_ms = load_started.elapsed().as_secs_f64() * 1e3;
    let loaded = Memory {
        peak: peak_rss_bytes(),
        resident: rss_bytes(),
    };
    if args.engine {
        let frames = coda_jobs::frames_for_seconds(args.clip_seconds, model.frame_rate());
        let finishing = if args.render_between_steps {
            coda_engine::Finishing::BetweenSteps
        } else {
            coda_engine::Finishing::OwnThread
        };
        let report = coda_musicgen::run_engine_bench(
            &Arc::new(model),
            args.batch as usize,
            frames,
            finishing,
        )?;
        if args.json {
            let mut json = serde_json::to_value(&report)?;
            json["model"] = source.into();
            json["threads"] = coda_musicgen::threads_in_use().into();
            println!("{json}");
        } else {
            print_engine(&source, &report);
        }
        return Ok(());
    }
    let report = run_bench(
        &model,
        &BenchOptions {
            steps: args.steps,
            start_position: args.start_position,
            guidance: args.guidance,
            audio_frames: args.audio_frames,
            clip_frames: coda_jobs::frames_for_seconds(args.clip_seconds, model.frame_rate()),
            batch: args.batch as usize,
            ..BenchOptions::default()
        },
    )?;
    if args.json {
        let mut json = serde_json::to_value(&report)?;
        json["model"] = source.into();
        json["quantization"] = args.quantization.as_str().into();
        json["guidance"] = args.guidance.into();
        json["load_ms"] = load_ms.into();
        json["loaded_peak_rss_bytes"] = loaded.peak.into();
        json["loaded_rss_bytes"] = loaded.resident.into();
        println!("{json}");
    } else {
        print_lines(&source, args, load_ms, &loaded, &report);
    }
    Ok(())
}

/// Resident memory right after loading (and warming up) the model.
struct Memory {
    peak: Option<u64>,
    resident: Option<u64>,
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "n/a".into(),
        |b| format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64),
    )
}

fn print_lines(source: &str, args: &BenchArgs, load_ms: f64, loaded: &Memory, r: &BenchReport) {
    let rows_per_job = if args.guidance == 1.0 { 1 } else { 2 };
    let batch = match r.batch {
        1 if rows_per_job == 1 => "batch 1".to_string(),
        1 => "CFG batch 2".to_string(),
        jobs => format!("{jobs} jobs together, {} rows", jobs * rows_per_job),
    };
    let decoder = if source.ends_with(".gguf") {
        "as stored in the file".to_string()
    } else {
        args.quantization.to_string()
    };
    println!(
        "model: {source}, decoder {decoder}, {} thread(s)",
        r.threads
    );
    println!("load + warm-up: {:.1} s", load_ms / 1e3);
    println!(
        "decoding step ({batch}, {} steps from position {}): median {:.1} ms, p10 {:.1} ms, \
         p90 {:.1} ms, mean {:.1} ms",
        r.steps, r.start_position, r.step_ms_median, r.step_ms_p10, r.step_ms_p90, r.step_ms_mean
    );
    println!("steps per second: {:.1}", r.steps_per_second);
    if r.batch > 1 {
        println!(
            "per job-step: {:.1} ms ({} jobs share each step)",
            r.job_step_ms_median, r.batch
        );
    }
    println!("T5 prompt encoding: {:.0} ms", r.text_ms);
    println!(
        "EnCodec decode of {} frames: {:.0} ms",
        r.audio_frames, r.audio_ms
    );
    println!(
        "{:.0} s clip ({} steps{}): {:.1} s, real-time factor {:.2}{}",
        r.clip_seconds,
        r.clip_steps,
        if r.batch > 1 {
            format!(", {} clips at once", r.batch)
        } else {
            String::new()
        },
        r.clip_ms / 1e3,
        r.real_time_factor,
        if r.clip_extrapolated {
            " (extrapolated from fewer steps: an underestimate)"
        } else {
            ""
        }
    );
    let note = if args.model.is_none() {
        " (includes building the f32 random weights)"
    } else {
        ""
    };
    println!(
        "memory after load: {} resident, peak {}{note}",
        mib(loaded.resident),
        mib(loaded.peak)
    );
    println!("peak memory (VmHWM): {}{note}", mib(r.peak_rss_bytes));
}

fn print_engine(source: &str, r: &coda_musicgen::EngineReport) {
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.1} ms"));
    println!(
        "model: {source}, {} thread(s); engine of {} jobs, frames {:?}",
        coda_musicgen::threads_in_use(),
        r.jobs,
        r.frames
    );
    println!(
        "all done in {:.1} s: {:.1} s of audio, {:.2} s of audio per second",
        r.wall_ms / 1e3,
        r.audio_seconds,
        r.audio_seconds / (r.wall_ms / 1e3)
    );
    for s in &r.steps {
        println!(
            "batch {}: {} per step, {} per job-step over {} steps; while a render runs beside: {} over {} steps",
            s.batch,
            ms(s.ms_per_step),
            ms(s.ms_per_job_step),
            s.steps,
            ms(s.ms_per_step_while_rendering),
            s.steps_while_rendering
        );
    }
    let overhead: f64 = r.overhead_ms.iter().sum::<f64>() / r.overhead_ms.len().max(1) as f64;
    println!("prompt + render per job: {:.0} ms (mean)", overhead);
}
