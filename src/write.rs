//! Replacing a keystore file so that it is either unchanged or completely updated.
//!
//! Backup first, then a temporary file in the same directory (same file system, so the
//! rename is atomic), written, fsynced, read back and verified, then renamed over the target
//! and the directory fsynced. A symlink is followed: the link stays, its target changes.
//! Owner and mode are kept. Nothing here prints.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Where a copy of the original goes before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backup {
    None,
    /// `<file>.<stamp>.bak` beside the target.
    Beside,
    /// `<dir>/<file name>.<stamp>.bak`.
    Dir(PathBuf),
}

/// Points where tests inject failures (a full disk, a crash before the rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Instead of writing the temporary file's bytes.
    WriteTemp,
    /// After the temporary file is complete and verified, before the rename.
    BeforeRename,
}

pub type FaultHook<'a> = &'a dyn Fn(Stage, &Path) -> io::Result<()>;

pub struct ReplaceOptions<'a> {
    pub backup: Backup,
    /// `YYYYMMDDTHHMMSS`, used in the backup's name.
    pub stamp: String,
    /// Checks the bytes read back from the temporary file (parse, count, fingerprints).
    pub verify: &'a dyn Fn(&[u8]) -> Result<(), String>,
    pub fault: Option<FaultHook<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The file actually written (the symlink's target when `path` was a link).
    pub target: PathBuf,
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{path} is read-only")]
    ReadOnly { path: PathBuf },
    #[error("{path} was changed by another program while we worked")]
    Changed { path: PathBuf },
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("the new keystore written to {path} did not verify: {why}")]
    Verify { path: PathBuf, why: String },
}

impl WriteError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::ReadOnly { path }
            | WriteError::Changed { path }
            | WriteError::Io { path, .. }
            | WriteError::Verify { path, .. } => path,
        }
    }
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Removes the temporary file unless the rename consumed it.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Identity of a file, to notice it being replaced under us.
#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}
#[cfg(not(unix))]
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    (meta.len(), 0)
}

fn dir_is_read_only(dir: &Path) -> io::Result<bool> {
    let meta = fs::metadata(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // root ignores permission bits; a directory nobody may write is still meant to stay as it is.
        Ok(meta.permissions().mode() & 0o222 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(false)
    }
}

fn file_is_read_only(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o222 == 0
    }
    #[cfg(not(unix))]
    {
        meta.permissions().readonly()
    }
}

/// A name in `dir` that does not exist yet: `base`, then `base.1`, `base.2`...
fn create_unique(dir: &Path, base: &str) -> Result<(File, PathBuf), WriteError> {
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{base}.{n}")
        };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(WriteError::Io {
                    what: "create",
                    path,
                    source: e,
                })
            }
        }
    }
    Err(WriteError::Io {
        what: "create",
        path: dir.join(base),
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many files with this name",
        ),
    })
}

fn write_backup(
    target: &Path,
    original: &[u8],
    perms: &fs::Permissions,
    backup: &Backup,
    stamp: &str,
) -> Result<Option<PathBuf>, WriteError> {
    let dir = match backup {
        Backup::None => return Ok(None),
        Backup::Beside => target.parent().unwrap_or(Path::new(".")).to_path_buf(),
        Backup::Dir(d) => {
            fs::create_dir_all(d).map_err(io_err("create the backup directory", d))?;
            d.clone()
        }
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keystore".into());
    let (mut file, path) = create_unique(&dir, &format!("{name}.{stamp}.bak"))?;
    let result = (|| {
        // The backup holds the same secrets as the keystore: never wider permissions.
        file.set_permissions(perms.clone())?;
        file.write_all(original)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&path);
        return Err(WriteError::Io {
            what: "write the backup",
            path,
            source: e,
        });
    }
    sync_dir(&dir);
    Ok(Some(path))
}

/// Makes a rename durable. Not possible (nor needed) on Windows.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(unix)]
fn keep_owner(file: &File, meta: &fs::Metadata, path: &Path) -> Result<(), WriteError> {
    use std::os::unix::fs::MetadataExt;
    let mine = file.metadata().map_err(io_err("inspect", path))?;
    if mine.uid() != meta.uid() || mine.gid() != meta.gid() {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())).map_err(io_err(
            "give the new keystore the original owner (run as root or as the owner) for",
            path,
        ))?;
    }
    Ok(())
}
#[cfg(not(unix))]
fn keep_owner(_file: &File, _meta: &fs::Metadata, _path: &Path) -> Result<(), WriteError> {
    Ok(())
}

/// The file behind `path`, links resolved. On Windows the `\\?\C:\...` form that
/// canonicalize returns is shortened to `C:\...` where that is the same file, so that
/// backup names and messages read as people expect.
pub fn real_path(path: &Path) -> io::Result<PathBuf> {
    let real = fs::canonicalize(path)?;
    #[cfg(windows)]
    {
        let s = real.to_string_lossy();
        if let Some(rest) = s.strip_prefix(r"\\?\") {
            let drive = rest.as_bytes();
            if drive.len() > 2
                && drive[1] == b':'
                && drive[0].is_ascii_alphabetic()
                && rest.len() < 260
            {
                return Ok(PathBuf::from(rest));
            }
        }
    }
    Ok(real)
}

/// Replaces the keystore at `path` (whose content we read as `original`) with `new_bytes`.
pub fn replace(
    path: &Path,
    original: &[u8],
    new_bytes: &[u8],
    opts: &ReplaceOptions,
) -> Result<Replaced, WriteError> {
    let target = real_path(path).map_err(io_err("resolve", path))?;
    let dir = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    let meta = fs::metadata(&target).map_err(io_err("inspect", &target))?;
    if file_is_read_only(&meta) {
        return Err(WriteError::ReadOnly { path: target });
    }
    if dir_is_read_only(&dir).map_err(io_err("inspect", &dir))? {
        return Err(WriteError::ReadOnly { path: dir });
    }
    let unchanged =
        |t: &Path| -> Result<bool, WriteError> {
            let now = fs::metadata(t).map_err(io_err("inspect", t))?;
            Ok(identity(&now) == identity(&meta)
                && fs::read(t).map_err(io_err("read", t))? == original)
        };
    if !unchanged(&target)? {
        return Err(WriteError::Changed { path: target });
    }

    let backup = write_backup(
        &target,
        original,
        &meta.permissions(),
        &opts.backup,
        &opts.stamp,
    )?;

    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut temp, temp_path) = create_unique(
        &dir,
        &format!(".{file_name}.azure-cacerts-{}.tmp", std::process::id()),
    )?;
    let mut guard = TempGuard {
        path: temp_path.clone(),
        armed: true,
    };
    temp.set_permissions(meta.permissions())
        .map_err(io_err("set the mode of", &temp_path))?;
    keep_owner(&temp, &meta, &temp_path)?;
    let written = match opts.fault {
        Some(hook) => hook(Stage::WriteTemp, &temp_path).and_then(|_| temp.write_all(new_bytes)),
        None => temp.write_all(new_bytes),
    };
    written
        .and_then(|_| temp.sync_all())
        .map_err(io_err("write", &temp_path))?;
    drop(temp);

    let read_back = fs::read(&temp_path).map_err(io_err("read back", &temp_path))?;
    if read_back != new_bytes {
        return Err(WriteError::Verify {
            path: temp_path,
            why: "the bytes read back differ from those written".into(),
        });
    }
    (opts.verify)(&read_back).map_err(|why| WriteError::Verify {
        path: temp_path.clone(),
        why,
    })?;

    if let Some(hook) = opts.fault {
        hook(Stage::BeforeRename, &temp_path).map_err(io_err("finish", &temp_path))?;
    }
    // The last moment to notice keytool or another run writing the same file.
    if !unchanged(&target)? {
        return Err(WriteError::Changed { path: target });
    }
    fs::rename(&temp_path, &target).map_err(io_err("replace", &target))?;
    guard.armed = false;
    sync_dir(&dir);

    let after = fs::read(&target).map_err(io_err("read back", &target))?;
    if after != new_bytes {
        return Err(WriteError::Verify {
            path: target,
            why: "the file read back after the rename differs".into(),
        });
    }
    Ok(Replaced { target, backup })
}

/// `YYYYMMDDTHHMMSS` in UTC: backups sort by name and do not depend on the server's zone.
pub fn backup_stamp(now: time::OffsetDateTime) -> String {
    let stamp = time::macros::format_description!("[year][month][day]T[hour][minute][second]");
    now.to_offset(time::UtcOffset::UTC)
        .format(stamp)
        .unwrap_or_else(|_| "00000000T000000".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: &[u8]) -> Result<(), String> {
        Ok(())
    }

    fn opts<'a>(backup: Backup, fault: Option<FaultHook<'a>>) -> ReplaceOptions<'a> {
        ReplaceOptions {
            backup,
            stamp: "20261125T101500".into(),
            verify: &ok,
            fault,
        }
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_and_backs_up() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("cacerts");
        fs::write(&p, b"old").unwrap();
        let r = replace(&p, b"old", b"new", &opts(Backup::Beside, None)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let b = r.backup.unwrap();
        assert_eq!(b.file_name().unwrap(), "cacerts.20261125T101500.bak");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        assert_eq!(
            leftovers(d.path()),
            vec!["cacerts", "cacerts.20261125T101500.bak"]
        );
        // A second backup in the same second does not overwrite the first.
        let r2 = replace(&p, b"new", b"newer", &opts(Backup::Beside, None)).unwrap();
        assert_eq!(
            r2.backup.unwrap().file_name().unwrap(),
            "cacerts.20261125T101500.bak.1"
        );
    }

    #[test]
    fn disk_full_leaves_original_and_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let full = |stage: Stage, _: &Path| {
            if stage == Stage::WriteTemp {
                Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "No space left on device",
                ))
            } else {
                Ok(())
            }
        };
        let e = replace(&p, b"old", b"new", &opts(Backup::None, Some(&full))).unwrap_err();
        assert!(e.to_string().contains("No space left"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }

    #[test]
    fn crash_before_rename_leaves_original_and_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let crash = |stage: Stage, _: &Path| {
            if stage == Stage::BeforeRename {
                Err(io::Error::other("injected failure"))
            } else {
                Ok(())
            }
        };
        assert!(replace(&p, b"old", b"new", &opts(Backup::None, Some(&crash))).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }

    #[test]
    fn refuses_when_the_file_changes_under_us() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        // Someone (keytool, another run) rewrites the file between our read and our rename.
        let p2 = p.clone();
        let meddle = move |stage: Stage, _: &Path| {
            if stage == Stage::BeforeRename {
                fs::write(&p2, b"theirs").unwrap();
            }
            Ok(())
        };
        let e = replace(&p, b"old", b"new", &opts(Backup::None, Some(&meddle))).unwrap_err();
        assert!(matches!(e, WriteError::Changed { .. }), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"theirs");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
        // ... and a file already different from what we parsed is refused before any write.
        let e = replace(&p, b"old", b"new", &opts(Backup::Beside, None)).unwrap_err();
        assert!(matches!(e, WriteError::Changed { .. }));
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }

    #[test]
    fn failed_verification_keeps_original() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let bad = |_: &[u8]| Err("entry count 3, expected 4".to_string());
        let o = ReplaceOptions {
            backup: Backup::None,
            stamp: "x".into(),
            verify: &bad,
            fault: None,
        };
        let e = replace(&p, b"old", b"new", &o).unwrap_err();
        assert!(e.to_string().contains("expected 4"));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }

    #[cfg(unix)]
    #[test]
    fn follows_symlinks_and_keeps_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real-cacerts");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = d.path().join("cacerts");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let r = replace(&link, b"old", b"new", &opts(Backup::Beside, None)).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&link).unwrap(), b"new");
        assert_eq!(r.target, fs::canonicalize(&real).unwrap());
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::metadata(r.backup.unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o640
        );
    }

    #[cfg(unix)]
    #[test]
    fn read_only_file_or_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        assert!(matches!(
            replace(&p, b"old", b"new", &opts(Backup::Beside, None)),
            Err(WriteError::ReadOnly { .. })
        ));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let r = replace(&p, b"old", b"new", &opts(Backup::Beside, None));
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(r, Err(WriteError::ReadOnly { .. })));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }
}
