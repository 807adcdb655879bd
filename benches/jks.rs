//! JKS codec figures: `cargo bench --bench jks`. Prints medians; asserts nothing about time.
//!
//! Targets: parse + write of a 10,000-entry JKS at most 20 ms; `azure-cacerts list` of a
//! copy of Debian's cacerts (tests/fixtures/cacerts-debian.jks) under 20 ms wall time (as a
//! whole process).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use azure_cacerts::keystore::jks::JksStore;
use sha1::{Digest, Sha1};

const PW: &str = "changeit";
const ENTRIES: usize = 10_000;
const RUNS: usize = 15;

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn min_ms(v: &[Duration]) -> f64 {
    v.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The sample test CA when ../shared is there, else a certificate-sized DER stand-in (the
/// codec never parses certificates).
fn cert_der() -> Vec<u8> {
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/keystore-samples/test-ca.der");
    std::fs::read(sample).unwrap_or_else(|_| {
        let mut v = vec![0x30, 0x82, 0x01, 0xD5];
        v.resize(0x1D5 + 4, 0xA5);
        v
    })
}

/// An empty JKS (header and digest), built by hand so the bench needs no sample file.
fn empty_jks() -> Vec<u8> {
    let mut v = vec![0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 0];
    let mut h = Sha1::new();
    for u in PW.encode_utf16() {
        h.update(u.to_be_bytes());
    }
    h.update(b"Mighty Aphrodite");
    h.update(&v);
    v.extend_from_slice(&h.finalize());
    v
}

fn time<T>(mut f: impl FnMut() -> T) -> Vec<Duration> {
    black_box(f()); // warm-up
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect()
}

fn codec() {
    let der = cert_der();
    let mut ks = JksStore::parse(&empty_jks(), Some(PW)).expect("empty store");
    let t = Instant::now();
    for i in 0..ENTRIES {
        ks.add_trusted_cert(
            &format!("bench-ca-{i:05}"),
            &der,
            1_764_064_800_000 + i as i64,
        )
        .expect("distinct aliases");
    }
    let add = t.elapsed();
    let bytes = ks.to_bytes(PW);
    println!(
        "JKS with {ENTRIES} trusted certs ({} bytes, {} bytes per cert); {RUNS} runs, median (min):",
        bytes.len(),
        der.len()
    );
    println!(
        "  building by add_trusted_cert:  {:8.2} ms (once)",
        add.as_secs_f64() * 1000.0
    );

    let parse = time(|| JksStore::parse(&bytes, Some(PW)).expect("parses"));
    let parsed = JksStore::parse(&bytes, Some(PW)).expect("parses");
    assert_eq!(parsed.entries().len(), ENTRIES);
    let write = time(|| parsed.to_bytes(PW));
    assert_eq!(parsed.to_bytes(PW), bytes, "round trip");
    let both = time(|| {
        JksStore::parse(&bytes, Some(PW))
            .expect("parses")
            .to_bytes(PW)
    });
    println!(
        "  parse (digest verified):       {:8.2} ms ({:.2})",
        median_ms(parse.clone()),
        min_ms(&parse)
    );
    println!(
        "  to_bytes:                      {:8.2} ms ({:.2})",
        median_ms(write.clone()),
        min_ms(&write)
    );
    println!(
        "  parse + to_bytes:              {:8.2} ms ({:.2})   target <= 20 ms",
        median_ms(both.clone()),
        min_ms(&both)
    );
}

fn binary() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let release = target.join("release").join("azure-cacerts");
    if release.is_file() {
        return Some(release);
    }
    std::env::var_os("AZURE_CACERTS_BIN")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

fn list_process() {
    // A copy in the repository: the same file on every machine, and never the system's own.
    let cacerts = &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cacerts-debian.jks");
    let Some(bin) = binary() else {
        println!(
            "list of cacerts: skipped, no binary: build target/release/azure-cacerts (cargo build --release) or set AZURE_CACERTS_BIN"
        );
        return;
    };
    let run = || {
        let status = Command::new(&bin)
            .args(["list", "-k"])
            .arg(cacerts)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("NO_COLOR", "1")
            .status()
            .expect("the binary runs");
        assert!(status.success(), "{} list failed: {status}", bin.display());
    };
    let wall = time(run);
    println!(
        "`{} list -k {}` (whole process, {RUNS} runs): median {:.2} ms (min {:.2})   target < 20 ms",
        bin.display(),
        cacerts.display(),
        median_ms(wall.clone()),
        min_ms(&wall)
    );
}

fn main() {
    codec();
    list_process();
}
