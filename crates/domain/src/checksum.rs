//! SHA-256 of a file, remembered until the file changes (hashing the ~10 MB CLI binary costs
//! ~30 ms; `/cli/latest` is asked for by every install).

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

#[derive(Default)]
pub struct ChecksumCache {
    entry: Mutex<Option<(Fingerprint, String)>>,
}

/// Size and modification time: a replaced binary has a new one.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
}

impl Fingerprint {
    fn of(path: &Path) -> Option<Fingerprint> {
        let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        Some(Fingerprint {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

impl ChecksumCache {
    /// The file's lower-case hex SHA-256, `None` when it is not a readable file. Blocking: call
    /// it off the async runtime.
    pub fn sum(&self, path: &Path) -> Option<String> {
        let fingerprint = Fingerprint::of(path)?;
        if let Some((seen, sum)) = &*self.entry.lock().unwrap_or_else(|e| e.into_inner())
            && *seen == fingerprint
        {
            return Some(sum.clone());
        }
        let mut file = std::fs::File::open(path).ok()?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).ok()?;
        let sum = hex::encode(hasher.finalize());
        *self.entry.lock().unwrap_or_else(|e| e.into_inner()) = Some((fingerprint, sum.clone()));
        Some(sum)
    }
}
