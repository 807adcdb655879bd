//! `azure-cacerts list` on JKS/JCEKS keystores, checked against `keytool -list -v`, plus the
//! password policy and the one-line failures of the contract.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn list(args: &[&str]) -> Output {
    common::bin().arg("list").args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        common::stderr(out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stdout(out)))
}

/// How keytool prints an alias under LC_ALL=C: every non-ASCII character as '?'.
fn as_keytool_prints(alias: &str) -> String {
    alias
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect()
}

/// alias → SHA-256 (upper-case hex, no colons) as `keytool -list -v` prints them.
fn keytool_fingerprints(kt: &Path, path: &Path, storepass: &str) -> BTreeMap<String, String> {
    let out = common::keytool(
        kt,
        &[
            "-list",
            "-v",
            "-keystore",
            path.to_str().unwrap(),
            "-storepass",
            storepass,
        ],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    let mut map = BTreeMap::new();
    for block in text.split("Alias name: ").skip(1) {
        let alias = block.lines().next().unwrap().trim().to_string();
        let sha = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("SHA256: "))
            .unwrap()
            .replace(':', "");
        map.insert(alias, sha);
    }
    map
}

#[test]
fn list_debian_cacerts_matches_keytool() {
    let Some(cacerts) = common::debian_cacerts() else {
        eprintln!("skipped: /etc/ssl/certs/java/cacerts is absent");
        return;
    };
    let (_dir, path) = common::copy_to_temp(&cacerts);
    let p = path.to_str().unwrap();

    let json = json_of(&list(&["-k", p, "--format", "json"]));
    let ks = &json["keystore"];
    assert_eq!(ks["type"], "jks");
    // 144 on the reference machine; the exact number depends on the installed ca-certificates.
    let n = ks["entries"].as_u64().unwrap() as usize;
    assert!(n > 100, "{n}");
    assert_eq!(ks["password_protected"], true);
    assert_eq!(ks["verified"], true);
    assert_eq!(ks["path"].as_str().unwrap(), p);
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), n);
    let ours: BTreeMap<String, String> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "trusted-cert");
            assert_eq!(e["chain_length"], 1);
            assert!(e["created"].as_str().unwrap().ends_with('Z'));
            (
                e["alias"].as_str().unwrap().to_string(),
                e["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ours.len(), n, "aliases are unique in cacerts");

    let text_out = list(&["-k", p]);
    assert!(text_out.status.success(), "{}", common::stderr(&text_out));
    let text = common::stdout(&text_out);
    assert!(text.contains(&format!("{n} entries")), "{text}");
    for (alias, sha) in &ours {
        assert!(
            text.lines()
                .any(|l| l.starts_with(alias.as_str()) && l.contains(sha.as_str())),
            "text output lacks {alias} {sha}"
        );
    }

    let keytools = common::keytools();
    let Some(kt) = keytools.first() else {
        eprintln!("keytool comparison skipped: no keytool on this machine");
        return;
    };
    let theirs = keytool_fingerprints(kt, &path, "changeit");
    assert_eq!(theirs.len(), n);
    let ours_as_printed: BTreeMap<String, String> = ours
        .iter()
        .map(|(a, s)| (as_keytool_prints(a), s.clone()))
        .collect();
    assert_eq!(ours_as_printed, theirs);
}

#[test]
fn wrong_storepass_is_exit_3_with_one_line() {
    let (_dir, path) = common::copy_to_temp(&common::sample("jks-jdk17.jks"));
    let p = path.to_str().unwrap();
    let out = list(&["-k", p, "--storepass", "not-it"]);
    assert_eq!(out.status.code(), Some(3));
    let err = common::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(p), "{err}");
    assert!(err.contains("wrong password"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn other_password_without_option_lists_unverified_with_a_warning() {
    let rel = "edge-cases/jks-storepass-differs-from-keypass.jks";
    let (_dir, path) = common::copy_to_temp(&common::sample(rel));
    let p = path.to_str().unwrap();
    let out = list(&["-k", p, "--format", "json"]);
    let json = json_of(&out);
    assert_eq!(json["keystore"]["verified"], false);
    assert_eq!(json["keystore"]["entries"], 3);
    let err = common::stderr(&out);
    assert!(err.contains("NOT") && err.contains("verified"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("warning: "), "{err}");

    let text = list(&["-k", p]);
    assert_eq!(text.status.code(), Some(0));
    assert!(common::stderr(&text).contains("NOT been verified"));
    assert!(common::stdout(&text).contains("NOT verified"));

    let right = json_of(&list(&[
        "-k",
        p,
        "--storepass",
        "n3wStorePass",
        "--format",
        "json",
    ]));
    assert_eq!(right["keystore"]["verified"], true);
}

#[test]
fn hostile_files_fail_with_one_line_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read(common::sample("jceks-jdk17.jceks")).unwrap();
    let truncated = dir.path().join("truncated.jceks");
    std::fs::write(&truncated, &real[..real.len() / 2]).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a keystore\n").unwrap();
    let empty = dir.path().join("empty.jks");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.path().join("garbage-after.jks");
    let mut g = std::fs::read(common::sample("jks-jdk25.jks")).unwrap();
    g.extend(b"\n# appended\n");
    std::fs::write(&garbage, &g).unwrap();
    let subdir = dir.path().join("a-directory");
    std::fs::create_dir(&subdir).unwrap();
    let missing = dir.path().join("missing.jks");

    for path in [&truncated, &text, &empty, &garbage, &subdir, &missing] {
        let p = path.to_str().unwrap();
        for format in ["text", "json"] {
            let out = list(&["-k", p, "--format", format]);
            let err = common::stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{p}: {err}");
            assert_eq!(err.lines().count(), 1, "{p}: {err}");
            assert!(err.starts_with("error: "), "{p}: {err}");
            assert!(err.contains(p), "{p}: {err}");
            assert!(!err.contains("panicked"), "{p}: {err}");
            assert!(out.stdout.is_empty(), "{p}: {}", common::stdout(&out));
        }
    }
}

#[test]
fn every_jks_and_jceks_sample_lists() {
    let cases: &[(&str, &str, u64, &[&str])] = &[
        ("jks-jdk17.jks", "jks", 2, &["myca", "mykey"]),
        ("jks-jdk25.jks", "jks", 2, &["myca", "mykey"]),
        (
            "jceks-jdk17.jceks",
            "jceks",
            3,
            &["myca", "mykey", "mysecret"],
        ),
        (
            "jceks-jdk25.jceks",
            "jceks",
            3,
            &["myca", "mykey", "mysecret"],
        ),
        (
            // Java keeps the last of the two "myca" entries (issue 13).
            "edge-cases/jks-duplicate-alias.jks",
            "jks",
            2,
            &["myca", "mykey"],
        ),
        ("edge-cases/jks-version1.jks", "jks", 2, &["myca", "mykey"]),
        (
            "edge-cases/jks-uppercase-alias.jks",
            "jks",
            3,
            &["UPPER_CA", "myca", "mykey"],
        ),
        (
            "edge-cases/jks-storepass-differs-from-keypass.jks",
            "jks",
            3,
            &["added_ca", "myca", "mykey"],
        ),
        (
            "edge-cases/jks-unicode-and-mixedcase-alias.jks",
            "jks",
            4,
            &["myca", "mykey", "mymixedcase_ca", "ünïcødé😀"],
        ),
        (
            "edge-cases/jks-certtype-X509.jks",
            "jks",
            3,
            &["myca", "mykey", "typeca"],
        ),
        ("trust-anchor-reissue/ts-rootA.jks", "jks", 1, &["root"]),
        ("trust-anchor-reissue/ts-rootB.jks", "jks", 1, &["root"]),
        ("trust-anchor-reissue/ts-rootC.jks", "jks", 1, &["root"]),
    ];
    for (rel, store_type, count, aliases) in cases {
        let path = common::sample(rel);
        let mut args = vec!["-k", path.to_str().unwrap()];
        if rel.contains("differs") {
            args.extend(["--storepass", "n3wStorePass"]);
        }
        let out = list(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rel}: {}",
            common::stderr(&out)
        );
        assert!(
            common::stdout(&out).contains(&format!("{count} entries")),
            "{rel}"
        );
        args.extend(["--format", "json"]);
        let json = json_of(&list(&args));
        assert_eq!(json["keystore"]["type"], *store_type, "{rel}");
        assert_eq!(json["keystore"]["entries"], *count, "{rel}");
        assert_eq!(json["keystore"]["verified"], true, "{rel}");
        let mut got: Vec<&str> = json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["alias"].as_str().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, *aliases, "{rel}");
        for e in json["entries"].as_array().unwrap() {
            match e["kind"].as_str().unwrap() {
                "secret-key" => {
                    assert!(e["sha256"].is_null());
                    assert_eq!(e["chain_length"], 0);
                }
                "trusted-cert" | "private-key" => {
                    assert_eq!(e["sha256"].as_str().unwrap().len(), 64);
                    assert_eq!(e["chain_length"], 1);
                }
                other => panic!("{rel}: kind {other}"),
            }
        }
    }
}
