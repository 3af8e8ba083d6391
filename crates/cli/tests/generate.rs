//! `coda make-tiny-model` then `coda generate`, as a new user would run them.

use std::path::Path;
use std::process::Command;

fn coda() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coda"))
}

fn generate(data_dir: &Path, out: &Path, extra: &[&str]) {
    let output = coda()
        .args([
            "generate",
            "--model",
            "tiny",
            "--prompt",
            "calm piano over soft rain",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("coda runs");
    assert!(
        output.status.success(),
        "coda generate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("steps/s"),
        "generate should report its speed, printed: {stdout}"
    );
}

#[test]
fn generate_writes_a_wav_of_the_requested_length_and_the_same_seed_repeats_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.wav");
    let second = dir.path().join("second.wav");
    let codes = dir.path().join("codes.json");
    let seed = ["--seed", "7", "--duration", "2"];
    generate(
        dir.path(),
        &first,
        &[&seed[..], &["--codes-out", codes.to_str().unwrap()]].concat(),
    );
    generate(dir.path(), &second, &seed);

    let reader = hound::WavReader::open(&first).expect("a readable WAV");
    let spec = reader.spec();
    assert_eq!(spec.sample_rate, 32_000);
    assert_eq!(spec.channels, 1);
    assert_eq!(reader.duration(), 2 * 32_000, "2 s at 32 kHz");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
        "same seed, same file"
    );

    let codes: Vec<Vec<u32>> = serde_json::from_slice(&std::fs::read(&codes).unwrap()).unwrap();
    assert_eq!(codes.len(), 4, "one row per codebook");
    assert!(
        codes.iter().all(|row| row.len() == 100),
        "2 s is 100 frames per codebook"
    );
}

#[test]
fn a_different_seed_gives_different_music() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    generate(dir.path(), &a, &["--seed", "1", "--frames", "40"]);
    generate(dir.path(), &b, &["--seed", "2", "--frames", "40"]);
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn make_tiny_model_writes_a_hugging_face_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny");
    let status = coda()
        .args(["make-tiny-model", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
}
