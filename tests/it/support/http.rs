//! A minimal HTTP/1.1 origin server and forward proxy on 127.0.0.1 for the download tests.
//! One thread per connection, one request per connection (`Connection: close`), so that
//! nothing here needs an async runtime or ever reaches past the loopback interface.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Clone)]
pub enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status with a short text body.
    Status(u16),
    /// 302 to this location (absolute or relative).
    Redirect(String),
    /// Accept, read the request, and never answer.
    Stall,
    /// 200 with this body, sent two bytes a second (a server that trickles).
    Trickle(Vec<u8>),
}

/// The request head: method, target (as sent), headers.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
}

pub struct Server {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, h) = (r.clone(), h.clone());
                thread::spawn(move || serve(stream, &r, &h));
            }
        });
        Server { addr, routes, hits }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers requests for `path` (origin form, e.g. `/ms/a%20b.crt`) with `reply`.
    pub fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    /// The paths requested so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, routes: &Mutex<HashMap<String, Reply>>, hits: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_head(&mut stream) else {
        return;
    };
    // A request that arrives in absolute form was meant for a proxy: answer it as an origin
    // would not, so a misrouted request cannot pass.
    if !req.target.starts_with('/') {
        let _ = respond(
            &mut stream,
            400,
            "text/plain",
            b"origin server got a proxy request",
        );
        return;
    }
    hits.lock().unwrap().push(req.target.clone());
    let reply = routes.lock().unwrap().get(&req.target).cloned();
    let _ = match reply {
        Some(Reply::Body(b)) => respond(&mut stream, 200, "application/pkix-cert", &b),
        Some(Reply::Status(code)) => respond(&mut stream, code, "text/plain", b"test status"),
        Some(Reply::Redirect(to)) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())
        }
        Some(Reply::Stall) => {
            thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        Some(Reply::Trickle(b)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            );
            let mut r = stream.write_all(head.as_bytes());
            for pair in b.chunks(2) {
                if r.is_err() {
                    break;
                }
                thread::sleep(Duration::from_secs(1));
                r = stream.write_all(pair).and_then(|()| stream.flush());
            }
            r
        }
        None => respond(&mut stream, 404, "text/plain", b"not found"),
    };
}

fn respond(stream: &mut TcpStream, code: u16, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        400 => "Bad Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn read_head(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_string());
    Some(Request {
        method,
        target,
        host,
    })
}

/// A forward proxy for plain-HTTP requests in absolute form (`GET http://host/path`).
/// Hosts are looked up in its own table, not in DNS: a test serves links to a name that does
/// not resolve (`azure-ca.test`), so only a request that went through this proxy can succeed.
pub struct Proxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start(hosts: HashMap<String, SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        let hosts = Arc::new(hosts);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (s, hosts) = (s.clone(), hosts.clone());
                thread::spawn(move || forward(stream, &hosts, &s));
            }
        });
        Proxy { addr, seen }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The absolute URLs this proxy forwarded.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn forward(mut client: TcpStream, hosts: &HashMap<String, SocketAddr>, seen: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_head(&mut client) else {
        return;
    };
    let Some(rest) = req.target.strip_prefix("http://") else {
        let _ = respond(
            &mut client,
            400,
            "text/plain",
            b"proxy wants absolute-form requests",
        );
        return;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority.split(':').next().unwrap_or("");
    let Some(upstream) = hosts.get(host).or_else(|| hosts.get(authority)) else {
        let _ = respond(&mut client, 502, "text/plain", b"unknown host");
        return;
    };
    seen.lock().unwrap().push(req.target.clone());
    let Ok(mut up) = TcpStream::connect(upstream) else {
        let _ = respond(&mut client, 502, "text/plain", b"upstream down");
        return;
    };
    let head = format!(
        "{} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n",
        req.method
    );
    if up.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
    let _ = client.flush();
}
