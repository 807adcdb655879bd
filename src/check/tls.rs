//! One TLS handshake to learn which chain a server presents.
//!
//! The certificate verifier accepts whatever it is given and records it: the chain is judged
//! afterwards by [`super::pkix`], as Java would judge it, not by rustls' own rules. Handshake
//! signatures are still verified for real, so the recorded chain belongs to the server that
//! holds its key. No application data is sent; the connection is closed after the handshake.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

use super::Target;
use crate::proxy::Proxy;

/// Longest CONNECT response head we read from a proxy.
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// What the server presented.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// DER, in the order sent (leaf first).
    pub certs: Vec<Vec<u8>>,
    /// "TLSv1_3", ... when the handshake completed.
    pub protocol: Option<String>,
    /// Set when the handshake failed after the certificates arrived (e.g. a bad handshake
    /// signature): the chain is still judged, and this is reported beside it.
    pub late_error: Option<String>,
    /// The late failure was the server's handshake signature, checked and found wrong (not
    /// an algorithm our client lacks): Java fails on it too.
    pub late_bad_signature: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The host name is not usable for TLS (SNI).
    BadName(String),
    Resolve(String),
    Connect(String),
    Timeout(String),
    Proxy(String),
    Tls(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::BadName(m) => write!(f, "not a usable server name: {m}"),
            ConnectError::Resolve(m) => write!(f, "cannot resolve the host name: {m}"),
            ConnectError::Connect(m) => write!(f, "cannot connect: {m}"),
            ConnectError::Timeout(m) => write!(f, "timed out {m}"),
            ConnectError::Proxy(m) => write!(f, "proxy: {m}"),
            ConnectError::Tls(m) => write!(f, "TLS handshake failed: {m}"),
        }
    }
}

/// Connects (directly or through `proxy`), shakes hands, records the chain, closes.
/// `timeout` bounds the whole exchange.
pub fn fetch_chain(
    target: &Target,
    proxy: Option<&Proxy>,
    timeout: Duration,
) -> Result<Fetched, ConnectError> {
    let deadline = Instant::now() + timeout;
    // Check the name before any traffic: a bad one is the user's typo, not the network's.
    let name = ServerName::try_from(target.host.clone())
        .map_err(|e| ConnectError::BadName(format!("{}: {e}", target.host)))?;
    let mut sock = match proxy {
        None => connect(&target.host, target.port, deadline)?,
        Some(p) => {
            let mut s = connect(&p.host, p.port, deadline).map_err(|e| match e {
                ConnectError::Timeout(m) => {
                    ConnectError::Timeout(format!("{m} (proxy {})", p.shown))
                }
                other => ConnectError::Proxy(format!("{}: {other}", p.shown)),
            })?;
            tunnel(&mut s, target, p, deadline)?;
            s
        }
    };
    let result = handshake(&mut sock, name, deadline);
    let _ = sock.shutdown(Shutdown::Both);
    result
}

fn remaining(deadline: Instant, doing: &str) -> Result<Duration, ConnectError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(ConnectError::Timeout(doing.to_string()))
    } else {
        Ok(left)
    }
}

fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ConnectError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    // getaddrinfo has no timeout of its own: ask from a thread and stop waiting at the
    // deadline (the thread ends by itself later).
    let (tx, rx) = mpsc::channel();
    let owned = host.to_string();
    std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let r = (owned.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>());
            let _ = tx.send(r);
        })
        .map_err(|e| ConnectError::Resolve(format!("{host}: {e}")))?;
    let wait = remaining(deadline, &format!("resolving {host}"))?;
    match rx.recv_timeout(wait) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(ConnectError::Resolve(format!("{host} has no address"))),
        Ok(Err(e)) => Err(ConnectError::Resolve(format!("{host}: {e}"))),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(ConnectError::Timeout(format!("resolving {host}")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ConnectError::Resolve(format!(
            "{host}: the resolver gave no answer"
        ))),
    }
}

fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, ConnectError> {
    let addrs = resolve(host, port, deadline)?;
    let mut last = None;
    for addr in addrs {
        let wait = remaining(deadline, &format!("connecting to {host}:{port}"))?;
        match TcpStream::connect_timeout(&addr, wait) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last = Some(ConnectError::Timeout(format!("connecting to {addr}")))
            }
            Err(e) => last = Some(ConnectError::Connect(format!("{addr}: {e}"))),
        }
    }
    Err(last.unwrap_or_else(|| ConnectError::Connect(format!("{host}:{port}: no address"))))
}

fn set_timeouts(sock: &TcpStream, deadline: Instant, doing: &str) -> Result<(), ConnectError> {
    let left = remaining(deadline, doing)?;
    sock.set_read_timeout(Some(left))
        .and_then(|()| sock.set_write_timeout(Some(left)))
        .map_err(|e| ConnectError::Connect(e.to_string()))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// HTTP CONNECT: asks the proxy for a tunnel to the target and reads its answer head.
fn tunnel(
    sock: &mut TcpStream,
    target: &Target,
    proxy: &Proxy,
    deadline: Instant,
) -> Result<(), ConnectError> {
    let authority = target.to_string();
    let mut req = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: azure-cacerts/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(auth) = &proxy.authorization {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    let doing = format!("waiting for the proxy {}", proxy.shown);
    set_timeouts(sock, deadline, &doing)?;
    sock.write_all(req.as_bytes()).map_err(|e| {
        if is_timeout(&e) {
            ConnectError::Timeout(doing.clone())
        } else {
            ConnectError::Proxy(format!("{}: {e}", proxy.shown))
        }
    })?;
    // Byte by byte: what follows the head is the server's TLS, which must stay unread.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_HEAD {
            return Err(ConnectError::Proxy(format!(
                "{}: the answer to CONNECT is longer than {MAX_PROXY_HEAD} bytes",
                proxy.shown
            )));
        }
        set_timeouts(sock, deadline, &doing)?;
        match sock.read(&mut byte) {
            Ok(0) => {
                return Err(ConnectError::Proxy(format!(
                    "{} closed the connection without answering CONNECT",
                    proxy.shown
                )))
            }
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(ConnectError::Timeout(doing)),
            Err(e) => return Err(ConnectError::Proxy(format!("{}: {e}", proxy.shown))),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or("").trim().to_string();
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(200..=299) => Ok(()),
        Some(407) => Err(ConnectError::Proxy(format!(
            "{} wants authentication ({status_line}); put user:password in the proxy URL",
            proxy.shown
        ))),
        _ => Err(ConnectError::Proxy(format!(
            "{} refused CONNECT {authority}: {status_line:?}",
            proxy.shown
        ))),
    }
}

/// Accepts any certificate and keeps a copy; verifies handshake signatures for real.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    seen: Mutex<Option<Vec<Vec<u8>>>>,
    /// Set when the server's handshake signature was checked and is wrong: Java fails there
    /// too.
    bad_signature: Mutex<bool>,
}

impl Recorder {
    /// rustls' verdict on a handshake signature, with a second look where Java accepts more:
    /// RSA keys of 1024 to 2047 bits, which rustls' verifiers refuse and no JDK's
    /// jdk.tls.disabledAlgorithms does.
    fn judged(
        &self,
        rustls_says: Result<HandshakeSignatureValid, rustls::Error>,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        use crate::cert::{KeyKind, SigCheck};
        let Err(e) = rustls_says else {
            return rustls_says;
        };
        let key = crate::cert::Certificate::parse(cert)
            .ok()
            .map(|c| (c.key_kind, c.key_bits));
        let small_rsa = matches!(key, Some((KeyKind::Rsa, 1024..=2047)));
        let scheme = match dss.scheme {
            SignatureScheme::RSA_PSS_SHA256 => Some((true, 256)),
            SignatureScheme::RSA_PSS_SHA384 => Some((true, 384)),
            SignatureScheme::RSA_PSS_SHA512 => Some((true, 512)),
            SignatureScheme::RSA_PKCS1_SHA256 => Some((false, 256)),
            SignatureScheme::RSA_PKCS1_SHA384 => Some((false, 384)),
            SignatureScheme::RSA_PKCS1_SHA512 => Some((false, 512)),
            _ => None,
        };
        // rustls' "bad signature" also covers a key it has no verifier for: only for keys it
        // verifies (or that were verified here) does it mean the signature is wrong.
        let checked_bad = match (small_rsa, scheme) {
            (true, Some((pss, bits))) => {
                match crate::cert::verify_small_rsa_handshake(
                    cert,
                    pss,
                    bits,
                    message,
                    dss.signature(),
                ) {
                    SigCheck::Valid => return Ok(HandshakeSignatureValid::assertion()),
                    SigCheck::Invalid => true,
                    SigCheck::Unsupported => false,
                }
            }
            _ => {
                matches!(
                    key,
                    Some((KeyKind::Rsa, 2048..=8192))
                        | Some((KeyKind::Ec, 256 | 384 | 521))
                        | Some((KeyKind::Ed25519, _))
                ) && matches!(
                    e,
                    rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
                )
            }
        };
        if checked_bad {
            if let Ok(mut bad) = self.bad_signature.lock() {
                *bad = true;
            }
        }
        Err(e)
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.to_vec());
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(chain);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let r = rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        self.judged(r, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let r = rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        self.judged(r, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn handshake(
    sock: &mut TcpStream,
    name: ServerName<'static>,
    deadline: Instant,
) -> Result<Fetched, ConnectError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let recorder = Arc::new(Recorder {
        provider: provider.clone(),
        seen: Mutex::new(None),
        bad_signature: Mutex::new(false),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let mut conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| ConnectError::Tls(e.to_string()))?;
    let mut failure = None;
    let mut idle_rounds = 0;
    while conn.is_handshaking() {
        if let Err(e) = set_timeouts(sock, deadline, "during the TLS handshake") {
            failure = Some(e);
            break;
        }
        match conn.complete_io(sock) {
            Ok((0, 0)) => {
                // No progress either way: the peer has gone quiet for good or closed.
                idle_rounds += 1;
                if idle_rounds > 3 {
                    failure = Some(ConnectError::Tls(
                        "the server closed the connection during the handshake".into(),
                    ));
                    break;
                }
            }
            Ok(_) => idle_rounds = 0,
            Err(e) if is_timeout(&e) => {
                failure = Some(ConnectError::Timeout("during the TLS handshake".into()));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                failure = Some(ConnectError::Tls(
                    "the server closed the connection during the handshake".into(),
                ));
                break;
            }
            Err(e) => {
                failure = Some(ConnectError::Tls(e.to_string()));
                break;
            }
        }
    }
    let protocol = conn.protocol_version().map(|v| format!("{v:?}"));
    if failure.is_none() {
        conn.send_close_notify();
        let _ = set_timeouts(sock, deadline, "closing");
        let _ = conn.write_tls(sock);
    }
    let seen = recorder.seen.lock().ok().and_then(|mut s| s.take());
    match (seen, failure) {
        (Some(certs), late) => Ok(Fetched {
            certs,
            protocol: if late.is_none() { protocol } else { None },
            late_bad_signature: late.is_some() && recorder.bad_signature.lock().is_ok_and(|b| *b),
            late_error: late.map(|e| e.to_string()),
        }),
        (None, Some(e)) => Err(e),
        (None, None) => Err(ConnectError::Tls(
            "the handshake completed without a server certificate".into(),
        )),
    }
}
