//! Finished jobs' audio is kept for `storage.retention_seconds` (or `retention_hours`), the same
//! time their live state stays in Redis; the ledger keeps the row for good. Files are aged by
//! modification time, which is when the result was renamed into place.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Sweeps run a few times per retention period, at least every second and at most every
/// ten minutes.
pub(crate) fn sweep_every(retention: Duration) -> Duration {
    (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(600))
}

/// Deletes results (`*.wav`) and leftovers of interrupted writes (`*.tmp`) older than
/// `max_age` from `dir`. A missing folder means nothing was written yet.
pub(crate) fn remove_expired(dir: &Path, max_age: Duration) -> io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let ours = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wav" | "tmp")
        );
        let meta = entry.metadata()?;
        if !ours || !meta.is_file() {
            continue;
        }
        let age = now
            .duration_since(meta.modified()?)
            .unwrap_or(Duration::ZERO);
        if age >= max_age {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // Another worker's sweep got there first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_results_and_temp_files_go() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.wav", "b.wav.01J.tmp", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(
            remove_expired(dir.path(), Duration::from_secs(3600)).unwrap(),
            0
        );
        assert_eq!(remove_expired(dir.path(), Duration::ZERO).unwrap(), 2);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec!["notes.txt"]);
    }

    #[test]
    fn a_missing_folder_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            remove_expired(&dir.path().join("audio"), Duration::ZERO).unwrap(),
            0
        );
    }

    #[test]
    fn sweeps_are_frequent_for_short_retention_and_rare_for_long() {
        assert_eq!(sweep_every(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(
            sweep_every(Duration::from_secs(86_400)),
            Duration::from_secs(600)
        );
    }
}
