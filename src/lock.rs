//! One writer at a time per keystore: an exclusive lock on `<keystore>.lock`.
//!
//! The lock file is removed by its holder on release (while still holding it). A waiter may
//! have opened that file before it was removed and lock it afterwards: it then holds a lock
//! on a file no longer at the path, while a newer run creates a new lock file there. So
//! after locking, every run checks that the path still names the very file it locked (same
//! device and inode; on Windows same volume and file index) and tries again otherwise; two
//! processes never both believe they hold the lock. Nothing here assumes that an open file
//! cannot be deleted: Unix deletes it at once, and so does Windows 10 with POSIX semantics on
//! NTFS (both caught by the check); other Windows file systems and wine leave it "delete
//! pending" until its last handle closes. The name stays taken meanwhile, so no newer lock
//! file can appear there: a run that locks the pending file holds the only lock there is,
//! and the others open that same file (wine) or are refused with access denied (Windows),
//! which is waited out like a lock held by another run.
//!
//! The lock file is never opened through a symlink (a dangling symlink at the lock path
//! would otherwise make root create whatever it points to): a symlink there is refused
//! ([`LockError::Symlink`]), and the file is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a
//! FIFO planted there cannot block us; anything but a regular file is refused). A new lock
//! file is created with `O_EXCL` and mode `0600`, and gets the holder's pid (informational:
//! it lets the next run say whose lock was left behind). An existing lock file is never
//! written to: it may be a hard link to something else.
//!
//! A lock file that exists, is not locked by anyone and has a pid in it (or is more than
//! [`STALE_AGE`] old) was left by a run that ended without releasing it (killed, a power
//! loss): the lock is taken over and [`LockGuard::stale`] says so.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use thiserror::Error;

use crate::fsio::{self, FileKind};

#[derive(Debug, Error)]
pub enum LockError {
    #[error("{path} is held by another process (another azure-cacerts run?) and was not released within {waited:?}")]
    Busy { path: PathBuf, waited: Duration },
    /// EACCES/EPERM creating or opening the lock file: not allowed to write in its directory
    /// (or to open a lock file another user left).
    #[error("cannot create or open the lock file {path}: permission denied")]
    PermissionDenied { path: PathBuf, source: io::Error },
    /// EROFS: the keystore's directory is on a read-only file system.
    #[error("cannot create the lock file {path}: the file system is read-only")]
    ReadOnlyFilesystem { path: PathBuf, source: io::Error },
    /// The lock path is a symbolic link (dangling or not); it is not followed.
    #[error("the lock file {path} is a symbolic link; refusing to follow it")]
    Symlink { path: PathBuf },
    /// The lock path is a directory, FIFO, socket or device.
    #[error("the lock file {path} is {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: FileKind },
    /// Anything else (no space or inodes left, I/O error, locks unsupported).
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl LockError {
    pub fn path(&self) -> &Path {
        match self {
            LockError::Busy { path, .. }
            | LockError::PermissionDenied { path, .. }
            | LockError::ReadOnlyFilesystem { path, .. }
            | LockError::Symlink { path }
            | LockError::NotRegular { path, .. }
            | LockError::Io { path, .. } => path,
        }
    }

    /// Another process holds the lock (the only case where waiting helps).
    pub fn is_busy(&self) -> bool {
        matches!(self, LockError::Busy { .. })
    }

    fn from_io(path: &Path, source: io::Error) -> LockError {
        let path = path.to_path_buf();
        if fsio::is_symlink_loop(&source) {
            return LockError::Symlink { path };
        }
        match source.kind() {
            io::ErrorKind::PermissionDenied => LockError::PermissionDenied { path, source },
            io::ErrorKind::ReadOnlyFilesystem => LockError::ReadOnlyFilesystem { path, source },
            _ => LockError::Io { path, source },
        }
    }
}

/// A lock left behind by a run that ended without releasing it, taken over by this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleLock {
    /// The pid written in it, when there was one (lock files of versions before this one
    /// are empty).
    pub pid: Option<u32>,
}

impl std::fmt::Display for StaleLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(
                f,
                "took over a lock left by an earlier run (process {pid}) that ended without releasing it"
            ),
            None => f.write_str(
                "took over a lock left by an earlier run that ended without releasing it",
            ),
        }
    }
}

/// An existing, unlocked lock file without a pid is stale when it is this old (younger, its
/// creator may be between creating and locking it).
pub const STALE_AGE: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct LockGuard {
    file: Option<File>,
    path: PathBuf,
    stale: Option<StaleLock>,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `Some` when the lock file was left by an earlier run that did not release it.
    pub fn stale(&self) -> Option<&StaleLock> {
        self.stale.as_ref()
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

/// Whether `path` still names the file `held` (opened from it, now locked): false when the
/// file was removed meanwhile or another file took its place. (A delete-pending file may
/// still be found at its path: see the module comment for why that is safe.)
#[cfg(unix)]
fn still_at_path(held: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (held.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `path` still names the file `held` (opened from it, now locked): false when the
/// file was removed meanwhile or another file took its place. (A delete-pending file may
/// still be found at its path: see the module comment for why that is safe.)
#[cfg(windows)]
fn still_at_path(held: &File, path: &Path) -> bool {
    use std::os::windows::fs::OpenOptionsExt;
    // Attributes only (no read or write access: a byte-range lock does not get in the way),
    // and the path itself rather than what a reparse point at it leads to.
    let Ok(now) = OpenOptions::new()
        .access_mode(0)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)
    else {
        return false;
    };
    match (
        winapi_util::file::information(held),
        winapi_util::file::information(&now),
    ) {
        (Ok(a), Ok(b)) => {
            a.volume_serial_number() == b.volume_serial_number() && a.file_index() == b.file_index()
        }
        _ => false,
    }
}

/// CreateFile's flag for opening a reparse point (a symbolic link) itself, as O_NOFOLLOW.
#[cfg(windows)]
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// For how long, at least, "access denied" opening the lock file is taken for a removed lock
/// file that a waiter still holds open (delete pending, on file systems and Windows versions
/// without POSIX deletion) before it is believed.
#[cfg(windows)]
const DELETE_PENDING_GRACE: Duration = Duration::from_secs(2);

/// Opens the lock file: a new one (`O_EXCL`, `0600`) or the existing one, never through a
/// symlink, never blocking on a FIFO. `Ok(None)`: it vanished meanwhile, try again.
fn open_lock_file(path: &Path) -> Result<Option<(File, bool)>, LockError> {
    let mut new = OpenOptions::new();
    new.read(true).write(true).create_new(true);
    let mut existing = OpenOptions::new();
    existing.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        new.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        existing.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        existing.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    match new.open(path) {
        Ok(f) => return Ok(Some((f, true))),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(LockError::from_io(path, e)),
    }
    match existing.open(path) {
        Ok(f) => Ok(Some((f, false))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LockError::from_io(path, e)),
    }
}

/// Whether a lock file we found (not created) and locked at once was left by a dead run.
fn stale_lock(file: &File, meta: &fs::Metadata) -> Option<StaleLock> {
    let pid = fsio::read_bounded(file, Path::new(""), 32)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<u32>().ok());
    let old = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age >= STALE_AGE);
    (pid.is_some() || old).then_some(StaleLock { pid })
}

/// Whether an error opening the lock file may be a removed lock file that a waiter still
/// holds open (Windows' delete pending), worth trying again for a while.
#[cfg(windows)]
fn delete_pending(e: &LockError, waited: Duration, timeout: Duration) -> bool {
    matches!(e, LockError::PermissionDenied { .. }) && waited < timeout.max(DELETE_PENDING_GRACE)
}

#[cfg(not(windows))]
fn delete_pending(_: &LockError, _: Duration, _: Duration) -> bool {
    // Unix removes a name at once, whoever holds the file open.
    false
}

/// Takes the lock, waiting up to `timeout` (zero: try once).
pub fn acquire(path: &Path, timeout: Duration) -> Result<LockGuard, LockError> {
    let started = Instant::now();
    let io_err = |source| LockError::from_io(path, source);
    let mut restarts = 0u32;
    loop {
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(LockError::Symlink {
                    path: path.to_path_buf(),
                })
            }
            Ok(m) if !m.is_file() => {
                return Err(LockError::NotRegular {
                    path: path.to_path_buf(),
                    kind: FileKind::of(m.file_type()),
                })
            }
            _ => {}
        }
        let (mut file, created) = match open_lock_file(path) {
            Ok(Some(opened)) => opened,
            Ok(None) => continue,
            Err(e) if delete_pending(&e, started.elapsed(), timeout) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(e),
        };
        #[cfg(test)]
        tests::race_pause(created);
        let held = file.metadata().map_err(io_err)?;
        if !held.is_file() {
            return Err(LockError::NotRegular {
                path: path.to_path_buf(),
                kind: FileKind::of(held.file_type()),
            });
        }
        match file.try_lock() {
            Ok(()) => {
                if !still_at_path(&file, path) {
                    // The previous holder removed it between our open and our lock: start
                    // over (closing it first, so that a delete-pending name goes away). A
                    // newer run may hold the lock by now, so the timeout applies (after a
                    // few tries: with no timeout, a lock just released is still taken).
                    drop(file);
                    restarts += 1;
                    if started.elapsed() >= timeout && restarts > 3 {
                        return Err(LockError::Busy {
                            path: path.to_path_buf(),
                            waited: timeout,
                        });
                    }
                    continue;
                }
                let stale = if created {
                    // Informational only; a lock without a pid works the same.
                    let _ = writeln!(file, "{}", std::process::id()).and_then(|_| file.flush());
                    None
                } else {
                    stale_lock(&file, &held)
                };
                return Ok(LockGuard {
                    file: Some(file),
                    path: path.to_path_buf(),
                    stale,
                });
            }
            Err(TryLockError::WouldBlock) => {
                if started.elapsed() >= timeout {
                    return Err(LockError::Busy {
                        path: path.to_path_buf(),
                        waited: timeout,
                    });
                }
                // Not held open while waiting: the holder's removal completes at once.
                drop(file);
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
    fn a_file_locked_after_its_removal_is_not_taken_for_the_lock() {
        // The interleaving that matters: B opens the lock file A holds; A releases (removes,
        // unlocks); B's lock then succeeds on a file no longer at the path.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks.lock");
        let a = acquire(&p, Duration::ZERO).unwrap();
        let (b, created) = open_lock_file(&p).unwrap().unwrap();
        assert!(!created);
        assert!(still_at_path(&b, &p));
        drop(a);
        b.try_lock().expect("nobody holds the removed file");
        // Either the check sees that it was removed (Unix, POSIX deletion on Windows), or it
        // is delete pending (wine, FAT, older Windows) and keeps the name from any newer
        // lock file for as long as b is open.
        assert!(
            !still_at_path(&b, &p)
                || OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&p)
                    .is_err(),
            "a removed lock file is taken for the lock while another can be made"
        );
        // Unix frees the name at once: a newer run holds a new file there meanwhile.
        #[cfg(unix)]
        {
            let c = acquire(&p, Duration::ZERO).unwrap();
            assert!(!still_at_path(&b, &p));
            drop(c);
        }
        // Delete pending on Windows (until b closes) is waited out, not an error.
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send(acquire(&p2, Duration::from_secs(30)).map(|g| g.stale().cloned()));
        });
        std::thread::sleep(Duration::from_millis(200));
        drop(b);
        let taken = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("acquire returned");
        assert_eq!(
            taken.unwrap(),
            None,
            "a lock released in order is not stale"
        );
    }

    /// Set in the environment of the processes [`processes_racing_never_overlap`] starts.
    const RACE_DIR: &str = "AZURE_CACERTS_LOCK_RACE_DIR";
    const RACE_ROUNDS: u32 = 40;
    const RACERS: u32 = 3;

    /// In a racing process, widens the window between opening an existing lock file and
    /// locking it, where its holder's release makes the file a removed one.
    pub(super) fn race_pause(created: bool) {
        if !created && std::env::var_os(RACE_DIR).is_some() {
            std::thread::sleep(Duration::from_millis(3));
        }
    }

    /// One racing process (does nothing unless started by the test below): takes and
    /// releases the lock RACE_ROUNDS times; inside, it claims a marker file that must not
    /// exist and bumps a counter with a read-modify-write that an overlap would spoil.
    #[test]
    fn race_child() {
        let Some(dir) = std::env::var_os(RACE_DIR).map(PathBuf::from) else {
            return;
        };
        let lock = dir.join("ks.lock");
        let counter = dir.join("counter");
        for _ in 0..RACE_ROUNDS {
            let guard = acquire(&lock, Duration::from_secs(120)).unwrap();
            let inside = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dir.join("inside"));
            if inside.is_err() {
                fs::write(dir.join("overlap"), std::process::id().to_string()).unwrap();
                panic!("two processes held the lock at once");
            }
            drop(inside);
            let n: u32 = fs::read_to_string(&counter)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            std::thread::sleep(Duration::from_millis(2));
            fs::write(&counter, (n + 1).to_string()).unwrap();
            fs::remove_file(dir.join("inside")).unwrap();
            drop(guard);
        }
    }

    #[test]
    fn processes_racing_never_overlap() {
        if std::env::var_os(RACE_DIR).is_some() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("counter"), "0").unwrap();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..RACERS)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["lock::tests::race_child", "--exact", "--test-threads=1"])
                    .env(RACE_DIR, d.path())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success(), "a racer failed");
        }
        assert!(
            !d.path().join("overlap").exists(),
            "two processes held the lock at once"
        );
        assert_eq!(
            fs::read_to_string(d.path().join("counter")).unwrap(),
            (RACERS * RACE_ROUNDS).to_string()
        );
        assert!(
            !d.path().join("ks.lock").exists(),
            "the last holder removes the lock file"
        );
    }

    #[test]
    fn default_path_is_beside_the_real_file() {
        assert_eq!(
            default_lock_path(Path::new("/nonexistent/dir/cacerts")),
            PathBuf::from("/nonexistent/dir/cacerts.lock")
        );
    }

    #[test]
    fn a_new_lock_file_is_private_and_names_its_holder() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks.lock");
        let g = acquire(&p, Duration::ZERO).unwrap();
        assert!(g.stale().is_none());
        assert_eq!(
            fs::read_to_string(&p).unwrap().trim(),
            std::process::id().to_string()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & !0o600, 0, "created {mode:o}, wider than 0600");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_lock_path_is_refused_and_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks.lock");
        let victim = d.path().join("etc-nologin");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        let e = acquire(&p, Duration::ZERO).unwrap_err();
        assert!(matches!(e, LockError::Symlink { .. }), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(!victim.exists(), "the dangling link's target was created");
        assert!(fs::symlink_metadata(&p).unwrap().file_type().is_symlink());
        // A link to an existing file: refused too, the file untouched.
        fs::write(&victim, b"keep").unwrap();
        assert!(matches!(
            acquire(&p, Duration::ZERO),
            Err(LockError::Symlink { .. })
        ));
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        // The O_NOFOLLOW path, as when the link appears after the check.
        assert!(matches!(open_lock_file(&p), Err(LockError::Symlink { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_directory_at_the_lock_path_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo.lock");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let (tx, rx) = std::sync::mpsc::channel();
        let f = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(acquire(&f, Duration::ZERO).map(|_| ()));
        });
        let r = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a FIFO at the lock path blocked");
        assert!(
            matches!(
                r,
                Err(LockError::NotRegular {
                    kind: FileKind::Fifo,
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(fifo.exists(), "the FIFO is not removed");
        // Opened anyway (the race), the descriptor check refuses it without blocking.
        let (file, created) = open_lock_file(&fifo).unwrap().unwrap();
        assert!(!created && !file.metadata().unwrap().is_file());

        let dir = d.path().join("dir.lock");
        fs::create_dir(&dir).unwrap();
        let e = acquire(&dir, Duration::ZERO).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the lock file {} is a directory, not a regular file",
                dir.display()
            )
        );
    }

    #[test]
    fn a_lock_left_by_a_dead_run_is_taken_over_and_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks.lock");
        fs::write(&p, b"4000000\n").unwrap();
        let g = acquire(&p, Duration::ZERO).unwrap();
        assert_eq!(g.stale(), Some(&StaleLock { pid: Some(4000000) }));
        assert!(g.stale().unwrap().to_string().contains("process 4000000"));
        drop(g);
        assert!(!p.exists());
        // Empty (an older version's) and old: stale, without a pid.
        let f = File::create(&p).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        drop(f);
        let g = acquire(&p, Duration::ZERO).unwrap();
        assert_eq!(g.stale(), Some(&StaleLock { pid: None }));
        drop(g);
        // Empty and new: maybe a run between creating and locking it; not called stale.
        File::create(&p).unwrap();
        assert!(acquire(&p, Duration::ZERO).unwrap().stale().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_lock_file_is_never_written() {
        // A hard link planted at the lock path must not let us truncate or write its file.
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("shadow");
        fs::write(&victim, b"root:x:0:0").unwrap();
        let p = d.path().join("ks.lock");
        fs::hard_link(&victim, &p).unwrap();
        drop(acquire(&p, Duration::ZERO).unwrap());
        assert_eq!(fs::read(&victim).unwrap(), b"root:x:0:0");
    }

    #[cfg(unix)]
    #[test]
    fn io_errors_are_told_apart() {
        let p = Path::new("/x/ks.lock");
        let e = |n| LockError::from_io(p, io::Error::from_raw_os_error(n));
        assert!(matches!(
            e(libc::EACCES),
            LockError::PermissionDenied { .. }
        ));
        assert!(matches!(e(libc::EPERM), LockError::PermissionDenied { .. }));
        assert!(matches!(
            e(libc::EROFS),
            LockError::ReadOnlyFilesystem { .. }
        ));
        assert!(matches!(e(libc::ELOOP), LockError::Symlink { .. }));
        assert!(matches!(e(libc::ENOSPC), LockError::Io { .. }));
        assert!(!e(libc::EACCES).is_busy());
        assert_eq!(
            e(libc::EACCES).to_string(),
            "cannot create or open the lock file /x/ks.lock: permission denied"
        );
    }
}
