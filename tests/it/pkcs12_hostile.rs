//! Hostile PKCS12 input: truncated and mutated samples never panic, lengths are never
//! trusted, and absurd iteration counts are refused before any work is done.

use crate::common;
use crate::support::der::{int, seq, tlv};

use std::time::{Duration, Instant};

use azure_cacerts::keystore::pkcs12::{Pkcs12Store, MAX_ITERATIONS};
use azure_cacerts::keystore::{Keystore, KeystoreError, StoreType};
use proptest::prelude::*;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(common::sample(name)).unwrap()
}

// ---------------------------------------------------------------------------------------
// A small DER builder, to make files the codec's own writer never would.

const OID_DATA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01,
];
const OID_ENCRYPTED_DATA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x06,
];
const OID_SIGNED_DATA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
];
const OID_PBES2: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D,
];
const OID_PBKDF2: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C,
];
const OID_HMAC_SHA256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
const OID_AES256_CBC: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A,
];
const OID_SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const OID_SHA1: &[u8] = &[0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A];

fn pfx(version: u64, content_infos: &[Vec<u8>], mac: Option<Vec<u8>>) -> Vec<u8> {
    let parts: Vec<&[u8]> = content_infos.iter().map(Vec::as_slice).collect();
    let auth_safe = seq(&parts);
    let auth = seq(&[OID_DATA, &tlv(0xA0, &tlv(0x04, &auth_safe))]);
    seq(&[&int(version), &auth, &mac.unwrap_or_default()])
}

fn mac_data(digest_oid: &[u8], iterations: u64) -> Vec<u8> {
    let alg = seq(&[digest_oid, &[0x05, 0x00]]);
    let di = seq(&[&alg, &tlv(0x04, &[0u8; 32])]);
    seq(&[&di, &tlv(0x04, &[7u8; 20]), &int(iterations)])
}

fn pbes2_encrypted_data(iterations: u64) -> Vec<u8> {
    let prf = seq(&[OID_HMAC_SHA256, &[0x05, 0x00]]);
    let kdf_params = seq(&[&tlv(0x04, &[1u8; 20]), &int(iterations), &int(32), &prf]);
    let kdf = seq(&[OID_PBKDF2, &kdf_params]);
    let enc = seq(&[OID_AES256_CBC, &tlv(0x04, &[2u8; 16])]);
    let alg = seq(&[OID_PBES2, &seq(&[&kdf, &enc])]);
    let eci = seq(&[OID_DATA, &alg, &tlv(0x80, &[3u8; 64])]);
    seq(&[OID_ENCRYPTED_DATA, &tlv(0xA0, &seq(&[&int(0), &eci]))])
}

fn empty_data_content() -> Vec<u8> {
    seq(&[OID_DATA, &tlv(0xA0, &tlv(0x04, &seq(&[])))])
}

fn quick<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    out
}

// ---------------------------------------------------------------------------------------
// Explicit cases

#[test]
fn the_builder_makes_files_the_codec_reads() {
    // Guards the cases below: without the hostile part, the synthetic file is fine.
    let ok = pfx(3, &[empty_data_content()], None);
    let s = Pkcs12Store::parse(&ok, Some("changeit")).unwrap();
    assert!(s.entries().is_empty() && s.is_passwordless());
    assert_eq!(s.to_bytes(None).unwrap(), ok);
}

#[test]
fn a_mac_iteration_count_of_2_pow_31_is_refused_quickly() {
    for iterations in [
        1u64 << 31,
        u64::from(u32::MAX),
        u64::MAX,
        MAX_ITERATIONS + 1,
    ] {
        let file = pfx(
            3,
            &[empty_data_content()],
            Some(mac_data(OID_SHA256, iterations)),
        );
        let r = quick(|| Pkcs12Store::parse(&file, Some("changeit")));
        assert!(
            matches!(r, Err(KeystoreError::Unsupported(_))),
            "{iterations}: {r:?}"
        );
        // Without a password the MAC is not looked at, as in Java.
        let s = quick(|| Pkcs12Store::parse(&file, None)).unwrap();
        assert!(!s.is_verified() && !s.is_passwordless());
    }
    // At the limit it would run, so it is parsed (and then fails on the MAC value).
    let file = pfx(3, &[empty_data_content()], Some(mac_data(OID_SHA1, 1)));
    assert!(matches!(
        Pkcs12Store::parse(&file, Some("changeit")),
        Err(KeystoreError::WrongPassword(_))
    ));
}

#[test]
fn the_real_sample_with_a_huge_mac_iteration_count_is_refused() {
    // pkcs12-default-jdk17.p12 ends with the MAC iteration count INTEGER 10000 (02 02 27 10);
    // rebuild the MacData with 2^31 and fix up the enclosing lengths.
    let data = sample("pkcs12-default-jdk17.p12");
    assert_eq!(&data[data.len() - 4..], &[0x02, 0x02, 0x27, 0x10]);
    let (version, auth, mac) = split_pfx(&data);
    let mac_body = body(&mac);
    let (di, rest) = next(mac_body);
    let (salt, _) = next(rest);
    let new_mac = seq(&[&di, &salt, &int(1 << 31)]);
    let file = seq(&[&version, &auth, &new_mac]);
    let r = quick(|| Keystore::parse(&file, None, Some("changeit")));
    assert!(
        matches!(r, Err(KeystoreError::Unsupported(ref m)) if m.contains("iteration")),
        "{r:?}"
    );
}

#[test]
fn a_huge_pbes2_iteration_count_is_refused_quickly() {
    for iterations in [1u64 << 31, MAX_ITERATIONS + 1] {
        let file = pfx(3, &[pbes2_encrypted_data(iterations)], None);
        let r = quick(|| Pkcs12Store::parse(&file, Some("changeit")));
        assert!(matches!(r, Err(KeystoreError::Unsupported(_))), "{r:?}");
        // Java skips EncryptedData without a password; so do we.
        let s = quick(|| Pkcs12Store::parse(&file, None)).unwrap();
        assert!(s.entries().is_empty());
    }
}

#[test]
fn many_capped_iteration_counts_are_refused_as_a_whole() {
    let eds: Vec<Vec<u8>> = (0..10)
        .map(|_| pbes2_encrypted_data(MAX_ITERATIONS))
        .collect();
    let file = pfx(3, &eds, Some(mac_data(OID_SHA256, MAX_ITERATIONS)));
    let r = quick(|| Pkcs12Store::parse(&file, Some("changeit")));
    assert!(
        matches!(r, Err(KeystoreError::Unsupported(ref m)) if m.contains("in total")),
        "{r:?}"
    );
}

#[test]
fn truncated_files_are_reported_as_truncated() {
    for name in [
        "pkcs12-default-jdk25.p12",
        "pkcs12-legacy-jdk17.p12",
        "pkcs12-nopass-jdk25.p12",
    ] {
        let data = sample(name);
        for cut in [2, 3, 4, 10, 100, data.len() / 2, data.len() - 1] {
            for pw in [None, Some("changeit")] {
                let r = Pkcs12Store::parse(&data[..cut], pw);
                assert!(
                    matches!(r, Err(KeystoreError::Truncated(_))),
                    "{name} cut at {cut}: {r:?}"
                );
            }
        }
    }
    assert!(matches!(
        Keystore::parse(&[0x30], None, None),
        Err(KeystoreError::Truncated(_))
    ));
    assert!(matches!(
        Keystore::parse(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], None, None),
        Err(KeystoreError::Truncated(_))
    ));
}

#[test]
fn structural_oddities_are_errors_not_panics() {
    let ok = pfx(3, &[empty_data_content()], None);
    // Trailing bytes.
    let mut trailing = ok.clone();
    trailing.push(0);
    assert!(matches!(
        Pkcs12Store::parse(&trailing, None),
        Err(KeystoreError::Malformed(_))
    ));
    // Version 2.
    assert!(matches!(
        Pkcs12Store::parse(&pfx(2, &[empty_data_content()], None), None),
        Err(KeystoreError::Unsupported(_))
    ));
    // BER indefinite length without its end-of-contents (BER is read since issue 13, so
    // this is a cut file now, no longer "unsupported"); with it, the file reads.
    let mut indefinite = ok.clone();
    indefinite[1] = 0x80;
    assert!(matches!(
        Pkcs12Store::parse(&indefinite, None),
        Err(KeystoreError::Truncated(_))
    ));
    indefinite.extend([0, 0]);
    assert!(Pkcs12Store::parse(&indefinite, None).is_ok());
    // Not a SEQUENCE inside.
    assert!(matches!(
        Pkcs12Store::parse(&tlv(0x30, &tlv(0x04, b"x")), None),
        Err(KeystoreError::Malformed(_))
    ));
    // Public-key integrity mode.
    let signed = seq(&[&int(3), &seq(&[OID_SIGNED_DATA, &tlv(0xA0, &seq(&[]))])]);
    assert!(matches!(
        Pkcs12Store::parse(&signed, None),
        Err(KeystoreError::Unsupported(_))
    ));
}

#[test]
fn wrong_oids_are_refused_or_ignored_as_java_does() {
    let data = sample("pkcs12-default-jdk25.p12");
    let replace_first = |from: &[u8], to: &[u8]| -> Vec<u8> {
        let at = data
            .windows(from.len())
            .position(|w| w == from)
            .expect("OID present");
        let mut d = data.clone();
        d[at..at + from.len()].copy_from_slice(to);
        d
    };
    // The PBES2 OID of the key bag (first occurrence) and of the EncryptedData (second)
    // are covered by the MAC: with the password, a MAC mismatch; without, the key bag is
    // opaque anyway.
    let pbes2_to_unknown = replace_first(
        OID_PBES2,
        &[
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x7F,
        ],
    );
    assert!(matches!(
        Pkcs12Store::parse(&pbes2_to_unknown, Some("changeit")),
        Err(KeystoreError::WrongPassword(_))
    ));
    assert!(Pkcs12Store::parse(&pbes2_to_unknown, None).is_ok());
    // The MAC digest OID is outside the MAC: refused as unknown.
    let sha256_to_unknown = replace_first(
        OID_SHA256,
        &[
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x7F,
        ],
    );
    assert!(matches!(
        Pkcs12Store::parse(&sha256_to_unknown, Some("changeit")),
        Err(KeystoreError::Unsupported(_))
    ));
    // The outer content type: data -> signedData.
    let outer_signed = replace_first(OID_DATA, OID_SIGNED_DATA);
    assert!(matches!(
        Pkcs12Store::parse(&outer_signed, None),
        Err(KeystoreError::Unsupported(_))
    ));
    // An unknown PBES2 cipher in a file with no MAC.
    let file = pfx(3, &[pbes2_encrypted_data(10)], None);
    let aes = file
        .windows(OID_AES256_CBC.len())
        .position(|w| w == OID_AES256_CBC)
        .unwrap();
    let mut bad_cipher = file.clone();
    bad_cipher[aes + OID_AES256_CBC.len() - 1] = 0x7F;
    // Java's PBES2 takes only AES-128/256-CBC: a file with any other cipher is one Java
    // cannot load (issue 13; was Unsupported).
    assert!(matches!(
        Pkcs12Store::parse(&bad_cipher, Some("changeit")),
        Err(KeystoreError::JavaCannotLoad(_))
    ));
    // The synthetic EncryptedData holds garbage: with no MAC it reads as a wrong password.
    assert!(matches!(
        Pkcs12Store::parse(&file, Some("changeit")),
        Err(KeystoreError::WrongPassword(_))
    ));
}

/// (header length, content length) of the TLV at the start of `d`.
fn header(d: &[u8]) -> (usize, usize) {
    let first = d[1] as usize;
    if first < 0x80 {
        (2, first)
    } else {
        let n = first & 0x7F;
        (
            2 + n,
            d[2..2 + n]
                .iter()
                .fold(0usize, |a, &b| (a << 8) | b as usize),
        )
    }
}

fn next(d: &[u8]) -> (Vec<u8>, &[u8]) {
    let (h, l) = header(d);
    (d[..h + l].to_vec(), &d[h + l..])
}

fn body(d: &[u8]) -> &[u8] {
    let (h, l) = header(d);
    &d[h..h + l]
}

fn split_pfx(data: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let b = body(data);
    let (version, rest) = next(b);
    let (auth, rest) = next(rest);
    let (mac, _) = next(rest);
    (version, auth, mac)
}

// ---------------------------------------------------------------------------------------
// Property tests on the real samples

/// Mutations of a sample: a cut, and up to four byte changes (set, flip, insert, delete).
fn mutated(data: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = data.len();
    let edits = prop::collection::vec((0..len, any::<u8>(), 0u8..4), 0..5);
    (edits, prop::option::weighted(0.3, 0..len)).prop_map(move |(edits, cut)| {
        let mut d = data.clone();
        for (pos, byte, op) in edits {
            let pos = pos.min(d.len().saturating_sub(1));
            match op {
                0 if !d.is_empty() => d[pos] = byte,
                1 if !d.is_empty() => d[pos] ^= 1 << (byte % 8),
                2 => d.insert(pos, byte),
                3 if !d.is_empty() => {
                    d.remove(pos);
                }
                _ => {}
            }
        }
        if let Some(cut) = cut {
            d.truncate(cut);
        }
        d
    })
}

/// Parsing never panics, and whatever parses writes back unchanged and takes an append.
fn check_no_panic(d: &[u8]) {
    for pw in [None, Some("changeit")] {
        if let Ok(ks) = Keystore::parse(d, None, pw) {
            assert_eq!(ks.store_type(), StoreType::Pkcs12);
            if let Ok(out) = ks.to_bytes(pw) {
                assert_eq!(out, d, "an unchanged store writes back its bytes");
            }
            let mut ks = ks;
            if ks
                .add_trusted_cert("zz-proptest", &sample("test-ca.der"), 0)
                .is_ok()
            {
                if let Ok(out) = ks.to_bytes(pw) {
                    let re = Keystore::parse(&out, None, pw).expect("our own output parses");
                    assert!(re.contains_alias("zz-proptest"));
                }
            }
        }
    }
}

fn passwordless_samples() -> Vec<Vec<u8>> {
    [
        "pkcs12-nopass-jdk17.p12",
        "pkcs12-nopass-jdk25.p12",
        "pkcs12-storenull-jdk25.p12",
        "trust-anchor-reissue/ts-rootB-nopass.p12",
        "appended-by-prototype/pkcs12-nopass-jdk25-plus2.p12",
    ]
    .iter()
    .map(|n| sample(n))
    .collect()
}

fn protected_samples() -> Vec<Vec<u8>> {
    [
        "pkcs12-default-jdk17.p12",
        "pkcs12-default-jdk25.p12",
        "pkcs12-legacy-jdk17.p12",
        "pkcs12-legacy-jdk25.p12",
        "pkcs12-storenull-jdk17.p12",
        "appended-by-prototype/pkcs12-default-jdk17-plus2.p12",
        "appended-by-prototype/pkcs12-legacy-jdk17-plus2.p12",
    ]
    .iter()
    .map(|n| sample(n))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn mutated_passwordless_samples_never_panic(
        d in prop::sample::select(passwordless_samples()).prop_flat_map(mutated)
    ) {
        check_no_panic(&d);
    }
}

proptest! {
    // Each case may run the MAC's KDF (10,000 to 100,000 iterations): a few hundred.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn mutated_protected_samples_never_panic(
        d in prop::sample::select(protected_samples()).prop_flat_map(mutated)
    ) {
        check_no_panic(&d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]
    #[test]
    fn mutated_cacerts_never_panics(d in mutated(sample("cacerts-debian-nopass-jdk25.p12"))) {
        check_no_panic(&d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]
    #[test]
    fn random_bytes_after_a_sequence_tag_never_panic(tail in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut d = vec![0x30];
        d.extend_from_slice(&tail);
        check_no_panic(&d);
    }
}
