//! The doctor's Java check when jre/release is missing: it runs `jre/bin/java -version` and
//! nothing else, and only then. A fake `java` script stands in for the runtime.
//!
//! One test in its own binary: a script written and then executed while another test thread
//! forks can fail with "text file busy".
#![cfg(unix)]

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use azure_cacerts::doctor::{self, CheckId, Status};
use common::*;
use serde_json::Value;

fn fake_java(home: &Path, body: &str) {
    let bin_dir = home.join("jre/bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let exe = bin_dir.join("java");
    fs::write(&exe, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
}

fn java_check(home: &Path) -> Value {
    let o = bin()
        .args(["doctor", "--format", "json", "--pimsync-home"])
        .arg(home)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "java")
        .unwrap()
        .clone()
}

#[test]
fn java_version_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for d in ["config", "log", "jre/lib/security"] {
        fs::create_dir_all(home.join(d)).unwrap();
    }
    copy_writable(
        &sample("jks-jdk17.jks"),
        &home.join("jre/lib/security/cacerts"),
    );
    let ran = home.join("ran");
    let record = format!(
        "echo \"$@\" >> '{}'\necho 'Picked up JAVA_TOOL_OPTIONS: -Dx' >&2\necho 'openjdk version \"1.8.0_72\"' >&2\necho 'OpenJDK Runtime Environment (build 1.8.0_72-b15)' >&2",
        ran.display()
    );
    fake_java(home, &record);

    // No release file: the version comes from `java -version`, run once with that argument.
    let c = java_check(home);
    assert_eq!(c["status"], "problem", "{c:#}");
    assert_eq!(c["java_version"], "1.8.0_72");
    assert_eq!(c["version_source"], "jre/bin/java -version");
    assert_eq!(fs::read_to_string(&ran).unwrap(), "-version\n");

    // A release file without JAVA_VERSION: unknown, and java is not run.
    fs::remove_file(&ran).unwrap();
    fs::write(home.join("jre/release"), "IMPLEMENTOR=\"x\"\n").unwrap();
    let c = java_check(home);
    assert_eq!(c["status"], "unknown", "{c:#}");
    assert!(!ran.exists(), "java must not run when jre/release exists");
    fs::remove_file(home.join("jre/release")).unwrap();

    // A runtime that fails without a version: unknown.
    fake_java(home, "echo 'Error: broken' >&2\nexit 1");
    let c = java_check(home);
    assert_eq!(c["status"], "unknown", "{c:#}");

    // A runtime that hangs is given up on (library call, short deadline).
    fake_java(home, "exec sleep 30");
    let mut opts = doctor::Options::new(home);
    opts.java_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let report = doctor::diagnose(&opts);
    assert!(started.elapsed() < Duration::from_secs(10));
    let c = report.get(CheckId::Java).unwrap();
    assert_eq!(c.status, Status::Unknown, "{c:?}");
    assert!(c.detail.contains("did not finish"), "{}", c.detail);

    // Neither source: unknown.
    fs::remove_file(home.join("jre/bin/java")).unwrap();
    let c = java_check(home);
    assert_eq!(c["status"], "unknown", "{c:#}");
    assert!(c["detail"]
        .as_str()
        .unwrap()
        .contains("no jre/release and no jre/bin/java"));
}
