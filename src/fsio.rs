//! Reading files whose path someone else may control: keystores, password files, bundle
//! files, configuration.
//!
//! azure-cacerts runs as root. A path that turns out to be a FIFO would block it forever, a
//! device (`/dev/zero`) or a file that keeps growing would fill memory, and an error message
//! that quotes what it read would leak another file (a bundle PEM that is a symlink to
//! `/etc/shadow`). So every read here:
//!
//! * refuses anything but a regular file, with a typed error that names what it is
//!   ("is a FIFO, not a regular file");
//! * checks that before opening (opening some devices has side effects) *and* again on the
//!   opened descriptor, which is opened with `O_NONBLOCK | O_NOCTTY` on unix, so that a FIFO
//!   swapped in between the check and the open neither blocks nor is read;
//! * reads at most `limit + 1` bytes: `metadata.len()` is not trusted (devices, `/proc`,
//!   files that grow while read);
//! * never puts file content into an error.
//!
//! Nothing here prints.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A keystore. The JDK's `cacerts` is 100-200 KiB; the largest real-world truststores seen
/// (several thousand entries) stay under a few MiB. 64 MiB leaves room for anything sane and
/// still bounds memory on a server (the keystore is held two or three times while rewritten).
pub const KEYSTORE_LIMIT: u64 = 64 << 20;

/// A password file (`--storepass-file`): one line. 64 KiB is generous and small.
pub const PASSWORD_FILE_LIMIT: u64 = 64 << 10;

/// A configuration file (the refresh config, TOML written by people): 4 MiB.
pub const CONFIG_LIMIT: u64 = 4 << 20;

/// A catalog (`certs/catalog.toml`, a bundle's `catalog.toml`): the built-in one is about
/// 30 KiB. TOML parsing takes about 13 times the file in memory (a 15 MiB file took 193 MiB),
/// so 2 MiB bounds it near 30 MiB.
pub const CATALOG_LIMIT: u64 = 2 << 20;

/// One PEM certificate of a bundle: a few KiB; 1 MiB as in `catalog::bundle`.
pub const PEM_LIMIT: u64 = 1 << 20;

/// A certificate file given with `--pem`, or the OS trust bundle: Debian's is about 220 KiB
/// (150 roots); 16 MiB holds thousands of certificates and still bounds memory.
pub const CERT_FILE_LIMIT: u64 = 16 << 20;

/// What a path is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl FileKind {
    pub fn of(ft: fs::FileType) -> FileKind {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                return FileKind::Fifo;
            }
            if ft.is_socket() {
                return FileKind::Socket;
            }
            if ft.is_char_device() {
                return FileKind::CharDevice;
            }
            if ft.is_block_device() {
                return FileKind::BlockDevice;
            }
        }
        if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Directory
        } else if ft.is_file() {
            FileKind::Regular
        } else {
            FileKind::Other
        }
    }

    /// "a FIFO", "a directory", ... (for "`<path>` is a FIFO, not a regular file").
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Symlink => "a symbolic link",
            FileKind::Fifo => "a FIFO",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Other => "not a file",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[derive(Debug, Error)]
pub enum FsioError {
    /// A directory, FIFO, socket, device (or, for the no-follow reads, a symlink).
    #[error("{path} is {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: FileKind },
    /// More than `limit` bytes; nothing past `limit + 1` bytes was read.
    #[error("{path} is larger than {}; it was not read", human_size(*.limit))]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl FsioError {
    pub fn path(&self) -> &Path {
        match self {
            FsioError::NotRegular { path, .. }
            | FsioError::TooLarge { path, .. }
            | FsioError::Io { path, .. } => path,
        }
    }

    /// The file (or a directory on its path) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FsioError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// `65536` -> "64 KiB", `67108864` -> "64 MiB", `1000` -> "1000 bytes".
pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Reads the regular file at `path` (symlinks followed), at most `limit` bytes.
pub fn read_regular_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, FsioError> {
    read_checked(path, limit, true)
}

/// Like [`read_regular_bounded`], but a symlink as the last component is refused
/// (`NotRegular { kind: Symlink }`), also when it appears between the check and the open
/// (`O_NOFOLLOW`). For bundle entries, which must be the files the bundle holds.
pub fn read_regular_no_follow(path: &Path, limit: u64) -> Result<Vec<u8>, FsioError> {
    read_checked(path, limit, false)
}

/// True when `path` itself (not followed) is a symlink or anything but a regular file: a
/// bundle entry like that is refused. Errors (not found, permission) are returned as such.
pub fn is_symlink_or_not_regular(path: &Path) -> io::Result<bool> {
    Ok(kind_no_follow(path)? != FileKind::Regular)
}

/// What `path` itself is, symlinks not followed.
pub fn kind_no_follow(path: &Path) -> io::Result<FileKind> {
    Ok(FileKind::of(fs::symlink_metadata(path)?.file_type()))
}

/// `Ok` when `meta` is a regular file, else `NotRegular` naming what it is.
pub fn check_regular(path: &Path, meta: &fs::Metadata) -> Result<(), FsioError> {
    match FileKind::of(meta.file_type()) {
        FileKind::Regular => Ok(()),
        kind => Err(FsioError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }),
    }
}

/// Reads at most `limit` bytes from `reader` (it reads `limit + 1` to tell "exactly
/// `limit`" from "more"). `path` only names the file in errors.
pub fn read_bounded(reader: impl Read, path: &Path, limit: u64) -> Result<Vec<u8>, FsioError> {
    read_bounded_sized(reader, path, limit, 0)
}

/// [`read_bounded`] into a buffer sized for `expected` bytes (the length the metadata gave), so
/// a keystore is read in one allocation instead of a doubling series of copies. One byte more
/// than expected is room to see that the file grew.
pub fn read_bounded_sized(
    reader: impl Read,
    path: &Path,
    limit: u64,
    expected: u64,
) -> Result<Vec<u8>, FsioError> {
    let capacity = expected.min(limit).saturating_add(1);
    let mut buf = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|source| FsioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(FsioError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}

fn read_checked(path: &Path, limit: u64, follow: bool) -> Result<Vec<u8>, FsioError> {
    let io_err = |source| FsioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let before = if follow {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    }
    .map_err(io_err)?;
    check_regular(path, &before)?;
    let file = open_for_reading(path, follow).map_err(|e| {
        if !follow && is_symlink_loop(&e) {
            FsioError::NotRegular {
                path: path.to_path_buf(),
                kind: FileKind::Symlink,
            }
        } else {
            io_err(e)
        }
    })?;
    // What was opened, not what the path named a moment ago.
    let opened = file.metadata().map_err(io_err)?;
    check_regular(path, &opened)?;
    read_bounded_sized(&file, path, limit, opened.len())
}

/// Read-only; on unix non-blocking (a FIFO opens at once instead of waiting for a writer)
/// and never becoming the controlling terminal; `O_NOFOLLOW` unless `follow`.
fn open_for_reading(path: &Path, follow: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        o.custom_flags(flags);
    }
    #[cfg(not(unix))]
    let _ = follow;
    o.open(path)
}

/// `open(O_NOFOLLOW)` on a symlink fails with ELOOP (EMLINK on FreeBSD, EFTYPE on NetBSD).
pub(crate) fn is_symlink_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
            || (cfg!(target_os = "freebsd") && e.raw_os_error() == Some(libc::EMLINK))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_up_to_the_limit() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        fs::write(&p, b"12345").unwrap();
        assert_eq!(read_regular_bounded(&p, 5).unwrap(), b"12345");
        assert_eq!(read_regular_bounded(&p, 100).unwrap(), b"12345");
        let e = read_regular_bounded(&p, 4).unwrap_err();
        assert!(matches!(e, FsioError::TooLarge { limit: 4, .. }), "{e}");
        assert!(!e.to_string().contains("1234"), "never quotes content: {e}");
        fs::write(&p, b"").unwrap();
        assert_eq!(read_regular_bounded(&p, 0).unwrap(), b"");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = read_regular_bounded(Path::new("/nonexistent/x"), 10).unwrap_err();
        assert!(e.is_not_found(), "{e}");
    }

    #[test]
    fn a_directory_is_refused_by_kind() {
        let d = tempfile::tempdir().unwrap();
        let e = read_regular_bounded(d.path(), 10).unwrap_err();
        assert!(
            matches!(
                e,
                FsioError::NotRegular {
                    kind: FileKind::Directory,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e
            .to_string()
            .ends_with("is a directory, not a regular file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(st.success());
        // A thread, so that a regression shows as a failure and not as a hung test run.
        let (tx, rx) = std::sync::mpsc::channel();
        let f = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read_regular_bounded(&f, 10).map_err(|e| e.to_string()));
        });
        let r = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO blocked");
        let e = r.unwrap_err();
        assert!(e.ends_with("is a FIFO, not a regular file"), "{e}");
        // The descriptor check, as when a FIFO replaces the file between stat and open.
        let file = open_for_reading(&fifo, true).expect("O_NONBLOCK opens a FIFO at once");
        let e = check_regular(&fifo, &file.metadata().unwrap()).unwrap_err();
        assert!(matches!(
            e,
            FsioError::NotRegular {
                kind: FileKind::Fifo,
                ..
            }
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_and_a_device_read_is_bounded() {
        for (dev, kind) in [
            ("/dev/zero", FileKind::CharDevice),
            ("/dev/null", FileKind::CharDevice),
        ] {
            let e = read_regular_bounded(Path::new(dev), 1 << 20).unwrap_err();
            assert!(
                matches!(&e, FsioError::NotRegular { kind: k, .. } if *k == kind),
                "{e}"
            );
            assert_eq!(
                e.to_string(),
                format!("{dev} is a character device, not a regular file")
            );
        }
        // The bound itself, on an endless reader.
        let f = File::open("/dev/zero").unwrap();
        let e = read_bounded(f, Path::new("/dev/zero"), 4096).unwrap_err();
        assert!(matches!(e, FsioError::TooLarge { limit: 4096, .. }));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_or_refused() {
        let d = tempfile::tempdir().unwrap();
        let secret = d.path().join("shadow");
        fs::write(&secret, b"root:$6$secret-hash").unwrap();
        let link = d.path().join("entry.pem");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert_eq!(
            read_regular_bounded(&link, 100).unwrap(),
            b"root:$6$secret-hash"
        );
        let e = read_regular_no_follow(&link, 100).unwrap_err();
        assert!(
            matches!(
                e,
                FsioError::NotRegular {
                    kind: FileKind::Symlink,
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e
            .to_string()
            .ends_with("is a symbolic link, not a regular file"));
        // O_NOFOLLOW, as when the link appears after the check.
        assert!(is_symlink_loop(
            &open_for_reading(&link, false).unwrap_err()
        ));
        assert!(is_symlink_or_not_regular(&link).unwrap());
        assert!(!is_symlink_or_not_regular(&secret).unwrap());
        assert!(is_symlink_or_not_regular(d.path()).unwrap());
        assert_eq!(kind_no_follow(&link).unwrap(), FileKind::Symlink);
        // A dangling link is still a link.
        let dangling = d.path().join("dangling");
        std::os::unix::fs::symlink(d.path().join("nothing"), &dangling).unwrap();
        assert!(is_symlink_or_not_regular(&dangling).unwrap());
        assert!(read_regular_bounded(&dangling, 10)
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(KEYSTORE_LIMIT), "64 MiB");
        assert_eq!(human_size(PASSWORD_FILE_LIMIT), "64 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
