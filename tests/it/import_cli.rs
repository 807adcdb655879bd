//! `diff` and `import` end to end, judged by keytool and a real JVM.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use azure_cacerts::keystore::{EntryKind, Keystore};
use common::*;
use serde_json::Value;

fn run(args: &[&str]) -> std::process::Output {
    bin().args(args).output().expect("binary runs")
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout: {e}\n{}", stdout(o)))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// keytool -list -v split into one block per entry, keyed by alias.
fn keytool_blocks(kt: &Path, ks: &Path, storepass: &str) -> Vec<(String, String)> {
    let o = keytool(
        kt,
        &["-list", "-v", "-keystore", p(ks), "-storepass", storepass],
    );
    assert!(
        o.status.success(),
        "keytool -list failed on {}: {}{}",
        ks.display(),
        stdout(&o),
        stderr(&o)
    );
    let text = stdout(&o);
    text.split("*******************************************")
        .filter_map(|block| {
            // The first block also carries the header ("Your keystore contains N entries").
            let start = block.find("Alias name: ")?;
            let block = &block[start..];
            let alias = block.lines().next()?.strip_prefix("Alias name: ")?;
            Some((alias.to_string(), block.trim().to_string()))
        })
        .collect()
}

/// Imports into a copy of `sample` and checks the result with every keytool: old entries
/// unchanged, new ones with the catalog's fingerprints, a second import adds nothing.
fn import_and_judge(sample: &Path, storepass: &str, password_protected: bool) {
    let (_dir, ks) = copy_to_temp(sample);
    let original = std::fs::read(&ks).unwrap();
    let tools = keytools();
    let before: Vec<_> = tools
        .iter()
        .map(|kt| keytool_blocks(kt, &ks, storepass))
        .collect();

    let o = run(&["import", "-k", p(&ks), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "import failed: {}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["keystore"]["password_protected"], password_protected);
    let added: Vec<&Value> = report["cas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "added")
        .collect();
    assert!(
        added.len() >= 20,
        "expected the Azure CAs to be added, got {}",
        added.len()
    );
    assert_eq!(
        report["summary"]["added"].as_u64().unwrap() as usize,
        added.len()
    );
    assert_eq!(report["summary"]["missing"], 0);
    let backup = PathBuf::from(report["backup"].as_str().expect("backup path"));
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        original,
        "the backup holds the original bytes"
    );

    let new_fingerprints: BTreeSet<String> = added
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_string())
        .collect();
    let new_aliases: BTreeSet<String> = added
        .iter()
        .map(|c| c["alias"].as_str().unwrap().to_string())
        .collect();
    assert!(new_aliases
        .iter()
        .all(|a| a.starts_with("azure-ca-") && *a == a.to_lowercase()));

    for (kt, before) in tools.iter().zip(&before) {
        let after = keytool_blocks(kt, &ks, storepass);
        assert_eq!(
            after.len(),
            before.len() + added.len(),
            "{} lists 144 + N",
            kt.display()
        );
        for old in before {
            assert!(
                after.contains(old),
                "{}: entry {} changed",
                kt.display(),
                old.0
            );
        }
        let listed_new: BTreeSet<String> = after
            .iter()
            .filter(|(a, _)| new_aliases.contains(a))
            .map(|(_, block)| {
                assert!(block.contains("Entry type: trustedCertEntry"), "{block}");
                let line = block
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("SHA256: "))
                    .unwrap();
                line.replace(':', "")
            })
            .collect();
        assert_eq!(
            listed_new,
            new_fingerprints,
            "{} sees the catalog fingerprints",
            kt.display()
        );
    }

    // Idempotent: the second run adds nothing, writes nothing, says so.
    let after_first = std::fs::read(&ks).unwrap();
    let o = run(&["import", "-k", p(&ks)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 added"), "{}", stdout(&o));
    assert_eq!(std::fs::read(&ks).unwrap(), after_first);
    let o = run(&["diff", "-k", p(&ks)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "nothing missing after import: {}",
        stdout(&o)
    );
}

#[test]
fn import_into_debian_jks_cacerts() {
    let Some(cacerts) = debian_cacerts() else {
        return;
    };
    import_and_judge(&cacerts, "changeit", true);
}

#[test]
fn import_into_passwordless_pkcs12_cacerts_keeps_it_passwordless() {
    import_and_judge(
        &sample("cacerts-debian-nopass-jdk25.p12"),
        "changeit",
        false,
    );
}

#[test]
fn diff_reports_statuses_and_exit_codes_and_dry_run_equals_diff() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let before = std::fs::read(&ks).unwrap();
    let o = run(&["diff", "-k", p(&ks), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "missing CAs give exit 1");
    let v = json(&o);
    for key in ["keystore", "catalog", "cas", "summary", "backup"] {
        assert!(v.get(key).is_some(), "JSON has {key}");
    }
    assert_eq!(v["keystore"]["type"], "jks");
    assert_eq!(v["catalog"]["source"], "built-in");
    let cas = v["cas"].as_array().unwrap();
    let status = |name: &str| -> Vec<String> {
        cas.iter()
            .filter(|c| c["name"] == name)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(status("DigiCert Global Root CA"), vec!["missing"]);
    assert_eq!(
        status("Microsoft RSA Root Certificate Authority 2017"),
        vec!["missing"]
    );
    // The xsign copies expired on 2026-08-25; their Microsoft-root twins did not.
    let mut azure03 = status("Microsoft Azure RSA TLS Issuing CA 03");
    azure03.sort();
    assert_eq!(azure03, vec!["expired", "missing"]);
    assert!(status("Microsoft TLS G2 ECC CA OCSP 02").contains(&"unavailable".to_string()));
    for c in cas {
        let sha1 = c["sha1"].as_str().unwrap();
        assert_eq!(sha1.len(), 40);
        assert_eq!(sha1, sha1.to_uppercase());
    }
    // The default-skipped root is absent, so it is wanted like any other CA: a warning says
    // why a CA every JDK ships is missing here.
    assert!(
        stderr(&o).contains("DigiCert Global Root CA is on the vendor's skip list"),
        "{}",
        stderr(&o)
    );

    let text = run(&["diff", "-k", p(&ks)]);
    let dry = run(&["import", "--dry-run", "-k", p(&ks)]);
    assert_eq!(text.status.code(), dry.status.code());
    assert_eq!(stdout(&text), stdout(&dry));
    assert!(stdout(&text).contains("Summary:"));
    assert_eq!(
        std::fs::read(&ks).unwrap(),
        before,
        "diff and --dry-run write nothing"
    );
    assert_eq!(
        std::fs::read_dir(ks.parent().unwrap()).unwrap().count(),
        1,
        "no backup, no lock, no temp"
    );

    // --roots-only and --skip narrow the selection.
    let v = json(&run(&[
        "diff",
        "-k",
        p(&ks),
        "--format",
        "json",
        "--roots-only",
        "--skip",
        "DigiCert Global Root G3",
    ]));
    assert!(v["cas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["role"] == "root"));
    assert!(v["cas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "DigiCert Global Root G3" && c["status"] == "skipped"));
}

#[test]
fn equivalent_anchor_is_not_imported_again() {
    // Microsoft TLS RSA Root G2: the page lists the cross-signed copy; a keystore holding the
    // self-signed root (same name, same key) already has the anchor Java needs.
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let mut store = Keystore::parse(&std::fs::read(&ks).unwrap(), None, Some("changeit")).unwrap();
    let pem = azure_ca_dir().join("pem/extra/microsoft-tls-rsa-root-g2-selfsigned.pem");
    use rustls_pki_types::{pem::PemObject, CertificateDer};
    let der = CertificateDer::from_pem_file(&pem).unwrap();
    store
        .add_trusted_cert("my-g2-root", der.as_ref(), 0)
        .unwrap();
    std::fs::write(&ks, store.to_bytes(Some("changeit")).unwrap()).unwrap();
    let v = json(&run(&["diff", "-k", p(&ks), "--format", "json"]));
    let g2: Vec<&Value> = v["cas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Microsoft TLS RSA Root G2")
        .collect();
    assert!(!g2.is_empty());
    assert!(
        g2.iter()
            .any(|c| c["status"] == "equivalent" && c["alias"] == "my-g2-root"),
        "{g2:?}"
    );
}

#[test]
fn real_jvm_trusts_azure_paths_only_after_import() {
    let Some(cacerts) = debian_cacerts() else {
        return;
    };
    let tools = keytools();
    let Some(kt) = tools.first() else { return };
    let java = java_beside(kt);
    // Strip the Azure roots (but not the default skips, which import does not add back).
    let (_dir, ks) = copy_to_temp(&cacerts);
    let mut store = Keystore::parse(&std::fs::read(&ks).unwrap(), None, Some("changeit")).unwrap();
    for alias in [
        "debian:digicert_global_root_g2.pem",
        "debian:digicert_global_root_g3.pem",
        "debian:digicert_tls_ecc_p384_root_g5.pem",
        "debian:digicert_tls_rsa4096_root_g5.pem",
        "debian:microsoft_ecc_root_certificate_authority_2017.pem",
        "debian:microsoft_rsa_root_certificate_authority_2017.pem",
    ] {
        store.remove_entry(alias).unwrap();
    }
    std::fs::write(&ks, store.to_bytes(Some("changeit")).unwrap()).unwrap();

    let pems = [
        "microsoft-azure-rsa-tls-issuing-ca-03.pem",
        "microsoft-tls-g2-rsa-ca-ocsp-02.pem",
        "digicert-global-g2-tls-rsa-sha256-2020-ca1.pem",
    ];
    let pem_paths: Vec<PathBuf> = pems
        .iter()
        .map(|f| azure_ca_dir().join("pem").join(f))
        .collect();
    let check = || {
        let mut cmd = std::process::Command::new(&java);
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/PathCheck.java"))
            .arg(&ks)
            .arg("changeit");
        cmd.args(&pem_paths);
        let o = cmd.output().expect("java runs");
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    let out = check();
    assert_eq!(
        out.matches("REJECTED").count(),
        3,
        "stripped keystore must not anchor them:\n{out}"
    );
    let o = run(&["import", "-k", p(&ks), "--no-backup"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = check();
    assert_eq!(
        out.matches("TRUSTED").count(),
        3,
        "after import the JVM trusts all three:\n{out}"
    );
}

#[cfg(unix)]
#[test]
fn symlinked_cacerts_stays_a_link() {
    let (dir, real) = copy_to_temp(&sample("jks-jdk25.jks"));
    let link_dir = dir.path().join("lib/security");
    std::fs::create_dir_all(&link_dir).unwrap();
    let link = link_dir.join("cacerts");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(&["import", "-k", p(&link), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let store = Keystore::parse(&std::fs::read(&real).unwrap(), None, Some("changeit")).unwrap();
    assert!(
        store
            .entries()
            .iter()
            .filter(|e| e.kind == EntryKind::TrustedCert)
            .count()
            > 20
    );
    let backup = json(&o)["backup"].as_str().unwrap().to_string();
    assert!(
        Path::new(&backup).starts_with(dir.path()) && !Path::new(&backup).starts_with(&link_dir),
        "backup beside the real file: {backup}"
    );
}

fn assert_refused_unchanged(args: &[&str], ks: &Path, code: i32, needle: &str) {
    let before = std::fs::read(ks).unwrap();
    let entries_before = std::fs::read_dir(ks.parent().unwrap()).unwrap().count();
    let o = run(args);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    assert!(lines[0].contains(needle), "{err}");
    assert_eq!(std::fs::read(ks).unwrap(), before, "keystore unchanged");
    assert_eq!(
        std::fs::read_dir(ks.parent().unwrap()).unwrap().count(),
        entries_before,
        "no file left behind"
    );
}

#[test]
fn wrong_password_is_refused() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    assert_refused_unchanged(
        &["import", "-k", p(&ks), "--storepass", "wrong"],
        &ks,
        3,
        "wrong password",
    );
}

#[test]
fn corrupt_keystore_is_refused_before_any_write() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let mut bytes = std::fs::read(&ks).unwrap();
    bytes.truncate(bytes.len() - 30);
    std::fs::write(&ks, &bytes).unwrap();
    assert_refused_unchanged(&["import", "-k", p(&ks)], &ks, 3, p(&ks));
}

#[cfg(unix)]
#[test]
fn read_only_keystore_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    std::fs::set_permissions(&ks, std::fs::Permissions::from_mode(0o444)).unwrap();
    assert_refused_unchanged(&["import", "-k", p(&ks)], &ks, 3, "read-only");
}

#[test]
fn locked_keystore_is_refused() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let lock_path = azure_cacerts::lock::default_lock_path(&ks);
    let held = azure_cacerts::lock::acquire(&lock_path, std::time::Duration::ZERO).unwrap();
    let before = std::fs::read(&ks).unwrap();
    let o = run(&["import", "-k", p(&ks), "--lock-timeout", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&ks).unwrap(), before);
    drop(held);
}

#[test]
fn pimsync_home_from_the_environment_is_a_default_not_a_conflict() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    // A PIMSYNC server's environment must not break an explicit -k.
    let o = bin()
        .env("PIMSYNC_HOME", "/nonexistent/pimsync")
        .args(["diff", "-k", p(&ks)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // With no keystore option, PIMSYNC_HOME names the installation.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("jre/lib/security")).unwrap();
    copy_writable(
        &sample("jks-jdk25.jks"),
        &home.path().join("jre/lib/security/cacerts"),
    );
    let o = bin()
        .env("PIMSYNC_HOME", home.path())
        .args(["diff", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(json(&o)["keystore"]["path"]
        .as_str()
        .unwrap()
        .ends_with("jre/lib/security/cacerts"));
    let o = bin()
        .env("PIMSYNC_HOME", "")
        .args(["diff"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "an empty PIMSYNC_HOME is no keystore: {}",
        stderr(&o)
    );
}

/// A default skip means "already there", not "never" (contract): a keystore that lacks
/// DigiCert Global Root CA gets it, with a warning saying why; `--skip` still means never.
#[test]
fn a_default_skip_the_keystore_lacks_is_imported() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let status_of = |o: &std::process::Output| -> String {
        json(o)["cas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "DigiCert Global Root CA")
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    let skipped = run(&[
        "import",
        "-k",
        p(&ks),
        "--skip",
        "DigiCert Global Root CA",
        "--format",
        "json",
    ]);
    assert!(skipped.status.success(), "{}", stderr(&skipped));
    assert_eq!(status_of(&skipped), "skipped");
    assert!(
        stderr(&skipped).contains("is skipped (--skip)"),
        "{}",
        stderr(&skipped)
    );
    let o = run(&["import", "-k", p(&ks), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(status_of(&o), "added");
    assert!(
        stderr(&o).contains("it is added like any other CA"),
        "{}",
        stderr(&o)
    );
    // Now present: reported as skipped (already there), nothing more to add.
    let again = run(&["diff", "-k", p(&ks), "--format", "json"]);
    assert_eq!(status_of(&again), "skipped");
}
