//! HTTPS downloads through HTTPS_PROXY: the client must open a CONNECT tunnel to the proxy
//! and speak TLS to the origin through it.
//!
//! The origin `azure-ca.test` exists only in the proxy's table, so nothing can reach it
//! except through the tunnel. It presents a certificate from a CA made here, which the
//! child process trusts through SSL_CERT_FILE (how the platform verifier reads extra roots
//! on Linux), so the real TLS verification path is exercised.
#![cfg(target_os = "linux")]

use crate::common;
use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{bin, stderr};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::http::{Reply, Server};
use support::{json, route_page_certs, served_page, with_new_root};

const HOST: &str = "azure-ca.test";

/// The first line of a request head, once the whole head has been read.
fn request_line(stream: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? != 1 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head)
        .lines()
        .next()
        .map(str::to_string)
}

/// A TLS front for `azure-ca.test` that passes each request on to the plain test server.
fn tls_origin(
    plain: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let config = config.clone();
            thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // One request per connection: read its head, replay it to the plain server.
                let Some(first) = request_line(&mut tls) else {
                    return;
                };
                let path = first.split(' ').nth(1).unwrap_or("/").to_string();
                let Ok(mut up) = TcpStream::connect(plain) else {
                    return;
                };
                let req =
                    format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
                let _ = up.write_all(req.as_bytes());
                let mut answer = Vec::new();
                let _ = up.read_to_end(&mut answer);
                let _ = tls.write_all(&answer);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

/// An HTTP CONNECT proxy that knows `azure-ca.test:443` and records each CONNECT target.
fn connect_proxy(origin: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let s = s.clone();
            thread::spawn(move || {
                let Some(first) = request_line(&mut client) else {
                    return;
                };
                let mut parts = first.split(' ');
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                s.lock().unwrap().push(format!("{method} {target}"));
                if method != "CONNECT" || target != format!("{HOST}:443") {
                    let _ =
                        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                let Ok(upstream) = TcpStream::connect(origin) else {
                    return;
                };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c1, mut u1) = (client, upstream);
                let up = thread::spawn(move || {
                    let _ = std::io::copy(&mut c1, &mut u1);
                    let _ = u1.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut u2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    (addr, seen)
}

#[test]
fn https_downloads_go_through_the_https_proxy_tunnel() {
    // A CA for the test, and the origin's certificate for azure-ca.test.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "azure-cacerts test origin CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca_issuer = Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![HOST.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca_issuer)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("test-ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();

    let server = Server::start();
    let text = served_page(&format!("https://{HOST}"));
    assert_eq!(route_page_certs(&server, &text), 43);
    // The one row without a pinned copy: the certificate download that must use the tunnel.
    let (text, new_path, _) = with_new_root(&server, &text, &format!("https://{HOST}"));
    server.route("/page.md", Reply::Body(text.into_bytes()));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let origin = tls_origin(
        server.addr,
        vec![leaf.der().clone(), ca_cert.der().clone()],
        key,
    );
    let (proxy, seen) = connect_proxy(origin);

    // Without the test CA the origin is not trusted: TLS verification is real, not bypassed.
    let untrusted = bin()
        .env("HTTPS_PROXY", format!("http://{proxy}"))
        .env("SSL_CERT_FILE", dir.path().join("no-such-bundle.pem"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args([
            "fetch",
            "--catalog-url",
            &format!("https://{HOST}/page.md"),
            "--timeout",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(untrusted.status.code(), Some(4), "{}", stderr(&untrusted));
    seen.lock().unwrap().clear();

    let out = dir.path().join("bundle");
    let o = bin()
        .env("HTTPS_PROXY", format!("http://{proxy}"))
        .env("SSL_CERT_FILE", &ca_file)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("SSL_CERT_DIR")
        .args([
            "fetch",
            "--catalog-url",
            &format!("https://{HOST}/page.md"),
            "--timeout",
            "5",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["catalog"]["source"], "live", "{v}");
    assert!(out.join("catalog.toml").is_file());
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s == &format!("CONNECT {HOST}:443")),
        "{seen:?}"
    );
    let hits = server.hits();
    assert_eq!(
        hits,
        ["/page.md".to_string(), new_path],
        "the page and the new certificate (pinned rows are not downloaded), all through the tunnel"
    );
}
