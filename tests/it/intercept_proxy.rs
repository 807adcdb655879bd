//! A TLS-inspecting proxy on 127.0.0.1: it answers CONNECT itself and re-signs the server
//! certificate with its own root, as Zscaler-like gateways do. `check --host` through it must
//! name the interception (not advise Azure CAs), and `import --pem` of the proxy's root must
//! make both `check` and a real JVM handshake through the proxy succeed.

use crate::common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use time::{Duration as Span, OffsetDateTime};

pub const MS_HOST: &str = "login.microsoftonline.com";

pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

pub fn root_ca(cn: &str) -> Ca {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::OrganizationName, "azure-cacerts tests");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = now - Span::days(30);
    p.not_after = now + Span::days(3650);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("key");
    let der = p.self_signed(&key).expect("root").der().to_vec();
    Ca {
        params: p,
        key,
        der,
    }
}

/// A server certificate for `host` issued by `ca`, and its PKCS#8 key.
pub fn forged_leaf(ca: &Ca, host: &str) -> (Vec<u8>, Vec<u8>) {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::new(vec![host.to_string()]).expect("leaf params");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CommonName, host);
    p.distinguished_name = dn;
    p.not_before = now - Span::days(1);
    p.not_after = now + Span::days(30);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("key");
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let der = p.signed_by(&key, &issuer).expect("leaf").der().to_vec();
    (der, key.serialize_der())
}

pub fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

pub fn sha256(der: &[u8]) -> String {
    azure_cacerts::cert::sha256_hex(der)
}

/// The proxy: for each CONNECT host it knows, a TLS server presenting that chain (it never
/// connects anywhere); 502 for any other host.
fn inspecting_proxy(sites: HashMap<String, (Vec<Vec<u8>>, Vec<u8>)>, conns: usize) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let configs: HashMap<String, Arc<rustls::ServerConfig>> = sites
        .into_iter()
        .map(|(host, (chain, key))| {
            let certs: Vec<CertificateDer<'static>> =
                chain.into_iter().map(CertificateDer::from).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
            let config = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("server config");
            (host, Arc::new(config))
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(conns) {
            let Ok(mut s) = stream else { continue };
            let configs = configs.clone();
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    match s.read(&mut b) {
                        Ok(1) => head.push(b[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let line = text.lines().next().unwrap_or("").to_string();
                let authority = line.split_whitespace().nth(1).unwrap_or("");
                let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or("");
                let Some(config) = line
                    .starts_with("CONNECT ")
                    .then(|| configs.get(host))
                    .flatten()
                else {
                    let _ = s.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                    return;
                };
                let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let Ok(mut conn) = rustls::ServerConnection::new(config.clone()) else {
                    return;
                };
                while conn.is_handshaking() {
                    if conn.complete_io(&mut s).is_err() {
                        return;
                    }
                }
                let _ = conn.complete_io(&mut s);
            });
        }
    });
    addr
}

fn check(ks: &Path, proxy: SocketAddr, host: &str, bundle: &Path, json: bool) -> (i32, String) {
    let mut cmd = common::bin();
    cmd.args(["check", "-k", ks.to_str().unwrap(), "--timeout", "20"])
        .args(["--proxy", &format!("http://{proxy}"), "--host", host])
        .env("AZURE_CACERTS_OS_TRUST_BUNDLE", bundle);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().unwrap();
    let text = if json {
        common::stdout(&out)
    } else {
        format!("{}{}", common::stdout(&out), common::stderr(&out))
    };
    (out.status.code().unwrap_or(-1), text)
}

fn result(text: &str) -> Value {
    let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    doc["results"][0].clone()
}

/// `java ProxyHandshake.java` with every JDK: TRUSTED or REJECTED lines.
fn java_handshakes(ks: &Path, proxy: SocketAddr, host: &str) -> Vec<String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/ProxyHandshake.java");
    common::keytools()
        .iter()
        .map(|kt| {
            let out = Command::new(common::java_beside(kt))
                .arg(&source)
                .args([ks.to_str().unwrap(), "changeit", "127.0.0.1"])
                .arg(proxy.port().to_string())
                .args([host, "443"])
                .output()
                .expect("java runs");
            assert!(
                out.status.success(),
                "{}{}",
                common::stdout(&out),
                common::stderr(&out)
            );
            common::stdout(&out).trim().to_string()
        })
        .collect()
}

/// A keystore with every Azure CA: the situation where importing Azure CAs cannot help.
fn azure_keystore(dir: &Path) -> PathBuf {
    let ks = dir.join("cacerts.jks");
    common::copy_writable(&common::sample("jks-jdk17.jks"), &ks);
    let out = common::bin()
        .args(["import", "-k", ks.to_str().unwrap(), "--no-backup", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    ks
}

#[test]
fn an_inspecting_proxy_is_named_and_importing_its_root_fixes_check_and_java() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_ca("Test Inspecting Gateway Root CA");
    let other = root_ca("Unrelated Root");
    let (leaf, key) = forged_leaf(&root, MS_HOST);
    // Real gateways often send the forged certificate alone.
    let proxy = inspecting_proxy(
        HashMap::from([(MS_HOST.to_string(), (vec![leaf.clone()], key))]),
        16,
    );
    let ks = azure_keystore(dir.path());
    let without_root = dir.path().join("os-without.pem");
    std::fs::write(&without_root, pem(&other.der)).unwrap();
    let with_root = dir.path().join("os-with.pem");
    std::fs::write(&with_root, format!("{}{}", pem(&other.der), pem(&root.der))).unwrap();
    let root_file = dir.path().join("gateway-root.pem");
    std::fs::write(&root_file, pem(&root.der)).unwrap();
    let root_sha = sha256(&root.der);

    // Not trusted, and named for what it is: the root is nowhere at hand.
    let (code, text) = check(&ks, proxy, MS_HOST, &without_root, true);
    assert_eq!(code, 1, "{text}");
    let r = result(&text);
    assert_eq!(r["trusted"], false, "{r:#}");
    assert_eq!(r["fix_cas"], Value::Array(vec![]), "{r:#}");
    let i = &r["interception"];
    assert_eq!(i["evidence"], "microsoft-host", "{r:#}");
    assert_eq!(i["evidence_detail"], MS_HOST);
    assert_eq!(
        i["root_subject"],
        "CN=Test Inspecting Gateway Root CA, O=azure-cacerts tests"
    );
    assert!(i["root_sha256"].is_null(), "{i:#}");
    assert!(
        i["message"]
            .as_str()
            .unwrap()
            .contains("importing Azure CAs will not help"),
        "{i:#}"
    );
    assert!(
        r["fix"].as_str().unwrap().contains("--pem ROOT.pem"),
        "{r:#}"
    );

    // The OS trust store has the root (as group policy puts it on Windows): named with its
    // SHA-256 and the exact import.
    let (code, text) = check(&ks, proxy, MS_HOST, &with_root, false);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("intercepted: the connection is intercepted by a TLS-inspecting proxy"),
        "{text}"
    );
    assert!(text.contains(&root_sha), "{text}");
    assert!(
        text.contains(&format!("--from-os-store --expect-sha256 {root_sha}")),
        "{text}"
    );
    let (_, text) = check(&ks, proxy, MS_HOST, &with_root, true);
    assert_eq!(result(&text)["interception"]["root_found"], "os-store");

    // Java agrees before the import: PKIX failure.
    let before = java_handshakes(&ks, proxy, MS_HOST);
    for line in &before {
        assert!(line.starts_with("REJECTED"), "{before:?}");
        assert!(line.contains("PKIX"), "{before:?}");
    }

    // Import the proxy's root, pinned.
    let out = common::bin()
        .args(["import", "-k", ks.to_str().unwrap(), "--no-backup"])
        .args(["--pem", root_file.to_str().unwrap()])
        .args(["--expect-sha256", &root_sha])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let shown = common::stdout(&out);
    assert!(shown.contains(&format!("SHA-256 {root_sha}")), "{shown}");
    assert!(
        shown.contains("CN=Test Inspecting Gateway Root CA, O=azure-cacerts tests"),
        "{shown}"
    );

    // Now trusted, still named as a proxy (and where Java finds its root).
    let (code, text) = check(&ks, proxy, MS_HOST, &without_root, true);
    assert_eq!(code, 0, "{text}");
    let r = result(&text);
    assert_eq!(r["trusted"], true);
    assert_eq!(r["interception"]["root_found"], "keystore");
    assert_eq!(
        r["interception"]["root_location"],
        "custom-test-inspecting-gateway-root-ca"
    );
    let after = java_handshakes(&ks, proxy, MS_HOST);
    assert!(!after.is_empty() || std::env::var_os("CI").is_none());
    for line in &after {
        assert_eq!(line, "TRUSTED", "{after:?}");
    }
}

#[test]
fn other_chains_are_not_called_interceptions_unless_named_so() {
    let dir = tempfile::tempdir().unwrap();
    let corp = root_ca("Corp Internal Root");
    let gateway = root_ca("Zscaler Root CA");
    let (intranet, k1) = forged_leaf(&corp, "intranet.test");
    let (zs, k2) = forged_leaf(&gateway, "example.test");
    let proxy = inspecting_proxy(
        HashMap::from([
            ("intranet.test".to_string(), (vec![intranet], k1)),
            (
                "example.test".to_string(),
                (vec![zs.clone(), gateway.der.clone()], k2),
            ),
        ]),
        8,
    );
    let ks = azure_keystore(dir.path());
    let bundle = dir.path().join("empty.pem");
    std::fs::write(&bundle, pem(&corp.der)).unwrap();

    // A private server under a private root: not trusted, but nothing says "proxy".
    let (code, text) = check(&ks, proxy, "intranet.test", &bundle, true);
    assert_eq!(code, 1, "{text}");
    assert!(result(&text)["interception"].is_null(), "{text}");

    // A product's name is evidence for any host; the root was sent (position 2).
    let (code, text) = check(&ks, proxy, "example.test", &bundle, true);
    assert_eq!(code, 1, "{text}");
    let r = result(&text);
    assert_eq!(r["interception"]["evidence"], "product-name", "{r:#}");
    assert_eq!(r["interception"]["evidence_detail"], "Zscaler");
    assert_eq!(r["interception"]["root_found"], "presented");
    assert_eq!(r["interception"]["root_sha256"], sha256(&gateway.der));
    assert!(
        r["fix"].as_str().unwrap().contains("certificate 2"),
        "{r:#}"
    );

    // The same chain from a file, with a leaf naming a Microsoft host.
    let (ms_leaf, _) = forged_leaf(&gateway, "outlook.office365.com");
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, format!("{}{}", pem(&ms_leaf), pem(&gateway.der))).unwrap();
    let out = common::bin()
        .args(["check", "-k", ks.to_str().unwrap(), "--format", "json"])
        .args(["--chain", chain.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = result(&common::stdout(&out));
    assert_eq!(r["interception"]["evidence"], "microsoft-host", "{r:#}");
    assert_eq!(
        r["interception"]["evidence_detail"],
        "outlook.office365.com"
    );
}

/// doctor, offline: PKIX failures that go on although the truststore has every Azure CA, and
/// an OS trust store holding a proxy product's root that the truststore lacks.
#[test]
fn doctor_names_the_proxy_root_the_os_trusts_and_java_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("PIMSYNC");
    for d in ["config", "log", "jre/lib/security"] {
        std::fs::create_dir_all(home.join(d)).unwrap();
    }
    std::fs::write(home.join("jre/release"), "JAVA_VERSION=\"1.8.0_392\"\n").unwrap();
    let ts = home.join("jre/lib/security/cacerts");
    common::copy_writable(&common::sample("jks-jdk17.jks"), &ts);
    let out = common::bin()
        .args(["import", "-k", ts.to_str().unwrap(), "--no-backup", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    // A failure an hour after the truststore was completed (the log's stamps are UTC here).
    let when = OffsetDateTime::now_utc() + Span::hours(1);
    let stamp = format!(
        "{:02}/{:02} {:02}:{:02}:{:02}",
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    );
    let log = home.join("log/server.log");
    std::fs::write(
        &log,
        format!("ERROR - {stamp}|sync failed\njavax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed\n"),
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&log)
        .unwrap()
        .set_modified(std::time::SystemTime::from(when))
        .unwrap();
    let gateway = root_ca("Zscaler Root CA");
    let public = root_ca("Public Root R2");
    let bundle = dir.path().join("os.pem");
    std::fs::write(
        &bundle,
        format!("{}{}", pem(&public.der), pem(&gateway.der)),
    )
    .unwrap();

    let out = common::bin()
        .args([
            "doctor",
            "--pimsync-home",
            home.to_str().unwrap(),
            "--format",
            "json",
        ])
        .env("AZURE_CACERTS_OS_TRUST_BUNDLE", &bundle)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "logs-pkix")
        .unwrap()
        .clone();
    assert_eq!(c["status"], "problem", "{c:#}");
    let roots = c["interception_roots"]
        .as_array()
        .expect("interception_roots");
    assert_eq!(roots.len(), 1, "{c:#}");
    assert_eq!(roots[0]["sha256"], sha256(&gateway.der));
    assert_eq!(roots[0]["product"], "Zscaler");
    let fix = c["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!(
            "--from-os-store --expect-sha256 {}",
            sha256(&gateway.der)
        )),
        "{fix}"
    );
    assert!(fix.contains("TLS-inspecting proxy"), "{fix}");
}
