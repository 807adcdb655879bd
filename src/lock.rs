//! One writer at a time per keystore: an exclusive lock on `<keystore>.lock`.
//!
//! The lock file is removed by its holder on release. A waiter that locked a file which has
//! meanwhile been removed (or replaced by a newer lock file) tries again, so two processes
//! never both believe they hold the lock.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LockError {
    #[error("{path} is held by another process (another azure-cacerts run?) and was not released within {waited:?}")]
    Busy { path: PathBuf, waited: Duration },
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

#[derive(Debug)]
pub struct LockGuard {
    file: Option<File>,
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Remove while still holding the lock, then release: a waiter will see the file gone.
        let _ = fs::remove_file(&self.path);
        if let Some(f) = self.file.take() {
            let _ = f.unlock();
        }
    }
}

/// The default lock file of a keystore: `<file>.lock` beside the real file.
pub fn default_lock_path(keystore: &Path) -> PathBuf {
    let real = crate::write::real_path(keystore).unwrap_or_else(|_| keystore.to_path_buf());
    let mut name = real
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    real.with_file_name(name)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}
#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    // Windows cannot delete a file another process holds open, so the race cannot happen.
    true
}

/// Takes the lock, waiting up to `timeout` (zero: try once).
pub fn acquire(path: &Path, timeout: Duration) -> Result<LockGuard, LockError> {
    let started = Instant::now();
    let io_err = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {
                let held = file.metadata().map_err(io_err)?;
                match fs::metadata(path) {
                    Ok(now) if same_file(&held, &now) => {
                        return Ok(LockGuard {
                            file: Some(file),
                            path: path.to_path_buf(),
                        })
                    }
                    // The previous holder removed it between our open and our lock: start over.
                    _ => continue,
                }
            }
            Err(TryLockError::WouldBlock) => {
                if started.elapsed() >= timeout {
                    return Err(LockError::Busy {
                        path: path.to_path_buf(),
                        waited: timeout,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_gives_up() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks.lock");
        let g = acquire(&p, Duration::ZERO).unwrap();
        let e = acquire(&p, Duration::from_millis(120)).unwrap_err();
        assert!(matches!(e, LockError::Busy { .. }));
        drop(g);
        assert!(!p.exists(), "the holder removes its lock file");
        let _g2 = acquire(&p, Duration::ZERO).unwrap();
    }

    #[test]
    fn default_path_is_beside_the_real_file() {
        assert_eq!(
            default_lock_path(Path::new("/nonexistent/dir/cacerts")),
            PathBuf::from("/nonexistent/dir/cacerts.lock")
        );
    }
}
