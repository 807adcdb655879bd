//! Hostile JKS/JCEKS input: mutated real keystores (proptest) and hand-made malformed files.
//! Every input must give Ok or a KeystoreError: no panic, and no allocation sized by a count
//! or length read from the file (checked with a counting allocator).

use crate::common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

use azure_cacerts::keystore::jks::JksStore;
use azure_cacerts::keystore::{detect, Keystore, KeystoreError, StoreType};
use proptest::prelude::*;
use proptest::sample::Index;
use sha1::{Digest, Sha1};

/// Counts the bytes this thread allocates, so one parse can be measured while other tests
/// run on other threads.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|c| c.set(c.get().saturating_add(layout.size())));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|c| c.set(c.get().saturating_add(new_size)));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated() -> usize {
    ALLOCATED.with(|c| c.get())
}

/// Parses through the facade with and without the password; both must return, and a JKS or
/// JCEKS parse may allocate only in proportion to the input (entries, copies of the bytes),
/// never by a declared count. Returns the result with the password.
fn parse_both(data: &[u8]) -> Result<Keystore, KeystoreError> {
    let jks = matches!(detect(data), Ok(StoreType::Jks | StoreType::Jceks));
    let before = allocated();
    let with = Keystore::parse(data, None, Some("changeit"));
    let without = Keystore::parse(data, None, None);
    let used = allocated() - before;
    if jks {
        let limit = 64 * data.len() + (1 << 20);
        assert!(
            used <= limit,
            "a {}-byte input made the parser allocate {used} bytes",
            data.len()
        );
        // Reading without the password differs only in the digest check.
        if let Ok(ks) = &with {
            assert_eq!(
                without.as_ref().map(|k| k.entries()).ok(),
                Some(ks.entries())
            );
        }
    }
    with
}

fn digest(password: &str, body: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    for u in password.encode_utf16() {
        h.update(u.to_be_bytes());
    }
    h.update(b"Mighty Aphrodite");
    h.update(body);
    h.finalize().into()
}

/// Replaces the last 20 bytes with the right digest, so that a mutation is judged by the
/// structure parser rather than stopped by the digest.
fn redigest(data: &mut [u8]) {
    if data.len() >= 20 {
        let n = data.len() - 20;
        let d = digest("changeit", &data[..n]);
        data[n..].copy_from_slice(&d);
    }
}

/// Whatever parses with a matching digest must write back to exactly the same bytes.
fn check(mut data: Vec<u8>) {
    let _ = parse_both(&data);
    redigest(&mut data);
    if let Ok(ks) = parse_both(&data) {
        if ks.store_type() != StoreType::Pkcs12 {
            assert_eq!(ks.to_bytes(Some("changeit")).unwrap(), data);
        }
    }
}

/// Read once: proptest calls the test body thousands of times.
fn small_samples() -> &'static [Vec<u8>] {
    static SAMPLES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(read_small_samples)
}

fn read_small_samples() -> Vec<Vec<u8>> {
    let rels = [
        "jks-jdk17.jks",
        "jks-jdk25.jks",
        "jceks-jdk17.jceks",
        "jceks-jdk25.jceks",
        "edge-cases/jks-certtype-X509.jks",
        "edge-cases/jks-duplicate-alias.jks",
        "edge-cases/jks-storepass-differs-from-keypass.jks",
        "edge-cases/jks-unicode-and-mixedcase-alias.jks",
        "edge-cases/jks-uppercase-alias.jks",
        "edge-cases/jks-version1.jks",
        "trust-anchor-reissue/ts-rootA.jks",
    ];
    rels.iter()
        .map(|r| std::fs::read(common::sample(r)).unwrap())
        .collect()
}

fn cacerts() -> Option<&'static [u8]> {
    static CACERTS: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    CACERTS
        .get_or_init(|| common::debian_cacerts().map(|p: PathBuf| std::fs::read(p).unwrap()))
        .as_deref()
}

fn truncate(data: &[u8], at: Index) -> Vec<u8> {
    data[..at.index(data.len() + 1)].to_vec()
}

fn overwrite(data: &[u8], edits: &[(Index, u8, bool)]) -> Vec<u8> {
    let mut d = data.to_vec();
    for (i, v, flip) in edits {
        let i = i.index(d.len());
        if *flip {
            d[i] ^= 1 << (v % 8);
        } else {
            d[i] = *v;
        }
    }
    d
}

fn big_length(data: &[u8], at: Index, value: u32, insert: bool) -> Vec<u8> {
    let mut d = data.to_vec();
    let b = value.to_be_bytes();
    if insert {
        let i = at.index(d.len() + 1);
        d.splice(i..i, b);
    } else {
        let i = at.index(d.len().saturating_sub(3).max(1));
        for (k, byte) in b.iter().enumerate() {
            if let Some(slot) = d.get_mut(i + k) {
                *slot = *byte;
            }
        }
    }
    d
}

fn big_value() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0x7FFF_FFFF),
        Just(0xFFFF_FFFF),
        Just(0x8000_0000),
        Just(0x0001_0000),
        any::<u32>()
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truncated_samples(which in any::<Index>(), at in any::<Index>()) {
        let samples = small_samples();
        check(truncate(&samples[which.index(samples.len())], at));
    }

    #[test]
    fn overwritten_samples(which in any::<Index>(), edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<bool>()), 1..8)) {
        let samples = small_samples();
        check(overwrite(&samples[which.index(samples.len())], &edits));
    }

    #[test]
    fn big_lengths_in_samples(which in any::<Index>(), at in any::<Index>(), value in big_value(), insert in any::<bool>()) {
        let samples = small_samples();
        check(big_length(&samples[which.index(samples.len())], at, value, insert));
    }
}

proptest! {
    // 180 KB per case: fewer cases, still every kind of mutation.
    #![proptest_config(ProptestConfig { cases: 100, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_debian_cacerts(
        at in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<bool>()), 1..4),
        value in big_value(),
        insert in any::<bool>(),
    ) {
        let Some(data) = cacerts() else { return Ok(()); };
        check(truncate(data, at));
        check(overwrite(data, &edits));
        check(big_length(data, at, value, insert));
    }
}

// ---- hand-made files ----

/// header + body + the right digest for "changeit".
fn store(magic: [u8; 4], version: u32, count: u32, body: &[u8]) -> Vec<u8> {
    let mut v = magic.to_vec();
    v.extend(version.to_be_bytes());
    v.extend(count.to_be_bytes());
    v.extend(body);
    let d = digest("changeit", &v);
    v.extend(d);
    v
}

const JKS: [u8; 4] = [0xFE, 0xED, 0xFE, 0xED];
const JCEKS: [u8; 4] = [0xCE, 0xCE, 0xCE, 0xCE];

fn utf(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend(s.as_bytes());
    v
}

fn trusted_entry(alias: &str, cert_type: Option<&str>, der: &[u8]) -> Vec<u8> {
    let mut v = 2u32.to_be_bytes().to_vec();
    v.extend(utf(alias));
    v.extend(0i64.to_be_bytes());
    if let Some(t) = cert_type {
        v.extend(utf(t));
    }
    v.extend((der.len() as u32).to_be_bytes());
    v.extend(der);
    v
}

fn jks_err(data: &[u8]) -> KeystoreError {
    let e = JksStore::parse(data, Some("changeit")).unwrap_err();
    assert_eq!(
        JksStore::parse(data, None).unwrap_err(),
        e,
        "the error must not depend on the password"
    );
    let _ = parse_both(data);
    e
}

const DER: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x01];

#[test]
fn a_hand_made_store_parses() {
    let data = store(JKS, 2, 1, &trusted_entry("a", Some("X.509"), DER));
    let before = allocated();
    let ks = JksStore::parse(&data, Some("changeit")).unwrap();
    // The allocation counter sees this thread's allocations (the parse copies the input).
    assert!(allocated() - before >= data.len());
    assert_eq!(ks.entries()[0].certs[0], DER);
    assert_eq!(ks.to_bytes("changeit"), data);
}

#[test]
fn empty_and_tiny_files() {
    assert!(matches!(
        Keystore::parse(&[], None, None),
        Err(KeystoreError::NotAKeystore(_))
    ));
    assert!(matches!(
        JksStore::parse(&[], None),
        Err(KeystoreError::Truncated(_))
    ));
    assert!(matches!(
        Keystore::parse(&[0xFE, 0xED, 0xFE], None, None),
        Err(KeystoreError::Truncated(_))
    ));
    assert!(matches!(
        JksStore::parse(&[0xFE, 0xED, 0xFE], None),
        Err(KeystoreError::Truncated(_))
    ));
    assert!(matches!(
        jks_err(&[0xFE, 0xED, 0xFE, 0xED, 0, 0]),
        KeystoreError::Truncated(_)
    ));
    // A header and no digest.
    assert!(matches!(
        jks_err(&[0xCE, 0xCE, 0xCE, 0xCE, 0, 0, 0, 2, 0, 0, 0, 0]),
        KeystoreError::Truncated(_)
    ));
}

#[test]
fn wrong_magic_and_version() {
    assert!(matches!(
        Keystore::parse(b"hello, world\n", None, None),
        Err(KeystoreError::NotAKeystore(_))
    ));
    assert!(matches!(
        JksStore::parse(b"\xFE\xED\xFE\xEE\0\0\0\x02", None),
        Err(KeystoreError::NotAKeystore(_))
    ));
    for v in [0, 3, 0xFFFF_FFFF] {
        assert!(
            matches!(
                jks_err(&store(JKS, v, 0, &[])),
                KeystoreError::Unsupported(_)
            ),
            "version {v}"
        );
    }
}

#[test]
fn huge_counts() {
    assert!(matches!(
        jks_err(&store(JKS, 2, 0x8000_0000, &[])),
        KeystoreError::Malformed(_)
    ));
    assert!(matches!(
        jks_err(&store(JKS, 2, 0xFFFF_FFFF, &[])),
        KeystoreError::Malformed(_)
    ));
    assert!(matches!(
        jks_err(&store(JKS, 2, 0x7FFF_FFFF, &[])),
        KeystoreError::Truncated(_)
    ));
    // A count one larger than the entries present.
    let e = jks_err(&store(JKS, 2, 2, &trusted_entry("a", Some("X.509"), DER)));
    assert!(matches!(e, KeystoreError::Truncated(_)), "{e:?}");
}

#[test]
fn huge_lengths() {
    let mut entry = trusted_entry("a", Some("X.509"), DER);
    let len_at = entry.len() - DER.len() - 4;
    for (value, malformed) in [
        (0x7FFF_FFFFu32, false),
        (0xFFFF_FFFF, true),
        (0x8000_0000, true),
        (6, false),
    ] {
        entry[len_at..len_at + 4].copy_from_slice(&value.to_be_bytes());
        let e = jks_err(&store(JKS, 2, 1, &entry));
        if malformed {
            assert!(
                matches!(e, KeystoreError::Malformed(_)),
                "{value:#x}: {e:?}"
            );
        } else {
            // 6 runs into the digest, leaving too little for it.
            assert!(
                matches!(e, KeystoreError::Truncated(_)),
                "{value:#x}: {e:?}"
            );
        }
    }
    // Private key: protected-key length and chain length.
    let mut pk = 1u32.to_be_bytes().to_vec();
    pk.extend(utf("k"));
    pk.extend(0i64.to_be_bytes());
    pk.extend(0x7FFF_FFF0u32.to_be_bytes());
    assert!(matches!(
        jks_err(&store(JKS, 2, 1, &pk)),
        KeystoreError::Truncated(_)
    ));
    pk.truncate(pk.len() - 4);
    pk.extend(2u32.to_be_bytes());
    pk.extend([0x04, 0x00]);
    pk.extend(0x7FFF_FFFFu32.to_be_bytes());
    // The chain then runs into the digest bytes: which error depends on their values, but
    // the 2^31-1 certificates must not be reserved.
    jks_err(&store(JKS, 2, 1, &pk));
}

#[test]
fn garbage_after_the_digest() {
    let mut data = store(JKS, 2, 1, &trusted_entry("a", Some("X.509"), DER));
    data.extend(b"garbage");
    let e = jks_err(&data);
    assert!(
        matches!(e, KeystoreError::Malformed(ref m) if m.contains("follow the integrity digest")),
        "{e:?}"
    );
    let mut real = std::fs::read(common::sample("jks-jdk17.jks")).unwrap();
    real.push(0);
    assert!(matches!(jks_err(&real), KeystoreError::Malformed(_)));
}

#[test]
fn unknown_tags() {
    for tag in [0u32, 4, 0xFFFF_FFFF] {
        let mut entry = trusted_entry("a", Some("X.509"), DER);
        entry[..4].copy_from_slice(&tag.to_be_bytes());
        let e = jks_err(&store(JKS, 2, 1, &entry));
        assert!(
            matches!(e, KeystoreError::Unsupported(ref m) if m.contains("tag")),
            "{e:?}"
        );
    }
    // Tag 3 belongs to JCEKS only.
    let mut entry = 3u32.to_be_bytes().to_vec();
    entry.extend(utf("s"));
    entry.extend(0i64.to_be_bytes());
    entry.extend([0xAC, 0xED, 0x00, 0x05, 0x70]);
    assert!(matches!(
        jks_err(&store(JKS, 2, 1, &entry)),
        KeystoreError::Unsupported(_)
    ));
    // In JCEKS a bare null is not a sealed key: refused, not guessed.
    assert!(matches!(
        jks_err(&store(JCEKS, 2, 1, &entry)),
        KeystoreError::Unsupported(_)
    ));
}

#[test]
fn bad_aliases_and_cert_types() {
    let mut entry = trusted_entry("ab", Some("X.509"), DER);
    entry[6] = 0xFF;
    assert!(matches!(
        jks_err(&store(JKS, 2, 1, &entry)),
        KeystoreError::Malformed(_)
    ));
    // A 4-byte UTF-8 sequence is not modified UTF-8.
    let entry = trusted_entry("😀", Some("X.509"), DER);
    assert!(matches!(
        jks_err(&store(JKS, 2, 1, &entry)),
        KeystoreError::Malformed(_)
    ));
    let entry = trusted_entry("a", Some("PGP"), DER);
    assert!(matches!(
        jks_err(&store(JKS, 2, 1, &entry)),
        KeystoreError::Unsupported(_)
    ));
    for t in ["X.509", "X509", "x.509"] {
        let data = store(JKS, 2, 1, &trusted_entry("a", Some(t), DER));
        assert!(JksStore::parse(&data, Some("changeit")).is_ok(), "{t}");
    }
    // A 65535-byte alias is legal.
    let long = "a".repeat(65_535);
    let data = store(JKS, 1, 1, &trusted_entry(&long, None, DER));
    assert_eq!(
        JksStore::parse(&data, Some("changeit")).unwrap().entries()[0].alias,
        long
    );
}

fn secret_entry(stream: &[u8]) -> Vec<u8> {
    let mut entry = 3u32.to_be_bytes().to_vec();
    entry.extend(utf("s"));
    entry.extend(0i64.to_be_bytes());
    entry.extend(stream);
    entry
}

#[test]
fn hostile_serialization_streams() {
    let head = [0xAC, 0xED, 0x00, 0x05, 0x73, 0x72];
    // TC_LONGSTRING, proxy class descriptors, enums, block data: refused.
    for token in [0x7Cu8, 0x7D, 0x7E, 0x77, 0x7A, 0x79, 0x7B, 0x76] {
        let mut s = vec![0xAC, 0xED, 0x00, 0x05, 0x73, token];
        s.extend([0; 16]);
        let e = jks_err(&store(JCEKS, 2, 1, &secret_entry(&s)));
        assert!(
            matches!(e, KeystoreError::Unsupported(_)),
            "{token:#x}: {e:?}"
        );
    }
    // Objects nested 100,000 deep: refused by the depth bound, not by a stack overflow.
    let mut s = head.to_vec();
    s.extend(b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x01L\x00\x01at\x00\x03LA;xp");
    for _ in 0..100_000 {
        s.extend(b"sq\x00\x7e\x00\x00");
    }
    assert!(matches!(
        jks_err(&store(JCEKS, 2, 1, &secret_entry(&s))),
        KeystoreError::Unsupported(_)
    ));
    // An array of 2^31-1 longs in a tiny file.
    let mut s = head.to_vec();
    s.extend(b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x01[\x00\x01at\x00\x02[Jxp");
    s.extend(b"ur\x00\x02[J\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x00xp\x7f\xff\xff\xff");
    assert!(matches!(
        jks_err(&store(JCEKS, 2, 1, &secret_entry(&s))),
        KeystoreError::Truncated(_)
    ));
    // A reference to a handle that does not exist.
    let s = [0xAC, 0xED, 0x00, 0x05, 0x73, 0x71, 0x00, 0x7E, 0x00, 0x09];
    assert!(matches!(
        jks_err(&store(JCEKS, 2, 1, &secret_entry(&s))),
        KeystoreError::Malformed(_)
    ));
    // 30,000 fields declared in a 10-byte descriptor.
    let mut s = head.to_vec();
    s.extend(b"\x00\x01A\x00\x00\x00\x00\x00\x00\x00\x01\x02\x75\x30");
    let e = jks_err(&store(JCEKS, 2, 1, &secret_entry(&s)));
    assert!(
        matches!(e, KeystoreError::Truncated(_) | KeystoreError::Malformed(_)),
        "{e:?}"
    );
}

#[test]
fn every_prefix_of_a_jceks_sample_fails_cleanly() {
    let data = std::fs::read(common::sample("jceks-jdk17.jceks")).unwrap();
    for cut in 0..data.len() {
        let r = parse_both(&data[..cut]);
        assert!(r.is_err(), "a {cut}-byte prefix parsed");
    }
}
