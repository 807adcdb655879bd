//! Helpers shared by the integration tests: the samples, the JDKs, running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The files the tests read, all inside the repository (tests/fixtures/README.md says where
/// each came from).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The keystores made by keytool 17 and 25 (every password `changeit` unless the
/// samples' README says otherwise).
pub fn samples_dir() -> PathBuf {
    fixtures_dir().join("keystore-samples")
}

pub fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

/// Microsoft's CA list as data (manifest, page copy, verified PEMs): the source of certs/.
pub fn azure_ca_dir() -> PathBuf {
    fixtures_dir().join("azure-ca")
}

/// A copy of Debian 12's JKS cacerts (ca-certificates-java 20230710~deb12u1, 144 trusted certificates, password changeit).
pub fn debian_cacerts() -> Option<PathBuf> {
    Some(fixtures_dir().join("cacerts-debian.jks"))
}

/// Every keytool to check against: JDK 17 and Temurin 25 where installed, else the one on
/// PATH. In CI (CI set) a machine with no keytool is a failure, not a skip.
pub fn keytools() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = [
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool",
        "/usr/lib/jvm/temurin-25-jdk-amd64/bin/keytool",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_file())
    .collect();
    if found.is_empty() {
        if let Some(p) = which("keytool") {
            found.push(p);
        }
    }
    if found.is_empty() && std::env::var_os("CI").is_some() {
        panic!("no keytool on this machine: CI must install a JDK (.ci/run does)");
    }
    found
}

/// The `java` launcher next to a keytool.
pub fn java_beside(keytool: &Path) -> PathBuf {
    keytool.with_file_name("java")
}

pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs keytool with the given arguments (no stdin) and returns its output.
pub fn keytool(keytool: &Path, args: &[&str]) -> Output {
    Command::new(keytool)
        .args(args)
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("keytool runs")
}

/// The azure-cacerts binary built for these tests.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_azure-cacerts"));
    c.env_remove("PIMSYNC_HOME")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env("NO_COLOR", "1");
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies a file into a fresh temporary directory (tests never write the originals).
pub fn copy_to_temp(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join(src.file_name().expect("file name"));
    std::fs::copy(src, &dst).expect("copy sample");
    let mut perms = std::fs::metadata(&dst).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&dst, perms).unwrap();
    (dir, dst)
}

/// Copies a (read-only) sample to `dst` and makes the copy writable.
pub fn copy_writable(src: &Path, dst: &Path) {
    std::fs::copy(src, dst).expect("copy sample");
    let mut perms = std::fs::metadata(dst).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(dst, perms).unwrap();
}

/// A copy of the JDK 17 sample JKS (password changeit) with these trusted certificates added.
pub fn jks_with(path: &Path, anchors: &[(&str, &[u8])]) {
    let data = std::fs::read(sample("jks-jdk17.jks")).unwrap();
    let mut ks = azure_cacerts::keystore::Keystore::parse(&data, None, Some("changeit")).unwrap();
    for (alias, der) in anchors {
        ks.add_trusted_cert(alias, der, 1_764_064_800_000).unwrap();
    }
    std::fs::write(path, ks.to_bytes(Some("changeit")).unwrap()).unwrap();
}
