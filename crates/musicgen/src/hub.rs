//! Turning a model id into a local folder: the tiny model, a folder, or a hub download.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::tiny::make_tiny_model;

/// Files a model folder must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];
/// Where the tokenizer comes from when a model repository has none: MusicGen's text encoder
/// is t5-base.
const TOKENIZER_FALLBACK_REPO: &str = "google-t5/t5-base";

/// Resolves `id` to a folder holding [`MODEL_FILES`]:
/// - `tiny` → `<data_dir>/models/tiny`, generated on first use;
/// - an existing folder → that folder;
/// - a hub id such as `facebook/musicgen-small` → `<data_dir>/models/facebook--musicgen-small`,
///   linking files from the Hugging Face cache, downloading them (with a progress bar) when
///   missing. Set `HF_HUB_OFFLINE=1` to forbid downloads.
pub fn resolve_model(id: &str, data_dir: &Path) -> Result<PathBuf> {
    if id == "tiny" {
        let dir = data_dir.join("models").join("tiny");
        if !is_complete(&dir) {
            tracing::info!(dir = %dir.display(), "generating the tiny model");
            make_tiny_model(&dir)?;
        }
        return Ok(dir);
    }
    let as_path = Path::new(id);
    if as_path.is_dir() {
        return Ok(as_path.to_path_buf());
    }
    let Some((owner, name)) = id
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
    else {
        return Err(Error::ModelNotFound {
            id: id.to_string(),
            reason: "not `tiny`, not an existing folder, and not a hub id like `facebook/musicgen-small`".into(),
        });
    };
    let dir = data_dir.join("models").join(format!("{owner}--{name}"));
    if is_complete(&dir) {
        return Ok(dir);
    }
    fetch_from_hub(id, &dir).map_err(|reason| Error::ModelNotFound {
        id: id.to_string(),
        reason: format!(
            "{reason}. To install it by hand, download config.json and model.safetensors from \
             https://huggingface.co/{id} and tokenizer.json from https://huggingface.co/{id} \
             (or https://huggingface.co/{TOKENIZER_FALLBACK_REPO}) into {}, or pass a folder \
             holding those files as the model",
            dir.display()
        ),
    })?;
    Ok(dir)
}

fn is_complete(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|f| dir.join(f).is_file())
}

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Gets each file from the hub cache or the network and links it into `dir`.
fn fetch_from_hub(id: &str, dir: &Path) -> std::result::Result<(), String> {
    let cache = hf_hub::Cache::from_env();
    let get = |repo: &str, file: &str| -> std::result::Result<PathBuf, String> {
        if let Some(path) = cache.model(repo.to_string()).get(file) {
            return Ok(path);
        }
        if offline() {
            return Err(format!(
                "{file} of {repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set"
            ));
        }
        let api = hf_hub::api::sync::ApiBuilder::from_env()
            .with_progress(true)
            .build()
            .map_err(|e| format!("cannot reach the Hugging Face hub: {e}"))?;
        api.model(repo.to_string())
            .get(file)
            .map_err(|e| format!("downloading {file} from {repo} failed: {e}"))
    };
    let config = get(id, "config.json")?;
    let weights = get(id, "model.safetensors")?;
    let tokenizer = get(id, "tokenizer.json").or_else(|first| {
        get(TOKENIZER_FALLBACK_REPO, "tokenizer.json")
            .map_err(|second| format!("{first}; {second}"))
    })?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, source) in [
        ("config.json", config),
        ("model.safetensors", weights),
        ("tokenizer.json", tokenizer),
    ] {
        link_or_copy(&source, &dir.join(name))
            .map_err(|e| format!("cannot place {name} in {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Links rather than copies: the weights are gigabytes and already sit in the hub cache.
fn link_or_copy(source: &Path, target: &Path) -> std::io::Result<()> {
    let source = std::fs::canonicalize(source)?;
    if target.exists() || target.is_symlink() {
        std::fs::remove_file(target)?;
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&source, target)
    }
    #[cfg(not(unix))]
    {
        std::fs::copy(&source, target).map(|_| ())
    }
}
