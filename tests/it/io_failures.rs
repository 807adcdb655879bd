//! Failure paths of the command line as a person meets them: output that cannot be written,
//! special files where a regular one belongs, a run that fails before any keystore is
//! touched. Every case ends with a clear message, a non-zero exit and bounded time.
#![cfg(unix)]

use std::fs::{File, OpenOptions};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use azure_cacerts::keystore::Keystore;

use crate::common::{self, bin, copy_to_temp, sample, stderr};

fn dev_full() -> File {
    OpenOptions::new().write(true).open("/dev/full").unwrap()
}

fn entries(path: &std::path::Path) -> usize {
    Keystore::parse(&std::fs::read(path).unwrap(), None, Some("changeit"))
        .unwrap()
        .entries()
        .len()
}

#[test]
fn import_to_a_full_disk_says_the_keystore_was_updated() {
    let (_d, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let out = bin()
        .args(["import", "-k"])
        .arg(&ks)
        .stdout(dev_full())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write the output"), "{err}");
    assert!(err.contains("WAS updated"), "{err}");
    assert!(entries(&ks) > 2, "the import itself happened");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn json_that_cannot_be_written_is_a_failure_and_stderr_full_is_no_panic() {
    let ks = sample("jks-jdk17.jks");
    let out = bin()
        .args(["list", "--format", "json", "-k"])
        .arg(&ks)
        .stdout(dev_full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = bin()
        .args(["list", "-k", "/nonexistent/cacerts"])
        .stderr(dev_full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = bin()
        .args(["list", "-k"])
        .arg(common::debian_cacerts().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read nothing: close our end at once.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn special_files_are_refused_at_once() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let ks = sample("jks-jdk17.jks");
    let cases: Vec<(Vec<std::ffi::OsString>, i32, &str)> = vec![
        (
            vec!["list".into(), "-k".into(), fifo.clone().into()],
            3,
            "FIFO",
        ),
        (
            vec!["list".into(), "-k".into(), "/dev/zero".into()],
            3,
            "character device",
        ),
        (
            vec![
                "list".into(),
                "-k".into(),
                ks.clone().into(),
                "--storepass-file".into(),
                fifo.clone().into(),
            ],
            2,
            "FIFO",
        ),
        (
            vec![
                "list".into(),
                "-k".into(),
                ks.clone().into(),
                "--storepass-file".into(),
                "/dev/zero".into(),
            ],
            2,
            "character device",
        ),
        (
            vec![
                "refresh".into(),
                "--offline".into(),
                "--config".into(),
                fifo.clone().into(),
            ],
            2,
            "FIFO",
        ),
        (
            vec![
                "check".into(),
                "-k".into(),
                ks.clone().into(),
                "--chain".into(),
                fifo.clone().into(),
            ],
            2,
            "FIFO",
        ),
    ];
    for (args, code, needle) in cases {
        let started = Instant::now();
        let out = bin().args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} took too long"
        );
    }
}

#[test]
fn a_refresh_whose_catalog_fails_is_logged() {
    let (d, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let log = d.path().join("refresh.log");
    let bundle = d.path().join("no-such-bundle");
    let out = bin()
        .args(["refresh", "--bundle"])
        .arg(&bundle)
        .arg("-k")
        .arg(&ks)
        .arg("--log-file")
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("result=error exit=2"), "{text}");
    assert!(text.contains(&ks.display().to_string()), "{text}");
}
