//! Shared by the catalog/fetch integration tests: page fixtures, the embedded certificates as
//! DER, and a local server that serves them. Nothing here reaches past 127.0.0.1.
#![allow(dead_code)]

pub mod der;
pub mod http;

use std::path::PathBuf;

use azure_cacerts::catalog::{page, Catalog};
use http::{Reply, Server};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

pub fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

/// The served page fixture with its links pointing at `base`.
pub fn served_page(base: &str) -> String {
    read_fixture("page-served.md").replace("{{BASE}}", base)
}

/// DER of a PEM file's first certificate.
pub fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem)
        .expect("PEM certificate")
        .to_vec()
}

pub fn sha1_hex(der: &[u8]) -> String {
    azure_cacerts::cert::sha1_hex(der)
}

/// Path and query of a URL, as the request line carries it.
pub fn path_of(url: &str) -> String {
    let u = reqwest::Url::parse(url).expect("absolute URL");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// Serves, for every row of `page_text`, the built-in certificate with that thumbprint at
/// the row's link (DER, as Microsoft and DigiCert serve them). Returns the row count.
pub fn route_page_certs(server: &Server, page_text: &str) -> usize {
    let builtin = Catalog::builtin();
    let parsed = page::parse(page_text).expect("fixture page parses");
    let mut n = 0;
    for row in &parsed.rows {
        if let Some(der) = builtin
            .find_sha1(&row.sha1)
            .and_then(|c| c.der.as_deref().map(<[u8]>::to_vec))
        {
            server.route(&path_of(&row.url), Reply::Body(der));
            n += 1;
        }
    }
    n
}

/// A page with one more row at the top of the root (or subordinate) table.
pub fn with_row(page_text: &str, root: bool, row: &str) -> String {
    let heading = if root {
        "### Root Certificate Authorities"
    } else {
        "### Subordinate Certificate Authorities"
    };
    let at = page_text.find(heading).expect("section heading");
    let sep = at
        + page_text[at..]
            .find("|---- |---- |")
            .expect("table separator");
    let eol = sep + page_text[sep..].find('\n').expect("end of line") + 1;
    let mut out = page_text.to_string();
    out.insert_str(eol, &format!("{row}\n"));
    out
}

/// Where [`with_new_root`] serves the new root.
pub const NEW_ROOT_PATH: &str = "/new/Azure%20CA%20Test%20New%20Root.crt";

/// The test root of `tests/fixtures/new-ca.pem`, as a row the built-in catalog lacks: the one
/// kind of row `--online` downloads (pinned rows carry their built-in copy). Serves its DER
/// under `base` (the address the page's links use) and returns the page with the row, the
/// certificate's path on the server and its SHA-256.
pub fn with_new_root(server: &Server, page_text: &str, base: &str) -> (String, String, String) {
    let der = pem_to_der(read_fixture("new-ca.pem").as_bytes());
    let path = NEW_ROOT_PATH.to_string();
    server.route(&path, Reply::Body(der.clone()));
    let page = with_row(
        page_text,
        true,
        &format!(
            "| [Azure CA Test New Root]({base}{path}) | 0x01<br>{} |",
            sha1_hex(&der).to_lowercase()
        ),
    );
    (page, path, azure_cacerts::cert::sha256_hex(&der))
}

/// The local server with the page at /page.md and every certificate it links to.
pub fn page_server() -> (Server, String) {
    let server = Server::start();
    let text = served_page(&server.base());
    let n = route_page_certs(&server, &text);
    assert_eq!(n, 43, "every row of the served page has a built-in copy");
    server.route("/page.md", Reply::Body(text.clone().into_bytes()));
    (server, text)
}

pub fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
