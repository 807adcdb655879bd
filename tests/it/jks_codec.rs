//! The JKS/JCEKS codec against every JKS/JCEKS sample and Debian's cacerts: byte-exact round
//! trips, the entries each file is documented to hold, and password handling.

use crate::common;

use std::path::{Path, PathBuf};

use azure_cacerts::keystore::jks::JksStore;
use azure_cacerts::keystore::{EntryKind, Keystore, KeystoreError, StoreType};
use sha2::{Digest, Sha256};

const TEST_CA_SHA256: &str = "05B1D3D062966E651841C2D1C6DD352F24E6EEBD83BE3C60CCAAE8D969B22517";
const CA2_SHA256: &str = "53AFB1AAEDF2F5CCA3D85B19825B4070B0817BA4F2C5646BE431A7CE22D431D7";

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Every JKS or JCEKS file under the samples, found by magic (not by name).
fn jks_samples() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let head: Vec<u8> = std::fs::read(&p).unwrap().into_iter().take(4).collect();
                if head == [0xFE, 0xED, 0xFE, 0xED] || head == [0xCE, 0xCE, 0xCE, 0xCE] {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::samples_dir(), &mut out);
    out.sort();
    out
}

fn password_for(p: &Path) -> &'static str {
    if p.ends_with("edge-cases/jks-storepass-differs-from-keypass.jks") {
        "n3wStorePass"
    } else {
        "changeit"
    }
}

fn sample_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(common::sample(rel)).unwrap()
}

#[test]
fn every_sample_and_cacerts_round_trips_byte_for_byte() {
    let mut files = jks_samples();
    assert!(
        files.len() >= 13,
        "expected at least 13 JKS/JCEKS samples, found {files:?}"
    );
    files.extend(common::debian_cacerts());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let pw = password_for(path);
        let ks =
            JksStore::parse(&data, Some(pw)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(ks.is_verified());
        assert!(!ks.entries().is_empty(), "{}", path.display());
        assert_eq!(
            ks.to_bytes(pw),
            data,
            "{} does not round-trip",
            path.display()
        );
        // Through the facade as well, detected by content.
        let facade = Keystore::parse(&data, None, Some(pw)).unwrap();
        assert_eq!(facade.to_bytes(Some(pw)).unwrap(), data);
        assert_eq!(facade.entries(), ks.entries());
    }
}

#[test]
fn debian_cacerts_holds_only_trusted_certs() {
    let Some(path) = common::debian_cacerts() else {
        eprintln!("skipped: /etc/ssl/certs/java/cacerts is absent");
        return;
    };
    let ks = JksStore::parse(&std::fs::read(path).unwrap(), Some("changeit")).unwrap();
    assert_eq!(ks.store_type(), StoreType::Jks);
    // 144 on the reference machine; the exact number depends on the installed ca-certificates.
    assert!(ks.entries().len() > 100, "{}", ks.entries().len());
    assert!(ks.entries().iter().any(|e| e.alias.starts_with("debian:")));
    for e in ks.entries() {
        assert_eq!(e.kind, EntryKind::TrustedCert, "{}", e.alias);
        assert_eq!(e.certs.len(), 1);
        assert!(e.created_ms.is_some());
    }
}

/// (alias, kind, number of certificates), in file order.
fn summary(rel: &str) -> (StoreType, u32, Vec<(String, EntryKind, usize)>) {
    let data = sample_bytes(rel);
    let ks = JksStore::parse(&data, Some(password_for(Path::new(rel)))).unwrap();
    let v = ks
        .entries()
        .iter()
        .map(|e| (e.alias.clone(), e.kind, e.certs.len()))
        .collect();
    (ks.store_type(), ks.version(), v)
}

fn sorted(mut v: Vec<(String, EntryKind, usize)>) -> Vec<(String, EntryKind, usize)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn e(alias: &str, kind: EntryKind, certs: usize) -> (String, EntryKind, usize) {
    (alias.to_string(), kind, certs)
}

#[test]
fn samples_hold_the_documented_entries() {
    use EntryKind::*;
    for rel in ["jks-jdk17.jks", "jks-jdk25.jks"] {
        let (t, v, entries) = summary(rel);
        assert_eq!((t, v), (StoreType::Jks, 2));
        assert_eq!(
            sorted(entries),
            [e("myca", TrustedCert, 1), e("mykey", PrivateKey, 1)],
            "{rel}"
        );
    }
    for rel in ["jceks-jdk17.jceks", "jceks-jdk25.jceks"] {
        let (t, v, entries) = summary(rel);
        assert_eq!((t, v), (StoreType::Jceks, 2));
        assert_eq!(
            sorted(entries),
            [
                e("myca", TrustedCert, 1),
                e("mykey", PrivateKey, 1),
                e("mysecret", SecretKey, 0)
            ],
            "{rel}"
        );
    }
    // Two entries under "myca": Java's loader keeps the last, and so do we (issue 13); the
    // hidden one is named by shadowed_aliases and kept in the file.
    let (_, _, dup) = summary("edge-cases/jks-duplicate-alias.jks");
    assert_eq!(
        sorted(dup),
        [e("myca", TrustedCert, 1), e("mykey", PrivateKey, 1)]
    );
    let dup_store = JksStore::parse(
        &sample_bytes("edge-cases/jks-duplicate-alias.jks"),
        Some("changeit"),
    )
    .unwrap();
    assert_eq!(dup_store.shadowed_aliases(), ["myca"]);

    let (_, v, v1) = summary("edge-cases/jks-version1.jks");
    assert_eq!(v, 1);
    assert_eq!(
        sorted(v1),
        [e("myca", TrustedCert, 1), e("mykey", PrivateKey, 1)]
    );

    let (_, _, upper) = summary("edge-cases/jks-uppercase-alias.jks");
    assert!(upper.contains(&e("UPPER_CA", TrustedCert, 1)), "{upper:?}");

    let (_, _, differs) = summary("edge-cases/jks-storepass-differs-from-keypass.jks");
    assert!(
        differs.contains(&e("added_ca", TrustedCert, 1)),
        "{differs:?}"
    );
    assert!(differs.contains(&e("mykey", PrivateKey, 1)), "{differs:?}");

    let (_, _, uni) = summary("edge-cases/jks-unicode-and-mixedcase-alias.jks");
    assert!(uni.contains(&e("ünïcødé😀", TrustedCert, 1)), "{uni:?}");
    assert!(
        uni.contains(&e("mymixedcase_ca", TrustedCert, 1)),
        "{uni:?}"
    );

    let (_, _, x509) = summary("edge-cases/jks-certtype-X509.jks");
    assert!(x509.iter().any(|(_, k, _)| *k == TrustedCert), "{x509:?}");

    for rel in [
        "trust-anchor-reissue/ts-rootA.jks",
        "trust-anchor-reissue/ts-rootB.jks",
        "trust-anchor-reissue/ts-rootC.jks",
    ] {
        let (_, _, entries) = summary(rel);
        assert_eq!(entries, [e("root", TrustedCert, 1)], "{rel}");
    }
}

#[test]
fn unicode_alias_bytes_are_re_encoded_identically() {
    let data = sample_bytes("edge-cases/jks-unicode-and-mixedcase-alias.jks");
    // The emoji as CESU-8, exactly as keytool stored it.
    let stored = [
        0xc3, 0xbc, 0x6e, 0xc3, 0xaf, 0x63, 0xc3, 0xb8, 0x64, 0xc3, 0xa9, 0xed, 0xa0, 0xbd, 0xed,
        0xb8, 0x80,
    ];
    assert!(data.windows(stored.len()).any(|w| w == stored));
    let mut ks = JksStore::parse(&data, Some("changeit")).unwrap();
    ks.remove_entry("ünïcødé😀").unwrap();
    // Adding it back through the encoder must produce the very bytes keytool wrote.
    ks.add_trusted_cert("Ünïcødé😀", &sample_bytes("test-ca.der"), 0)
        .unwrap();
    let out = ks.to_bytes("changeit");
    assert!(out
        .windows(stored.len() + 2)
        .any(|w| w[..2] == [0, 17] && w[2..] == stored));
    let back = JksStore::parse(&out, Some("changeit")).unwrap();
    assert!(back.entries().iter().any(|e| e.alias == "ünïcødé😀"));
}

#[test]
fn certificates_are_the_sample_der() {
    let data = sample_bytes("jks-jdk17.jks");
    let ks = JksStore::parse(&data, Some("changeit")).unwrap();
    let myca = ks.entries().iter().find(|e| e.alias == "myca").unwrap();
    assert_eq!(myca.certs[0], sample_bytes("test-ca.der"));
    assert_eq!(sha256_hex(&myca.certs[0]), TEST_CA_SHA256);
    assert!(myca.created_ms.unwrap() > 1_700_000_000_000);
}

#[test]
fn wrong_password_and_no_password() {
    for path in jks_samples() {
        let data = std::fs::read(&path).unwrap();
        match JksStore::parse(&data, Some("not-the-password")) {
            Err(KeystoreError::WrongPassword(m)) => assert!(m.contains("digest"), "{m}"),
            other => panic!("{}: {other:?}", path.display()),
        }
        let ks = JksStore::parse(&data, None).unwrap();
        assert!(!ks.is_verified());
        let verified = JksStore::parse(&data, Some(password_for(&path))).unwrap();
        assert_eq!(ks.entries(), verified.entries());
        // Unverified stores still write (with whatever password the caller then chooses).
        assert_eq!(ks.to_bytes(password_for(&path)), data);
    }
    let err = Keystore::parse(&sample_bytes("jks-jdk17.jks"), None, Some("x")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("wrong password or tampered keystore"),
        "{err}"
    );
}

#[test]
fn a_tampered_byte_is_caught_by_the_digest() {
    let mut data = sample_bytes("jks-jdk25.jks");
    // Inside the test CA's DER: the structure stays intact, only the content changes.
    let ca = sample_bytes("test-ca.der");
    let at = data.windows(ca.len()).position(|w| w == ca).unwrap();
    data[at + ca.len() / 2] ^= 0x01;
    let r = JksStore::parse(&data, Some("changeit"));
    assert!(matches!(r, Err(KeystoreError::WrongPassword(_))), "{r:?}");
}

#[test]
fn changing_the_store_password_keeps_every_entry() {
    let data = sample_bytes("jceks-jdk25.jceks");
    let ks = JksStore::parse(&data, Some("changeit")).unwrap();
    let other = ks.to_bytes("n3w pässwörd 😀");
    assert_eq!(other.len(), data.len());
    assert_eq!(other[..data.len() - 20], data[..data.len() - 20]);
    let back = JksStore::parse(&other, Some("n3w pässwörd 😀")).unwrap();
    assert_eq!(back.entries(), ks.entries());
    assert!(JksStore::parse(&other, Some("changeit")).is_err());
}

#[test]
fn add_then_remove_gives_back_the_original() {
    for rel in [
        "jks-jdk17.jks",
        "jceks-jdk17.jceks",
        "edge-cases/jks-version1.jks",
        "edge-cases/jks-duplicate-alias.jks",
    ] {
        let data = sample_bytes(rel);
        let mut ks = JksStore::parse(&data, Some("changeit")).unwrap();
        let n = ks.entries().len();
        ks.add_trusted_cert(
            "Second CA",
            &sample_bytes("edge-cases/ca2.der"),
            1_764_064_800_000,
        )
        .unwrap();
        assert_eq!(ks.entries().len(), n + 1);
        let added = ks.entries().last().unwrap();
        assert_eq!(added.alias, "second ca");
        assert_eq!(added.kind, EntryKind::TrustedCert);
        assert_eq!(added.created_ms, Some(1_764_064_800_000));
        assert_eq!(sha256_hex(&added.certs[0]), CA2_SHA256);

        let written = ks.to_bytes("changeit");
        let back = JksStore::parse(&written, Some("changeit")).unwrap();
        assert_eq!(back.entries(), ks.entries(), "{rel}");
        assert_eq!(back.version(), ks.version());
        // Every original entry byte is still there, in order, before the new one.
        assert_eq!(
            written[12..data.len() - 20],
            data[12..data.len() - 20],
            "{rel}"
        );

        let mut back = back;
        back.remove_entry("SECOND CA").unwrap();
        assert_eq!(back.to_bytes("changeit"), data, "{rel}");
    }
}

#[test]
fn version1_stays_version1_without_type_strings() {
    let data = sample_bytes("edge-cases/jks-version1.jks");
    let mut ks = JksStore::parse(&data, Some("changeit")).unwrap();
    let der = sample_bytes("edge-cases/ca2.der");
    ks.add_trusted_cert("v1add", &der, 0).unwrap();
    let out = ks.to_bytes("changeit");
    assert_eq!(out[4..8], [0, 0, 0, 1]);
    // tag, alias, date, then the length directly: no "X.509".
    let tail = &out[data.len() - 20..out.len() - 20];
    let mut want = vec![0, 0, 0, 2, 0, 5];
    want.extend(b"v1add");
    want.extend(0i64.to_be_bytes());
    want.extend((der.len() as u32).to_be_bytes());
    want.extend(&der);
    assert_eq!(tail, want);
}

#[test]
fn v2_entries_are_written_the_way_java_writes_them() {
    // The myca entry keytool wrote in jks-jdk17.jks, rebuilt by the codec from its parts,
    // must be byte-identical.
    let data = sample_bytes("jks-jdk17.jks");
    let ks = JksStore::parse(&data, Some("changeit")).unwrap();
    let myca = ks
        .entries()
        .iter()
        .find(|e| e.alias == "myca")
        .unwrap()
        .clone();
    let mut fresh = ks.clone();
    fresh.remove_entry("myca").unwrap();
    fresh
        .add_trusted_cert("myca", &myca.certs[0], myca.created_ms.unwrap())
        .unwrap();
    let mut want = vec![0, 0, 0, 2, 0, 4];
    want.extend(b"myca");
    want.extend(myca.created_ms.unwrap().to_be_bytes());
    want.extend([0, 5]);
    want.extend(b"X.509");
    want.extend((myca.certs[0].len() as u32).to_be_bytes());
    want.extend(&myca.certs[0]);
    assert!(
        data.windows(want.len()).any(|w| w == want),
        "keytool's entry is not what we would write"
    );
    let out = fresh.to_bytes("changeit");
    assert!(out.windows(want.len()).any(|w| w == want));
}

#[test]
fn aliases_collide_ignoring_case_and_duplicates_stay() {
    let mut ks = JksStore::parse(
        &sample_bytes("edge-cases/jks-duplicate-alias.jks"),
        Some("changeit"),
    )
    .unwrap();
    let der = sample_bytes("edge-cases/ca2.der");
    assert_eq!(
        ks.add_trusted_cert("MyCA", &der, 0),
        Err(KeystoreError::AliasExists("myca".into()))
    );
    let mut upper = JksStore::parse(
        &sample_bytes("edge-cases/jks-uppercase-alias.jks"),
        Some("changeit"),
    )
    .unwrap();
    assert!(matches!(
        upper.add_trusted_cert("upper_ca", &der, 0),
        Err(KeystoreError::AliasExists(_))
    ));
    // Removing a duplicated alias removes both copies.
    ks.remove_entry("MYCA").unwrap();
    assert_eq!(ks.entries().len(), 1);
    assert_eq!(
        ks.remove_entry("myca"),
        Err(KeystoreError::NoSuchAlias("myca".into()))
    );
    upper.remove_entry("upper_ca").unwrap();
    assert!(upper.entries().iter().all(|e| e.alias != "UPPER_CA"));
}

#[test]
fn secret_key_entries_are_kept_opaque() {
    let data = sample_bytes("jceks-jdk17.jceks");
    let mut ks = JksStore::parse(&data, Some("changeit")).unwrap();
    ks.remove_entry("myca").unwrap();
    let out = ks.to_bytes("changeit");
    let back = JksStore::parse(&out, Some("changeit")).unwrap();
    let kinds: Vec<_> = back
        .entries()
        .iter()
        .map(|e| (e.alias.as_str(), e.kind))
        .collect();
    assert!(kinds.contains(&("mysecret", EntryKind::SecretKey)));
    assert!(kinds.contains(&("mykey", EntryKind::PrivateKey)));
    assert!(back
        .entries()
        .iter()
        .all(|e| e.kind != EntryKind::SecretKey || e.certs.is_empty()));
}

#[test]
fn a_secret_key_in_a_jks_file_is_refused() {
    let mut data = sample_bytes("jceks-jdk17.jceks");
    data[..4].copy_from_slice(&[0xFE, 0xED, 0xFE, 0xED]);
    assert!(matches!(
        JksStore::parse(&data, None),
        Err(KeystoreError::Unsupported(_))
    ));
}
