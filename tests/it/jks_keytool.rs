//! Java interoperability: keystores made by keytool (JDK 17 and 25), extended by our codec,
//! must list in keytool with every entry, the new trusted certificates with the right
//! fingerprints, and the untouched private key must still open with its key password.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use azure_cacerts::keystore::jks::JksStore;
use azure_cacerts::keystore::EntryKind;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

const PW: &str = "changeit";
const AZURE_PEM: &str = "azure-ca/pem/microsoft-rsa-root-certificate-authority-2017.pem";

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The two certificates the tests add: (alias as given, DER).
fn additions() -> Vec<(&'static str, Vec<u8>)> {
    let ca2 = std::fs::read(common::sample("edge-cases/ca2.der")).unwrap();
    let azure = CertificateDer::from_pem_file(common::fixtures_dir().join(AZURE_PEM)).unwrap();
    vec![
        ("Second CA", ca2),
        ("Azure-CA-Microsoft-RSA-Root-2017", azure.as_ref().to_vec()),
    ]
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn run_ok(kt: &Path, args: &[&str]) -> String {
    let out = common::keytool(kt, args);
    assert!(
        out.status.success(),
        "{} {}\nstdout: {}\nstderr: {}",
        kt.display(),
        args.join(" "),
        common::stdout(&out),
        common::stderr(&out)
    );
    common::stdout(&out)
}

#[derive(Debug)]
struct Listed {
    entry_type: String,
    sha256: Vec<String>,
}

/// Parses `keytool -list -v`: the announced count, and per alias its entry type and the
/// SHA-256 fingerprints of its certificates (the chain, leaf first, for a private key).
fn list_v(kt: &Path, path: &Path, storetype: &str) -> (usize, BTreeMap<String, Listed>) {
    let text = run_ok(
        kt,
        &[
            "-list",
            "-v",
            "-keystore",
            path.to_str().unwrap(),
            "-storetype",
            storetype,
            "-storepass",
            PW,
        ],
    );
    let count = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("Your keystore contains ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no entry count in:\n{text}"));
    let mut map = BTreeMap::new();
    for block in text.split("Alias name: ").skip(1) {
        let alias = block.lines().next().unwrap().trim().to_string();
        let entry_type = block
            .lines()
            .find_map(|l| l.strip_prefix("Entry type: "))
            .unwrap_or_else(|| panic!("no entry type for {alias}"))
            .trim()
            .to_string();
        let sha256 = block
            .lines()
            .filter_map(|l| l.trim().strip_prefix("SHA256: "))
            .map(|f| f.replace(':', ""))
            .collect();
        assert!(
            map.insert(alias.clone(), Listed { entry_type, sha256 })
                .is_none(),
            "{alias} listed twice"
        );
    }
    (count, map)
}

/// How keytool prints an alias under LC_ALL=C: every non-ASCII character as '?'.
fn as_keytool_prints(alias: &str) -> String {
    alias
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect()
}

/// Checks keytool's listing against what our codec reads from the same file.
fn assert_listing_matches(kt: &Path, path: &Path, storetype: &str) -> BTreeMap<String, Listed> {
    let ks = JksStore::parse(&std::fs::read(path).unwrap(), Some(PW)).unwrap();
    let (count, listed) = list_v(kt, path, storetype);
    assert_eq!(
        count,
        ks.entries().len(),
        "{}: {}",
        kt.display(),
        path.display()
    );
    assert_eq!(listed.len(), count);
    for e in ks.entries() {
        let l = listed
            .get(&as_keytool_prints(&e.alias))
            .unwrap_or_else(|| panic!("{}: keytool does not list {:?}", kt.display(), e.alias));
        let want_type = match e.kind {
            EntryKind::TrustedCert => "trustedCertEntry",
            EntryKind::PrivateKey => "PrivateKeyEntry",
            EntryKind::SecretKey => "SecretKeyEntry",
        };
        assert_eq!(l.entry_type, want_type, "{}", e.alias);
        let ours: Vec<String> = e.certs.iter().map(|c| sha256_hex(c)).collect();
        assert_eq!(
            l.sha256,
            ours,
            "{}: fingerprints of {}",
            kt.display(),
            e.alias
        );
    }
    listed
}

/// Adds the two test certificates with our codec and writes the file back.
fn add_with_codec(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap();
    let mut ks = JksStore::parse(&data, Some(PW)).unwrap();
    let before = ks.entries().to_vec();
    let mut aliases = Vec::new();
    for (alias, der) in additions() {
        ks.add_trusted_cert(alias, &der, now_ms()).unwrap();
        aliases.push(alias.to_lowercase());
    }
    let out = ks.to_bytes(PW);
    // The original entries are kept byte for byte, in order.
    assert_eq!(out[..data.len() - 20][12..], data[12..data.len() - 20]);
    std::fs::write(path, &out).unwrap();
    let back = JksStore::parse(&out, Some(PW)).unwrap();
    assert_eq!(back.entries()[..before.len()], before[..]);
    aliases
}

fn check_new_entries(listed: &BTreeMap<String, Listed>, aliases: &[String]) {
    for ((alias, der), lower) in additions().iter().zip(aliases) {
        let l = listed
            .get(lower)
            .unwrap_or_else(|| panic!("{alias} not listed as {lower}"));
        assert_eq!(l.entry_type, "trustedCertEntry");
        assert_eq!(l.sha256, [sha256_hex(der)]);
    }
}

/// The private key still opens with the key password, and its certificate is unchanged.
fn check_private_key(kt: &Path, path: &Path, storetype: &str, dir: &Path) {
    let p = path.to_str().unwrap();
    let exported = dir.join("mykey.der");
    run_ok(
        kt,
        &[
            "-exportcert",
            "-alias",
            "mykey",
            "-keystore",
            p,
            "-storetype",
            storetype,
            "-storepass",
            PW,
            "-file",
            exported.to_str().unwrap(),
        ],
    );
    let ks = JksStore::parse(&std::fs::read(path).unwrap(), Some(PW)).unwrap();
    let mykey = ks.entries().iter().find(|e| e.alias == "mykey").unwrap();
    assert_eq!(std::fs::read(&exported).unwrap(), mykey.certs[0]);
    let csr = run_ok(
        kt,
        &[
            "-certreq",
            "-alias",
            "mykey",
            "-keystore",
            p,
            "-storetype",
            storetype,
            "-storepass",
            PW,
            "-keypass",
            PW,
        ],
    );
    assert!(csr.contains("BEGIN NEW CERTIFICATE REQUEST"), "{csr}");
}

fn keytool_made_store(storetype: &str) {
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("skipped: no keytool on this machine");
        return;
    }
    let test_ca_pem = common::sample("test-ca.pem");
    for kt in &keytools {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir
            .path()
            .join(format!("store.{}", storetype.to_lowercase()));
        let p = path.to_str().unwrap();
        let common_args = ["-keystore", p, "-storetype", storetype, "-storepass", PW];
        let mut args = vec![
            "-genkeypair",
            "-alias",
            "mykey",
            "-keypass",
            PW,
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
        ];
        args.extend([
            "-dname",
            "CN=mykey,O=azure-cacerts-test",
            "-validity",
            "3650",
        ]);
        args.extend(common_args);
        run_ok(kt, &args);
        let mut args = vec![
            "-importcert",
            "-noprompt",
            "-alias",
            "myca",
            "-file",
            test_ca_pem.to_str().unwrap(),
        ];
        args.extend(common_args);
        run_ok(kt, &args);
        if storetype == "JCEKS" {
            let mut args = vec![
                "-genseckey",
                "-alias",
                "mysecret",
                "-keypass",
                PW,
                "-keyalg",
                "AES",
                "-keysize",
                "128",
            ];
            args.extend(common_args);
            run_ok(kt, &args);
        }

        let aliases = add_with_codec(&path);
        let listed = assert_listing_matches(kt, &path, storetype);
        let mut want = vec!["myca", "mykey"];
        if storetype == "JCEKS" {
            want.push("mysecret");
            assert_eq!(listed["mysecret"].entry_type, "SecretKeyEntry");
        }
        want.extend(aliases.iter().map(String::as_str));
        want.sort();
        assert_eq!(
            listed.keys().map(String::as_str).collect::<Vec<_>>(),
            want,
            "{}",
            kt.display()
        );
        check_new_entries(&listed, &aliases);
        assert_eq!(
            listed["myca"].sha256,
            ["05B1D3D062966E651841C2D1C6DD352F24E6EEBD83BE3C60CCAAE8D969B22517"]
        );
        check_private_key(kt, &path, storetype, dir.path());
    }
}

#[test]
fn keytool_made_jks_takes_our_trusted_certs() {
    keytool_made_store("JKS");
}

#[test]
fn keytool_made_jceks_takes_our_trusted_certs() {
    keytool_made_store("JCEKS");
}

#[test]
fn debian_cacerts_takes_our_trusted_certs() {
    let Some(cacerts) = common::debian_cacerts() else {
        eprintln!("skipped: /etc/ssl/certs/java/cacerts is absent");
        return;
    };
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("skipped: no keytool on this machine");
        return;
    }
    let (_dir, path) = common::copy_to_temp(&cacerts);
    // 144 on the reference machine (146 after adding two); it depends on ca-certificates.
    let before = JksStore::parse(&std::fs::read(&path).unwrap(), Some(PW))
        .unwrap()
        .entries()
        .len();
    let aliases = add_with_codec(&path);
    for kt in &keytools {
        let listed = assert_listing_matches(kt, &path, "JKS");
        assert_eq!(listed.len(), before + 2);
        check_new_entries(&listed, &aliases);
    }
}

#[test]
fn version1_file_stays_readable_after_adding() {
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("skipped: no keytool on this machine");
        return;
    }
    let (_dir, path) = common::copy_to_temp(&common::sample("edge-cases/jks-version1.jks"));
    let aliases = add_with_codec(&path);
    assert_eq!(std::fs::read(&path).unwrap()[4..8], [0, 0, 0, 1]);
    for kt in &keytools {
        let listed = assert_listing_matches(kt, &path, "JKS");
        assert_eq!(listed.len(), 4);
        check_new_entries(&listed, &aliases);
    }
}
