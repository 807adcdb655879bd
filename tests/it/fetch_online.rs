//! `fetch --online` / `--catalog-url` against a local HTTP server: success and the bundle it
//! writes, and every way a download can go wrong. Never contacts the internet.

use crate::common;
use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{bin, stderr};
use support::http::{Reply, Server};
use support::{
    json, page_server, path_of, pem_to_der, read_fixture, sha1_hex, with_new_root, with_row,
};

fn fetch(page_url: &str, extra: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.env_remove("NO_PROXY").env_remove("no_proxy");
    c.args([
        "fetch",
        "--catalog-url",
        page_url,
        "--timeout",
        "5",
        "--format",
        "json",
    ])
    .args(extra);
    c.output().expect("run azure-cacerts")
}

/// The CA of a document's `cas` whose `key` is `value`.
fn ca_where<'a>(doc: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    doc["cas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[key] == value)
        .unwrap_or_else(|| panic!("no CA with {key} {value}"))
}

/// Nothing beside `parent` but what was there: no bundle, no temporary directory.
fn assert_nothing_written(parent: &Path) {
    let left: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Rows whose thumbprint the built-in catalog pins are its bytes: only the page and the one
/// new CA are requested. The bundle holds both kinds and reads back offline.
#[test]
fn pinned_copies_are_not_downloaded_and_the_bundle_reads_back() {
    let (server, text) = page_server();
    let (page, new_path, new_sha256) = with_new_root(&server, &text, &server.base());
    server.route("/page.md", Reply::Body(page.into_bytes()));
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("bundle");
    let page_url = format!("{}/page.md", server.base());
    let out = fetch(
        &page_url,
        &[
            "--out",
            out_dir.to_str().unwrap(),
            "--expect-sha256",
            &new_sha256,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["catalog"]["source"], "live");
    assert_eq!(doc["catalog"]["page_date"], "2025-11-17");
    assert_eq!(doc["catalog"]["listed"], 44);
    assert_eq!(doc["summary"]["downloaded"], 1);
    assert_eq!(
        server.hits(),
        ["/page.md".to_string(), new_path],
        "nothing pinned was downloaded"
    );
    let cas = doc["cas"].as_array().unwrap();
    let listed: Vec<_> = cas
        .iter()
        .filter(|c| c["status"] == "listed" && c["slug"] != "azure-ca-test-new-root")
        .collect();
    assert_eq!(listed.len(), 43);
    assert!(listed
        .iter()
        .all(|c| c["origin"] == "built-in" && c["available"] == true && c["url"].is_null()));
    let new = cas
        .iter()
        .find(|c| c["slug"] == "azure-ca-test-new-root")
        .unwrap();
    assert_eq!(new["origin"], "downloaded");
    assert_eq!(
        new["url"],
        format!("{}{}", server.base(), support::NEW_ROOT_PATH)
    );
    // The ECC OCSP rows are not on the served page: built-in listed CAs the page lost retire.
    let ocsp = cas
        .iter()
        .find(|c| c["slug"] == "microsoft-tls-g2-ecc-ca-ocsp-02")
        .unwrap();
    assert_eq!(ocsp["status"], "retired");
    assert!(stderr(&out).contains("no longer lists"), "{}", stderr(&out));
    let sub = cas
        .iter()
        .find(|c| c["slug"] == "microsoft-azure-rsa-tls-issuing-ca-03-xsign")
        .unwrap();
    assert_eq!(sub["signature"], "verified");
    assert_eq!(sub["signed_by"], "DigiCert Global Root G2");
    let lower = cas
        .iter()
        .find(|c| c["slug"] == "microsoft-tls-g2-rsa-ca-ocsp-10")
        .unwrap();
    assert_eq!(lower["sha1"], "B663D8413CA35F3F22643CCBC2D3250700916B1A");
    assert_eq!(doc["bundle"], out_dir.display().to_string());

    // The bundle: catalog.toml + one PEM per CA with bytes (the pinned copies, the download,
    // and the retired/extra copies kept from the built-in catalog).
    let toml_text = std::fs::read_to_string(out_dir.join("catalog.toml")).unwrap();
    assert!(toml_text.contains("source = \"live\""));
    assert!(out_dir
        .join("pem/microsoft-azure-rsa-tls-issuing-ca-03-xsign.pem")
        .is_file());
    assert!(out_dir.join("pem/azure-ca-test-new-root.pem").is_file());
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["bundle"],
        "no temporary directory left beside the bundle"
    );

    // Read back on "another machine": no network needed, every PEM re-verified.
    let back = bin()
        .args([
            "catalog",
            "--bundle",
            out_dir.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let b = json(&back);
    assert_eq!(b["catalog"]["source"], "bundle");
    assert_eq!(b["catalog"]["origin"], "live");
    assert_eq!(b["catalog"]["page_date"], "2025-11-17");
    assert_eq!(b["catalog"]["count"], doc["catalog"]["count"]);
    assert_eq!(b["catalog"]["listed"], 44);
    let bcas = b["cas"].as_array().unwrap();
    for c in cas {
        let same = bcas.iter().find(|x| x["slug"] == c["slug"]).unwrap();
        assert_eq!(
            (&same["sha1"], &same["sha256"], &same["status"]),
            (&c["sha1"], &c["sha256"], &c["status"])
        );
        assert_eq!(same["available"], c["available"]);
    }

    // Tamper with one PEM: the bundle is refused (exit 5), naming the file.
    let victim = out_dir.join("pem/digicert-global-root-g3.pem");
    let other = std::fs::read(out_dir.join("pem/digicert-global-root-g2.pem")).unwrap();
    std::fs::write(&victim, other).unwrap();
    let bad = bin()
        .args(["fetch", "--bundle", out_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(5), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("digicert-global-root-g3.pem"),
        "{}",
        stderr(&bad)
    );
}

/// A row the built-in catalog pins but has no copy of (the ECC OCSP CAs, which have no public
/// copy), pointing at this server.
fn copyless_row(server: &Server, text: &str) -> (String, String) {
    let ca = azure_cacerts::catalog::Catalog::builtin()
        .find_slug("microsoft-tls-g2-ecc-ca-ocsp-02")
        .unwrap()
        .clone();
    assert!(ca.der.is_none(), "the built-in catalog has no copy of it");
    let url = format!(
        "{}/ocsp/Microsoft%20TLS%20G2%20ECC%20CA%20OCSP%2002.crt",
        server.base()
    );
    let page = with_row(
        text,
        false,
        &format!("| [{}]({url}) | 0x01<br>{} |", ca.name, ca.sha1),
    );
    (page, url)
}

/// A CA with no pinned copy whose download fails is unavailable, with a warning naming it and
/// the address; the rest of the catalog is still usable. `fetch --out` writes the bundle with
/// it recorded as unavailable and ends with exit 4 naming it; `diff` reports it unavailable.
/// A failing address of a pinned CA is never even asked.
#[test]
fn a_download_that_fails_makes_that_ca_unavailable() {
    let (server, text) = page_server();
    let (page, url) = copyless_row(&server, &text);
    server.route(&path_of(&url), Reply::Status(404));
    let pinned_row = page
        .lines()
        .find(|l| l.contains("DigiCert Basic RSA CN CA G2"))
        .unwrap();
    let pinned_url =
        pinned_row[pinned_row.find("](").unwrap() + 2..pinned_row.find(") |").unwrap()].to_string();
    server.route(&path_of(&pinned_url), Reply::Status(404));
    server.route("/page.md", Reply::Body(page.clone().into_bytes()));
    let page_url = format!("{}/page.md", server.base());

    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("bundle");
    let out = fetch(&page_url, &["--out", out_dir.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!(
            "warning: cannot download Microsoft TLS G2 ECC CA OCSP 02 from {url}: HTTP 404"
        )),
        "{err}"
    );
    assert!(
        err.contains("error: cannot download 1 listed CA (Microsoft TLS G2 ECC CA OCSP 02): "),
        "{err}"
    );
    assert!(!err.contains("DigiCert Basic RSA CN CA G2"), "{err}");
    let doc = json(&out);
    let ocsp = ca_where(&doc, "slug", "microsoft-tls-g2-ecc-ca-ocsp-02").clone();
    assert_eq!(ocsp["origin"], "unavailable");
    assert_eq!(ocsp["url"], url);
    assert!(ocsp["download_error"].as_str().unwrap().contains("404"));
    assert_eq!(doc["bundle"], out_dir.display().to_string());
    assert!(!server.hits().iter().any(|h| h == &path_of(&pinned_url)));

    // The bundle records it as listed but without a copy, and reads back.
    let back = bin()
        .args(["catalog", "--format", "json", "--bundle"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let b = json(&back);
    let ocsp = ca_where(&b, "slug", "microsoft-tls-g2-ecc-ca-ocsp-02").clone();
    assert_eq!(
        (&ocsp["status"], &ocsp["available"]),
        (&"listed".into(), &false.into())
    );

    // diff goes on with everything else: the CA is unavailable, the others are judged.
    let ks = tmp.path().join("cacerts");
    std::fs::copy(common::sample("jks-jdk17.jks"), &ks).unwrap();
    let out = bin()
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(["diff", "--format", "json", "--catalog-url", &page_url, "-k"])
        .arg(&ks)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let d = json(&out);
    let ocsp = ca_where(&d, "name", "Microsoft TLS G2 ECC CA OCSP 02").clone();
    assert_eq!(ocsp["status"], "unavailable");
    assert!(d["summary"]["missing"].as_u64().unwrap() > 0);
}

/// The page itself failing is what stops the run (exit 4) and writes nothing.
#[test]
fn a_page_that_cannot_be_downloaded_is_a_network_error_and_nothing_is_written() {
    let server = Server::start();
    server.route("/page.md", Reply::Status(404));
    let tmp = tempfile::tempdir().unwrap();
    let out = fetch(
        &format!("{}/page.md", server.base()),
        &["--out", tmp.path().join("bundle").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: cannot download (http://127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("404"), "{err}");
    assert!(out.stdout.is_empty());
    assert_nothing_written(tmp.path());
}

#[test]
fn a_tampered_download_is_rejected_and_nothing_is_written() {
    let (server, text) = page_server();
    let (page, url) = copyless_row(&server, &text);
    // Some other certificate where the pinned one should be.
    let der = pem_to_der(read_fixture("new-ca.pem").as_bytes());
    server.route(&path_of(&url), Reply::Body(der));
    server.route("/page.md", Reply::Body(page.into_bytes()));
    let tmp = tempfile::tempdir().unwrap();
    let out = fetch(
        &format!("{}/page.md", server.base()),
        &["--out", tmp.path().join("b").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("certificate rejected (Microsoft TLS G2 ECC CA OCSP 02)"),
        "{err}"
    );
    assert!(err.contains("SHA-1 thumbprint mismatch"), "{err}");
    assert_nothing_written(tmp.path());
}

#[test]
fn a_stalled_server_times_out_quickly() {
    let server = Server::start();
    server.route("/page.md", Reply::Stall);
    let started = Instant::now();
    let out = bin()
        .args([
            "fetch",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    // Three attempts of 1 s plus 0.5 s and 1 s of back-off.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(server.hits().len(), 3, "retried twice");
}

#[test]
fn a_server_error_is_retried_then_reported() {
    let server = Server::start();
    server.route("/page.md", Reply::Status(503));
    let out = bin()
        .args([
            "catalog",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    assert_eq!(server.hits().len(), 3);
}

#[test]
fn redirects_are_followed() {
    let (server, text) = page_server();
    let (page, new_path, sha256) = with_new_root(&server, &text, &server.base());
    let der = pem_to_der(read_fixture("new-ca.pem").as_bytes());
    server.route(&new_path, Reply::Redirect("/moved/new-root.crt".into()));
    server.route("/moved/new-root.crt", Reply::Body(der));
    server.route("/page.md", Reply::Body(page.into_bytes()));
    // The page itself moved too.
    server.route(
        "/old/page.md",
        Reply::Redirect(format!("{}/page.md", server.base())),
    );
    let out = fetch(
        &format!("{}/old/page.md", server.base()),
        &["--expect-sha256", &sha256],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let ca = doc["cas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "azure-ca-test-new-root")
        .unwrap();
    assert_eq!(ca["url"], format!("{}/moved/new-root.crt", server.base()));
    assert_eq!(ca["signature"], "self-signed");
}

#[test]
fn pem_bodies_are_accepted() {
    let (server, text) = page_server();
    let (page, new_path, sha256) = with_new_root(&server, &text, &server.base());
    server.route(
        &new_path,
        Reply::Body(read_fixture("new-ca.pem").into_bytes()),
    );
    server.route("/page.md", Reply::Body(page.into_bytes()));
    let out = fetch(
        &format!("{}/page.md", server.base()),
        &["--expect-sha256", &sha256],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["downloaded"], 1);
}

/// A root that only the live page names is never taken on the page's word: it is left out
/// (unavailable) with a warning, and taken with --accept-new-roots or --expect-sha256.
#[test]
fn a_new_root_from_the_page_needs_to_be_accepted() {
    let (server, text) = page_server();
    let der = pem_to_der(read_fixture("new-ca.pem").as_bytes());
    let sha1 = sha1_hex(&der);
    let sha256 = azure_cacerts::cert::sha256_hex(&der);
    let url = format!("{}/new/Azure%20CA%20Test%20New%20Root.crt", server.base());
    server.route(&path_of(&url), Reply::Body(der.clone()));
    let page = with_row(
        &text,
        true,
        &format!(
            "| [Azure CA Test New Root]({url}) | 0x01<br>{} |",
            sha1.to_lowercase()
        ),
    );
    server.route("/page.md", Reply::Body(page.into_bytes()));
    let page_url = format!("{}/page.md", server.base());
    let new_ca = |doc: &serde_json::Value| {
        doc["cas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Azure CA Test New Root")
            .unwrap()
            .clone()
    };

    let tmp = tempfile::tempdir().unwrap();
    let refused_dir = tmp.path().join("refused");
    let out = fetch(&page_url, &["--out", refused_dir.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("a web page alone never adds a trust anchor"),
        "{err}"
    );
    assert!(err.contains(&format!("--expect-sha256 {sha256}")), "{err}");
    assert_eq!(new_ca(&json(&out))["available"], false);
    assert!(!refused_dir.join("pem/azure-ca-test-new-root.pem").exists());

    for flags in [
        vec!["--accept-new-roots"],
        vec!["--expect-sha256", sha256.as_str()],
    ] {
        let out_dir = tmp.path().join(format!("b{}", flags.len()));
        let mut args = vec!["--out", out_dir.to_str().unwrap()];
        args.extend(flags.iter().copied());
        let out = fetch(&page_url, &args);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {}", stderr(&out));
        let doc = json(&out);
        let ca = new_ca(&doc);
        assert_eq!(ca["slug"], "azure-ca-test-new-root");
        assert_eq!(ca["role"], "root");
        assert_eq!(ca["status"], "listed");
        assert_eq!(ca["sha1"], sha1);
        assert_eq!(ca["sha256"], sha256);
        assert_eq!(ca["not_after"], "2056-11-17");
        assert_eq!(ca["signature"], "self-signed");
        assert_eq!(doc["catalog"]["listed"], 44);
        // It travels in the bundle, pinned by the SHA-256 learnt from the download.
        assert!(out_dir.join("pem/azure-ca-test-new-root.pem").is_file());
        let toml_text = std::fs::read_to_string(out_dir.join("catalog.toml")).unwrap();
        assert!(toml_text.contains(&sha256));
    }
}

/// A subordinate that only the page names, issued by a root no catalog has: wanted only
/// where the keystore already trusts that root (its key verifies the signature).
#[test]
fn a_new_subordinate_is_wanted_only_under_a_keystore_anchor() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_params = |cn: &str| {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p
    };
    let root_key = KeyPair::generate().unwrap();
    let root_p = ca_params("Company Test Root");
    let root = root_p.self_signed(&root_key).unwrap();
    let sub_key = KeyPair::generate().unwrap();
    let sub = ca_params("Azure Test Issuing CA 99")
        .signed_by(&sub_key, &Issuer::from_params(&root_p, &root_key))
        .unwrap();

    let (server, text) = page_server();
    let url = format!("{}/new/sub99.crt", server.base());
    server.route(&path_of(&url), Reply::Body(sub.der().to_vec()));
    let page = with_row(
        &text,
        false,
        &format!(
            "| [Azure Test Issuing CA 99]({url}) | 0x01<br>{} |",
            sha1_hex(sub.der()).to_lowercase()
        ),
    );
    server.route("/page.md", Reply::Body(page.into_bytes()));
    let page_url = format!("{}/page.md", server.base());

    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain.jks");
    std::fs::copy(common::sample("jks-jdk17.jks"), &plain).unwrap();
    let with_root = tmp.path().join("with-root.jks");
    let mut ks = azure_cacerts::keystore::Keystore::parse(
        &std::fs::read(&plain).unwrap(),
        None,
        Some("changeit"),
    )
    .unwrap();
    ks.add_trusted_cert("company-root", root.der(), 0).unwrap();
    std::fs::write(&with_root, ks.to_bytes(Some("changeit")).unwrap()).unwrap();

    let status_in = |keystore: &Path| {
        let out = bin()
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .args(["diff", "--format", "json", "--catalog-url", &page_url, "-k"])
            .arg(keystore)
            .output()
            .unwrap();
        let doc = json(&out);
        let ca = doc["cas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Azure Test Issuing CA 99")
            .unwrap_or_else(|| panic!("{}", stderr(&out)))
            .clone();
        (ca["status"].as_str().unwrap().to_string(), stderr(&out))
    };
    let (status, err) = status_in(&plain);
    assert_eq!(status, "unavailable", "{err}");
    assert!(err.contains("whose issuer"), "{err}");
    let (status, err) = status_in(&with_root);
    assert_eq!(status, "missing", "{err}");
}

/// The page itself is never read over plain http (its thumbprints pin every download),
/// except from this machine (the tests).
#[test]
fn a_plain_http_page_is_refused() {
    let out = bin()
        .args([
            "fetch",
            "--catalog-url",
            "http://azure-ca.test/page.md",
            "--proxy",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("plain http"), "{err}");
}

#[test]
fn a_malformed_or_badly_signed_certificate_is_a_verification_error() {
    let (server, text) = page_server();
    let cases: Vec<(&str, Vec<u8>, &str)> = {
        let mut bad_sig = azure_cacerts::catalog::Catalog::builtin()
            .find_slug("digicert-global-g2-tls-rsa-sha256-2020-ca1")
            .unwrap()
            .der
            .clone()
            .unwrap()
            .into_owned();
        let n = bad_sig.len();
        bad_sig[n - 1] ^= 0x01;
        vec![
            (
                "Garbage CA",
                b"\x30\x03\x02\x01\x00".to_vec(),
                "malformed certificate",
            ),
            (
                "Html CA",
                b"<html>moved</html>".to_vec(),
                "not a DER or PEM certificate",
            ),
            ("Bad Signature CA", bad_sig, "does not verify"),
        ]
    };
    for (name, body, expect) in cases {
        let url = format!("{}/bad/{}.crt", server.base(), name.replace(' ', "%20"));
        server.route(&path_of(&url), Reply::Body(body.clone()));
        let page = with_row(
            &text,
            false,
            &format!("| [{name}]({url}) | 0x02<br>{} |", sha1_hex(&body)),
        );
        let page_path = format!("/page-{}.md", name.replace(' ', "-"));
        server.route(&page_path, Reply::Body(page.into_bytes()));
        let tmp = tempfile::tempdir().unwrap();
        let out = fetch(
            &format!("{}{page_path}", server.base()),
            &["--out", tmp.path().join("b").to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(5), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains(expect), "{name}: {err}");
        assert_nothing_written(tmp.path());
    }
}

#[test]
fn a_page_that_does_not_parse_is_a_verification_error() {
    let server = Server::start();
    server.route(
        "/page.md",
        Reply::Body(b"<!DOCTYPE html><html><body>Azure CA details</body></html>".to_vec()),
    );
    let base = server.base();
    let no_roots = read_fixture("page-served.md")
        .replace("{{BASE}}", &base)
        .replace("### Root Certificate Authorities", "### Roots");
    server.route("/no-roots.md", Reply::Body(no_roots.into_bytes()));
    for path in ["/page.md", "/no-roots.md"] {
        let out = bin()
            .args([
                "catalog",
                "--catalog-url",
                &format!("{base}{path}"),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "never an empty catalog");
        assert!(
            stderr(&out).contains(&format!("error: cannot use the CA page ({base}{path})")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn catalog_online_shows_the_live_page() {
    let (server, _) = page_server();
    let out = bin()
        .args([
            "catalog",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["catalog"]["source"], "live");
    assert_eq!(doc["catalog"]["listed"], 43);
    assert_eq!(
        doc["catalog"]["location"],
        format!("{}/page.md", server.base())
    );
}

/// `--timeout` bounds a whole answer, not each read: a page trickled at 2 bytes a second
/// (40 bytes, 20 s) fails after about three attempts of 2 s, not after a minute.
#[test]
fn a_trickling_server_is_bounded_by_the_timeout() {
    let server = Server::start();
    server.route("/page.md", Reply::Trickle(vec![b'x'; 40]));
    let started = Instant::now();
    let out = bin()
        .args([
            "fetch",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
            "--timeout",
            "2",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("did not arrive within 2 s"), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

/// One budget for the whole online step (6 x --timeout): 40 downloads that never answer end
/// after about 6 s, not after 40 / 4 x (3 attempts + back-off), each CA unavailable.
#[test]
fn the_online_step_has_one_deadline() {
    let server = Server::start();
    let mut text = support::served_page(&server.base());
    for i in 0..40u32 {
        let url = format!("{}/stalled/{i}.crt", server.base());
        server.route(&path_of(&url), Reply::Stall);
        text = with_row(
            &text,
            false,
            &format!("| [Stalled CA {i}]({url}) | 0x01<br>{:040X} |", i + 1),
        );
    }
    server.route("/page.md", Reply::Body(text.into_bytes()));
    let started = Instant::now();
    let out = bin()
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args([
            "fetch",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(took < Duration::from_secs(12), "took {took:?}: {err}");
    assert!(err.contains("budget") || err.contains("timed out"), "{err}");
    assert!(
        err.contains("error: cannot download 40 listed CAs"),
        "{err}"
    );
}

/// A "page" with 10,000 rows is refused at once (it is not Microsoft's page, and every row
/// would be a download).
#[test]
fn a_huge_page_is_refused_quickly() {
    let server = Server::start();
    let base = support::served_page(&server.base());
    let mut rows = String::new();
    for i in 0..10_000u32 {
        rows.push_str(&format!(
            "| [Fake CA {i}]({}/fake{i}.crt) | 0A:0B<br>{:040X} |\n",
            server.base(),
            i
        ));
    }
    let text = base.replacen("|---- |---- |\n", &format!("|---- |---- |\n{rows}"), 1);
    server.route("/page.md", Reply::Body(text.into_bytes()));
    let started = Instant::now();
    let out = fetch(&format!("{}/page.md", server.base()), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("more than 500 CA rows"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(server.hits().len(), 1, "nothing but the page was requested");
}
