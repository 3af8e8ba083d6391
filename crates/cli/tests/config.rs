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

/// One value for every key of the README's configuration table, written as an operator would.
const EVERY_DOCUMENTED_KEY: &str = r#"
[http]
addr = "127.0.0.1:0"
public_url = "https://coda.example.org"
trusted_proxies = ["10.0.0.0/8", "::1"]
events_poll_interval_ms = 250

[redis]
url = "redis://127.0.0.1:6379"
namespace = "coda-config-test"

[database]
url = "sqlite://DIR/ledger.db?mode=rwc"

[storage]
dir = "DIR"
retention_hours = 48
retention_seconds = 600

[worker]
concurrency = 2
max_attempts = 4
heartbeat_seconds = 3
poll_interval_ms = 100
name = "box-a"
shutdown_timeout_seconds = 20
memory_budget = "8GiB"
device_watts = 350.0

[model]
id = "tiny"
quantization = "q8_0"
threads = 2

[queue]
max_pending = 100
max_pending_per_client = 3

[limits]
max_duration_seconds = 60
max_prompt_chars = 300

[auth]
api_keys = ["a-long-secret"]
"#;

#[test]
fn the_configuration_the_readme_documents_loads() {
    let dir = tempfile::tempdir().unwrap();
    let text = EVERY_DOCUMENTED_KEY.replace("DIR", &dir.path().display().to_string());
    let (ok, stderr) = coda_migrate(&[], Some(&text));
    assert!(ok, "stderr: {stderr}");
    assert!(
        !stderr.contains("a-long-secret"),
        "an API key reached the log: {stderr}"
    );
}

#[test]
fn every_key_in_the_readme_is_in_that_configuration() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let mut keys = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(key, _)| key))
        .filter(|key| key.contains('.') && !key.contains(' ') && !key.contains('/'))
        .peekable();
    assert!(
        keys.peek().is_some(),
        "no configuration table in the README"
    );
    for key in keys {
        let (section, name) = key.split_once('.').unwrap();
        let in_section = EVERY_DOCUMENTED_KEY
            .split(&format!("[{section}]"))
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_else(|| panic!("no [{section}] section for {key}"));
        assert!(
            in_section
                .lines()
                .any(|l| l.starts_with(&format!("{name} ="))),
            "{key} is documented but not in the test configuration"
        );
    }
}

#[test]
fn a_bad_trusted_proxy_is_named() {
    let (ok, stderr) = coda_migrate(&[], Some("[http]\ntrusted_proxies = [\"10.0.0.0/40\"]\n"));
    assert!(!ok);
    assert!(
        stderr.contains("http.trusted_proxies") && stderr.contains("10.0.0.0/40"),
        "stderr: {stderr}"
    );
}
