//! Reading PKCS12: every sample parses with the entries Java shows, and an unchanged store
//! writes back byte for byte.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use azure_cacerts::keystore::pkcs12::{ContentProtection, Pkcs12Store};
use azure_cacerts::keystore::{EntryKind, Keystore, KeystoreError};
use sha2::{Digest, Sha256};

const TEST_CA: &str = "05B1D3D062966E651841C2D1C6DD352F24E6EEBD83BE3C60CCAAE8D969B22517";
const CA2: &str = "53AFB1AAEDF2F5CCA3D85B19825B4070B0817BA4F2C5646BE431A7CE22D431D7";
const ROOT_B: &str = "2E8604F6AB70ECE844E7FF5B925CE5641386EDAED55DE49099D14F823A6CE387";
const ISRG_X1: &str = "96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6";

fn sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

type Want = (&'static str, EntryKind, usize, Option<&'static str>);

struct Case {
    file: &'static str,
    password: &'static str,
    passwordless: bool,
    entries: &'static [Want],
}

const KEY_AND_CA: &[Want] = &[
    ("mykey", EntryKind::PrivateKey, 1, None),
    ("myca", EntryKind::TrustedCert, 1, Some(TEST_CA)),
];
const KEY_CA_PLUS2: &[Want] = &[
    ("mykey", EntryKind::PrivateKey, 1, None),
    ("myca", EntryKind::TrustedCert, 1, Some(TEST_CA)),
    ("second ca", EntryKind::TrustedCert, 1, Some(CA2)),
    ("third", EntryKind::TrustedCert, 1, Some(TEST_CA)),
];
const CA_ONLY: &[Want] = &[("myca", EntryKind::TrustedCert, 1, Some(TEST_CA))];
const NULLPASS: &[Want] = &[("nullpass", EntryKind::TrustedCert, 1, Some(TEST_CA))];

const CASES: &[Case] = &[
    Case {
        file: "pkcs12-default-jdk17.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_AND_CA,
    },
    Case {
        file: "pkcs12-default-jdk25.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_AND_CA,
    },
    Case {
        file: "pkcs12-legacy-jdk17.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_AND_CA,
    },
    Case {
        file: "pkcs12-legacy-jdk25.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_AND_CA,
    },
    Case {
        file: "pkcs12-nopass-jdk17.p12",
        password: "changeit",
        passwordless: true,
        entries: CA_ONLY,
    },
    Case {
        file: "pkcs12-nopass-jdk25.p12",
        password: "changeit",
        passwordless: true,
        entries: CA_ONLY,
    },
    Case {
        file: "pkcs12-storenull-jdk17.p12",
        password: "",
        passwordless: false,
        entries: NULLPASS,
    },
    Case {
        file: "pkcs12-storenull-jdk25.p12",
        password: "changeit",
        passwordless: true,
        entries: NULLPASS,
    },
    Case {
        file: "appended-by-prototype/pkcs12-default-jdk17-plus2.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_CA_PLUS2,
    },
    Case {
        file: "appended-by-prototype/pkcs12-default-jdk25-plus2.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_CA_PLUS2,
    },
    Case {
        file: "appended-by-prototype/pkcs12-legacy-jdk17-plus2.p12",
        password: "changeit",
        passwordless: false,
        entries: KEY_CA_PLUS2,
    },
    Case {
        file: "appended-by-prototype/pkcs12-nopass-jdk25-plus2.p12",
        password: "changeit",
        passwordless: true,
        entries: &[
            ("myca", EntryKind::TrustedCert, 1, Some(TEST_CA)),
            ("second ca", EntryKind::TrustedCert, 1, Some(CA2)),
            ("third", EntryKind::TrustedCert, 1, Some(TEST_CA)),
        ],
    },
    Case {
        file: "trust-anchor-reissue/ts-rootB-nopass.p12",
        password: "changeit",
        passwordless: true,
        entries: &[("root", EntryKind::TrustedCert, 1, Some(ROOT_B))],
    },
];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(common::sample(name)).unwrap()
}

fn check_entries(store: &Pkcs12Store, want: &[Want], what: &str) {
    let got: Vec<(String, EntryKind, usize)> = store
        .entries()
        .iter()
        .map(|e| (e.alias.clone(), e.kind, e.certs.len()))
        .collect();
    let expected: Vec<(String, EntryKind, usize)> =
        want.iter().map(|w| (w.0.to_string(), w.1, w.2)).collect();
    assert_eq!(got, expected, "{what}");
    for (e, w) in store.entries().iter().zip(want) {
        if let Some(fp) = w.3 {
            assert_eq!(sha256(&e.certs[0]), fp, "{what}: {}", e.alias);
        }
        if e.kind == EntryKind::PrivateKey {
            // keytool stores the creation date in the key's localKeyId ("Time <ms>"):
            // 2026-11-25 for these samples.
            let ms = e.created_ms.expect("a key entry has a date");
            assert!(
                (1_795_000_000_000..1_796_000_000_000).contains(&ms),
                "{what}: {ms}"
            );
        }
    }
}

#[test]
fn every_sample_parses_as_java_sees_it_and_round_trips() {
    for case in CASES {
        let data = read(case.file);
        let store = Pkcs12Store::parse(&data, Some(case.password))
            .unwrap_or_else(|e| panic!("{}: {e}", case.file));
        check_entries(&store, case.entries, case.file);
        assert_eq!(store.is_passwordless(), case.passwordless, "{}", case.file);
        assert!(store.is_verified(), "{}", case.file);
        assert!(!store.is_modified());
        assert_eq!(
            store.to_bytes(Some(case.password)).unwrap(),
            data,
            "{} round trip",
            case.file
        );

        // Through the facade too, with detection by content.
        let ks = Keystore::parse(&data, None, Some(case.password)).unwrap();
        assert_eq!(ks.entries(), store.entries());
        assert_eq!(ks.is_password_protected(), !case.passwordless);
        assert_eq!(ks.to_bytes(Some(case.password)).unwrap(), data);
    }
}

#[test]
fn the_table_covers_every_pkcs12_sample() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "p12") {
                out.push(p);
            }
        }
    }
    let root = common::samples_dir();
    let mut found = Vec::new();
    walk(&root, &mut found);
    for p in found {
        let rel = p
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let covered =
            CASES.iter().any(|c| c.file == rel) || rel == "cacerts-debian-nopass-jdk25.p12";
        assert!(covered, "sample {rel} is not checked by this test");
    }
}

#[test]
fn debian_cacerts_has_144_trusted_entries_and_round_trips() {
    let data = read("cacerts-debian-nopass-jdk25.p12");
    for pw in [None, Some("changeit"), Some("")] {
        let store = Pkcs12Store::parse(&data, pw).unwrap();
        assert_eq!(store.entries().len(), 144);
        assert!(store.is_passwordless() && store.is_verified());
        assert!(store
            .entries()
            .iter()
            .all(|e| e.kind == EntryKind::TrustedCert && e.certs.len() == 1));
        let isrg = store
            .entries()
            .iter()
            .find(|e| e.alias == "debian:isrg_root_x1.pem")
            .unwrap();
        assert_eq!(sha256(&isrg.certs[0]), ISRG_X1);
        assert_eq!(store.to_bytes(pw).unwrap(), data);
        assert_eq!(store.contents(), vec![ContentProtection::Data]);
        assert_eq!(store.mac_info(), None);
    }
}

/// Cross-check of all 144 aliases and fingerprints against OpenSSL's reading of the file.
#[test]
fn debian_cacerts_matches_openssl() {
    let openssl = Path::new("/usr/bin/openssl");
    if !openssl.is_file() {
        eprintln!("skipped: no /usr/bin/openssl");
        return;
    }
    let path = common::sample("cacerts-debian-nopass-jdk25.p12");
    let out = Command::new(openssl)
        .args(["pkcs12", "-nokeys", "-passin", "pass:", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut expected: Vec<(String, String)> = Vec::new();
    for block in text.split("Bag Attributes").skip(1) {
        let name = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("friendlyName: "))
            .expect("openssl prints a friendlyName")
            .to_lowercase();
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(block.as_bytes()).unwrap();
        expected.push((name, sha256(der.as_ref())));
    }
    let store = Pkcs12Store::parse(&std::fs::read(&path).unwrap(), None).unwrap();
    assert_eq!(store.entries().len(), expected.len());
    for (e, (name, fp)) in store.entries().iter().zip(&expected) {
        // OpenSSL 3.0 prints non-ASCII BMPString characters as mangled bytes.
        if name.is_ascii() {
            assert_eq!(&e.alias, name);
        }
        assert_eq!(&sha256(&e.certs[0]), fp, "{}", e.alias);
    }
    assert!(store
        .entries()
        .iter()
        .any(|e| e.alias
            == "debian:netlock_arany_=class_gold=_f\u{151}tan\u{fa}s\u{ed}tv\u{e1}ny.pem"));
}

#[test]
fn wrong_password_is_reported_as_such() {
    for (file, wrong) in [
        ("pkcs12-default-jdk17.p12", "wrongpw"),
        ("pkcs12-default-jdk25.p12", ""),
        ("pkcs12-legacy-jdk17.p12", "Changeit"),
        ("pkcs12-legacy-jdk25.p12", "wrongpw"),
        ("pkcs12-storenull-jdk17.p12", "changeit"),
        (
            "appended-by-prototype/pkcs12-default-jdk25-plus2.p12",
            "changeit ",
        ),
    ] {
        match Pkcs12Store::parse(&read(file), Some(wrong)) {
            Err(KeystoreError::WrongPassword(m)) => assert_eq!(m, "MAC mismatch", "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn without_a_password_a_protected_store_shows_what_java_shows() {
    for file in [
        "pkcs12-default-jdk17.p12",
        "pkcs12-default-jdk25.p12",
        "pkcs12-legacy-jdk17.p12",
        "pkcs12-legacy-jdk25.p12",
    ] {
        let data = read(file);
        let store = Pkcs12Store::parse(&data, None).unwrap();
        // The key is in plain Data; its chain and the trusted cert are in the EncryptedData.
        check_entries(&store, &[("mykey", EntryKind::PrivateKey, 0, None)], file);
        assert!(!store.is_verified());
        assert!(!store.is_passwordless());
        assert_eq!(
            store.contents(),
            vec![ContentProtection::Data, ContentProtection::EncryptedUnread]
        );
        assert!(matches!(
            store.to_bytes(None),
            Err(KeystoreError::PasswordRequired(_))
        ));
        assert!(matches!(
            store.to_bytes(Some("changeit")),
            Err(KeystoreError::PasswordRequired(_))
        ));
        let mut s = store.clone();
        assert!(matches!(
            s.add_trusted_cert("x", &read("test-ca.der"), 0),
            Err(KeystoreError::PasswordRequired(_))
        ));
    }
    // JDK 17 store(null): everything is encrypted, so nothing is visible.
    let store = Pkcs12Store::parse(&read("pkcs12-storenull-jdk17.p12"), None).unwrap();
    assert!(store.entries().is_empty());
    assert!(!store.is_verified());
}

#[test]
fn a_passwordless_store_opens_with_any_password_or_none() {
    for file in [
        "pkcs12-nopass-jdk17.p12",
        "pkcs12-nopass-jdk25.p12",
        "pkcs12-storenull-jdk25.p12",
    ] {
        let data = read(file);
        for pw in [None, Some(""), Some("changeit"), Some("anything at all")] {
            let store = Pkcs12Store::parse(&data, pw).unwrap();
            assert!(
                store.is_passwordless() && store.is_verified(),
                "{file} {pw:?}"
            );
            assert_eq!(store.entries().len(), 1);
            assert_eq!(store.to_bytes(pw).unwrap(), data);
            assert_eq!(store.to_bytes(None).unwrap(), data);
        }
    }
}

#[test]
fn algorithms_are_read_from_the_file() {
    let s = Pkcs12Store::parse(&read("pkcs12-default-jdk25.p12"), Some("changeit")).unwrap();
    let mac = s.mac_info().unwrap();
    assert_eq!(
        (mac.digest, mac.iterations, mac.salt_len),
        ("SHA-256", 10_000, 20)
    );
    assert_eq!(
        s.contents(),
        vec![
            ContentProtection::Data,
            ContentProtection::Encrypted {
                algorithm: "PBES2 (PBKDF2-HmacSHA256, AES-256-CBC, 10000 iterations)".into(),
                iterations: 10_000
            }
        ]
    );
    let s = Pkcs12Store::parse(&read("pkcs12-legacy-jdk17.p12"), Some("changeit")).unwrap();
    let mac = s.mac_info().unwrap();
    assert_eq!((mac.digest, mac.iterations), ("SHA-1", 100_000));
    assert_eq!(
        s.contents()[1],
        ContentProtection::Encrypted {
            algorithm: "PBE-SHA1-RC2-40 (50000 iterations)".into(),
            iterations: 50_000
        }
    );
}

#[test]
fn writing_needs_the_password_the_store_was_opened_with() {
    let data = read("pkcs12-default-jdk17.p12");
    let store = Pkcs12Store::parse(&data, Some("changeit")).unwrap();
    assert!(matches!(
        store.to_bytes(None),
        Err(KeystoreError::PasswordRequired(_))
    ));
    assert!(matches!(
        store.to_bytes(Some("other")),
        Err(KeystoreError::WrongPassword(_))
    ));
    let ks = Keystore::parse(&data, None, Some("changeit")).unwrap();
    assert!(matches!(
        ks.to_bytes(None),
        Err(KeystoreError::PasswordRequired(_))
    ));
}
