//! `check --chain FILE`: the offline judgement, with the real Azure intermediates and the
//! research samples (each verdict also put to a real JVM), the catalog fix, the Entrust
//! warning, and the command's failure modes. No network at all.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use time::{Duration as Span, OffsetDateTime};

fn certs_pem(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs/pem")
        .join(name)
}

fn reissue(name: &str) -> PathBuf {
    common::sample("trust-anchor-reissue").join(name)
}

fn check(args: &[&str]) -> Output {
    common::bin().arg("check").args(args).output().unwrap()
}

fn check_json(args: &[&str]) -> (i32, Value, String) {
    let out = check(&[args, &["--format", "json"]].concat());
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, common::stderr(&out))
}

fn concat_pem(dir: &Path, name: &str, parts: &[PathBuf]) -> PathBuf {
    let mut text = String::new();
    for p in parts {
        text.push_str(&std::fs::read_to_string(p).unwrap());
    }
    let out = dir.join(name);
    std::fs::write(&out, text).unwrap();
    out
}

/// An RSA issuing CA of Azure as the "leaf": Microsoft RSA Root Certificate Authority 2017
/// issued it, and the JDK 17 sample keystore does not hold that root.
#[test]
fn azure_intermediate_without_its_root_names_the_catalog_fix() {
    let (dir, ks) = common::copy_to_temp(&common::sample("jks-jdk17.jks"));
    let chain = concat_pem(
        dir.path(),
        "ca03.pem",
        &[certs_pem("microsoft-azure-rsa-tls-issuing-ca-03.pem")],
    );
    let (code, doc, err) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{doc} {err}");
    let r = &doc["results"][0];
    assert_eq!(r["trusted"], false);
    assert_eq!(r["host"], Value::Null);
    assert_eq!(r["port"], Value::Null);
    assert_eq!(r["chain_file"], chain.display().to_string());
    assert_eq!(r["reason_code"], "no-issuer");
    assert!(
        r["reason"].as_str().unwrap().starts_with(
            "no trusted certificate has the subject and key of the issuer of CN=Microsoft Azure RSA TLS Issuing CA 03, O=Microsoft Corporation, C=US"
        ),
        "{r:#}"
    );
    let names: Vec<&str> = r["fix_cas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Microsoft RSA Root Certificate Authority 2017"]);
    assert_eq!(r["fix_cas"][0]["role"], "root");
    assert_eq!(r["fix_cas"][0]["importable"], true);
    assert_eq!(
        r["fix"],
        format!(
            "run: azure-cacerts import -k {} (it adds Microsoft RSA Root Certificate Authority 2017)",
            ks.display()
        )
    );
    assert_eq!(doc["summary"]["not_trusted"], 1);

    // The text form says the same.
    let out = check(&[
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    let text = common::stdout(&out);
    assert!(text.contains("NOT TRUSTED"), "{text}");
    assert!(
        text.contains("  fix: run: azure-cacerts import -k "),
        "{text}"
    );
    assert!(
        text.contains("Microsoft RSA Root Certificate Authority 2017"),
        "{text}"
    );
}

#[test]
fn azure_intermediate_with_debian_cacerts_is_trusted() {
    let Some(cacerts) = common::debian_cacerts() else {
        eprintln!("no Debian cacerts here: skipped");
        return;
    };
    let (dir, ks) = common::copy_to_temp(&cacerts);
    let chain = concat_pem(
        dir.path(),
        "ca03.pem",
        &[certs_pem("microsoft-azure-rsa-tls-issuing-ca-03.pem")],
    );
    let (code, doc, err) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{doc} {err}");
    let r = &doc["results"][0];
    assert_eq!(r["trusted"], true);
    let path = r["path"].as_array().unwrap();
    assert_eq!(path.len(), 2);
    assert_eq!(path[0]["match"], "presented");
    assert_eq!(path[0]["position"], 1);
    assert_eq!(
        path[1]["subject"],
        "CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US"
    );
    assert_eq!(path[1]["match"], "anchor");
    assert!(
        path[1]["alias"]
            .as_str()
            .unwrap()
            .contains("microsoft_rsa_root"),
        "{r:#}"
    );
    assert_eq!(r["fix_cas"], Value::Array(vec![]));
    assert_eq!(r["fix"], Value::Null);
    assert_eq!(r["entrust_distrust"], false);
}

/// The research samples (re-issued root, AKI with serial) and the Azure chains, judged by us
/// and by the JVM in one run.
#[test]
fn sample_verdicts_match_java() {
    let dir = tempfile::tempdir().unwrap();
    let jks17 = dir.path().join("jks17.jks");
    common::copy_writable(&common::sample("jks-jdk17.jks"), &jks17);
    let ca03 = concat_pem(
        dir.path(),
        "ca03.pem",
        &[certs_pem("microsoft-azure-rsa-tls-issuing-ca-03.pem")],
    );
    let ca03x = concat_pem(
        dir.path(),
        "ca03x.pem",
        &[certs_pem("microsoft-azure-rsa-tls-issuing-ca-03-xsign.pem")],
    );
    let leaf_root_a = concat_pem(
        dir.path(),
        "leaf-rootA.pem",
        &[reissue("leaf.pem"), reissue("rootA.pem")],
    );
    let leaf2_root_a = concat_pem(
        dir.path(),
        "leaf2-rootA.pem",
        &[reissue("leaf2.pem"), reissue("rootA.pem")],
    );
    // (keystore, password for Java, chain, expected)
    let mut cases: Vec<(PathBuf, &str, PathBuf, bool)> = vec![
        (jks17.clone(), "changeit", ca03.clone(), false),
        (
            reissue("ts-rootA.jks"),
            "changeit",
            reissue("leaf.pem"),
            true,
        ),
        (
            reissue("ts-rootB.jks"),
            "changeit",
            reissue("leaf.pem"),
            true,
        ),
        (
            reissue("ts-rootB.jks"),
            "changeit",
            leaf_root_a.clone(),
            true,
        ),
        (
            reissue("ts-rootB-nopass.p12"),
            "-",
            leaf_root_a.clone(),
            true,
        ),
        (
            reissue("ts-rootC.jks"),
            "changeit",
            reissue("leaf.pem"),
            false,
        ),
        (reissue("ts-rootC.jks"), "changeit", leaf_root_a, false),
        (
            reissue("ts-rootA.jks"),
            "changeit",
            reissue("leaf2.pem"),
            true,
        ),
        (
            reissue("ts-rootB.jks"),
            "changeit",
            reissue("leaf2.pem"),
            false,
        ),
        (reissue("ts-rootB.jks"), "changeit", leaf2_root_a, false),
    ];
    if let Some(cacerts) = common::debian_cacerts() {
        cases.push((cacerts.clone(), "changeit", ca03, true));
        // The DigiCert cross-signed variant expired on 2026-08-25.
        let today = OffsetDateTime::now_utc().date();
        let expired = today > time::macros::date!(2026 - 08 - 25);
        cases.push((cacerts, "changeit", ca03x, !expired));
    }
    let mut ours = Vec::new();
    for (ks, _, chain, expected) in &cases {
        let (code, doc, err) = check_json(&[
            "-k",
            ks.to_str().unwrap(),
            "--chain",
            chain.to_str().unwrap(),
        ]);
        let trusted = doc["results"][0]["trusted"]
            .as_bool()
            .unwrap_or_else(|| panic!("{err}"));
        assert_eq!(
            trusted,
            *expected,
            "{} + {}: {doc:#}",
            ks.display(),
            chain.display()
        );
        assert_eq!(code, if trusted { 0 } else { 1 });
        ours.push((trusted, doc["results"][0]["reason"].clone()));
    }

    let Some(keytool) = common::keytools().into_iter().next() else {
        eprintln!("no JDK here: Java comparison skipped");
        return;
    };
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TrustCheck.java");
    let mut java = Command::new(common::java_beside(&keytool));
    java.arg(source);
    for (ks, pass, chain, _) in &cases {
        java.arg(ks).arg(pass).arg(chain);
    }
    let out = java.output().expect("java runs");
    let text = common::stdout(&out);
    assert!(out.status.success(), "{text}{}", common::stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{text}");
    for (i, ((ks, _, chain, _), line)) in cases.iter().zip(&lines).enumerate() {
        let java_trusted = line.ends_with(" TRUSTED");
        assert_eq!(
            ours[i].0,
            java_trusted,
            "{} + {}: Java: {line}; ours: {}",
            ks.display(),
            chain.display(),
            ours[i].1
        );
    }
}

/// A path ending at an Entrust root: distrusted by patched JDKs when the server certificate
/// was issued after 2024-11-11, whatever the keystore holds.
#[test]
fn a_root_merely_named_entrust_is_not_distrusted() {
    let dir = tempfile::tempdir().unwrap();
    let root_key = KeyPair::generate().unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut root_p = CertificateParams::default();
    root_p.distinguished_name = rcgen::DistinguishedName::new();
    root_p.distinguished_name.push(DnType::CountryName, "US");
    root_p
        .distinguished_name
        .push(DnType::OrganizationName, "Entrust, Inc.");
    root_p
        .distinguished_name
        .push(DnType::CommonName, "Test Entrust Root");
    root_p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root_p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let root = root_p.self_signed(&root_key).unwrap();
    let issuer = Issuer::from_params(&root_p, &root_key);
    let now = OffsetDateTime::now_utc();
    let leaf_at = |from: OffsetDateTime| {
        let mut p = CertificateParams::new(vec!["entrust.test".to_string()]).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, "entrust.test");
        p.not_before = from;
        p.not_after = now + Span::days(300);
        p.signed_by(&leaf_key, &issuer).unwrap()
    };
    let ks = dir.path().join("entrust.jks");
    common::jks_with(&ks, &[("entrust", root.der())]);

    let new_leaf = dir.path().join("new.pem");
    std::fs::write(&new_leaf, leaf_at(now - Span::days(3)).pem()).unwrap();
    let (code, doc, err) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        new_leaf.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Java's distrust goes by the fingerprints of the five genuine Entrust roots
    // (EntrustTLSPolicy); a private root merely named like Entrust is trusted as any other.
    let r = &doc["results"][0];
    assert_eq!(r["trusted"], true);
    assert_eq!(r["entrust_distrust"], false, "{r:#}");
    assert_eq!(r["warnings"], Value::Array(vec![]), "{r:#}");
    let out = check(&[
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        new_leaf.to_str().unwrap(),
    ]);
    assert!(
        !common::stderr(&out).contains("Entrust"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn quiet_prints_only_the_failures() {
    let (dir, ks) = common::copy_to_temp(&common::sample("jks-jdk17.jks"));
    let chain = concat_pem(
        dir.path(),
        "ca03.pem",
        &[certs_pem("microsoft-azure-rsa-tls-issuing-ca-03.pem")],
    );
    let out = check(&[
        "-q",
        "-k",
        ks.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(": NOT TRUSTED: no trusted certificate"),
        "{text}"
    );

    let out = check(&[
        "-q",
        "-k",
        reissue("ts-rootA.jks").to_str().unwrap(),
        "--chain",
        reissue("leaf.pem").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(common::stdout(&out), "");
}

#[test]
fn failures_have_their_exit_codes() {
    let (dir, ks) = common::copy_to_temp(&common::sample("jks-jdk17.jks"));
    let ks = ks.to_str().unwrap();
    let leaf = reissue("leaf.pem");
    let leaf = leaf.to_str().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");

    let expect = |args: &[&str], code: i32, needle: &str| {
        let out = check(args);
        let err = common::stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.starts_with("error: ") || code == 2, "{args:?}: {err}");
    };
    expect(
        &["-k", ks, "--chain", missing.to_str().unwrap()],
        2,
        "error: cannot use the chain file",
    );
    expect(
        &["-k", ks, "--chain", garbage.to_str().unwrap()],
        5,
        "error: cannot use the chain file",
    );
    expect(
        &["-k", ks, "--chain", leaf, "--host", "example.com"],
        2,
        "cannot be used with",
    );
    expect(
        &["-k", ks, "--host", "example.com:0"],
        2,
        "error: bad --host",
    );
    expect(
        &["-k", ks, "--host", "x", "--timeout", "0"],
        2,
        "error: bad --timeout",
    );
    expect(
        &["-k", ks, "--host", "x", "--proxy", "socks5://p:1080"],
        2,
        "error: bad proxy setting (--proxy)",
    );
    expect(
        &["-k", ks, "--chain", leaf, "--storepass", "wrong"],
        3,
        "error: cannot read keystore",
    );
    expect(&["--chain", leaf], 2, "no keystore given");
}

/// A private CA's whole chain (server, intermediate, root) that no catalog CA anchors, for a
/// runtime named by --java-home: the fix names the chain's own root and gives the import for
/// that same runtime; run as printed (with the root saved to a file), the chain is trusted.
#[test]
fn a_private_ca_chain_gets_its_own_root_as_the_fix_for_that_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("jre");
    std::fs::create_dir_all(home.join("lib/security")).unwrap();
    std::fs::write(home.join("release"), "JAVA_VERSION=\"1.8.0_412\"\n").unwrap();
    std::fs::copy(
        common::fixtures_dir().join("cacerts-debian.jks"),
        home.join("lib/security/cacerts"),
    )
    .unwrap();

    let ca = |cn: &str| {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p
    };
    let (root_key, inter_key, leaf_key) = (
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
    );
    let root_p = ca("Private Test Root");
    let root = root_p.self_signed(&root_key).unwrap();
    let inter_p = ca("Private Test Issuing CA");
    let inter = inter_p
        .signed_by(&inter_key, &Issuer::from_params(&root_p, &root_key))
        .unwrap();
    let mut leaf_p = CertificateParams::new(vec!["sync.private.test".to_string()]).unwrap();
    leaf_p.distinguished_name = rcgen::DistinguishedName::new();
    leaf_p
        .distinguished_name
        .push(DnType::CommonName, "sync.private.test");
    let leaf = leaf_p
        .signed_by(&leaf_key, &Issuer::from_params(&inter_p, &inter_key))
        .unwrap();
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, [leaf.pem(), inter.pem(), root.pem()].concat()).unwrap();

    let home_arg = home.to_str().unwrap();
    let (code, doc, err) =
        check_json(&["--java-home", home_arg, "--chain", chain.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let r = &doc["results"][0];
    assert_eq!(r["trusted"], false);
    assert_eq!(
        doc["java_rules"], "8",
        "the runtime's release file decides the rules"
    );
    let fix = r["fix"].as_str().unwrap();
    let root_sha = azure_cacerts::cert::Certificate::parse(root.der())
        .unwrap()
        .sha256;
    assert!(
        fix.contains("the chain's own CN=Private Test Root (certificate 3")
            && fix.contains(&root_sha),
        "{fix}"
    );
    let command = fix.split_once("run: ").map(|(_, c)| c).unwrap();
    assert!(
        command.starts_with(&format!(
            "azure-cacerts import --java-home {home_arg} --pem FILE"
        )),
        "the import must name the same runtime: {command}"
    );

    // Do what it says: save certificate 3 to a file, run the command.
    let root_file = dir.path().join("root.pem");
    std::fs::write(&root_file, root.pem()).unwrap();
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(|a| {
            if a == "FILE" {
                root_file.display().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let out = common::bin().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let (code, doc, err) =
        check_json(&["--java-home", home_arg, "--chain", chain.to_str().unwrap()]);
    assert_eq!(code, 0, "{err} {doc:#}");
}
