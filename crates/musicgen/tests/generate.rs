//! End-to-end generation with the tiny model.

mod common;

use coda_musicgen::{write_wav, Error, GenerationObserver, GenerationParams, NoopObserver, Stage};
use common::tiny;

#[test]
fn ten_seconds_have_exactly_frames_times_hop_samples_and_are_audible() {
    let model = tiny();
    assert_eq!(model.frame_rate(), 50.0);
    let frames = 500;
    let out = model
        .generate(
            &params("lofi piano with soft drums", frames, 7),
            &mut NoopObserver,
        )
        .unwrap();
    assert_eq!(out.sample_rate, 32_000);
    assert_eq!(out.samples.len(), frames * 640);
    assert_eq!(out.codes.len(), 4);
    assert!(out
        .codes
        .iter()
        .all(|row| row.len() == frames && row.iter().all(|&c| c < 2048)));
    let rms = (out.samples.iter().map(|s| s * s).sum::<f32>() / out.samples.len() as f32).sqrt();
    assert!(rms > 1e-3, "audio is silent: rms {rms}");
    assert!(out.samples.iter().all(|s| s.is_finite()));
    assert_eq!(out.timings.decode_steps, frames + 3);
}

#[test]
fn wav_file_is_mono_16_bit_at_the_model_rate() {
    let model = tiny();
    let out = model
        .generate(&params("jazz", 25, 1), &mut NoopObserver)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    write_wav(&path, &out.samples, out.sample_rate).unwrap();
    let reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.bits_per_sample, spec.sample_rate),
        (1, 16, 32_000)
    );
    assert_eq!(reader.len() as usize, 25 * 640);
}

#[test]
fn same_seed_same_codes_and_different_seed_different_codes() {
    let model = tiny();
    let a = model
        .generate(&params("rock", 40, 42), &mut NoopObserver)
        .unwrap();
    let b = model
        .generate(&params("rock", 40, 42), &mut NoopObserver)
        .unwrap();
    let c = model
        .generate(&params("rock", 40, 43), &mut NoopObserver)
        .unwrap();
    assert_eq!(a.codes, b.codes);
    assert_eq!(a.samples, b.samples);
    assert_ne!(a.codes, c.codes);
}

#[test]
fn greedy_decoding_ignores_the_seed() {
    let model = tiny();
    let greedy = |seed| {
        let mut p = params("ambient pads", 30, seed);
        p.temperature = 0.0;
        model.generate(&p, &mut NoopObserver).unwrap().codes
    };
    assert_eq!(greedy(1), greedy(2));
}

#[test]
fn the_prompt_changes_the_music() {
    let model = tiny();
    let mut a = params("heavy metal guitars", 30, 5);
    a.temperature = 0.0;
    let mut b = a.clone();
    b.prompt = "gentle harp lullaby".into();
    let (a, b) = (
        model.generate(&a, &mut NoopObserver).unwrap(),
        model.generate(&b, &mut NoopObserver).unwrap(),
    );
    assert_ne!(a.codes, b.codes);
}

#[test]
fn progress_counts_every_step_up_to_frames_plus_codebooks_minus_one() {
    let model = tiny();
    let mut recorder = Recorder::default();
    model
        .generate(&params("funk", 20, 3), &mut recorder)
        .unwrap();
    let total = model.decoding_steps(20);
    assert_eq!(total, 23);
    let expected: Vec<_> = (1..=total).map(|s| (s, total)).collect();
    assert_eq!(recorder.steps(), expected);
    assert_eq!(recorder.stages.first(), Some(&Stage::EncodingPrompt));
    assert_eq!(recorder.stages.last(), Some(&Stage::RenderingAudio));
}

#[test]
fn should_stop_ends_generation_within_one_step() {
    let model = tiny();
    let mut recorder = Recorder {
        stop_after: Some(5),
        ..Recorder::default()
    };
    let err = model
        .generate(&params("techno", 200, 3), &mut recorder)
        .unwrap_err();
    assert!(matches!(err, Error::Stopped), "{err}");
    assert_eq!(recorder.steps().len(), 5);
    assert!(!recorder.stages.contains(&Stage::RenderingAudio));
}

#[test]
fn invalid_requests_are_rejected_before_any_work() {
    let model = tiny();
    let mut recorder = Recorder::default();
    let mut p = params("x", 0, 0);
    assert!(matches!(
        model.generate(&p, &mut recorder),
        Err(Error::InvalidRequest(_))
    ));
    p.frames = 10;
    p.top_p = 1.5;
    assert!(matches!(
        model.generate(&p, &mut recorder),
        Err(Error::InvalidRequest(_))
    ));
    assert!(recorder.stages.is_empty());
}

fn params(prompt: &str, frames: usize, seed: u64) -> GenerationParams {
    GenerationParams {
        prompt: prompt.into(),
        frames,
        seed,
        ..GenerationParams::default()
    }
}

/// Records every stage and asks to stop once `stop_after` steps have been reported.
#[derive(Default)]
struct Recorder {
    stages: Vec<Stage>,
    stop_after: Option<usize>,
}

impl Recorder {
    fn steps(&self) -> Vec<(usize, usize)> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                Stage::Composing { step, total, .. } => Some((*step, *total)),
                _ => None,
            })
            .collect()
    }
}

impl GenerationObserver for Recorder {
    fn on_stage(&mut self, stage: Stage) {
        self.stages.push(stage);
    }

    fn should_stop(&self) -> bool {
        self.stop_after.is_some_and(|n| self.steps().len() >= n)
    }
}

#[test]
fn a_single_frame_still_decodes_to_one_hop_of_audio() {
    // Shorter than the first convolution's reflect padding: exercises the zero-extension path.
    let model = tiny();
    for frames in [1, 2, 3] {
        let out = model
            .generate(&params("drums", frames, 9), &mut NoopObserver)
            .unwrap();
        assert_eq!(out.samples.len(), frames * model.hop_length());
    }
}

#[test]
fn rendering_in_windows_gives_the_same_audio_as_rendering_at_once() {
    let model = tiny();
    let frames = 130;
    let codes: Vec<Vec<u32>> = (0..4u32)
        .map(|k| {
            (0..frames as u32)
                .map(|t| (t * 97 + k * 389) % 2048)
                .collect()
        })
        .collect();
    let whole = model.decode_audio_in_windows(&codes, frames).unwrap();
    assert_eq!(whole.len(), frames * model.hop_length());
    for window in [1, 17, 64] {
        let windowed = model.decode_audio_in_windows(&codes, window).unwrap();
        assert_eq!(windowed.len(), whole.len(), "window {window}");
        let worst = whole
            .iter()
            .zip(&windowed)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 1e-5,
            "window {window}: samples differ by up to {worst}"
        );
    }
}
