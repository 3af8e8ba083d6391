//! Shared fixtures: one tiny model per test binary, built once.

use std::path::PathBuf;
use std::sync::OnceLock;

use coda_musicgen::{make_tiny_model, GenerationObserver, GenerationParams, LoadOptions, MusicGen, Stage};

pub fn tiny_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        make_tiny_model(dir.path()).expect("tiny model");
        dir
    })
    .path()
    .to_path_buf()
}

pub fn tiny() -> &'static MusicGen {
    static MODEL: OnceLock<MusicGen> = OnceLock::new();
    MODEL.get_or_init(|| MusicGen::load(&tiny_dir(), &LoadOptions::default()).expect("load tiny"))
}

pub fn params(prompt: &str, frames: usize, seed: u64) -> GenerationParams {
    GenerationParams {
        prompt: prompt.into(),
        frames,
        seed,
        ..GenerationParams::default()
    }
}

/// Records every stage and asks to stop once `stop_after` steps have been reported.
#[derive(Default)]
pub struct Recorder {
    pub stages: Vec<Stage>,
    pub stop_after: Option<usize>,
}

impl Recorder {
    pub fn steps(&self) -> Vec<(usize, usize)> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                Stage::Composing { step, total } => Some((*step, *total)),
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
