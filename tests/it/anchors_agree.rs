//! `diff` and `check` agree on which catalog CAs a keystore already trusts, and Java agrees
//! with both: for every keystore in tests/fixtures and every CA of the built-in catalog,
//! - diff's status (present / equivalent / neither) from `ops::diff`,
//! - check's verdict on a chain that is that CA alone (`check::pkix::judge`: Java takes the
//!   first certificate of a chain only as the exact copy),
//! - Java's own anchor set (`TrustStoreUtil.getTrustedCerts`) and its name-and-key match,
//!   run in one JVM for all keystores.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use azure_cacerts::anchors::AnchorSet;
use azure_cacerts::catalog::Catalog;
use azure_cacerts::check::{pkix, How};
use azure_cacerts::locate::KeystoreLocation;
use azure_cacerts::ops::{self, OpenRequest, PasswordSource};
use azure_cacerts::plan::{self, CaStatus, Selection};

use crate::common;

/// Every keystore of the fixtures with its store password.
fn fixture_keystores() -> Vec<(PathBuf, &'static str)> {
    let mut out = vec![(common::debian_cacerts().unwrap(), "changeit")];
    for dir in [
        common::samples_dir(),
        common::samples_dir().join("edge-cases"),
        common::samples_dir().join("appended-by-prototype"),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("jks" | "jceks" | "p12")
                )
            })
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let password = match name.as_str() {
                "pkcs12-storenull-jdk17.p12" => "",
                "jks-storepass-differs-from-keypass.jks" => "n3wStorePass",
                // Written by hand, not readable by keytool (see the samples' README).
                "jks-uppercase-alias.jks" => continue,
                _ => "changeit",
            };
            out.push((f, password));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Exact,
    NameAndKey,
    No,
}

#[test]
fn diff_check_and_java_agree_on_anchors() {
    let catalog = Catalog::builtin();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pem_of = |slug: &str| root.join("certs/pem").join(format!("{slug}.pem"));
    let mut keystores = fixture_keystores();
    // One keystore made here: the self-signed Microsoft TLS RSA Root G2 (the catalog lists
    // the cross-signed copy: same name and key) and a private-key entry whose certificate is
    // a catalog CA (an anchor for Java although it is no trusted-certificate entry).
    let made = tempfile::tempdir().unwrap();
    let keytool = common::keytools().into_iter().next();
    if let Some(keytool) = &keytool {
        let ks = made.path().join("reissued-and-key.jks");
        let out = Command::new(common::java_beside(keytool))
            .arg(root.join("tests/java/AnchorJudge.java"))
            .arg("make")
            .arg(&ks)
            .arg(common::azure_ca_dir().join("pem/extra/microsoft-tls-rsa-root-g2-selfsigned.pem"))
            .arg(root.join("certs/pem/microsoft-azure-rsa-tls-issuing-ca-03.pem"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        keystores.push((ks, "changeit"));
    }
    let mut selection = Selection::new(time::OffsetDateTime::now_utc());
    selection.default_skips = false;
    let cas: Vec<_> = plan::candidates(&catalog, &selection)
        .filter(|c| c.der.is_some())
        .collect();
    let now = time::OffsetDateTime::now_utc();

    let mut ours: HashMap<(String, String), Held> = HashMap::new();
    let mut compared = 0;
    for (ks, password) in &keystores {
        let request = OpenRequest {
            location: KeystoreLocation::File(ks.clone()),
            expected: None,
            password: PasswordSource::Given(password.to_string()),
        };
        let diff = ops::diff(&request, &catalog, &selection)
            .unwrap_or_else(|e| panic!("{}: {e}", ks.display()));
        let opened = ops::open(&request).unwrap();
        let anchors = AnchorSet::from_keystore(&opened.keystore);
        for c in &diff.plan.cas {
            let Some(der) = c.ca.der.as_deref() else {
                continue;
            };
            // diff's view (a retired or expired CA keeps `present` and its alias).
            let by_diff = match (c.present, c.status) {
                (false, _) => Held::No,
                (true, CaStatus::Equivalent) => Held::NameAndKey,
                (true, CaStatus::Present) => Held::Exact,
                (true, _) => {
                    // Skipped would need --no-default-skips; expired keeps only `present`.
                    let exact = opened
                        .keystore
                        .entries()
                        .iter()
                        .any(|e| e.certs.first().map(Vec::as_slice) == Some(der));
                    if exact {
                        Held::Exact
                    } else {
                        Held::NameAndKey
                    }
                }
            };
            // check's view of the CA as a one-certificate chain: trusted at once only when
            // the keystore holds the very certificate.
            let verdict = pkix::judge(
                &[der.to_vec()],
                &anchors,
                None,
                now,
                &azure_cacerts::check::JavaRules::default(),
            );
            let exact_by_check = verdict
                .path
                .first()
                .is_some_and(|s| s.how == How::AnchorExact);
            assert_eq!(
                exact_by_check,
                by_diff == Held::Exact,
                "{}: {} (diff {:?}, check {:?})",
                ks.display(),
                c.ca.name,
                by_diff,
                verdict.problem
            );
            ours.insert(
                (
                    ks.display().to_string(),
                    pem_of(&c.ca.slug).display().to_string(),
                ),
                by_diff,
            );
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared} comparisons");

    // Java's view, one JVM for every keystore.
    let Some(keytool) = keytool else {
        eprintln!("skipped the Java half: no JDK on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cas.txt");
    let files: Vec<String> = cas
        .iter()
        .map(|c| pem_of(&c.slug).display().to_string())
        .collect();
    std::fs::write(&list, files.join("\n")).unwrap();
    let mut cmd = Command::new(common::java_beside(&keytool));
    cmd.arg("--add-opens=java.base/sun.security.validator=ALL-UNNAMED")
        .arg(root.join("tests/java/AnchorJudge.java"))
        .arg(&list);
    for (ks, password) in &keystores {
        cmd.arg(ks).arg(password);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let mut java_rows = 0;
    for line in common::stdout(&out).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let java = match cols[2] {
            "exact" => Held::Exact,
            "name-key" => Held::NameAndKey,
            _ => Held::No,
        };
        let key = (cols[0].to_string(), cols[1].to_string());
        let mine = ours
            .get(&key)
            .unwrap_or_else(|| panic!("no row of ours for {key:?}"));
        assert_eq!(
            *mine, java,
            "{} / {}: ours {mine:?}, Java {java:?}",
            cols[0], cols[1]
        );
        java_rows += 1;
    }
    assert_eq!(java_rows, compared);
    let count = |h: Held| ours.values().filter(|v| **v == h).count();
    // The fixtures must exercise both matches, or the comparison proves little.
    assert!(count(Held::Exact) > 0 && count(Held::NameAndKey) > 0);
    eprintln!(
        "anchors: {} keystores x {} CAs, diff = check = Java ({} exact, {} same name and key, {} neither)",
        keystores.len(),
        cas.len(),
        count(Held::Exact),
        count(Held::NameAndKey),
        count(Held::No)
    );
}
