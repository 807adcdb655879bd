//! Expired cross-signed Azure issuing CAs that servers still send (they expired on
//! 2026-08-25). Java trusts such a chain through the non-xsign twin (same subject, same key,
//! signed by Microsoft's 2017 root) only when the keystore holds that twin itself: the JDK
//! builds no path through a certificate the server did not send. `diff`/`import` must therefore
//! import the twins, and these tests show Java agreeing:
//!
//! - with the real catalog certificates: before `import`, a real JVM's trust-anchor set
//!   (TrustStoreUtil, as the default TrustManagerFactory builds it) has nothing with the
//!   subject and key of the eight xsign CAs; after it, each has its twin — the anchor at
//!   which Java's path from an Azure server certificate ends, whatever xsign copy the server
//!   appends;
//! - with a replica of that structure made here (the real issuing keys are Microsoft's, so no
//!   real server certificate can be made): `checkServerTrusted` of a leaf + expired xsign
//!   chain, for the keystores an administrator has, against our `check --chain`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration as Span, OffsetDateTime};

const XSIGN_SLUGS: [&str; 8] = [
    "microsoft-azure-ecc-tls-issuing-ca-03-xsign",
    "microsoft-azure-ecc-tls-issuing-ca-04-xsign",
    "microsoft-azure-ecc-tls-issuing-ca-07-xsign",
    "microsoft-azure-ecc-tls-issuing-ca-08-xsign",
    "microsoft-azure-rsa-tls-issuing-ca-03-xsign",
    "microsoft-azure-rsa-tls-issuing-ca-04-xsign",
    "microsoft-azure-rsa-tls-issuing-ca-07-xsign",
    "microsoft-azure-rsa-tls-issuing-ca-08-xsign",
];

fn pem_of(slug: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs/pem")
        .join(format!("{slug}.pem"))
}

/// Java's answer per xsign PEM: "exact", "name-key" or "none" (tests/java/AnchorJudge.java).
fn java_anchor_view(keytool: &Path, list: &Path, ks: &Path) -> Vec<(String, String)> {
    let out = Command::new(common::java_beside(keytool))
        .arg("--add-opens=java.base/sun.security.validator=ALL-UNNAMED")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/AnchorJudge.java"))
        .arg(list)
        .arg(ks)
        .arg("changeit")
        .output()
        .expect("java runs");
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[1].to_string(), cols[2].to_string())
        })
        .collect()
}

#[test]
fn import_gives_java_the_twin_of_every_expired_xsign_ca() {
    let Some(keytool) = common::keytools().into_iter().next() else {
        eprintln!("skipped: no JDK on this machine");
        return;
    };
    let cacerts = common::debian_cacerts().expect("the frozen Debian cacerts fixture");
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("cacerts");
    common::copy_writable(&cacerts, &ks);
    let list = dir.path().join("xsign.txt");
    let files: Vec<String> = XSIGN_SLUGS
        .iter()
        .map(|s| pem_of(s).display().to_string())
        .collect();
    std::fs::write(&list, files.join("\n")).unwrap();

    let before = java_anchor_view(&keytool, &list, &ks);
    assert_eq!(before.len(), 8);
    assert!(before.iter().all(|(_, how)| how == "none"), "{before:?}");

    // What diff says of the pair: the xsign copy is expired (never imported), its twin missing.
    let diff = common::bin()
        .args(["diff", "--format", "json", "-k"])
        .arg(&ks)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    let status = |doc: &serde_json::Value, name: &str, variant: &str| {
        doc["cas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name && c["variant"] == variant)
            .unwrap_or_else(|| panic!("{name} ({variant})"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let today = OffsetDateTime::now_utc().date();
    let expired = today > time::macros::date!(2026 - 08 - 25);
    for n in ["03", "04", "07", "08"] {
        let name = format!("Microsoft Azure RSA TLS Issuing CA {n}");
        assert_eq!(status(&doc, &name, "microsoft-root"), "missing");
        if expired {
            assert_eq!(status(&doc, &name, "xsign"), "expired");
        }
    }

    let out = common::bin()
        .args(["import", "-k"])
        .arg(&ks)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));

    let after = java_anchor_view(&keytool, &list, &ks);
    assert_eq!(after.len(), 8);
    // An expired copy is never imported itself: the anchor Java ends at is its twin. (Before
    // 2026-08-25 the xsign copy itself was imported too.)
    let want = if expired { "name-key" } else { "exact" };
    for (file, how) in &after {
        assert_eq!(
            how, want,
            "{file}: what Java's anchor set holds after import"
        );
    }
}

struct Replica {
    dir: tempfile::TempDir,
    digicert_g2: Vec<u8>,
    microsoft_2017: Vec<u8>,
    twin: Vec<u8>,
    chain: PathBuf,
}

fn ca(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "azure-cacerts test");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Span::days(400);
    p.not_after = now + Span::days(3650);
    p
}

/// Two roots, one issuing CA key certified twice (the xsign copy by the "DigiCert" root,
/// expired yesterday; the twin by the "Microsoft" root, valid), and a server certificate
/// issued with that key. The server sends the leaf and the expired xsign copy.
fn replica() -> Replica {
    let dir = tempfile::tempdir().unwrap();
    let g2_key = KeyPair::generate().unwrap();
    let g2_params = ca("Replica DigiCert Global Root G2");
    let g2 = g2_params.self_signed(&g2_key).unwrap();
    let ms_key = KeyPair::generate().unwrap();
    let ms_params = ca("Replica Microsoft RSA Root Certificate Authority 2017");
    let ms = ms_params.self_signed(&ms_key).unwrap();

    let issuing_key = KeyPair::generate().unwrap();
    let now = OffsetDateTime::now_utc();
    let mut xsign_params = ca("Replica Microsoft Azure RSA TLS Issuing CA 03");
    xsign_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    xsign_params.not_after = now - Span::days(1);
    let xsign = xsign_params
        .signed_by(&issuing_key, &Issuer::from_params(&g2_params, &g2_key))
        .unwrap();
    let mut twin_params = ca("Replica Microsoft Azure RSA TLS Issuing CA 03");
    twin_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let twin = twin_params
        .signed_by(&issuing_key, &Issuer::from_params(&ms_params, &ms_key))
        .unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["login.replica.test".to_string()]).unwrap();
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.not_before = now - Span::days(30);
    leaf_params.not_after = now + Span::days(300);
    let twin_issuer = Issuer::from_params(&twin_params, &issuing_key);
    let leaf = leaf_params.signed_by(&leaf_key, &twin_issuer).unwrap();

    let chain = dir.path().join("leaf-and-expired-xsign.pem");
    std::fs::write(&chain, format!("{}{}", leaf.pem(), xsign.pem())).unwrap();
    Replica {
        digicert_g2: g2.der().to_vec(),
        microsoft_2017: ms.der().to_vec(),
        twin: twin.der().to_vec(),
        chain,
        dir,
    }
}

/// A keystore name, its anchors (alias, DER), and whether Java trusts the chain with it.
type Case<'a> = (&'a str, Vec<(&'a str, &'a [u8])>, bool);

#[test]
fn a_chain_with_an_expired_xsign_is_trusted_exactly_when_the_twin_is_an_anchor() {
    let r = replica();
    let cases: Vec<Case> = vec![
        ("digicert-only", vec![("g2", &r.digicert_g2)], false),
        (
            "microsoft-root-only",
            vec![("ms2017", &r.microsoft_2017)],
            false,
        ),
        (
            "microsoft-root-and-twin",
            vec![("ms2017", &r.microsoft_2017), ("twin", &r.twin)],
            true,
        ),
        (
            "digicert-and-twin",
            vec![("g2", &r.digicert_g2), ("twin", &r.twin)],
            true,
        ),
    ];
    let mut stores = Vec::new();
    for (name, anchors, expected) in &cases {
        let ks = r.dir.path().join(format!("{name}.jks"));
        common::jks_with(&ks, anchors);
        let out = common::bin()
            .args(["check", "--format", "json", "-k"])
            .arg(&ks)
            .arg("--chain")
            .arg(&r.chain)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{name}: {}", common::stderr(&out)));
        assert_eq!(
            doc["results"][0]["trusted"], *expected,
            "{name}: ours: {doc:#}"
        );
        stores.push((name, ks, *expected));
    }

    let Some(keytool) = common::keytools().into_iter().next() else {
        eprintln!("skipped the Java half: no JDK on this machine");
        return;
    };
    let mut java = Command::new(common::java_beside(&keytool));
    java.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TrustCheck.java"));
    for (_, ks, _) in &stores {
        java.arg(ks).arg("changeit").arg(&r.chain);
    }
    let out = java.output().expect("java runs");
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), stores.len(), "{text}");
    for ((name, _, expected), line) in stores.iter().zip(&lines) {
        assert_eq!(
            line.ends_with(" TRUSTED"),
            *expected,
            "{name}: Java says {line}"
        );
    }
}
