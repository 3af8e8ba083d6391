//! Decoding speed: steps per second for the tiny model and for random weights with the
//! shapes of musicgen-small (f32), plus text-encoding and audio-rendering times.
//!
//! `cargo bench -p coda-musicgen --bench steps_per_second [-- --threads N --frames N --skip-small]`

use std::time::Instant;

use coda_musicgen::{presets, GenerationParams, LoadOptions, MusicGen, NoopObserver};

struct Args {
    threads: Option<usize>,
    frames: usize,
    skip_small: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        threads: None,
        frames: 100,
        skip_small: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--threads" => args.threads = it.next().and_then(|v| v.parse().ok()),
            "--frames" => {
                args.frames = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(args.frames)
            }
            "--skip-small" => args.skip_small = true,
            _ => {} // cargo bench passes `--bench`
        }
    }
    args
}

fn report(name: &str, model: &MusicGen, frames: usize) {
    let params = GenerationParams {
        prompt: "90s rock song with loud guitars and heavy drums".into(),
        frames,
        seed: 1,
        ..GenerationParams::default()
    };
    // One short warm-up run so allocation and thread start-up are not measured.
    let warm = GenerationParams {
        frames: 2,
        ..params.clone()
    };
    model.generate(&warm, &mut NoopObserver).expect("warm-up");
    let started = Instant::now();
    let out = model
        .generate(&params, &mut NoopObserver)
        .expect("generate");
    let t = out.timings;
    println!(
        "{name}: {frames} frames ({:.1} s audio) in {:.2} s | text {:.1} ms | {} steps, {:.2} ms/step, {:.1} steps/s | audio {:.0} ms",
        frames as f64 / model.frame_rate(),
        started.elapsed().as_secs_f64(),
        t.text_ms,
        t.decode_steps,
        t.ms_per_step(),
        1e3 / t.ms_per_step(),
        t.audio_ms,
    );
}

fn main() {
    let args = parse_args();
    if let Some(threads) = args.threads {
        coda_musicgen::restart_with_threads(threads).expect("running with the thread count");
    }
    let opts = LoadOptions {
        threads: args.threads,
        ..LoadOptions::default()
    };
    println!(
        "threads: {}",
        args.threads
            .map_or("default".to_string(), |n| n.to_string())
    );

    let dir = tempfile::tempdir().expect("temp dir");
    coda_musicgen::make_tiny_model(dir.path()).expect("tiny model");
    let tiny = MusicGen::load(dir.path(), &opts).expect("load tiny");
    report("tiny", &tiny, 500);

    if !args.skip_small {
        let started = Instant::now();
        let small = MusicGen::with_random_weights(presets::musicgen_small(), 0, &opts)
            .expect("random small");
        println!(
            "musicgen-small shapes: random weights built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        report("musicgen-small (random, f32)", &small, args.frames);
    }
}
