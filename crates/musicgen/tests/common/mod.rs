//! Shared fixtures: one tiny model per test binary, built once.

use std::path::PathBuf;
use std::sync::OnceLock;

use coda_musicgen::{make_tiny_model, LoadOptions, MusicGen};

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
