//! `import --pem` and `--from-os-store`: certificates from outside the Azure catalog, through
//! the same plan, transaction and JSON; judged by keytool.

use crate::common;
use crate::intercept_proxy::{forged_leaf, pem, root_ca, sha256, Ca};
use crate::support::der::tlv;

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use time::{Duration as Span, OffsetDateTime};

/// A degenerate PKCS#7 SignedData holding `certs`, as `openssl crl2pkcs7 -nocrl` writes it.
fn p7b(certs: &[&[u8]]) -> Vec<u8> {
    const SIGNED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
    const DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];
    let signed = [
        tlv(0x02, &[1]),
        tlv(0x31, &[]),
        tlv(0x30, &tlv(0x06, DATA)),
        tlv(0xA0, &certs.concat()),
        tlv(0xA1, &[]),
        tlv(0x31, &[]),
    ]
    .concat();
    tlv(
        0x30,
        &[tlv(0x06, SIGNED_DATA), tlv(0xA0, &tlv(0x30, &signed))].concat(),
    )
}

fn intermediate(ca: &Ca, cn: &str) -> Vec<u8> {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = now - Span::days(10);
    p.not_after = now + Span::days(1000);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let key = KeyPair::generate().unwrap();
    p.signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
        .unwrap()
        .der()
        .to_vec()
}

fn run(args: &[&str], env: Option<(&str, &Path)>) -> std::process::Output {
    let mut c = common::bin();
    c.args(args);
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", common::stdout(o), common::stderr(o)))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// keytool -list: (alias, SHA-256 without colons) of every entry.
fn keytool_entries(kt: &Path, ks: &Path) -> Vec<(String, String)> {
    let o = common::keytool(
        kt,
        &[
            "-list",
            "-keystore",
            ks.to_str().unwrap(),
            "-storepass",
            "changeit",
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = common::stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let alias = w[0].split(',').next()?;
            let fp = w[1].strip_prefix("Certificate fingerprint (SHA-256): ")?;
            Some((alias.to_string(), fp.replace(':', "")))
        })
        .collect()
}

#[test]
fn a_pkcs7_bundle_of_three_cas_is_imported_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = root_ca("Corp Root A");
    let b = intermediate(&a, "Corp Issuing B");
    let c = root_ca("Corp Root C");
    let (leaf, _) = forged_leaf(&a, "server.corp.test");
    let bundle = dir.path().join("corp.p7b");
    std::fs::write(&bundle, p7b(&[&a.der, &b, &leaf, &c.der])).unwrap();
    for sample in ["jks-jdk17.jks", "pkcs12-default-jdk17.p12"] {
        let ks = dir.path().join(sample);
        common::copy_writable(&common::sample(sample), &ks);
        let o = run(
            &[
                "import",
                "-k",
                ks.to_str().unwrap(),
                "--pem",
                bundle.to_str().unwrap(),
                "--no-catalog",
                "--no-backup",
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
        let doc = json(&o);
        let added: Vec<&Value> = doc["cas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "added")
            .collect();
        assert_eq!(added.len(), 3, "{doc:#}");
        assert!(added
            .iter()
            .all(|c| c["source"] == "pem" && c["file"] == bundle.to_str().unwrap()));
        assert_eq!(doc["catalog"]["count"], 0);
        // The server certificate is not a CA: left out, and said so.
        assert!(
            common::stderr(&o).contains("--allow-non-ca")
                || !doc["cas"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["sha256"] == sha256(&leaf)),
            "{}",
            common::stderr(&o)
        );
        assert_eq!(doc["cas"].as_array().unwrap().len(), 3);

        for kt in common::keytools() {
            let entries = keytool_entries(&kt, &ks);
            for (der, alias) in [
                (&a.der, "custom-corp-root-a"),
                (&b, "custom-corp-issuing-b"),
                (&c.der, "custom-corp-root-c"),
            ] {
                assert!(
                    entries.contains(&(alias.to_string(), sha256(der))),
                    "{sample}: {alias} missing from {entries:?}"
                );
            }
            assert!(!entries.iter().any(|(_, s)| *s == sha256(&leaf)));
        }

        // A second import changes nothing.
        let o = run(
            &[
                "import",
                "-k",
                ks.to_str().unwrap(),
                "--pem",
                bundle.to_str().unwrap(),
                "--no-catalog",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0));
        assert!(
            common::stdout(&o).contains("0 added"),
            "{}",
            common::stdout(&o)
        );
    }
}

#[test]
fn a_swapped_file_is_refused_by_expect_sha256_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let expected = root_ca("Corp Proxy Root");
    let impostor = root_ca("Corp Proxy Root");
    let file = dir.path().join("proxy-root.pem");
    std::fs::write(&file, pem(&impostor.der)).unwrap();
    let ks = dir.path().join("ks.jks");
    common::copy_writable(&common::sample("jks-jdk17.jks"), &ks);
    let before = std::fs::read(&ks).unwrap();
    let listing = files_in(dir.path());
    let pin = sha256(&expected.der);

    let o = run(
        &[
            "import",
            "-k",
            ks.to_str().unwrap(),
            "--pem",
            file.to_str().unwrap(),
            "--expect-sha256",
            &pin,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(5), "{}", common::stderr(&o));
    let err = common::stderr(&o);
    assert!(err.contains("error: unexpected certificate ("), "{err}");
    assert!(err.contains(&sha256(&impostor.der)), "{err}");
    assert_eq!(std::fs::read(&ks).unwrap(), before);
    assert_eq!(
        files_in(dir.path()),
        listing,
        "no backup, lock or temporary file left"
    );

    // The right file, pinned with colons and in lower case, goes in.
    std::fs::write(&file, pem(&expected.der)).unwrap();
    let colons: Vec<String> = pin
        .to_lowercase()
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let o = run(
        &[
            "import",
            "-k",
            ks.to_str().unwrap(),
            "--pem",
            file.to_str().unwrap(),
            "--expect-sha256",
            &colons.join(":"),
            "--alias",
            "Corp-Proxy",
            "--no-catalog",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["cas"][0]["alias"], "corp-proxy");
    assert!(doc["backup"].as_str().is_some());

    // A pin that matches nothing read refuses the run too.
    let o = run(
        &[
            "diff",
            "-k",
            ks.to_str().unwrap(),
            "--pem",
            file.to_str().unwrap(),
            "--expect-sha256",
            &pin,
            "--expect-sha256",
            &"AB".repeat(32),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(5));
    assert!(common::stderr(&o).contains("expected certificate not found"));
    // Not a fingerprint at all: a usage error.
    let o = run(
        &[
            "diff",
            "-k",
            ks.to_str().unwrap(),
            "--pem",
            file.to_str().unwrap(),
            "--expect-sha256",
            "abc",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn from_os_store_takes_only_the_named_roots_of_the_fixture_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = root_ca("Corp Gateway Root");
    let lab = root_ca("Corp Lab Root");
    let public = root_ca("Public Root R1");
    let bundle = dir.path().join("ca-certificates.crt");
    std::fs::write(
        &bundle,
        format!("{}{}{}", pem(&public.der), pem(&proxy.der), pem(&lab.der)),
    )
    .unwrap();
    let env = Some(("AZURE_CACERTS_OS_TRUST_BUNDLE", bundle.as_path()));
    let ks = dir.path().join("ks.jks");
    common::copy_writable(&common::sample("jks-jdk17.jks"), &ks);
    let k = ks.to_str().unwrap();

    // Never all of them by default.
    let o = run(&["diff", "-k", k, "--from-os-store"], env);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o).contains("--issuer-contains"),
        "{}",
        common::stderr(&o)
    );

    let o = run(
        &[
            "diff",
            "-k",
            k,
            "--from-os-store",
            "--issuer-contains",
            "corp",
            "--format",
            "json",
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    let custom: Vec<&Value> = doc["cas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["source"] == "os-store")
        .collect();
    assert_eq!(custom.len(), 2, "{doc:#}");
    assert!(custom
        .iter()
        .all(|c| c["status"] == "missing" && c["file"] == bundle.to_str().unwrap()));
    // The Azure catalog is still compared (and marked as such).
    assert!(doc["cas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["source"] == "catalog"));

    let o = run(
        &[
            "import",
            "-k",
            k,
            "--from-os-store",
            "--expect-sha256",
            &sha256(&proxy.der),
            "--no-catalog",
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let text = common::stdout(&o);
    assert!(text.contains("Added 1 CA(s)"), "{text}");
    assert!(text.contains("3 roots; 1 selected"), "{text}");

    let o = run(
        &[
            "diff",
            "-k",
            k,
            "--from-os-store",
            "--issuer-contains",
            "Corp Gateway",
            "--no-catalog",
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stdout(&o));
    for kt in common::keytools() {
        let entries = keytool_entries(&kt, &ks);
        assert!(entries.contains(&("custom-corp-gateway-root".into(), sha256(&proxy.der))));
        assert!(!entries.iter().any(|(_, s)| *s == sha256(&lab.der)));
    }
}
