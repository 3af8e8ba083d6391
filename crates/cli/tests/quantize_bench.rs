//! `coda quantize` then `coda bench` on the written file, as someone sizing a machine would.

use std::process::Command;

fn coda() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coda"))
}

#[test]
fn a_quantized_tiny_model_benchmarks_from_its_gguf_file() {
    let dir = tempfile::tempdir().unwrap();
    let gguf = dir.path().join("tiny-q8_0.gguf");
    let output = coda()
        .args(["quantize", "--model", "tiny", "--dtype", "q8_0"])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--out")
        .arg(&gguf)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "quantize failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("wrote"));
    assert!(std::fs::metadata(&gguf).unwrap().len() > 0);

    let output = coda()
        .args([
            "bench",
            "--steps",
            "8",
            "--audio-frames",
            "10",
            "--threads",
            "1",
            "--json",
            "--model",
        ])
        .arg(&gguf)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["steps"], 8);
    assert_eq!(report["threads"], 1);
    assert_eq!(
        report["clip_steps"], 503,
        "10 s = 500 frames + 3 delay steps"
    );
    let median = report["step_ms_median"].as_f64().unwrap();
    let (p10, p90) = (
        report["step_ms_p10"].as_f64().unwrap(),
        report["step_ms_p90"].as_f64().unwrap(),
    );
    assert!(median > 0.0 && p10 <= median && median <= p90, "{report}");
    assert!(report["real_time_factor"].as_f64().unwrap() > 0.0);
    assert!(report["peak_rss_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn quantize_refuses_none() {
    let dir = tempfile::tempdir().unwrap();
    let output = coda()
        .args(["quantize", "--model", "tiny", "--dtype", "none"])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("x.gguf"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("q8_0 or q4k"));
}
