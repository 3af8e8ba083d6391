//! A bad configuration stops `coda` at start with a message naming the key.

use std::process::Command;

fn coda_migrate(envs: &[(&str, &str)], config: Option<&str>) -> (bool, String) {
    coda_migrate_with(&[], envs, config)
}

fn coda_migrate_with(args: &[&str], envs: &[(&str, &str)], config: Option<&str>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coda"));
    cmd.arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .args(args);
    if let Some(text) = config {
        let path = dir.path().join("coda.toml");
        std::fs::write(&path, text).unwrap();
        cmd.arg("--config").arg(path);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("coda runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_key_in_the_file_is_named() {
    let (ok, stderr) = coda_migrate(&[], Some("[worker]\nconcurency = 2\n"));
    assert!(!ok);
    assert!(stderr.contains("concurency"), "stderr: {stderr}");
}

#[test]
fn a_bad_value_from_the_environment_is_named() {
    let (ok, stderr) = coda_migrate(&[("CODA_WORKER__CONCURRENCY", "many")], None);
    assert!(!ok);
    assert!(stderr.contains("worker.concurrency"), "stderr: {stderr}");
}

#[test]
fn a_value_out_of_range_is_named() {
    let (ok, stderr) = coda_migrate(&[], Some("[queue]\nmax_pending = 0\n"));
    assert!(!ok);
    assert!(stderr.contains("queue.max_pending"), "stderr: {stderr}");
}

#[test]
fn an_unknown_quantization_is_named_with_the_choices() {
    let (ok, stderr) = coda_migrate(&[("CODA_MODEL__QUANTIZATION", "q5")], None);
    assert!(!ok);
    assert!(stderr.contains("model.quantization"), "stderr: {stderr}");
    let (ok, stderr) = coda_migrate_with(&["--quantization", "q5"], &[], None);
    assert!(!ok);
    assert!(
        stderr.contains("--quantization") && stderr.contains("q8_0"),
        "stderr: {stderr}"
    );
    let (ok, stderr) = coda_migrate_with(&["--quantization", "q4k"], &[], None);
    assert!(ok, "stderr: {stderr}");
}

#[test]
fn migrate_succeeds_on_a_fresh_sqlite_ledger() {
    let (ok, stderr) = coda_migrate(&[], None);
    assert!(ok, "stderr: {stderr}");
}
