//! PKCS12 codec figures (no harness, no assertions): `cargo bench --bench pkcs12`.
//!
//! 1. Read + append one certificate + write, on the 144-entry password-less cacerts.
//! 2. The same on a password-protected store (PBES2/AES-256, HmacPBESHA256 MAC, 10,000
//!    iterations) holding 1,000 trusted certificates, built by appending in batches to
//!    pkcs12-default-jdk25.p12.
//!
//! Each prints the wall time (median of several runs) and how many password-based KDF runs
//! a read and a write cost: a small constant, not one per entry.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use azure_cacerts::keystore::pkcs12::{kdf_runs, Pkcs12Store};

const PASSWORD: &str = "changeit";

fn sample(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/keystore-samples");
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Timing {
    read: Duration,
    append: Duration,
    write: Duration,
    read_kdf: usize,
    write_kdf: usize,
    out_len: usize,
}

fn cycle(data: &[u8], password: Option<&str>, cert: &[u8]) -> Timing {
    let k0 = kdf_runs();
    let t0 = Instant::now();
    let mut store = Pkcs12Store::parse(data, password).expect("parse");
    let t1 = Instant::now();
    let k1 = kdf_runs();
    store
        .add_trusted_cert("bench-new-ca", cert, 0)
        .expect("add");
    let t2 = Instant::now();
    let out = store.to_bytes(password).expect("write");
    let t3 = Instant::now();
    Timing {
        read: t1 - t0,
        append: t2 - t1,
        write: t3 - t2,
        read_kdf: k1 - k0,
        write_kdf: kdf_runs() - k1,
        out_len: out.len(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(title: &str, data: &[u8], password: Option<&str>, cert: &[u8], runs: usize) {
    let timings: Vec<Timing> = (0..runs).map(|_| cycle(data, password, cert)).collect();
    let entries = Pkcs12Store::parse(data, password)
        .expect("parse")
        .entries()
        .len();
    let last = timings.last().expect("runs > 0");
    println!("{title}");
    println!(
        "  input: {} bytes, {entries} entries; output {} bytes",
        data.len(),
        last.out_len
    );
    println!(
        "  read {:>10.3?}   append 1 {:>10.3?}   write {:>10.3?}   (median of {runs})",
        median(timings.iter().map(|t| t.read).collect()),
        median(timings.iter().map(|t| t.append).collect()),
        median(timings.iter().map(|t| t.write).collect()),
    );
    println!(
        "  KDF runs: read {}, write {}",
        last.read_kdf, last.write_kdf
    );
}

fn main() {
    let cacerts = sample("cacerts-debian-nopass-jdk25.p12");
    let certs: Vec<Vec<u8>> = Pkcs12Store::parse(&cacerts, None)
        .expect("cacerts")
        .entries()
        .iter()
        .map(|e| e.certs[0].clone())
        .collect();
    let new_cert = sample("edge-cases/ca2.der");

    report(
        "password-less cacerts (cacerts-debian-nopass-jdk25.p12)",
        &cacerts,
        None,
        &new_cert,
        21,
    );

    // 1,000 trusted certificates in four batches of 250 (the Debian roots, repeated under
    // other aliases: the codec does not care that a certificate appears twice).
    let mut data = sample("pkcs12-default-jdk25.p12");
    let built = Instant::now();
    let mut build_kdf = Vec::new();
    for batch in 0..4 {
        let mut store = Pkcs12Store::parse(&data, Some(PASSWORD)).expect("parse");
        for i in 0..250 {
            let n = batch * 250 + i;
            store
                .add_trusted_cert(&format!("bench-{n:04}"), &certs[n % certs.len()], 0)
                .expect("add");
        }
        let k = kdf_runs();
        data = store.to_bytes(Some(PASSWORD)).expect("write");
        build_kdf.push(kdf_runs() - k);
    }
    println!();
    println!(
        "built the 1,000-certificate protected store in {:.3?} (4 writes of 250 certificates, KDF runs per write: {build_kdf:?})",
        built.elapsed()
    );
    report(
        "password-protected PKCS12 (PBES2 PBKDF2-HmacSHA256/AES-256-CBC, MAC HmacPBESHA256, 10,000 iterations), 1,000 trusted certs",
        &data,
        Some(PASSWORD),
        &new_cert,
        7,
    );
}
