//! `check` against TLS servers on 127.0.0.1 presenting chains made with rcgen, each verdict
//! compared with a real JVM's (tests/java/TrustCheck.java, one JVM run for every case), plus
//! the CONNECT proxy path and an unreachable port. Nothing leaves the loopback interface.

use crate::common;
use crate::support::der::tlv;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use azure_cacerts::keystore::Keystore;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use time::{Duration as Span, OffsetDateTime};

pub(crate) const PASS: &str = "changeit";

// ---------------------------------------------------------------- certificates

fn dn(cn: &str) -> rcgen::DistinguishedName {
    let mut d = rcgen::DistinguishedName::new();
    d.push(DnType::OrganizationName, "azure-cacerts tests");
    d.push(DnType::CommonName, cn);
    d
}

pub(crate) fn ca_params(
    cn: &str,
    serial: u64,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = from;
    p.not_after = to;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

pub(crate) fn leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = now - Span::days(10);
    p.not_after = now + Span::days(90);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p
}

/// An Authority Key Identifier naming key, issuer and serial of `issuer_der`, as openssl
/// writes with `authorityKeyIdentifier=keyid,issuer:always`.
fn aki_with_serial(issuer_der: &[u8]) -> CustomExtension {
    use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
    let (_, c) = X509Certificate::from_der(issuer_der).expect("issuer parses");
    let ski = c
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
        .expect("issuer has an SKI");
    let mut body = tlv(0x80, &ski);
    body.extend(tlv(0xA1, &tlv(0xA4, c.subject().as_raw())));
    body.extend(tlv(0x82, c.raw_serial()));
    CustomExtension::from_oid_content(&[2, 5, 29, 35], tlv(0x30, &body))
}

struct Pki {
    root_a: Vec<u8>,
    root_b: Vec<u8>,
    root_c: Vec<u8>,
    inter: Vec<u8>,
    inter_expired: Vec<u8>,
    inter_not_ca: Vec<u8>,
    leaf: Vec<u8>,
    leaf_direct: Vec<u8>,
    leaf_aki_serial: Vec<u8>,
    leaf_expired_inter: Vec<u8>,
    leaf_not_ca: Vec<u8>,
    leaf_client_only: Vec<u8>,
    leaf_expired: Vec<u8>,
    root_expired: Vec<u8>,
    inter_cross: Vec<u8>,
    inter_len0: Vec<u8>,
    sub_of_len0: Vec<u8>,
    leaf_under_sub: Vec<u8>,
    inter_no_sign: Vec<u8>,
    leaf_under_no_sign: Vec<u8>,
    root_no_sign: Vec<u8>,
    inter_critical: Vec<u8>,
    leaf_under_critical: Vec<u8>,
    leaf_encipher_only: Vec<u8>,
    leaf_reissued_expired: Vec<u8>,
    leaf_key: Vec<u8>,
}

fn pki() -> Pki {
    let now = OffsetDateTime::now_utc();
    let root_key = KeyPair::generate().expect("key");
    let other_key = KeyPair::generate().expect("key");
    let inter_key = KeyPair::generate().expect("key");
    let leaf_key = KeyPair::generate().expect("key");

    let root_a_p = ca_params(
        "Check Test Root",
        1,
        now - Span::days(365),
        now + Span::days(3650),
    );
    let root_a = root_a_p.self_signed(&root_key).expect("rootA");
    // The same subject and key, re-issued: another serial and validity.
    let root_b_p = ca_params(
        "Check Test Root",
        2,
        now - Span::days(30),
        now + Span::days(7300),
    );
    let root_b = root_b_p.self_signed(&root_key).expect("rootB");
    let root_c_p = ca_params(
        "Check Test Root",
        3,
        now - Span::days(30),
        now + Span::days(3650),
    );
    let root_c = root_c_p.self_signed(&other_key).expect("rootC");
    let root_issuer = Issuer::from_params(&root_a_p, &root_key);

    let inter_p = ca_params(
        "Check Test Intermediate",
        10,
        now - Span::days(100),
        now + Span::days(1000),
    );
    let inter = inter_p.signed_by(&inter_key, &root_issuer).expect("inter");
    let inter_issuer = Issuer::from_params(&inter_p, &inter_key);

    let expired_p = ca_params(
        "Check Test Expired Intermediate",
        11,
        now - Span::days(800),
        now - Span::days(1),
    );
    let inter_expired = expired_p
        .signed_by(&inter_key, &root_issuer)
        .expect("expired");
    let expired_issuer = Issuer::from_params(&expired_p, &inter_key);

    let mut not_ca_p = ca_params(
        "Check Test Not A CA",
        12,
        now - Span::days(100),
        now + Span::days(1000),
    );
    not_ca_p.is_ca = IsCa::ExplicitNoCa;
    not_ca_p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let inter_not_ca = not_ca_p
        .signed_by(&inter_key, &root_issuer)
        .expect("not-ca");
    let not_ca_issuer = Issuer::from_params(&not_ca_p, &inter_key);

    let leaf = leaf_params("server.test", 100)
        .signed_by(&leaf_key, &inter_issuer)
        .expect("leaf");
    let leaf_direct = leaf_params("direct.test", 101)
        .signed_by(&leaf_key, &root_issuer)
        .expect("direct");
    let mut aki_p = leaf_params("aki-serial.test", 102);
    aki_p.use_authority_key_identifier_extension = false;
    aki_p.custom_extensions = vec![aki_with_serial(root_a.der())];
    let leaf_aki_serial = aki_p.signed_by(&leaf_key, &root_issuer).expect("aki");
    let leaf_expired_inter = leaf_params("under-expired.test", 103)
        .signed_by(&leaf_key, &expired_issuer)
        .expect("under expired");
    let leaf_not_ca = leaf_params("under-not-ca.test", 104)
        .signed_by(&leaf_key, &not_ca_issuer)
        .expect("under not-ca");
    let mut client_p = leaf_params("client-only.test", 105);
    client_p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let leaf_client_only = client_p
        .signed_by(&leaf_key, &inter_issuer)
        .expect("client");

    let mut old_p = leaf_params("expired.test", 106);
    old_p.not_before = now - Span::days(400);
    old_p.not_after = now - Span::days(2);
    let leaf_expired = old_p
        .signed_by(&leaf_key, &inter_issuer)
        .expect("expired leaf");
    // Java never looks at an anchor's own dates.
    let root_expired = ca_params(
        "Check Test Root",
        4,
        now - Span::days(900),
        now - Span::days(1),
    )
    .self_signed(&root_key)
    .expect("expired root");
    // The intermediate's name and key, cross-signed by a root no keystore here holds.
    let other_root_p = ca_params(
        "Check Other Root",
        5,
        now - Span::days(30),
        now + Span::days(3650),
    );
    let other_issuer = Issuer::from_params(&other_root_p, &other_key);
    let inter_cross = ca_params(
        "Check Test Intermediate",
        20,
        now - Span::days(100),
        now + Span::days(1000),
    )
    .signed_by(&inter_key, &other_issuer)
    .expect("cross");

    // pathLenConstraint 0 with another CA under it.
    let mut len0_p = ca_params(
        "Check Test Len0",
        30,
        now - Span::days(100),
        now + Span::days(1000),
    );
    len0_p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let inter_len0 = len0_p.signed_by(&inter_key, &root_issuer).expect("len0");
    let len0_issuer = Issuer::from_params(&len0_p, &inter_key);
    let sub_p = ca_params(
        "Check Test Sub",
        31,
        now - Span::days(100),
        now + Span::days(1000),
    );
    let sub_of_len0 = sub_p.signed_by(&inter_key, &len0_issuer).expect("sub");
    let sub_issuer = Issuer::from_params(&sub_p, &inter_key);
    let leaf_under_sub = leaf_params("under-sub.test", 107)
        .signed_by(&leaf_key, &sub_issuer)
        .expect("under sub");
    // A CA whose KeyUsage lacks keyCertSign.
    let mut no_sign_p = ca_params(
        "Check Test No Sign",
        32,
        now - Span::days(100),
        now + Span::days(1000),
    );
    no_sign_p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let inter_no_sign = no_sign_p
        .signed_by(&inter_key, &root_issuer)
        .expect("no sign");
    let no_sign_issuer = Issuer::from_params(&no_sign_p, &inter_key);
    let leaf_under_no_sign = leaf_params("under-no-sign.test", 108)
        .signed_by(&leaf_key, &no_sign_issuer)
        .expect("under no sign");
    // The root re-issued with a KeyUsage of cRLSign only: Java refuses it as an anchor.
    let mut root_ns_p = ca_params(
        "Check Test Root",
        6,
        now - Span::days(30),
        now + Span::days(3650),
    );
    root_ns_p.key_usages = vec![KeyUsagePurpose::CrlSign];
    let root_no_sign = root_ns_p.self_signed(&root_key).expect("root no sign");
    // An intermediate with a critical extension nobody knows.
    let mut crit_p = ca_params(
        "Check Test Critical",
        33,
        now - Span::days(100),
        now + Span::days(1000),
    );
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
    ext.set_criticality(true);
    crit_p.custom_extensions = vec![ext];
    let inter_critical = crit_p
        .signed_by(&inter_key, &root_issuer)
        .expect("critical");
    let crit_issuer = Issuer::from_params(&crit_p, &inter_key);
    let leaf_under_critical = leaf_params("under-critical.test", 109)
        .signed_by(&leaf_key, &crit_issuer)
        .expect("under critical");
    let mut enc_p = leaf_params("encipher-only.test", 110);
    enc_p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    let leaf_encipher_only = enc_p.signed_by(&leaf_key, &inter_issuer).expect("encipher");
    // The server certificate's name and key in an expired re-issue.
    let mut reissued_p = leaf_params("server.test", 111);
    reissued_p.not_before = now - Span::days(500);
    reissued_p.not_after = now - Span::days(100);
    let leaf_reissued_expired = reissued_p
        .signed_by(&leaf_key, &inter_issuer)
        .expect("reissued");

    Pki {
        inter_len0: inter_len0.der().to_vec(),
        sub_of_len0: sub_of_len0.der().to_vec(),
        leaf_under_sub: leaf_under_sub.der().to_vec(),
        inter_no_sign: inter_no_sign.der().to_vec(),
        leaf_under_no_sign: leaf_under_no_sign.der().to_vec(),
        root_no_sign: root_no_sign.der().to_vec(),
        inter_critical: inter_critical.der().to_vec(),
        leaf_under_critical: leaf_under_critical.der().to_vec(),
        leaf_encipher_only: leaf_encipher_only.der().to_vec(),
        leaf_reissued_expired: leaf_reissued_expired.der().to_vec(),
        leaf_expired: leaf_expired.der().to_vec(),
        root_expired: root_expired.der().to_vec(),
        inter_cross: inter_cross.der().to_vec(),
        root_a: root_a.der().to_vec(),
        root_b: root_b.der().to_vec(),
        root_c: root_c.der().to_vec(),
        inter: inter.der().to_vec(),
        inter_expired: inter_expired.der().to_vec(),
        inter_not_ca: inter_not_ca.der().to_vec(),
        leaf: leaf.der().to_vec(),
        leaf_direct: leaf_direct.der().to_vec(),
        leaf_aki_serial: leaf_aki_serial.der().to_vec(),
        leaf_expired_inter: leaf_expired_inter.der().to_vec(),
        leaf_not_ca: leaf_not_ca.der().to_vec(),
        leaf_client_only: leaf_client_only.der().to_vec(),
        leaf_key: leaf_key.serialize_der(),
    }
}

pub(crate) fn pem(ders: &[&[u8]]) -> String {
    let mut out = String::new();
    for d in ders {
        out.push_str(&pem_one(d));
    }
    out
}

fn pem_one(der: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                b64.push(char::from(T[((n >> shift) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A JKS with exactly these trusted certificates, written by our own codec.
/// A case's files in `dir`: `NAME.jks` holding `anchors`, `NAME.pem` holding `chain`.
pub(crate) fn write_case<A: AsRef<str>>(
    dir: &Path,
    name: &str,
    anchors: &[(A, Vec<u8>)],
    chain: &[Vec<u8>],
) -> (PathBuf, PathBuf) {
    let ks = dir.join(format!("{name}.jks"));
    let anchors: Vec<(&str, &[u8])> = anchors
        .iter()
        .map(|(a, d)| (a.as_ref(), d.as_slice()))
        .collect();
    keystore(&ks, &anchors);
    let chain_pem = dir.join(format!("{name}.pem"));
    let ders: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    std::fs::write(&chain_pem, pem(&ders)).unwrap();
    (ks, chain_pem)
}

pub(crate) fn keystore(path: &Path, anchors: &[(&str, &[u8])]) {
    let data = std::fs::read(common::sample("jks-jdk17.jks")).unwrap();
    let mut ks = Keystore::parse(&data, None, Some(PASS)).unwrap();
    ks.remove_entry("myca").unwrap();
    ks.remove_entry("mykey").unwrap();
    for (alias, der) in anchors {
        ks.add_trusted_cert(alias, der, 1_764_064_800_000).unwrap();
    }
    std::fs::write(path, ks.to_bytes(Some(PASS)).unwrap()).unwrap();
}

// ---------------------------------------------------------------- servers

/// A TLS server on 127.0.0.1 presenting `chain` for up to `conns` connections.
fn serve(chain: &[&[u8]], key: &[u8], conns: usize) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs: Vec<CertificateDer<'static>> = chain
        .iter()
        .map(|d| CertificateDer::from(d.to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(conns) {
            let Ok(mut s) = stream else { continue };
            let config = config.clone();
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(mut conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                while conn.is_handshaking() {
                    if conn.complete_io(&mut s).is_err() {
                        return;
                    }
                }
                // Until the client's close_notify or EOF.
                let _ = conn.complete_io(&mut s);
            });
        }
    });
    addr
}

/// A CONNECT proxy that knows host names the resolver does not; records request lines.
struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

fn connect_proxy(hosts: HashMap<String, SocketAddr>) -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut client) = stream else { continue };
            let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                match client.read(&mut b) {
                    Ok(1) => head.push(b[0]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&head).to_string();
            let line = text.lines().next().unwrap_or("").to_string();
            log.lock().unwrap().push(line.clone());
            let authority = line.split_whitespace().nth(1).unwrap_or("");
            let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or("");
            let upstream = line
                .starts_with("CONNECT ")
                .then(|| hosts.get(host))
                .flatten()
                .and_then(|a| TcpStream::connect(a).ok());
            let Some(up) = upstream else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                continue;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
            let (mut c1, mut u1) = (client, up);
            thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            thread::spawn(move || {
                let _ = std::io::copy(&mut u1, &mut c1);
                let _ = c1.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    ConnectProxy { addr, seen }
}

fn check_json(args: &[&str]) -> (i32, Value, String) {
    let out = common::bin()
        .arg("check")
        .args(args)
        .args(["--format", "json", "--timeout", "10"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, doc, common::stderr(&out))
}

// ---------------------------------------------------------------- the cases

struct Case {
    name: &'static str,
    anchors: Vec<(&'static str, Vec<u8>)>,
    chain: Vec<Vec<u8>>,
    trusted: bool,
    /// The reason_code we expect when not trusted, or the match of the last path step.
    expect: &'static str,
}

fn cases(p: &Pki) -> Vec<Case> {
    let c =
        |name, anchors: Vec<(&'static str, &Vec<u8>)>, chain: Vec<&Vec<u8>>, trusted, expect| {
            Case {
                name,
                anchors: anchors.into_iter().map(|(a, d)| (a, d.clone())).collect(),
                chain: chain.into_iter().cloned().collect(),
                trusted,
                expect,
            }
        };
    vec![
        c(
            "root",
            vec![("root", &p.root_a)],
            vec![&p.leaf, &p.inter],
            true,
            "anchor",
        ),
        c(
            "intermediate-anchor",
            vec![("inter", &p.inter)],
            vec![&p.leaf, &p.inter, &p.root_a],
            true,
            "anchor-exact",
        ),
        c(
            "reissued-root-original-sent",
            vec![("root", &p.root_b)],
            vec![&p.leaf, &p.inter, &p.root_a],
            true,
            "anchor-same-name-and-key",
        ),
        c(
            "reissued-root-leaf-only",
            vec![("root", &p.root_b)],
            vec![&p.leaf_direct],
            true,
            "anchor",
        ),
        c(
            "other-key-root",
            vec![("root", &p.root_c)],
            vec![&p.leaf, &p.inter],
            false,
            "aki-key-mismatch",
        ),
        c(
            "other-key-root-original-sent",
            vec![("root", &p.root_c)],
            vec![&p.leaf, &p.inter, &p.root_a],
            false,
            "aki-key-mismatch",
        ),
        c(
            "aki-serial",
            vec![("root", &p.root_b)],
            vec![&p.leaf_aki_serial],
            false,
            "aki-serial-mismatch",
        ),
        c(
            "aki-serial-original-sent",
            vec![("root", &p.root_b)],
            vec![&p.leaf_aki_serial, &p.root_a],
            false,
            "aki-serial-mismatch",
        ),
        c(
            "aki-serial-right-root",
            vec![("root", &p.root_a)],
            vec![&p.leaf_aki_serial],
            true,
            "anchor",
        ),
        c(
            "expired-intermediate",
            vec![("root", &p.root_a)],
            vec![&p.leaf_expired_inter, &p.inter_expired],
            false,
            "expired",
        ),
        c(
            "missing-intermediate",
            vec![("root", &p.root_a)],
            vec![&p.leaf],
            false,
            "no-issuer",
        ),
        c(
            "out-of-order",
            vec![("root", &p.root_a)],
            vec![&p.leaf, &p.root_a, &p.inter],
            true,
            "anchor-exact",
        ),
        c(
            "unrelated-extra",
            vec![("root", &p.root_a)],
            vec![&p.leaf, &p.leaf_direct, &p.inter],
            true,
            "anchor",
        ),
        c(
            "leaf-itself-trusted",
            vec![("server", &p.leaf)],
            vec![&p.leaf, &p.inter],
            true,
            "anchor-exact",
        ),
        c(
            "anchor-not-ca",
            vec![("notca", &p.inter_not_ca)],
            vec![&p.leaf_not_ca, &p.inter_not_ca],
            false,
            "anchor-not-ca",
        ),
        c(
            "empty-keystore",
            vec![],
            vec![&p.leaf, &p.inter],
            false,
            "no-anchors",
        ),
        c(
            "wrong-root-sent",
            vec![("root", &p.root_a)],
            vec![&p.leaf, &p.inter, &p.root_c],
            false,
            "aki-key-mismatch",
        ),
        c(
            "cross-signed-unknown-root",
            vec![("root", &p.root_a)],
            vec![&p.leaf, &p.inter_cross],
            false,
            "no-issuer",
        ),
        c(
            "cross-signed-intermediate-anchor",
            vec![("inter", &p.inter)],
            vec![&p.leaf, &p.inter_cross],
            true,
            "anchor-same-name-and-key",
        ),
        c(
            "expired-leaf",
            vec![("root", &p.root_a)],
            vec![&p.leaf_expired, &p.inter],
            false,
            "expired",
        ),
        c(
            "expired-anchor",
            vec![("old", &p.root_expired)],
            vec![&p.leaf, &p.inter],
            true,
            "anchor",
        ),
        c(
            "path-length-zero",
            vec![("root", &p.root_a)],
            vec![&p.leaf_under_sub, &p.sub_of_len0, &p.inter_len0],
            false,
            "path-length",
        ),
        c(
            "issuer-without-keycertsign",
            vec![("root", &p.root_a)],
            vec![&p.leaf_under_no_sign, &p.inter_no_sign],
            false,
            "key-usage",
        ),
        c(
            "anchor-without-keycertsign",
            vec![("root", &p.root_no_sign)],
            vec![&p.leaf, &p.inter],
            false,
            "anchor-not-ca",
        ),
        c(
            "unknown-critical-extension",
            vec![("root", &p.root_a)],
            vec![&p.leaf_under_critical, &p.inter_critical],
            false,
            "critical-extension",
        ),
        c(
            "leaf-key-encipherment-only",
            vec![("root", &p.root_a)],
            vec![&p.leaf_encipher_only, &p.inter],
            false,
            "server-usage",
        ),
        // Out of order, Java builds a path, and its builder ignores the AKI: the re-issued
        // root is accepted after all.
        c(
            "aki-serial-out-of-order",
            vec![("root", &p.root_b)],
            vec![&p.leaf_aki_serial, &p.leaf_direct],
            true,
            "anchor",
        ),
        c(
            "other-key-root-out-of-order",
            vec![("root", &p.root_c)],
            vec![&p.leaf, &p.leaf_direct, &p.inter],
            false,
            "signature",
        ),
        // Only the very leaf is trusted as it is; a look-alike of it anchors nothing.
        c(
            "leaf-look-alike-in-keystore",
            vec![("old-server", &p.leaf_reissued_expired)],
            vec![&p.leaf, &p.inter],
            false,
            "no-issuer",
        ),
        c(
            "client-only-leaf",
            vec![("root", &p.root_a)],
            vec![&p.leaf_client_only, &p.inter],
            false,
            "server-usage",
        ),
    ]
}

/// Every case through a real TLS handshake, and the same keystore and chain through the JVM.
#[test]
fn verdicts_match_java() {
    let started = Instant::now();
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(&p);
    let mut java_args: Vec<String> = Vec::new();
    let mut ours: HashMap<&str, (bool, Value)> = HashMap::new();
    for case in &cases {
        let (ks, chain_pem) = write_case(dir.path(), case.name, &case.anchors, &case.chain);
        let ders: Vec<&[u8]> = case.chain.iter().map(Vec::as_slice).collect();
        java_args.extend([
            ks.display().to_string(),
            PASS.to_string(),
            chain_pem.display().to_string(),
        ]);

        let addr = serve(&ders, &p.leaf_key, 1);
        let (code, doc, err) =
            check_json(&["-k", ks.to_str().unwrap(), "--host", &addr.to_string()]);
        let r = &doc["results"][0];
        assert_eq!(r["host"], "127.0.0.1", "{}: {doc} {err}", case.name);
        assert_eq!(r["port"], addr.port(), "{}", case.name);
        assert_eq!(
            r["presented"].as_array().map(Vec::len),
            Some(ders.len()),
            "{}",
            case.name
        );
        let trusted = r["trusted"]
            .as_bool()
            .unwrap_or_else(|| panic!("{}: {doc} {err}", case.name));
        assert_eq!(trusted, case.trusted, "{}: {r:#}", case.name);
        assert_eq!(
            code,
            if case.trusted { 0 } else { 1 },
            "{}: {err}",
            case.name
        );
        if case.trusted {
            let last = r["path"]
                .as_array()
                .and_then(|a| a.last())
                .cloned()
                .unwrap_or_default();
            assert_eq!(last["match"], case.expect, "{}: {r:#}", case.name);
            assert_eq!(last["alias"], case.anchors[0].0, "{}", case.name);
            assert!(r["reason"].is_null());
        } else {
            assert_eq!(r["reason_code"], case.expect, "{}: {r:#}", case.name);
            assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()));
            // None of these test CAs is in the Azure catalog.
            assert_eq!(r["fix_cas"], Value::Array(vec![]), "{}", case.name);
            assert!(r["fix"].as_str().is_some(), "{}", case.name);
        }
        ours.insert(case.name, (trusted, r.clone()));
    }
    let ours_took = started.elapsed();

    let Some(keytool) = common::keytools().into_iter().next() else {
        eprintln!("no JDK here: Java comparison skipped");
        return;
    };
    let java = common::java_beside(&keytool);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TrustCheck.java");
    let out = Command::new(&java)
        .arg(&source)
        .args(&java_args)
        .output()
        .expect("java runs");
    let text = common::stdout(&out);
    assert!(out.status.success(), "{text}\n{}", common::stderr(&out));
    let mut compared = 0;
    for case in &cases {
        let pem_path = dir
            .path()
            .join(format!("{}.pem", case.name))
            .display()
            .to_string();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{pem_path} ")))
            .unwrap_or_else(|| panic!("no Java line for {}: {text}", case.name));
        let java_trusted = line[pem_path.len() + 1..].starts_with("TRUSTED");
        let (trusted, r) = &ours[case.name];
        assert_eq!(
            *trusted, java_trusted,
            "{}: Java says {line}; we say {r:#}",
            case.name
        );
        eprintln!(
            "{}: java {} | ours {}",
            case.name,
            &line[pem_path.len() + 1..],
            r["reason"].as_str().unwrap_or("trusted")
        );
        compared += 1;
    }
    assert_eq!(compared, cases.len());
    eprintln!(
        "{compared} cases: ours {:?}, with the JVM {:?}",
        ours_took,
        started.elapsed()
    );
}

#[test]
fn text_output_names_the_path_and_the_reason() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("b.jks");
    keystore(&ks, &[("reissued", &p.root_b)]);
    let addr = serve(&[&p.leaf, &p.inter, &p.root_a], &p.leaf_key, 1);
    let out = common::bin()
        .args([
            "check",
            "-k",
            ks.to_str().unwrap(),
            "--host",
            &addr.to_string(),
        ])
        .output()
        .unwrap();
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", common::stderr(&out));
    assert!(
        text.contains(&format!("127.0.0.1:{}: trusted", addr.port())),
        "{text}"
    );
    assert!(
        text.contains("CN=server.test, O=azure-cacerts tests"),
        "{text}"
    );
    assert!(
        text.contains("anchor: same name and key reissued"),
        "{text}"
    );
    assert!(text.contains("presented"), "{text}");

    let ks_c = dir.path().join("c.jks");
    keystore(&ks_c, &[("other", &p.root_b)]);
    let addr = serve(&[&p.leaf_aki_serial], &p.leaf_key, 1);
    let out = common::bin()
        .args([
            "check",
            "-k",
            ks_c.to_str().unwrap(),
            "--host",
            &addr.to_string(),
        ])
        .output()
        .unwrap();
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("NOT TRUSTED"), "{text}");
    assert!(
        text.contains("reason: AKI serial does not match anchor other"),
        "{text}"
    );
    assert!(text.contains("fix: "), "{text}");
}

#[test]
fn goes_through_a_connect_proxy() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("root.jks");
    keystore(&ks, &[("root", &p.root_a)]);
    let server = serve(&[&p.leaf, &p.inter], &p.leaf_key, 4);
    // Only the proxy knows this name: a direct connection could not even resolve it.
    let proxy = connect_proxy(HashMap::from([("test.invalid".to_string(), server)]));
    let target = format!("test.invalid:{}", server.port());
    let proxy_url = format!("http://{}", proxy.addr);

    let (code, doc, err) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--proxy",
        &proxy_url,
        "--host",
        &target,
    ]);
    assert_eq!(code, 0, "{doc} {err}");
    let r = &doc["results"][0];
    assert_eq!(r["trusted"], true, "{r:#}");
    assert_eq!(r["host"], "test.invalid");
    assert_eq!(r["proxy"], proxy_url);
    // The test certificate names localhost and 127.0.0.1, not the name used here.
    assert!(
        r["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("does not name test.invalid")),
        "{r:#}"
    );
    assert_eq!(
        proxy.seen.lock().unwrap().clone(),
        vec![format!("CONNECT {target} HTTP/1.1")]
    );

    // The same through HTTPS_PROXY from the environment.
    let out = common::bin()
        .args([
            "check",
            "-k",
            ks.to_str().unwrap(),
            "--host",
            &target,
            "--timeout",
            "10",
        ])
        .env("HTTPS_PROXY", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(proxy.seen.lock().unwrap().len(), 2);

    // NO_PROXY sends 127.0.0.1 past the proxy: it sees nothing new.
    let direct = format!("127.0.0.1:{}", server.port());
    let out = common::bin()
        .args([
            "check",
            "-k",
            ks.to_str().unwrap(),
            "--host",
            &direct,
            "--timeout",
            "10",
        ])
        .env("HTTPS_PROXY", &proxy_url)
        .env("NO_PROXY", "localhost,127.0.0.0/8")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(proxy.seen.lock().unwrap().len(), 2);

    // A proxy that refuses the tunnel is a network failure (exit 4) naming the proxy.
    let (code, _, err) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--proxy",
        &proxy_url,
        "--host",
        "unknown.invalid:443",
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("error: cannot check server (unknown.invalid:443): proxy:"),
        "{err}"
    );
    assert!(err.contains("502"), "{err}");
}

#[test]
fn a_closed_port_is_exit_4() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("root.jks");
    keystore(&ks, &[("root", &p.root_a)]);
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target = format!("127.0.0.1:{port}");
    let (code, doc, err) = check_json(&["-k", ks.to_str().unwrap(), "--host", &target]);
    assert_eq!(code, 4, "{doc} {err}");
    assert!(
        err.starts_with(&format!(
            "error: cannot check server ({target}): cannot connect"
        )),
        "{err}"
    );
    assert_eq!(doc["summary"]["unreachable"], 1);
    assert!(doc["results"][0]["error"].as_str().is_some());

    // One unreachable host among good ones still makes the run exit 4, after checking all.
    let server = serve(&[&p.leaf, &p.inter], &p.leaf_key, 1);
    let (code, doc, _) = check_json(&[
        "-k",
        ks.to_str().unwrap(),
        "--host",
        &server.to_string(),
        "--host",
        &target,
    ]);
    assert_eq!(code, 4);
    assert_eq!(doc["results"][0]["trusted"], true);
    assert_eq!(doc["summary"]["trusted"], 1);
}

#[test]
fn a_silent_server_times_out() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("root.jks");
    keystore(&ks, &[("root", &p.root_a)]);
    // Accepts the connection and never answers the ClientHello.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().take(1).filter_map(Result::ok).collect();
        thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let started = Instant::now();
    let out = common::bin()
        .args([
            "check",
            "-k",
            ks.to_str().unwrap(),
            "--host",
            &addr.to_string(),
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("timed out"),
        "{}",
        common::stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}
