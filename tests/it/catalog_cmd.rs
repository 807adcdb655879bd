//! `azure-cacerts catalog` with the built-in source and with bundles; `fetch` with the
//! built-in source (verifies the embedded copies, downloads nothing).

use crate::common;
use crate::support;

use common::{bin, stderr, stdout};
use support::json;

#[test]
fn builtin_catalog_as_json() {
    let out = bin()
        .args(["catalog", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let doc = json(&out);
    let c = &doc["catalog"];
    assert_eq!(c["source"], "built-in");
    assert_eq!(c["page_date"], "2025-11-17");
    assert_eq!(c["count"], 82);
    assert_eq!(
        (
            c["listed"].as_u64(),
            c["retired"].as_u64(),
            c["extra"].as_u64()
        ),
        (Some(47), Some(34), Some(1))
    );
    assert_eq!(c["available"], 68);
    assert_eq!(c["page_commit"], "03e5750af10b23b5ba437d5b333ec5e9437844f9");
    let cas = doc["cas"].as_array().unwrap();
    assert_eq!(cas.len(), 82);
    for ca in cas {
        let sha1 = ca["sha1"].as_str().unwrap();
        assert!(
            sha1.len() == 40
                && sha1
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{sha1}"
        );
        assert!(["listed", "retired", "extra"].contains(&ca["status"].as_str().unwrap()));
        assert!(["root", "subordinate"].contains(&ca["role"].as_str().unwrap()));
        if let Some(s) = ca["sha256"].as_str() {
            assert!(s.len() == 64 && !s.contains(':') && s == s.to_uppercase());
        }
    }
    let xsign = cas
        .iter()
        .find(|c| c["slug"] == "microsoft-azure-rsa-tls-issuing-ca-03-xsign")
        .unwrap();
    assert_eq!(xsign["variant"], "xsign");
    assert_eq!(xsign["not_after"], "2026-08-25");
    assert_eq!(xsign["available"], true);
    let ocsp = cas
        .iter()
        .find(|c| c["slug"] == "microsoft-tls-g2-ecc-ca-ocsp-02")
        .unwrap();
    assert_eq!(
        (&ocsp["available"], &ocsp["status"], &ocsp["not_after"]),
        (&false.into(), &"listed".into(), &serde_json::Value::Null)
    );
    let extra = cas.iter().find(|c| c["status"] == "extra").unwrap();
    assert_eq!(extra["sha1"], "21734D95A2473BE25CBFD12A84C6FBC5BC8E2414");
    let retired = cas
        .iter()
        .find(|c| c["slug"] == "baltimore-cybertrust-root")
        .unwrap();
    assert_eq!(
        (&retired["status"], &retired["expired"]),
        (&"retired".into(), &true.into())
    );
}

#[test]
fn builtin_catalog_as_text() {
    let out = bin().args(["catalog"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Azure CA catalog: built-in"),
        "{text}"
    );
    assert!(
        text.contains("Page of 2025-11-17, checked 2026-11-25"),
        "{text}"
    );
    assert!(
        text.contains("82 CAs: 47 listed, 34 retired, 1 extra"),
        "{text}"
    );
    let header = text.lines().find(|l| l.starts_with("NAME")).unwrap();
    for col in ["ROLE", "VARIANT", "NOT AFTER", "SHA-1", "STATUS"] {
        assert!(header.contains(col), "{header}");
    }
    let row = text
        .lines()
        .find(|l| l.contains("B9ED88EB05C15C79639493016200FDAB08137AF3"))
        .unwrap();
    assert!(
        row.contains("2024-06-27 EXPIRED")
            && row.contains("retired")
            && row.contains("microsoft-root"),
        "{row}"
    );
    assert!(
        !text.contains('\x1b'),
        "no colour when NO_COLOR is set / not a terminal"
    );
}

#[test]
fn fetch_builtin_verifies_the_embedded_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("offline");
    let out = bin()
        .args(["fetch", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Bundle written:"), "{text}");
    assert!(text.contains("signed by DigiCert Global Root G2"), "{text}");
    assert!(
        text.contains("44 CAs verified (0 downloaded), 4 unavailable, 34 retired kept"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(dir.join("pem")).unwrap().count(), 68);

    let back = bin()
        .args([
            "catalog",
            "--bundle",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let doc = json(&back);
    assert_eq!(doc["catalog"]["source"], "bundle");
    assert_eq!(doc["catalog"]["origin"], "built-in");
    assert_eq!(doc["catalog"]["count"], 82);
    assert_eq!(doc["catalog"]["available"], 68);

    // The bundle's own thumbprints are checked too: edit one and its PEM no longer matches.
    let cat = dir.join("catalog.toml");
    let toml_text = std::fs::read_to_string(&cat).unwrap();
    std::fs::write(
        &cat,
        toml_text.replacen(
            "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
            "DF3C24F9BFD666761B268073FE06D1CC8D4F82A5",
            1,
        ),
    )
    .unwrap();
    let bad = bin()
        .args(["catalog", "--bundle", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(5), "{}", stderr(&bad));
    assert!(
        stderr(&bad).starts_with("error: bundle rejected ("),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn fetch_json_is_one_document() {
    let out = bin().args(["fetch", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["summary"]["verified"], 44);
    assert_eq!(doc["summary"]["unavailable"], 4);
    assert_eq!(doc["bundle"], serde_json::Value::Null);
    let g2 = doc["cas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "microsoft-tls-g2-rsa-ca-ocsp-02")
        .unwrap();
    assert_eq!(g2["signature"], "verified");
    assert_eq!(g2["origin"], "built-in");
}

#[test]
fn bundle_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = bin()
        .args(["catalog", "--bundle", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: cannot open bundle ({}): ",
            missing.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = bin()
        .args([
            "catalog",
            "--bundle",
            tmp.path().to_str().unwrap(),
            "--catalog-url",
            "http://x/",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = bin()
        .args(["catalog", "--online", "--timeout", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // --out onto a directory that holds other things: refused, untouched.
    std::fs::write(tmp.path().join("keep.txt"), "x").unwrap();
    let out = bin()
        .args(["fetch", "--out", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(tmp.path().join("keep.txt").is_file());
}
