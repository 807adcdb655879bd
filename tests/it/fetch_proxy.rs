//! Downloads through a forward proxy: `--proxy`, HTTP_PROXY from the environment, `--proxy`
//! winning over the environment, and NO_PROXY.
//!
//! The page and its links use `localhost:9`, where nothing listens (the discard port); only the
//! test proxy maps that host to the local server. So a download that did not go through the
//! proxy cannot succeed. (A loopback host, because plain http is refused anywhere else.)

use crate::common;
use crate::support;

use std::collections::HashMap;
use std::net::TcpListener;

use common::{bin, stderr};
use support::http::{Proxy, Reply, Server};
use support::{json, route_page_certs, served_page, with_new_root};

const HOST: &str = "localhost:9";

fn setup() -> (Server, Proxy) {
    let server = Server::start();
    let text = served_page(&format!("http://{HOST}"));
    assert_eq!(route_page_certs(&server, &text), 43);
    // Pinned rows are not downloaded: the new root is the one certificate that is.
    let (text, _, _) = with_new_root(&server, &text, &format!("http://{HOST}"));
    server.route("/page.md", Reply::Body(text.into_bytes()));
    let proxy = Proxy::start(HashMap::from([("localhost".to_string(), server.addr)]));
    (server, proxy)
}

fn fetch_with_timeout(secs: &str) -> std::process::Command {
    let mut c = bin();
    c.env_remove("NO_PROXY").env_remove("no_proxy");
    c.args([
        "fetch",
        "--catalog-url",
        &format!("http://{HOST}/page.md"),
        "--timeout",
        secs,
        "--format",
        "json",
    ]);
    c
}

fn fetch() -> std::process::Command {
    fetch_with_timeout("3")
}

/// A port with nothing listening (bound, then released).
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn assert_all_through(proxy: &Proxy, server: &Server) {
    let seen = proxy.seen();
    assert!(seen.contains(&format!("http://{HOST}/page.md")), "{seen:?}");
    assert_eq!(
        seen.len(),
        2,
        "the page and the one new certificate: {seen:?}"
    );
    assert!(seen
        .iter()
        .all(|u| u.starts_with(&format!("http://{HOST}/"))));
    assert_eq!(
        server.hits().len(),
        2,
        "the origin saw only what the proxy forwarded"
    );
}

#[test]
fn proxy_option() {
    let (server, proxy) = setup();
    let out = fetch()
        .args(["--proxy", &proxy.url(), "--accept-new-roots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["downloaded"], 1);
    assert_all_through(&proxy, &server);
}

#[test]
fn http_proxy_environment() {
    let (server, proxy) = setup();
    let out = fetch().env("HTTP_PROXY", proxy.url()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_through(&proxy, &server);
}

#[test]
fn proxy_option_wins_over_the_environment() {
    let (server, proxy) = setup();
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let out = fetch()
        .env("HTTP_PROXY", &dead)
        .env("HTTPS_PROXY", &dead)
        .env("ALL_PROXY", &dead)
        .args(["--proxy", &proxy.url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_through(&proxy, &server);
}

/// NO_PROXY with the server's address: the same environment sends everything through the
/// proxy without it, and nothing with it. (An IP address, so no name is ever looked up.)
#[test]
fn no_proxy_bypasses_the_proxy() {
    let server = Server::start();
    let text = served_page(&server.base());
    assert_eq!(route_page_certs(&server, &text), 43);
    let (text, _, _) = with_new_root(&server, &text, &server.base());
    server.route("/page.md", Reply::Body(text.into_bytes()));
    let proxy = Proxy::start(HashMap::from([("127.0.0.1".to_string(), server.addr)]));
    let run = |no_proxy: Option<&str>| {
        let mut c = bin();
        c.env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env("HTTP_PROXY", proxy.url());
        if let Some(np) = no_proxy {
            c.env("NO_PROXY", np);
        }
        c.args([
            "fetch",
            "--catalog-url",
            &format!("{}/page.md", server.base()),
            "--timeout",
            "3",
        ]);
        c.output().unwrap()
    };

    let through = run(None);
    assert_eq!(through.status.code(), Some(0), "{}", stderr(&through));
    assert_eq!(
        proxy.seen().len(),
        2,
        "without NO_PROXY the loopback server is reached through the proxy"
    );

    let direct = run(Some("127.0.0.1"));
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    assert_eq!(
        proxy.seen().len(),
        2,
        "with NO_PROXY the proxy saw nothing more"
    );
    assert_eq!(server.hits().len(), 4);
}

#[test]
fn an_unreachable_proxy_is_a_network_error() {
    let out = fetch_with_timeout("1")
        .args(["--proxy", &format!("http://127.0.0.1:{}", dead_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("http://{HOST}/page.md")),
        "{}",
        stderr(&out)
    );
}

/// The rule set of `crate::proxy`: by scheme, lower case first, ALL_PROXY last; HTTPS_PROXY
/// is not used for http:// downloads.
#[test]
fn variables_follow_the_scheme_lower_case_first() {
    let (server, proxy) = setup();
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let out = fetch()
        .env("http_proxy", proxy.url())
        .env("HTTP_PROXY", &dead)
        .env("HTTPS_PROXY", &dead)
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_through(&proxy, &server);

    let (server, proxy) = setup();
    let out = fetch()
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env("HTTPS_PROXY", &dead)
        .env("ALL_PROXY", proxy.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_all_through(&proxy, &server);
}

/// A malformed proxy variable is a usage error that names the variable, for downloads and
/// for `check` alike, and never echoes a password.
#[test]
fn a_bad_proxy_variable_is_named_by_every_command() {
    for args in [
        &["fetch", "--online"][..],
        &["check", "-k", "x.jks", "--host", "127.0.0.1:9"][..],
    ] {
        let out = bin()
            .env("HTTPS_PROXY", "socks5://user:secret@proxy.test:1080")
            .args(args)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("HTTPS_PROXY"), "{args:?}: {err}");
        assert!(!err.contains("secret"), "{args:?}: {err}");
    }
}
