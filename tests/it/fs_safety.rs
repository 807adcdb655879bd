//! File-system safety of the write path (issue 15: no leak, no lie, no hang), through the
//! library API: modes at creation under a permissive umask, symlinks at the lock path, lock
//! errors a non-root user gets, a run killed mid-write, FIFOs, devices and symlinked bundle
//! entries. Self-contained: its helpers are below.
//!
//! Some tests run again in a child process (this test binary, one test, an environment
//! variable saying so): under `umask 000`, as user `nobody`, or to be killed half-way.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use azure_cacerts::fsio::{self, FileKind, FsioError};
use azure_cacerts::lock::{self, LockError};
use azure_cacerts::write::{self, Backup, ReplaceOptions, Stage, WriteWarning};

/// Set in a child process to the name of the test it runs.
const CHILD: &str = "AZURE_CACERTS_FS_SAFETY_CHILD";
/// A directory the parent hands to the child.
const CHILD_DIR: &str = "AZURE_CACERTS_FS_SAFETY_DIR";

fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|t| t == test)
}

/// Runs `test` of this binary in a child: `wrapper` (e.g. `["sh", "-c", "umask 000 && exec \"$@\"", "sh"]`)
/// followed by this binary and its arguments.
fn run_child(test: &str, wrapper: &[&str], dir: &Path) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    let (prog, pre) = wrapper.split_first().unwrap();
    // The test's path inside the one integration-test binary: `fs_safety::<test>`.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let full = format!("{module}::{test}");
    Command::new(prog)
        .args(pre)
        .arg(exe)
        .args([full.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env(CHILD_DIR, dir)
        .output()
        .unwrap()
}

/// The child ran `test` (and not zero tests) and it passed.
fn assert_child_passed(o: &std::process::Output) {
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("test result: ok. 1 passed"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn child_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(CHILD_DIR).unwrap())
}

fn mode_of(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn accept(_: &[u8]) -> Result<(), String> {
    Ok(())
}

fn options<'a>(backup: Backup, fault: Option<write::FaultHook<'a>>) -> ReplaceOptions<'a> {
    ReplaceOptions {
        backup,
        stamp: "20261125T101500".into(),
        verify: &accept,
        fault,
    }
}

fn keystore(dir: &Path, mode: u32) -> PathBuf {
    let p = dir.join("cacerts");
    fs::write(&p, b"old keystore").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

fn mkfifo(p: &Path) {
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

/// `f` in a thread, failing (instead of hanging the test run) when it blocks.
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("blocked for 10 seconds")
}

// ---- 1. modes at creation

#[test]
fn under_umask_000_no_file_is_ever_wider_than_the_keystore() {
    const NAME: &str = "under_umask_000_no_file_is_ever_wider_than_the_keystore";
    if !is_child(NAME) {
        let d = tempfile::tempdir().unwrap();
        let o = run_child(
            NAME,
            &["sh", "-c", "umask 000 && exec \"$@\"", "sh"],
            d.path(),
        );
        assert_child_passed(&o);
        return;
    }
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !status.is_empty() {
        assert!(
            status.contains("Umask:\t0000"),
            "the child's umask is not 000"
        );
    }
    for ks_mode in [0o600, 0o640] {
        let d = tempfile::tempdir_in(child_dir()).unwrap();
        let ks = keystore(d.path(), ks_mode);
        // The lock: created 0600.
        let guard = lock::acquire(&lock::default_lock_path(&ks), Duration::ZERO).unwrap();
        assert_eq!(mode_of(guard.path()), 0o600);
        let seen = Mutex::new(Vec::new());
        let hook = |stage: Stage, path: &Path| -> io::Result<()> {
            if stage != Stage::SyncDir {
                seen.lock().unwrap().push((stage, mode_of(path)));
            }
            Ok(())
        };
        let r = write::replace(
            &ks,
            b"old keystore",
            b"new keystore",
            &options(Backup::Beside, Some(&hook)),
        )
        .unwrap();
        let seen = seen.into_inner().unwrap();
        for (stage, mode) in &seen {
            assert_eq!(
                mode & !ks_mode,
                0,
                "{stage:?}: {mode:o}, wider than the {ks_mode:o} keystore ({seen:?})"
            );
            if matches!(stage, Stage::TempCreated | Stage::BackupCreated) {
                assert_eq!(*mode, 0o600, "{stage:?} ({seen:?})");
            }
        }
        assert!(seen.iter().any(|(s, _)| *s == Stage::TempCreated));
        assert!(seen.iter().any(|(s, _)| *s == Stage::BackupCreated));
        assert_eq!(mode_of(&ks), ks_mode);
        assert_eq!(mode_of(r.backup.as_ref().unwrap()), ks_mode);
        drop(guard);
    }
}

// ---- 2. symlinks at the names we create

#[test]
fn a_dangling_symlink_at_the_lock_path_creates_nothing() {
    let d = tempfile::tempdir().unwrap();
    let ks = keystore(d.path(), 0o644);
    let lock_path = lock::default_lock_path(&ks);
    let target = d.path().join("created-by-root");
    std::os::unix::fs::symlink(&target, &lock_path).unwrap();
    let e = lock::acquire(&lock_path, Duration::from_millis(100)).unwrap_err();
    assert!(matches!(e, LockError::Symlink { .. }), "{e}");
    assert!(!e.is_busy());
    assert_eq!(
        e.to_string(),
        format!(
            "the lock file {} is a symbolic link; refusing to follow it",
            lock_path.display()
        )
    );
    assert!(!target.exists());
}

// ---- 5. a lock that cannot be created is not "locked"

#[test]
fn a_lock_a_user_may_not_create_is_permission_denied_not_busy() {
    const NAME: &str = "a_lock_a_user_may_not_create_is_permission_denied_not_busy";
    if !is_child(NAME) {
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !is_root || Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: needs root and setpriv to run a child as nobody");
            return;
        }
        // A directory nobody may enter but not write, as /usr/lib/jvm/.../security is.
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
        keystore(d.path(), 0o644);
        let o = run_child(
            NAME,
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            d.path(),
        );
        assert_child_passed(&o);
        return;
    }
    let ks = child_dir().join("cacerts");
    let e = lock::acquire(&lock::default_lock_path(&ks), Duration::from_millis(200)).unwrap_err();
    assert!(matches!(e, LockError::PermissionDenied { .. }), "{e:?}");
    assert!(!e.is_busy());
    assert!(e.to_string().ends_with("permission denied"), "{e}");
}

// ---- 6. killed half-way

#[test]
fn a_run_killed_while_writing_the_backup_leaves_no_bak_and_the_next_run_cleans_up() {
    const NAME: &str =
        "a_run_killed_while_writing_the_backup_leaves_no_bak_and_the_next_run_cleans_up";
    if is_child(NAME) {
        let ks = child_dir().join("cacerts");
        let die = |stage: Stage, _: &Path| -> io::Result<()> {
            if stage == Stage::WriteBackup {
                std::process::abort(); // as a kill -9 would, with the backup not yet written
            }
            Ok(())
        };
        let _ = write::replace(
            &ks,
            b"old keystore",
            b"new keystore",
            &options(Backup::Beside, Some(&die)),
        );
        unreachable!("the hook aborts");
    }
    let d = tempfile::tempdir().unwrap();
    let ks = keystore(d.path(), 0o640);
    let o = run_child(NAME, &["env"], d.path());
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stdout).contains("running 1 test"),
        "the child was to be killed"
    );
    let left = names(d.path());
    assert!(!left.iter().any(|n| n.contains(".bak")), "{left:?}");
    let strays: Vec<_> = left
        .iter()
        .filter(|n| n.starts_with(".cacerts.azure-cacerts-tmp."))
        .collect();
    assert_eq!(strays.len(), 1, "{left:?}");
    let stray = fs::canonicalize(d.path()).unwrap().join(strays[0]);
    assert_eq!(mode_of(&stray), 0o640);
    assert_eq!(fs::read(&ks).unwrap(), b"old keystore");

    // The next run, soon after: the stray is reported (it is too young to be sure).
    let r = write::replace(
        &ks,
        b"old keystore",
        b"new keystore",
        &options(Backup::None, None),
    )
    .unwrap();
    assert!(r.stray_removed.is_empty());
    assert!(
        matches!(&r.warnings[..], [WriteWarning::StrayKept { path, .. }] if *path == stray),
        "{:?}",
        r.warnings
    );
    // An hour later: removed, and said so.
    let f = fs::File::options().write(true).open(&stray).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    drop(f);
    let r = write::replace(
        &ks,
        b"new keystore",
        b"newer keystore",
        &options(Backup::Beside, None),
    )
    .unwrap();
    assert_eq!(r.stray_removed, vec![stray]);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        names(d.path()),
        vec!["cacerts", "cacerts.20261125T101500.bak"]
    );
}

// ---- 9. reading files someone else controls

#[test]
fn fifos_devices_and_directories_are_refused_by_kind_without_blocking() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("storepass");
    mkfifo(&fifo);
    let f = fifo.clone();
    let e =
        within_10s(move || fsio::read_regular_bounded(&f, fsio::PASSWORD_FILE_LIMIT)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{} is a FIFO, not a regular file", fifo.display())
    );
    for (p, kind) in [
        (PathBuf::from("/dev/zero"), FileKind::CharDevice),
        (PathBuf::from("/dev/null"), FileKind::CharDevice),
        (d.path().to_path_buf(), FileKind::Directory),
    ] {
        let e = fsio::read_regular_bounded(&p, fsio::KEYSTORE_LIMIT).unwrap_err();
        assert!(
            matches!(&e, FsioError::NotRegular { kind: k, .. } if *k == kind),
            "{e}"
        );
    }
    // A FIFO in place of the keystore: replace refuses it, and does not hang.
    let ks = d.path().join("cacerts");
    mkfifo(&ks);
    let k = ks.clone();
    let r = within_10s(move || {
        write::replace(&k, b"old", b"new", &options(Backup::Beside, None)).map(|_| ())
    });
    assert!(r.unwrap_err().to_string().contains("FIFO"));
}

#[test]
fn a_file_larger_than_the_limit_is_not_read_into_memory() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("storepass");
    fs::write(&p, vec![b'x'; 70 * 1024]).unwrap();
    let e = fsio::read_regular_bounded(&p, fsio::PASSWORD_FILE_LIMIT).unwrap_err();
    assert!(matches!(e, FsioError::TooLarge { .. }));
    assert_eq!(
        e.to_string(),
        format!("{} is larger than 64 KiB; it was not read", p.display())
    );
}

#[test]
fn a_bundle_entry_that_is_a_symlink_is_refused_without_quoting_its_target() {
    let d = tempfile::tempdir().unwrap();
    let shadow = d.path().join("shadow");
    fs::write(
        &shadow,
        b"root:$6$abcdefghijklmnopqrstuvwx:19000:0:99999:7:::",
    )
    .unwrap();
    fs::create_dir(d.path().join("pem")).unwrap();
    let entry = d.path().join("pem/digicert-global-root-g2.pem");
    std::os::unix::fs::symlink(&shadow, &entry).unwrap();
    assert!(fsio::is_symlink_or_not_regular(&entry).unwrap());
    let e = fsio::read_regular_no_follow(&entry, fsio::PEM_LIMIT).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.ends_with("is a symbolic link, not a regular file"),
        "{msg}"
    );
    assert!(!msg.contains("root:") && !msg.contains("abcdef"), "{msg}");
    let real = d.path().join("pem/real.pem");
    fs::write(&real, b"-----BEGIN CERTIFICATE-----\n").unwrap();
    assert!(!fsio::is_symlink_or_not_regular(&real).unwrap());
    assert_eq!(
        fsio::read_regular_no_follow(&real, fsio::PEM_LIMIT).unwrap(),
        b"-----BEGIN CERTIFICATE-----\n"
    );
}
