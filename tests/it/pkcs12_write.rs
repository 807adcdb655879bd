//! Writing PKCS12: appending trusted certificates and removing them, checked by our own
//! reader and by what Java (keytool 17 and 25, a PKIX TrustManagerFactory) and OpenSSL make
//! of the result.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use azure_cacerts::keystore::pkcs12::{ContentProtection, Pkcs12Store};
use azure_cacerts::keystore::{Entry, EntryKind, Keystore, KeystoreError};
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

fn sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn der_of(sample: &str) -> Vec<u8> {
    let bytes = std::fs::read(common::sample(sample)).unwrap();
    if sample.ends_with(".pem") {
        rustls_pki_types::CertificateDer::from_pem_slice(&bytes)
            .unwrap()
            .as_ref()
            .to_vec()
    } else {
        bytes
    }
}

/// The ContentInfos of a PFX's AuthenticatedSafe, as raw bytes (a walker independent of
/// the codec, for the byte-for-byte checks).
fn content_infos(pfx: &[u8]) -> Vec<Vec<u8>> {
    fn tlv(d: &[u8]) -> (usize, usize) {
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
    fn body(d: &[u8]) -> &[u8] {
        let (h, l) = tlv(d);
        &d[h..h + l]
    }
    fn skip(d: &[u8]) -> &[u8] {
        let (h, l) = tlv(d);
        &d[h + l..]
    }
    let pfx_body = body(pfx);
    let auth_ci = body(skip(pfx_body)); // after the version
    let explicit = body(skip(auth_ci)); // after the content type
    let auth_safe = body(explicit); // the OCTET STRING
    let mut items = body(auth_safe);
    let mut out = Vec::new();
    while !items.is_empty() {
        let (h, l) = tlv(items);
        out.push(items[..h + l].to_vec());
        items = &items[h + l..];
    }
    out
}

/// JVM options that halve keytool's start-up for these short runs.
const JIT_QUICK: &str = "-J-XX:TieredStopAtLevel=1";
const GC_SMALL: &str = "-J-XX:+UseSerialGC";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listed {
    alias: String,
    kind: String,
    sha256: String,
    chain: usize,
}

fn expected_listing(entries: &[Entry]) -> Vec<Listed> {
    let mut v: Vec<Listed> = entries
        .iter()
        .map(|e| Listed {
            // keytool runs under LC_ALL=C (common::keytool), so it prints non-ASCII as '?'.
            alias: e
                .alias
                .chars()
                .map(|c| if c.is_ascii() { c } else { '?' })
                .collect(),
            kind: match e.kind {
                EntryKind::TrustedCert => "trustedCertEntry",
                EntryKind::PrivateKey => "PrivateKeyEntry",
                EntryKind::SecretKey => "SecretKeyEntry",
            }
            .into(),
            sha256: e.certs.first().map(|c| sha256(c)).unwrap_or_default(),
            chain: if e.kind == EntryKind::PrivateKey {
                e.certs.len()
            } else {
                0
            },
        })
        .collect();
    v.sort();
    v
}

/// `keytool -list -v`, parsed into (alias, entry type, SHA-256 of the first certificate).
/// Compares listings, printing only the differences (the cacerts listing is long).
fn assert_same_listing(got: &[Listed], want: &[Listed], what: &str) {
    let missing: Vec<&Listed> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&Listed> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "{what}: missing {missing:?}, unexpected {extra:?}"
    );
}

fn keytool_listing(kt: &Path, file: &Path, password: Option<&str>) -> Vec<Listed> {
    let file = file.to_str().unwrap();
    let mut args = vec![
        JIT_QUICK,
        GC_SMALL,
        "-list",
        "-v",
        "-storetype",
        "PKCS12",
        "-keystore",
        file,
    ];
    if let Some(pw) = password {
        args.extend(["-storepass", pw]);
    }
    let out = common::keytool(kt, &args);
    let text = common::stdout(&out);
    assert!(
        out.status.success(),
        "{} {args:?}: {text}{}",
        kt.display(),
        common::stderr(&out)
    );
    let mut v = Vec::new();
    for block in text.split("Alias name: ").skip(1) {
        let alias = block.lines().next().unwrap().trim().to_string();
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix(name).map(|s| s.trim().to_string()))
                .unwrap_or_default()
        };
        let kind = field("Entry type:");
        let sha256 = field("SHA256:").replace(':', "");
        let chain = if kind == "PrivateKeyEntry" {
            field("Certificate chain length:").parse().unwrap()
        } else {
            0
        };
        v.push(Listed {
            alias,
            kind,
            sha256,
            chain,
        });
    }
    v.sort();
    v
}

fn openssl_info(file: &Path, password: &str, legacy: bool) -> String {
    let mut cmd = Command::new("/usr/bin/openssl");
    cmd.args(["pkcs12", "-info", "-noout", "-passin"])
        .arg(format!("pass:{password}"))
        .arg("-in")
        .arg(file);
    if legacy {
        cmd.arg("-legacy");
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(
        out.status.success(),
        "openssl rejects {}: {text}",
        file.display()
    );
    assert!(!text.contains("Mac verify error"), "{text}");
    text
}

fn have_openssl() -> bool {
    Path::new("/usr/bin/openssl").is_file()
}

/// Java's view of a password-less store through `KeyStore.load(in, null)` and a PKIX
/// TrustManagerFactory: every fingerprint in `anchors` must be an accepted issuer.
fn java_accepts(kt: &Path, file: &Path, anchors: &[String]) {
    let java = common::java_beside(kt);
    let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/Check.java");
    let out = Command::new(&java)
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
        .arg(&check)
        .arg(file)
        .args(anchors)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {}: {}{}",
        java.display(),
        file.display(),
        common::stdout(&out),
        common::stderr(&out)
    );
}

fn key_still_opens(kt: &Path, file: &Path, password: &str) {
    let file = file.to_str().unwrap();
    let out = common::keytool(
        kt,
        &[
            "-certreq",
            "-alias",
            "mykey",
            "-keypass",
            "changeit",
            "-storepass",
            password,
            "-keystore",
            file,
        ],
    );
    assert!(
        out.status.success() && common::stdout(&out).contains("BEGIN NEW CERTIFICATE REQUEST"),
        "{}: {}{}",
        kt.display(),
        common::stdout(&out),
        common::stderr(&out)
    );
}

struct Sample {
    file: &'static str,
    password: &'static str,
    /// OpenSSL 3 needs -legacy for RC2-40.
    legacy: bool,
    has_key: bool,
}

const NOW_MS: i64 = 1_800_000_000_000;

/// Appends two certificates to a copy of the sample and checks the result every way.
fn append_and_check(s: &Sample) {
    let (_dir, path) = common::copy_to_temp(&common::sample(s.file));
    let data = std::fs::read(&path).unwrap();
    let mut store = Pkcs12Store::parse(&data, Some(s.password)).unwrap();
    let before = store.clone();
    let ca2 = der_of("edge-cases/ca2.der");
    let root_a = der_of("trust-anchor-reissue/rootA.pem");

    store
        .add_trusted_cert("Azure-CA-Second Test", &ca2, NOW_MS)
        .unwrap();
    store
        .add_trusted_cert("azure-ca-roota", &root_a, NOW_MS)
        .unwrap();
    // Aliases are folded to lower case and unique ignoring case, new ones included.
    let mut taken: Vec<String> = vec!["AZURE-CA-SECOND TEST".into(), "Azure-CA-RootA".into()];
    taken.extend(before.entries().iter().map(|e| e.alias.to_uppercase()));
    for taken in &taken {
        match store.add_trusted_cert(taken, &ca2, NOW_MS) {
            Err(KeystoreError::AliasExists(a)) => assert_eq!(a, taken.to_lowercase()),
            other => panic!("{}: adding {taken:?} again: {other:?}", s.file),
        }
    }
    assert!(store.is_modified());
    let new_entries: Vec<(String, String)> = vec![
        ("azure-ca-second test".into(), sha256(&ca2)),
        ("azure-ca-roota".into(), sha256(&root_a)),
    ];
    for (alias, fp) in &new_entries {
        let e = store.entries().iter().find(|e| &e.alias == alias).unwrap();
        assert_eq!(
            (e.kind, sha256(&e.certs[0])),
            (EntryKind::TrustedCert, fp.clone())
        );
    }

    let out = store.to_bytes(Some(s.password)).unwrap();
    std::fs::write(&path, &out).unwrap();

    // Our reader: the old entries and the new ones, with the same protection.
    let re = Pkcs12Store::parse(&out, Some(s.password)).unwrap();
    assert_eq!(re.entries(), store.entries(), "{}", s.file);
    assert_eq!(
        re.entries()[..before.entries().len()],
        before.entries()[..],
        "{}",
        s.file
    );
    assert_eq!(re.is_passwordless(), before.is_passwordless(), "{}", s.file);
    assert!(re.is_verified());
    let old_contents = before.contents();
    let mut want_contents = old_contents.clone();
    let first_encrypted = old_contents
        .iter()
        .find(|c| matches!(c, ContentProtection::Encrypted { .. }))
        .cloned();
    want_contents.push(first_encrypted.unwrap_or(ContentProtection::Data));
    assert_eq!(re.contents(), want_contents, "{}", s.file);
    match (before.mac_info(), re.mac_info()) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            assert_eq!(
                (a.digest, a.iterations),
                (b.digest, b.iterations),
                "{}",
                s.file
            );
            assert_eq!(b.salt_len, 20);
        }
        other => panic!("{}: MAC changed: {other:?}", s.file),
    }
    // Every existing ContentInfo byte for byte, one ContentInfo appended.
    let old_ci = content_infos(&data);
    let new_ci = content_infos(&out);
    assert_eq!(new_ci.len(), old_ci.len() + 1);
    assert_eq!(new_ci[..old_ci.len()], old_ci[..], "{}", s.file);
    // Through the facade with no password, like a JSSE default truststore.
    if before.is_passwordless() {
        let ks = Keystore::parse(&out, None, None).unwrap();
        assert!(!ks.is_password_protected() && ks.is_verified());
        assert_eq!(ks.entries(), store.entries());
    }

    let expected = expected_listing(re.entries());
    for kt in common::keytools() {
        let listing = if before.is_passwordless() {
            // keytool does not even prompt for a password-less store.
            keytool_listing(&kt, &path, None)
        } else {
            keytool_listing(&kt, &path, Some(s.password))
        };
        assert_same_listing(
            &listing,
            &expected,
            &format!("{} with {}", s.file, kt.display()),
        );
        if s.has_key {
            key_still_opens(&kt, &path, s.password);
        }
        if before.is_passwordless() {
            let anchors: Vec<String> = re.entries().iter().map(|e| sha256(&e.certs[0])).collect();
            java_accepts(&kt, &path, &anchors);
        }
    }
    if have_openssl() {
        let info = openssl_info(&path, s.password, s.legacy);
        assert_eq!(
            info.contains("MAC is absent"),
            before.is_passwordless(),
            "{}: {info}",
            s.file
        );
        let bags = info.matches("Certificate bag").count();
        let certs: usize = re.entries().iter().map(|e| e.certs.len()).sum();
        assert_eq!(bags, certs, "{}: {info}", s.file);
    }
}

macro_rules! append_test {
    ($name:ident, $file:expr, $pw:expr, $legacy:expr, $key:expr) => {
        #[test]
        fn $name() {
            append_and_check(&Sample {
                file: $file,
                password: $pw,
                legacy: $legacy,
                has_key: $key,
            });
        }
    };
}

append_test!(
    append_default_jdk17,
    "pkcs12-default-jdk17.p12",
    "changeit",
    false,
    true
);
append_test!(
    append_default_jdk25,
    "pkcs12-default-jdk25.p12",
    "changeit",
    false,
    true
);
append_test!(
    append_legacy_jdk17,
    "pkcs12-legacy-jdk17.p12",
    "changeit",
    true,
    true
);
append_test!(
    append_legacy_jdk25,
    "pkcs12-legacy-jdk25.p12",
    "changeit",
    true,
    true
);
append_test!(
    append_nopass_jdk17,
    "pkcs12-nopass-jdk17.p12",
    "changeit",
    false,
    false
);
append_test!(
    append_nopass_jdk25,
    "pkcs12-nopass-jdk25.p12",
    "changeit",
    false,
    false
);
append_test!(
    append_storenull_jdk17,
    "pkcs12-storenull-jdk17.p12",
    "",
    false,
    false
);
append_test!(
    append_storenull_jdk25,
    "pkcs12-storenull-jdk25.p12",
    "changeit",
    false,
    false
);
append_test!(
    append_debian_cacerts,
    "cacerts-debian-nopass-jdk25.p12",
    "changeit",
    false,
    false
);
append_test!(
    append_prototype_legacy,
    "appended-by-prototype/pkcs12-legacy-jdk17-plus2.p12",
    "changeit",
    true,
    true
);

#[test]
fn passwordless_stays_passwordless_with_any_write_password() {
    let data = der_of("pkcs12-nopass-jdk25.p12");
    let ca2 = der_of("edge-cases/ca2.der");
    for pw in [None, Some(""), Some("changeit"), Some("other")] {
        let mut store = Pkcs12Store::parse(&data, Some("changeit")).unwrap();
        store.add_trusted_cert("x", &ca2, NOW_MS).unwrap();
        let out = store.to_bytes(pw).unwrap();
        let re = Pkcs12Store::parse(&out, None).unwrap();
        assert!(re.is_passwordless() && re.is_verified());
        assert_eq!(
            re.contents(),
            vec![ContentProtection::Data, ContentProtection::Data]
        );
        assert_eq!(re.entries().len(), 2);
    }
}

#[test]
fn a_second_write_appends_another_content_info() {
    let data = der_of("pkcs12-default-jdk25.p12");
    let mut store = Pkcs12Store::parse(&data, Some("changeit")).unwrap();
    store
        .add_trusted_cert("one", &der_of("edge-cases/ca2.der"), NOW_MS)
        .unwrap();
    let once = store.to_bytes(Some("changeit")).unwrap();
    let mut store = Pkcs12Store::parse(&once, Some("changeit")).unwrap();
    assert_eq!(
        store.to_bytes(Some("changeit")).unwrap(),
        once,
        "no change, same bytes"
    );
    store
        .add_trusted_cert("two", &der_of("trust-anchor-reissue/rootB.pem"), NOW_MS)
        .unwrap();
    let twice = store.to_bytes(Some("changeit")).unwrap();
    let ci1 = content_infos(&once);
    let ci2 = content_infos(&twice);
    assert_eq!(ci2.len(), 4);
    assert_eq!(ci2[..3], ci1[..]);
    let re = Pkcs12Store::parse(&twice, Some("changeit")).unwrap();
    let aliases: Vec<&str> = re.entries().iter().map(|e| e.alias.as_str()).collect();
    assert_eq!(aliases, ["mykey", "myca", "one", "two"]);
}

#[test]
fn a_new_cert_bag_is_what_keytool_writes() {
    let data = der_of("pkcs12-nopass-jdk17.p12");
    let ca2 = der_of("edge-cases/ca2.der");
    let mut store = Pkcs12Store::parse(&data, None).unwrap();
    store.add_trusted_cert("Ab", &ca2, NOW_MS).unwrap();
    let out = store.to_bytes(None).unwrap();
    let ci = content_infos(&out);
    let new = &ci[1];
    // friendlyName "ab" as a BMPString and trustedKeyUsage {anyExtendedKeyUsage}.
    let friendly = [
        0x30, 0x13, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x14, 0x31, 0x06,
        0x1E, 0x04, 0x00, b'a', 0x00, b'b',
    ];
    let usage = [
        0x30, 0x16, 0x06, 0x0C, 0x60, 0x86, 0x48, 0x01, 0x86, 0xF9, 0x66, 0xAD, 0xCA, 0x7B, 0x01,
        0x01, 0x31, 0x06, 0x06, 0x04, 0x55, 0x1D, 0x25, 0x00,
    ];
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(new, &friendly));
    assert!(contains(new, &usage));
    assert!(contains(new, &ca2));
}

#[test]
fn adding_refuses_what_it_cannot_write() {
    let protected = der_of("pkcs12-default-jdk17.p12");
    let mut store = Pkcs12Store::parse(&protected, Some("changeit")).unwrap();
    assert!(matches!(
        store.add_trusted_cert("", &der_of("test-ca.der"), NOW_MS),
        Err(KeystoreError::Unsupported(_))
    ));
    assert!(matches!(
        store.add_trusted_cert("junk", b"not a certificate", NOW_MS),
        Err(KeystoreError::Malformed(_))
    ));
    assert!(!store.is_modified());
    store
        .add_trusted_cert("fine", &der_of("test-ca.der"), NOW_MS)
        .unwrap();
    assert!(matches!(
        store.to_bytes(None),
        Err(KeystoreError::PasswordRequired(_))
    ));
    assert!(matches!(
        store.to_bytes(Some("changeit2")),
        Err(KeystoreError::WrongPassword(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Removal

struct Removal {
    file: &'static str,
    password: &'static str,
    remove: &'static str,
    legacy: bool,
    has_key: bool,
    /// Check with keytool and Java (the JVM runs are the slow part).
    with_java: bool,
}

fn remove_and_check(r: &Removal) -> PathBuf {
    let (dir, path) = common::copy_to_temp(&common::sample(r.file));
    std::mem::forget(dir); // kept until the process ends, for the tool runs below
    let data = std::fs::read(&path).unwrap();
    let mut store = Pkcs12Store::parse(&data, Some(r.password)).unwrap();
    let before = store.clone();
    let gone = before
        .entries()
        .iter()
        .position(|e| e.alias == r.remove.to_lowercase())
        .unwrap();
    store.remove_entry(&r.remove.to_uppercase()).unwrap();
    assert!(matches!(
        store.remove_entry(r.remove),
        Err(KeystoreError::NoSuchAlias(_))
    ));
    let out = store.to_bytes(Some(r.password)).unwrap();
    std::fs::write(&path, &out).unwrap();

    let re = Pkcs12Store::parse(&out, Some(r.password)).unwrap();
    let mut want = before.entries().to_vec();
    want.remove(gone);
    assert_eq!(re.entries(), want, "{}", r.file);
    assert_eq!(
        re.contents(),
        before.contents(),
        "{}: the same protection, ContentInfo by ContentInfo",
        r.file
    );
    assert_eq!(re.is_passwordless(), before.is_passwordless());
    // Only the ContentInfo that held the certificate changed.
    let old_ci = content_infos(&data);
    let new_ci = content_infos(&out);
    assert_eq!(old_ci.len(), new_ci.len());
    assert_eq!(
        old_ci.iter().zip(&new_ci).filter(|(a, b)| a != b).count(),
        1,
        "{}",
        r.file
    );

    if r.with_java {
        let expected = expected_listing(re.entries());
        for kt in common::keytools() {
            let listing = keytool_listing(&kt, &path, Some(r.password));
            assert_same_listing(
                &listing,
                &expected,
                &format!("{} with {}", r.file, kt.display()),
            );
            if r.has_key {
                key_still_opens(&kt, &path, r.password);
            }
        }
    }
    if have_openssl() {
        let info = openssl_info(&path, r.password, r.legacy);
        assert_eq!(info.contains("MAC is absent"), before.is_passwordless());
    }
    path
}

#[test]
fn remove_from_default_reencrypts_only_that_content() {
    // myca shares its EncryptedData with mykey's certificate, which must survive.
    remove_and_check(&Removal {
        file: "pkcs12-default-jdk17.p12",
        password: "changeit",
        remove: "myca",
        legacy: false,
        has_key: true,
        with_java: true,
    });
}

#[test]
fn remove_from_legacy_reencrypts_with_rc2() {
    remove_and_check(&Removal {
        file: "pkcs12-legacy-jdk25.p12",
        password: "changeit",
        remove: "myca",
        legacy: true,
        has_key: true,
        with_java: true,
    });
}

#[test]
fn remove_from_passwordless_and_empty_password_stores() {
    for (file, pw, alias) in [
        ("pkcs12-nopass-jdk25.p12", "changeit", "myca"),
        ("pkcs12-storenull-jdk17.p12", "", "nullpass"),
        (
            "cacerts-debian-nopass-jdk25.p12",
            "changeit",
            "debian:isrg_root_x1.pem",
        ),
        (
            "appended-by-prototype/pkcs12-default-jdk25-plus2.p12",
            "changeit",
            "Second CA",
        ),
    ] {
        remove_and_check(&Removal {
            file,
            password: pw,
            remove: alias,
            legacy: false,
            has_key: false,
            with_java: false,
        });
    }
}

#[test]
fn remove_refuses_keys_and_unknown_aliases() {
    let mut store =
        Pkcs12Store::parse(&der_of("pkcs12-default-jdk25.p12"), Some("changeit")).unwrap();
    assert!(matches!(
        store.remove_entry("mykey"),
        Err(KeystoreError::Unsupported(_))
    ));
    assert!(matches!(
        store.remove_entry("nosuch"),
        Err(KeystoreError::NoSuchAlias(_))
    ));
    assert!(!store.is_modified());
    // Without the password a protected store cannot be changed.
    let mut unread = Pkcs12Store::parse(
        &der_of("appended-by-prototype/pkcs12-legacy-jdk17-plus2.p12"),
        None,
    )
    .unwrap();
    assert!(matches!(
        unread.remove_entry("third"),
        Err(KeystoreError::PasswordRequired(_))
    ));
}

#[test]
fn removing_an_entry_added_before_writing_leaves_the_file_alone() {
    let data = der_of("pkcs12-default-jdk25.p12");
    let mut store = Pkcs12Store::parse(&data, Some("changeit")).unwrap();
    store
        .add_trusted_cert("temp", &der_of("edge-cases/ca2.der"), NOW_MS)
        .unwrap();
    store.remove_entry("TEMP").unwrap();
    assert!(!store.is_modified());
    assert_eq!(store.to_bytes(Some("changeit")).unwrap(), data);
}

#[test]
fn remove_then_add_in_one_write() {
    let path = remove_and_check(&Removal {
        file: "pkcs12-nopass-jdk17.p12",
        password: "changeit",
        remove: "myca",
        legacy: false,
        has_key: false,
        with_java: false,
    });
    let data = std::fs::read(&path).unwrap();
    let mut store = Pkcs12Store::parse(&data, None).unwrap();
    assert!(store.entries().is_empty());
    // The alias is free again.
    store
        .add_trusted_cert("myca", &der_of("edge-cases/ca2.der"), NOW_MS)
        .unwrap();
    let out = store.to_bytes(None).unwrap();
    let re = Pkcs12Store::parse(&out, None).unwrap();
    assert_eq!(re.entries().len(), 1);
    assert_eq!(
        sha256(&re.entries()[0].certs[0]),
        sha256(&der_of("edge-cases/ca2.der"))
    );
}
