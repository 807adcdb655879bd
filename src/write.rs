//! Replacing a keystore file so that it is either unchanged or completely updated.
//!
//! Backup first (written under a temporary name and linked into place, so a `.bak` is always
//! complete), then a temporary file in the same directory (same file system, so the rename
//! is atomic), written, fsynced, read back and verified, then renamed over the target and
//! the directory fsynced. A symlink is followed: the link stays, its target changes. Owner
//! and mode are kept. Nothing here prints.
//!
//! # Files we create
//!
//! Temporary files and backups are created with `O_CREAT | O_EXCL | O_NOFOLLOW` (never
//! through a symlink planted at the name, never over an existing file) and mode `0600`
//! intersected with the keystore's mode, so that at no moment can anyone open them who could
//! not open the keystore (lock files, in [`crate::lock`], likewise, with `0600`). Only then
//! are they widened to the keystore's mode (after `fchown` to the keystore's owner, for the
//! temporary file).
//!
//! Temporary names are `.<file>.azure-cacerts-tmp.<pid>.<n>`. A run that is killed leaves
//! one behind; the next run removes it (see [`Replaced::stray_removed`]) when its process is
//! gone and it is older than [`STRAY_DEAD_AGE`], or older than [`STRAY_MAX_AGE`] whatever
//! the pid (pids are reused across reboots); otherwise it reports it
//! ([`WriteWarning::StrayKept`]).
//!
//! # What the result says
//!
//! * `Err` with [`WriteError::changed_target`] false: the keystore is as it was, and a
//!   backup made by this call has been removed again.
//! * `Err` with `changed_target()` true: the rename happened, the new content is in place,
//!   but a check after it failed (reading it back).
//! * `Ok(Replaced)`: the new content is in place; [`Replaced::warnings`] lists what is not
//!   as it should be without making that untrue: a directory fsync that failed (the write
//!   may not be durable), hard links that now hold the old content, stray files kept.
//!
//! A failed directory fsync after the rename is a warning and not an error because the file
//! *is* updated, and every later reader sees the new content; only a crash of the machine
//! before the kernel writes the directory back could bring the old one back. An error would
//! make callers say "not written" about a keystore that was.
//!
//! # Hard links, extended attributes
//!
//! A rename gives the name a new inode: other hard links to the keystore keep the old
//! content. That is reported ([`WriteWarning::HardLinks`]), not refused: there is no option
//! to allow it, and JDK packages do not hard-link `cacerts`. Extended attributes of the
//! keystore (POSIX ACLs and SELinux labels are stored as such on Linux) are copied to the new
//! file after its owner and mode are set (so an ACL equal to the keystore's never makes it
//! more readable than the keystore); one that cannot be copied (a label only root may set) is
//! reported ([`WriteWarning::XattrNotKept`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use thiserror::Error;

use crate::fsio::{self, FsioError};

/// Where a copy of the original goes before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backup {
    None,
    /// `<file>.<stamp>.bak` beside the target.
    Beside,
    /// `<dir>/<file name>.<stamp>.bak`.
    Dir(PathBuf),
}

/// Points where tests inject failures (a full disk, a crash before the rename) or look at
/// the files as they are at that moment. The path is the file (or directory) concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Instead of writing the temporary file's bytes (path: the temporary file, already at
    /// the keystore's owner and mode).
    WriteTemp,
    /// After the temporary file is complete and verified, before the rename.
    BeforeRename,
    /// Right after the temporary file is created, empty, before its owner and mode are set.
    TempCreated,
    /// Right after the backup's temporary file is created, empty, before its mode is set.
    BackupCreated,
    /// Instead of writing the backup's bytes (path: the backup's temporary file).
    WriteBackup,
    /// Before a directory is fsynced (path: the directory); an error stands for the fsync's.
    SyncDir,
    /// After the rename, before the target is read back (path: the target).
    AfterRename,
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
    /// The new content is in place, but these are worth telling (see [`WriteWarning`]).
    pub warnings: Vec<WriteWarning>,
    /// Temporary files of earlier runs that were killed, removed by this one.
    pub stray_removed: Vec<PathBuf>,
}

/// Something the caller should tell about a replacement that did happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteWarning {
    /// fsync of `dir` failed after a rename into it (the keystore's directory, or the
    /// backup's): every reader sees the new file, but a crash of the machine before the
    /// kernel writes the directory back may bring the old state back.
    NotDurable { dir: PathBuf, error: String },
    /// The keystore had `links` hard links: only `path` now names the new content, the
    /// other names still hold the old one.
    HardLinks { path: PathBuf, links: u64 },
    /// A temporary file of another run that was left in place, and why.
    StrayKept { path: PathBuf, why: String },
    /// An extended attribute of the keystore (an ACL, a label) that the new file lacks.
    XattrNotKept {
        path: PathBuf,
        name: String,
        error: String,
    },
}

impl std::fmt::Display for WriteWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteWarning::NotDurable { dir, error } => write!(
                f,
                "the write may not be durable: {} could not be flushed to disk ({error})",
                dir.display()
            ),
            WriteWarning::HardLinks { path, links } => write!(
                f,
                "{} had {links} hard links: only this name holds the new content, the {} other(s) still hold the old one",
                path.display(),
                links.saturating_sub(1)
            ),
            WriteWarning::StrayKept { path, why } => {
                write!(f, "left the temporary file {} in place: {why}", path.display())
            }
            WriteWarning::XattrNotKept { path, name, error } => write!(
                f,
                "{} lost its extended attribute {name} in the rewrite ({error}); set it again (setfacl, chcon, setfattr)",
                path.display()
            ),
        }
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{path} is read-only")]
    ReadOnly { path: PathBuf },
    #[error("{path} was changed by another program while we worked")]
    Changed { path: PathBuf },
    /// `after_rename`: the new content is already in place (see [`WriteError::changed_target`]).
    #[error("{}", io_message(what, path, source, *after_rename))]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
        after_rename: bool,
    },
    #[error("{}", verify_message(path, why, *after_rename))]
    Verify {
        path: PathBuf,
        why: String,
        after_rename: bool,
    },
}

fn io_message(what: &str, path: &Path, source: &io::Error, after_rename: bool) -> String {
    if after_rename {
        format!(
            "{} now holds the new keystore, but it could not be checked afterwards ({what}: {source})",
            path.display()
        )
    } else {
        format!("cannot {what} {}: {source}", path.display())
    }
}

fn verify_message(path: &Path, why: &str, after_rename: bool) -> String {
    if after_rename {
        format!(
            "{} was replaced, but the check after the rename failed: {why}",
            path.display()
        )
    } else {
        format!(
            "the new keystore written to {} did not verify: {why}",
            path.display()
        )
    }
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

    /// True when the keystore was replaced before the failure: the new content is in place
    /// (and the backup, if any, kept). False: the keystore is as it was, nothing of ours is
    /// left (not even a backup).
    pub fn changed_target(&self) -> bool {
        match self {
            WriteError::Io { after_rename, .. } | WriteError::Verify { after_rename, .. } => {
                *after_rename
            }
            WriteError::ReadOnly { .. } | WriteError::Changed { .. } => false,
        }
    }
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        what,
        path: path.to_path_buf(),
        source,
        after_rename: false,
    }
}

fn io_err_after<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        what,
        path: path.to_path_buf(),
        source,
        after_rename: true,
    }
}

/// Removes a file of ours unless disarmed: the temporary file until the rename consumed it,
/// the new backup until the keystore was replaced.
struct RemoveOnDrop {
    path: PathBuf,
    armed: bool,
}

impl RemoveOnDrop {
    fn new(path: PathBuf) -> Self {
        RemoveOnDrop { path, armed: true }
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What must not change between reading the keystore and renaming over it. A writer that
/// rewrites in place changes `len`, `mtime` or `ctime` (ctime cannot be set from user
/// space); one that renames a new file over it changes `ino`.
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<SystemTime>,
    ctime: (i64, i64),
}

fn identity(meta: &fs::Metadata) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.modified().ok(),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
    #[cfg(not(unix))]
    {
        Identity {
            dev: 0,
            ino: 0,
            len: meta.len(),
            mtime: meta.modified().ok(),
            ctime: (0, 0),
        }
    }
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

/// The keystore's permission bits (unix), or its permissions as they are elsewhere.
#[derive(Clone)]
struct Mode {
    perms: fs::Permissions,
}

impl Mode {
    /// What a new file gets at creation: `0600` and never more than the keystore's mode.
    #[cfg(unix)]
    fn at_creation(&self) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        self.perms.mode() & 0o600
    }

    /// Widens `file` from [`Mode::at_creation`] to the keystore's mode.
    fn apply(&self, file: &File) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Always: the umask may have narrowed the mode at creation further.
            file.set_permissions(fs::Permissions::from_mode(self.perms.mode() & 0o7777))
        }
        #[cfg(not(unix))]
        file.set_permissions(self.perms.clone())
    }
}

/// Marks our temporary names: `.<file>` + this + `<pid>.<n>`.
const TEMP_MARK: &str = ".azure-cacerts-tmp.";

/// A stray temporary file whose process is gone is removed once it is this old (younger,
/// it may belong to a run in another pid namespace: a container, another host on NFS).
pub const STRAY_DEAD_AGE: Duration = Duration::from_secs(10 * 60);
/// A stray temporary file this old is removed whatever its pid (pids are reused).
pub const STRAY_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn display_name(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keystore".into())
}

/// `create_new` (`O_EXCL`), `O_NOFOLLOW`, read and write, `mode` from the start.
fn create_private(path: &Path, mode: &Mode) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode.at_creation()).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    o.open(path)
}

/// A new temporary file `.<file>.azure-cacerts-tmp.<pid>.<n>` in `dir`.
fn create_temp(dir: &Path, file_name: &str, mode: &Mode) -> Result<(File, PathBuf), WriteError> {
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..1000 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{file_name}{TEMP_MARK}{pid}.{n}"));
        match create_private(&path, mode) {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(path),
            Err(e) => return Err(io_err("create", &path)(e)),
        }
    }
    Err(WriteError::Io {
        what: "create",
        path: last.unwrap_or_else(|| dir.to_path_buf()),
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many files with this name",
        ),
        after_rename: false,
    })
}

/// The pid in a temporary name of ours for `file_name` (also the name earlier builds used:
/// `.<file>.azure-cacerts-<pid>.tmp[.<n>]`).
fn stray_pid(name: &str, file_name: &str) -> Option<u32> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let rest = name.strip_prefix('.')?.strip_prefix(file_name)?;
    if let Some(r) = rest.strip_prefix(TEMP_MARK) {
        let (pid, n) = r.split_once('.')?;
        return (digits(pid) && digits(n)).then(|| pid.parse().ok())?;
    }
    let r = rest.strip_prefix(".azure-cacerts-")?;
    let (pid, tail) = r.split_once('.')?;
    let tail_ok = tail == "tmp" || tail.strip_prefix("tmp.").is_some_and(digits);
    (digits(pid) && tail_ok).then(|| pid.parse().ok())?
}

/// Whether process `pid` exists; `None` where we cannot tell without `unsafe`.
fn pid_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    #[cfg(target_os = "linux")]
    if Path::new("/proc/self").exists() {
        return Some(Path::new(&format!("/proc/{pid}")).exists());
    }
    None
}

/// Removes (or reports) the temporary files of killed runs for `file_name` in `dir`.
fn clean_strays(
    dir: &Path,
    file_name: &str,
    removed: &mut Vec<PathBuf>,
    warnings: &mut Vec<WriteWarning>,
) {
    // Best effort: a directory we cannot list hides nothing we are about to write.
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| stray_pid(n, file_name)) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        let alive = pid_alive(pid);
        let why = if age >= STRAY_MAX_AGE {
            None
        } else {
            match alive {
                Some(false) if age >= STRAY_DEAD_AGE => None,
                Some(false) => Some(format!(
                    "its process {pid} is gone but it is less than {} minutes old (a run in a container or on another host may still be writing it)",
                    STRAY_DEAD_AGE.as_secs() / 60
                )),
                Some(true) => Some(format!("its process {pid} is still running")),
                None => Some(format!("cannot tell whether its process {pid} is still running")),
            }
        };
        match why {
            None => match fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) => warnings.push(WriteWarning::StrayKept {
                    path,
                    why: format!("cannot remove it: {e}"),
                }),
            },
            Some(why) => warnings.push(WriteWarning::StrayKept { path, why }),
        }
    }
}

/// Gives `temp` the name `<base>`, `<base>.1`, ... whichever is free, never replacing a file:
/// a hard link (atomic, fails on an existing name), or where the file system has none (FAT,
/// some network file systems) a rename after checking that the name is free (we hold the
/// keystore's lock). Returns the name and whether `temp` still exists (a link was made).
fn publish_no_replace(temp: &Path, dir: &Path, base: &str) -> Result<(PathBuf, bool), WriteError> {
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{base}.{n}")
        };
        let dest = dir.join(name);
        match fs::hard_link(temp, &dest) {
            Ok(()) => return Ok((dest, true)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => match fs::symlink_metadata(&dest) {
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::rename(temp, &dest).map_err(io_err("create the backup", &dest))?;
                    return Ok((dest, false));
                }
                Err(e) => return Err(io_err("create the backup", &dest)(e)),
            },
        }
    }
    Err(WriteError::Io {
        what: "create",
        path: dir.join(base),
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many files with this name",
        ),
        after_rename: false,
    })
}

/// Writes the backup under a temporary name and links it into place: a `.bak` is always
/// complete. The guard removes it again unless disarmed (when the keystore is replaced).
fn write_backup(
    target: &Path,
    original: &[u8],
    mode: &Mode,
    opts: &ReplaceOptions,
    warnings: &mut Vec<WriteWarning>,
) -> Result<Option<RemoveOnDrop>, WriteError> {
    let dir = match &opts.backup {
        Backup::None => return Ok(None),
        Backup::Beside => target.parent().unwrap_or(Path::new(".")).to_path_buf(),
        Backup::Dir(d) => {
            fs::create_dir_all(d).map_err(io_err("create the backup directory", d))?;
            d.clone()
        }
    };
    let name = display_name(target);
    let (mut file, temp_path) = create_temp(&dir, &name, mode)?;
    let mut temp_guard = RemoveOnDrop::new(temp_path.clone());
    let result = (|| {
        if let Some(hook) = opts.fault {
            hook(Stage::BackupCreated, &temp_path)?;
        }
        // The backup holds the same secrets as the keystore: never wider permissions.
        mode.apply(&file)?;
        if let Some(hook) = opts.fault {
            hook(Stage::WriteBackup, &temp_path)?;
        }
        file.write_all(original)?;
        file.sync_all()
    })();
    result.map_err(io_err("write the backup", &temp_path))?;
    drop(file);
    let (path, temp_still_there) =
        publish_no_replace(&temp_path, &dir, &format!("{name}.{}.bak", opts.stamp))?;
    let guard = RemoveOnDrop::new(path);
    if temp_still_there {
        drop(temp_guard); // removes the temporary name; the backup keeps the inode
    } else {
        temp_guard.armed = false;
    }
    if let Err(e) = sync_dir(&dir, opts.fault) {
        warnings.push(WriteWarning::NotDurable {
            dir,
            error: e.to_string(),
        });
    }
    Ok(Some(guard))
}

/// Makes a rename durable. Not possible (nor needed) on Windows.
fn sync_dir(dir: &Path, fault: Option<FaultHook>) -> io::Result<()> {
    if let Some(hook) = fault {
        hook(Stage::SyncDir, dir)?;
    }
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
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

/// Copies the keystore's extended attributes to the new file; what cannot be copied is
/// reported. A file system without xattr support has none to keep.
#[cfg(unix)]
fn keep_xattrs(from: &Path, to: &File, warnings: &mut Vec<WriteWarning>) {
    use xattr::FileExt;
    let Ok(names) = xattr::list(from) else {
        return;
    };
    for name in names {
        let Ok(Some(value)) = xattr::get(from, &name) else {
            continue;
        };
        // The new file may already carry it (a label inherited from the directory).
        if to.get_xattr(&name).ok().flatten().as_deref() == Some(value.as_slice()) {
            continue;
        }
        if let Err(e) = to.set_xattr(&name, &value) {
            warnings.push(WriteWarning::XattrNotKept {
                path: from.to_path_buf(),
                name: name.to_string_lossy().into_owned(),
                error: e.to_string(),
            });
        }
    }
}
#[cfg(not(unix))]
fn keep_xattrs(_from: &Path, _to: &File, _warnings: &mut Vec<WriteWarning>) {}

#[cfg(unix)]
fn link_count(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}
#[cfg(not(unix))]
fn link_count(_meta: &fs::Metadata) -> u64 {
    1
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

/// Fails with `Changed` unless `target` still holds `original` and is the file `before`
/// describes. The content is read first and the metadata last, so the stat is the final
/// look before a rename.
fn check_unchanged(target: &Path, before: &Identity, original: &[u8]) -> Result<(), WriteError> {
    let changed = || WriteError::Changed {
        path: target.to_path_buf(),
    };
    match fsio::read_regular_bounded(target, original.len() as u64) {
        Ok(now) if now == original => {}
        Ok(_) | Err(FsioError::TooLarge { .. } | FsioError::NotRegular { .. }) => {
            return Err(changed())
        }
        Err(e) if e.is_not_found() => return Err(changed()),
        Err(FsioError::Io { source, .. }) => return Err(io_err("read", target)(source)),
    }
    match fs::symlink_metadata(target) {
        Ok(now) if identity(&now) == *before => Ok(()),
        Ok(_) => Err(changed()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(changed()),
        Err(e) => Err(io_err("inspect", target)(e)),
    }
}

/// Replaces the keystore at `path` (whose content we read as `original`) with `new_bytes`.
///
/// The caller holds the keystore's lock ([`crate::lock`]), which keeps other azure-cacerts
/// runs out. Other writers (keytool, a package update) are noticed by re-checking content
/// and identity (dev, inode, size, mtime, ctime) right before the rename. A window remains
/// between that last `stat` and `rename(2)` (microseconds): a writer that replaces the file
/// exactly then is overwritten. Closing it needs `renameat2(RENAME_EXCHANGE)` (swap, then
/// check what was swapped out, swap back): only reachable through `unsafe` `libc` calls or a
/// crate (`rustix`) that is not a dependency of this crate, and Linux-only.
pub fn replace(
    path: &Path,
    original: &[u8],
    new_bytes: &[u8],
    opts: &ReplaceOptions,
) -> Result<Replaced, WriteError> {
    let target = real_path(path).map_err(io_err("resolve", path))?;
    let dir = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    let meta = fs::symlink_metadata(&target).map_err(io_err("inspect", &target))?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::Changed { path: target });
    }
    if let Err(FsioError::NotRegular { kind, .. }) = fsio::check_regular(&target, &meta) {
        return Err(io_err("replace", &target)(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {kind}, not a regular file"),
        )));
    }
    if file_is_read_only(&meta) {
        return Err(WriteError::ReadOnly { path: target });
    }
    if dir_is_read_only(&dir).map_err(io_err("inspect", &dir))? {
        return Err(WriteError::ReadOnly { path: dir });
    }
    let before = identity(&meta);
    check_unchanged(&target, &before, original)?;

    let mut warnings = Vec::new();
    let links = link_count(&meta);
    if links > 1 {
        warnings.push(WriteWarning::HardLinks {
            path: target.clone(),
            links,
        });
    }
    let file_name = display_name(&target);
    let mut stray_removed = Vec::new();
    clean_strays(&dir, &file_name, &mut stray_removed, &mut warnings);
    if let Backup::Dir(d) = &opts.backup {
        if real_path(d).ok().as_deref() != Some(dir.as_path()) {
            clean_strays(d, &file_name, &mut stray_removed, &mut warnings);
        }
    }

    let mode = Mode {
        perms: meta.permissions(),
    };
    let mut backup = write_backup(&target, original, &mode, opts, &mut warnings)?;

    let (mut temp, temp_path) = create_temp(&dir, &file_name, &mode)?;
    let mut guard = RemoveOnDrop::new(temp_path.clone());
    if let Some(hook) = opts.fault {
        hook(Stage::TempCreated, &temp_path).map_err(io_err("create", &temp_path))?;
    }
    // Owner first: a chown may clear set-id bits, and until the mode is widened only the
    // new owner can open the file.
    keep_owner(&temp, &meta, &temp_path)?;
    mode.apply(&temp)
        .map_err(io_err("set the mode of", &temp_path))?;
    keep_xattrs(&target, &temp, &mut warnings);
    let written = match opts.fault {
        Some(hook) => hook(Stage::WriteTemp, &temp_path).and_then(|_| temp.write_all(new_bytes)),
        None => temp.write_all(new_bytes),
    };
    written
        .and_then(|_| temp.sync_all())
        .map_err(io_err("write", &temp_path))?;

    // Read back through the descriptor we wrote: the same file whatever happens to the name.
    temp.rewind().map_err(io_err("read back", &temp_path))?;
    let read_back = match fsio::read_bounded_sized(
        &temp,
        &temp_path,
        new_bytes.len() as u64,
        new_bytes.len() as u64,
    ) {
        Ok(b) => b,
        Err(FsioError::Io { source, .. }) => return Err(io_err("read back", &temp_path)(source)),
        Err(_) => {
            return Err(WriteError::Verify {
                path: temp_path,
                why: "the file read back is longer than what was written".into(),
                after_rename: false,
            })
        }
    };
    drop(temp);
    if read_back != new_bytes {
        return Err(WriteError::Verify {
            path: temp_path,
            why: "the bytes read back differ from those written".into(),
            after_rename: false,
        });
    }
    (opts.verify)(&read_back).map_err(|why| WriteError::Verify {
        path: temp_path.clone(),
        why,
        after_rename: false,
    })?;

    if let Some(hook) = opts.fault {
        hook(Stage::BeforeRename, &temp_path).map_err(io_err("finish", &temp_path))?;
    }
    // The last moment to notice keytool or another program writing the same file.
    check_unchanged(&target, &before, original)?;
    fs::rename(&temp_path, &target).map_err(io_err("replace", &target))?;
    guard.armed = false;
    // From here on the new content is in place: keep the backup, and say so on failure.
    if let Some(b) = backup.as_mut() {
        b.armed = false;
    }
    if let Err(e) = sync_dir(&dir, opts.fault) {
        warnings.push(WriteWarning::NotDurable {
            dir: dir.clone(),
            error: e.to_string(),
        });
    }
    if let Some(hook) = opts.fault {
        hook(Stage::AfterRename, &target).map_err(io_err_after("read back", &target))?;
    }

    let after = match fsio::read_regular_bounded(&target, new_bytes.len() as u64) {
        Ok(b) => b,
        Err(FsioError::Io { source, .. }) => {
            return Err(io_err_after("read back", &target)(source))
        }
        Err(e) => {
            return Err(WriteError::Verify {
                path: target,
                why: e.to_string(),
                after_rename: true,
            })
        }
    };
    if after != new_bytes {
        return Err(WriteError::Verify {
            path: target,
            why: "the file read back differs from what was written".into(),
            after_rename: true,
        });
    }
    Ok(Replaced {
        target,
        backup: backup.map(|b| b.path.clone()),
        warnings,
        stray_removed,
    })
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

    #[cfg(unix)]
    #[test]
    fn extended_attributes_survive_the_rewrite() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("cacerts");
        fs::write(&p, b"old").unwrap();
        if xattr::set(&p, "user.azure-cacerts-test", b"kept").is_err() {
            eprintln!("skipped: this file system takes no user extended attributes");
            return;
        }
        let r = replace(&p, b"old", b"new", &opts(Backup::None, None)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(
            xattr::get(&p, "user.azure-cacerts-test")
                .unwrap()
                .as_deref(),
            Some(&b"kept"[..])
        );
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
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

    #[cfg(unix)]
    fn mode_of(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// Records the mode of the file at each hook stage.
    #[cfg(unix)]
    fn record_modes(ks_mode: u32) -> Vec<(Stage, u32)> {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::Mutex;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(ks_mode)).unwrap();
        let seen = Mutex::new(Vec::new());
        let hook = |stage: Stage, path: &Path| {
            if stage != Stage::SyncDir {
                seen.lock().unwrap().push((stage, mode_of(path)));
            }
            Ok(())
        };
        let r = replace(&p, b"old", b"new", &opts(Backup::Beside, Some(&hook))).unwrap();
        assert_eq!(mode_of(&p), ks_mode);
        assert_eq!(mode_of(&r.backup.unwrap()), ks_mode);
        seen.into_inner().unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn files_are_created_private_and_never_wider_than_the_keystore() {
        for ks_mode in [0o600, 0o640, 0o644] {
            let seen = record_modes(ks_mode);
            let at = |s: Stage| seen.iter().find(|(st, _)| *st == s).unwrap().1;
            for created in [Stage::BackupCreated, Stage::TempCreated] {
                let m = at(created);
                assert_eq!(
                    m & !0o600,
                    0,
                    "{created:?}: {m:o} for a {ks_mode:o} keystore"
                );
                assert_eq!(
                    m & !ks_mode,
                    0,
                    "{created:?}: {m:o} for a {ks_mode:o} keystore"
                );
            }
            for widened in [Stage::WriteBackup, Stage::WriteTemp, Stage::BeforeRename] {
                assert_eq!(at(widened), ks_mode, "{widened:?}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_a_name_we_create_is_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let name = d.path().join("planted");
        let victim = d.path().join("victim");
        std::os::unix::fs::symlink(&victim, &name).unwrap();
        let mode = Mode {
            perms: fs::metadata(d.path()).unwrap().permissions(),
        };
        let e = create_private(&name, &mode).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(!victim.exists());
    }

    #[test]
    fn a_failed_directory_fsync_is_reported_not_ignored() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let fail = |stage: Stage, _: &Path| {
            if stage == Stage::SyncDir {
                Err(io::Error::other("EIO from the disk"))
            } else {
                Ok(())
            }
        };
        let r = replace(&p, b"old", b"new", &opts(Backup::Beside, Some(&fail))).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let dir = real_path(d.path()).unwrap();
        // Once for the backup's rename, once for the keystore's.
        assert_eq!(
            r.warnings,
            vec![
                WriteWarning::NotDurable {
                    dir: dir.clone(),
                    error: "EIO from the disk".into()
                };
                2
            ]
        );
        assert!(r.warnings[0]
            .to_string()
            .starts_with("the write may not be durable"));
        let r = replace(&p, b"new", b"newer", &opts(Backup::None, None)).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn a_failure_after_the_rename_says_the_new_content_is_there() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let fail = |stage: Stage, _: &Path| {
            if stage == Stage::AfterRename {
                Err(io::Error::other("injected"))
            } else {
                Ok(())
            }
        };
        let e = replace(&p, b"old", b"new", &opts(Backup::Beside, Some(&fail))).unwrap_err();
        assert!(e.changed_target(), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "{} now holds the new keystore, but it could not be checked afterwards (read back: injected)",
                real_path(&p).unwrap().display()
            )
        );
        assert!(!e.to_string().contains("kept"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"new");
        // The backup of what was replaced stays.
        assert_eq!(
            fs::read(d.path().join("ks.20261125T101500.bak")).unwrap(),
            b"old"
        );
        // Failures before the rename: nothing changed.
        let crash = |stage: Stage, _: &Path| {
            if stage == Stage::BeforeRename {
                Err(io::Error::other("injected"))
            } else {
                Ok(())
            }
        };
        let e = replace(&p, b"new", b"newer", &opts(Backup::None, Some(&crash))).unwrap_err();
        assert!(!e.changed_target());
        assert!(!WriteError::Changed { path: p.clone() }.changed_target());
        assert!(!WriteError::ReadOnly { path: p.clone() }.changed_target());
    }

    #[test]
    fn a_backup_appears_only_complete() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        // While the backup is being written there is no `.bak` (a kill here leaves only a
        // temporary name the next run recognises).
        let dir = d.path().to_path_buf();
        let look = move |stage: Stage, path: &Path| {
            if matches!(stage, Stage::BackupCreated | Stage::WriteBackup) {
                let names = leftovers(&dir);
                assert!(
                    !names.iter().any(|n| n.contains(".bak")),
                    "{stage:?}: {names:?}"
                );
                let name = path.file_name().unwrap().to_str().unwrap();
                assert!(stray_pid(name, "ks") == Some(std::process::id()), "{name}");
            }
            Ok(())
        };
        let r = replace(&p, b"old", b"new", &opts(Backup::Beside, Some(&look))).unwrap();
        assert_eq!(fs::read(r.backup.unwrap()).unwrap(), b"old");
        assert_eq!(leftovers(d.path()), vec!["ks", "ks.20261125T101500.bak"]);
        // A full disk while writing the backup: no backup, no temporary file.
        let full = |stage: Stage, _: &Path| {
            if stage == Stage::WriteBackup {
                Err(io::Error::new(io::ErrorKind::StorageFull, "No space left"))
            } else {
                Ok(())
            }
        };
        let e = replace(&p, b"new", b"newer", &opts(Backup::Beside, Some(&full))).unwrap_err();
        assert!(!e.changed_target());
        assert_eq!(leftovers(d.path()), vec!["ks", "ks.20261125T101500.bak"]);
    }

    #[test]
    fn a_run_that_changes_nothing_removes_its_new_backup() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let bad = |_: &[u8]| Err("entry count 3, expected 4".to_string());
        let o = ReplaceOptions {
            backup: Backup::Beside,
            stamp: "20261125T101500".into(),
            verify: &bad,
            fault: None,
        };
        assert!(replace(&p, b"old", b"new", &o).is_err());
        assert_eq!(leftovers(d.path()), vec!["ks"]);
        // The same when someone else writes the keystore meanwhile; an older backup stays.
        fs::write(d.path().join("ks.20261125T101500.bak"), b"older").unwrap();
        let p2 = p.clone();
        let meddle = move |stage: Stage, _: &Path| {
            if stage == Stage::BeforeRename {
                fs::write(&p2, b"theirs").unwrap();
            }
            Ok(())
        };
        let bk = d.path().join("backups");
        let e = replace(
            &p,
            b"old",
            b"new",
            &opts(Backup::Dir(bk.clone()), Some(&meddle)),
        )
        .unwrap_err();
        assert!(matches!(e, WriteError::Changed { .. }));
        assert_eq!(leftovers(&bk), Vec::<String>::new());
        assert_eq!(
            fs::read(d.path().join("ks.20261125T101500.bak")).unwrap(),
            b"older"
        );
    }

    #[test]
    fn recognises_its_temporary_names() {
        assert_eq!(stray_pid(".ks.azure-cacerts-tmp.123.4", "ks"), Some(123));
        assert_eq!(stray_pid(".ks.azure-cacerts-123.tmp", "ks"), Some(123));
        assert_eq!(stray_pid(".ks.azure-cacerts-123.tmp.2", "ks"), Some(123));
        for other in [
            ".ks.azure-cacerts-tmp.123",
            ".ks.azure-cacerts-tmp.12x.4",
            ".ks.azure-cacerts-tmp.123.4.bak",
            ".kx.azure-cacerts-tmp.123.4",
            ".ks2.azure-cacerts-tmp.123.4",
            "ks.azure-cacerts-tmp.123.4",
            ".ks.azure-cacerts-123.tmpx",
            "ks.20261125T101500.bak",
        ] {
            assert_eq!(stray_pid(other, "ks"), None, "{other}");
        }
    }

    /// A pid that is not running: a child that has exited and been reaped.
    #[cfg(target_os = "linux")]
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stray_temporary_files_of_killed_runs_are_removed_or_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let dead = dead_pid();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let stray = |name: String, old: bool| {
            let path = d.path().join(name);
            let f = File::create(&path).unwrap();
            if old {
                f.set_modified(hour_ago).unwrap();
            }
            fs::canonicalize(&path).unwrap()
        };
        let old_dead = stray(format!(".ks.azure-cacerts-tmp.{dead}.0"), true);
        let legacy = stray(format!(".ks.azure-cacerts-{dead}.tmp"), true);
        let fresh_dead = stray(format!(".ks.azure-cacerts-tmp.{dead}.1"), false);
        let alive = stray(".ks.azure-cacerts-tmp.1.0".into(), true);
        let not_ours = stray(".ks.azure-cacerts-tmp.x.0".into(), true);
        let r = replace(&p, b"old", b"new", &opts(Backup::None, None)).unwrap();
        let mut removed = r.stray_removed.clone();
        removed.sort();
        let mut want = vec![old_dead.clone(), legacy.clone()];
        want.sort();
        assert_eq!(removed, want);
        assert!(!old_dead.exists() && !legacy.exists());
        for kept in [&fresh_dead, &alive, &not_ours] {
            assert!(kept.exists(), "{}", kept.display());
        }
        let kept: Vec<_> = r
            .warnings
            .iter()
            .map(|w| match w {
                WriteWarning::StrayKept { path, why } => (path.clone(), why.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept
            .iter()
            .any(|(p, why)| p == &fresh_dead && why.contains("less than 10 minutes")));
        assert!(kept
            .iter()
            .any(|(p, why)| p == &alive && why.contains("still running")));
        assert!(r.warnings[0]
            .to_string()
            .starts_with("left the temporary file"));
    }

    #[test]
    fn identity_catches_an_in_place_rewrite_with_the_same_bytes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let before = identity(&fs::metadata(&p).unwrap());
        check_unchanged(&p, &before, b"old").unwrap();
        // Same inode, same length, same bytes, but written again (mtime/ctime moved).
        std::thread::sleep(Duration::from_millis(20));
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        drop(f);
        assert!(matches!(
            check_unchanged(&p, &before, b"old"),
            Err(WriteError::Changed { .. })
        ));
        // Replaced by another file with the same bytes: another inode.
        let p2 = p.clone();
        let swap = move |stage: Stage, _: &Path| {
            if stage == Stage::BeforeRename {
                let other = p2.with_file_name("other");
                fs::write(&other, b"old").unwrap();
                fs::rename(&other, &p2).unwrap();
            }
            Ok(())
        };
        let e = replace(&p, b"old", b"new", &opts(Backup::Beside, Some(&swap))).unwrap_err();
        assert!(matches!(e, WriteError::Changed { .. }), "{e}");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_are_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        fs::write(&p, b"old").unwrap();
        let other = d.path().join("ks-link");
        fs::hard_link(&p, &other).unwrap();
        let r = replace(&p, b"old", b"new", &opts(Backup::None, None)).unwrap();
        assert_eq!(
            r.warnings,
            vec![WriteWarning::HardLinks {
                path: r.target.clone(),
                links: 2
            }]
        );
        assert!(r.warnings[0]
            .to_string()
            .contains("1 other(s) still hold the old one"));
        assert_eq!(fs::read(&other).unwrap(), b"old");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_as_keystore_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ks");
        assert!(std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap()
            .success());
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        std::thread::spawn(move || {
            let r = replace(&p2, b"old", b"new", &opts(Backup::Beside, None)).map(|_| ());
            let _ = tx.send(r.map_err(|e| e.to_string()));
        });
        let e = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("replace blocked on a FIFO")
            .unwrap_err();
        assert!(e.ends_with("it is a FIFO, not a regular file"), "{e}");
        assert_eq!(leftovers(d.path()), vec!["ks"]);
    }
}
