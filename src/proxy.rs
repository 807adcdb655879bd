//! Which proxy a connection goes through: one rule set for the catalog downloads and for
//! `check --host`, read the way curl reads it.
//!
//! - `--proxy URL` first; it serves every scheme.
//! - Else by the URL's scheme: `https_proxy` / `HTTPS_PROXY` for https, `http_proxy` /
//!   `HTTP_PROXY` for http (the lower-case name wins when both are set); then `all_proxy` /
//!   `ALL_PROXY`. curl reads `http_proxy` in lower case only; the upper-case form is read
//!   here too (as before, and as reqwest does), except in a CGI environment (REQUEST_METHOD
//!   set), where a request header can set HTTP_PROXY ("httpoxy").
//! - `no_proxy` / `NO_PROXY` exempts hosts in every case, `--proxy` included.
//! - An empty variable counts as unset.

use std::net::IpAddr;

use thiserror::Error;

/// A proxy server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `http` or `https` (the scheme of the proxy itself).
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// `Basic ...` credentials from the URL's user:password.
    pub authorization: Option<String>,
    /// The URL as given (with its credentials), for the HTTP client.
    pub url: String,
    /// The URL without its password, for messages.
    pub shown: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProxyError {
    /// `origin` names where the URL came from: `--proxy` or the variable.
    #[error("{origin} = {url:?} is not a proxy URL: {why}")]
    Invalid {
        origin: String,
        url: String,
        why: String,
    },
}

/// The proxies configured by option and environment, each already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyRules {
    explicit: Option<Proxy>,
    https: Option<Proxy>,
    http: Option<Proxy>,
    all: Option<Proxy>,
    no_proxy: String,
}

impl ProxyRules {
    /// `--proxy` (when given) and the process environment.
    pub fn from_env(explicit: Option<&str>) -> Result<ProxyRules, ProxyError> {
        ProxyRules::new(explicit, &|k| std::env::var(k).ok())
    }

    /// `env` reads a variable (a parameter, so that tests need not touch the environment).
    pub fn new(
        explicit: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProxyRules, ProxyError> {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        // (variable name, value): the lower-case name wins.
        let first = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|n| var(n).map(|v| (n.to_string(), v)))
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if cgi {
            &["http_proxy"]
        } else {
            &["http_proxy", "HTTP_PROXY"]
        };
        let parsed = |found: Option<(String, String)>| -> Result<Option<Proxy>, ProxyError> {
            found
                .map(|(source, url)| parse_from(&source, &url))
                .transpose()
        };
        Ok(ProxyRules {
            explicit: parsed(
                explicit
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(|u| ("--proxy".to_string(), u.to_string())),
            )?,
            https: parsed(first(&["https_proxy", "HTTPS_PROXY"]))?,
            http: parsed(first(http_names))?,
            all: parsed(first(&["all_proxy", "ALL_PROXY"]))?,
            no_proxy: first(&["no_proxy", "NO_PROXY"])
                .map(|(_, v)| v)
                .unwrap_or_default(),
        })
    }

    /// The proxy for a connection to `host` by `scheme` (`https`, `http`), if any.
    pub fn proxy_for(&self, scheme: &str, host: &str) -> Option<&Proxy> {
        if bypass(&self.no_proxy, host) {
            return None;
        }
        let by_scheme = match scheme {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        };
        self.explicit.as_ref().or(by_scheme).or(self.all.as_ref())
    }
}

fn parse_from(source: &str, url: &str) -> Result<Proxy, ProxyError> {
    parse(url).map_err(|why| ProxyError::Invalid {
        origin: source.to_string(),
        url: redact(url),
        why,
    })
}

/// The URL with any password replaced, for messages.
fn redact(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((cred, host)) => match cred.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***@{host}"),
            None => format!("***@{host}"),
        },
        None => url.to_string(),
    }
}

/// `http[s]://[user[:password]@]host[:port][/]`; a URL without a scheme is taken as http.
pub fn parse(url: &str) -> Result<Proxy, String> {
    let full = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let u = reqwest::Url::parse(&full).map_err(|e| e.to_string())?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "{}:// proxies are not supported; give an http:// proxy",
            u.scheme()
        ));
    }
    let host = u
        .host_str()
        .ok_or_else(|| "it has no host".to_string())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let authorization = if u.username().is_empty() {
        None
    } else {
        let user = percent_decode(u.username());
        let pass = percent_decode(u.password().unwrap_or(""));
        let mut pair = user;
        pair.push(b':');
        pair.extend_from_slice(&pass);
        Some(format!("Basic {}", base64(&pair)))
    };
    let mut shown = u.clone();
    if u.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    Ok(Proxy {
        scheme: u.scheme().to_string(),
        host,
        port,
        authorization,
        url: full,
        shown: shown.to_string().trim_end_matches('/').to_string(),
    })
}

/// NO_PROXY: `*`, host names (a leading dot or `*.` optional; subdomains match), IP
/// addresses and CIDR blocks, comma separated.
pub fn bypass(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some(ip) = host_ip {
                let e = entry.trim_start_matches('[').trim_end_matches(']');
                if let Some((net, bits)) = e.split_once('/') {
                    return match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                        (Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                        _ => false,
                    };
                }
                return e.parse::<IpAddr>().is_ok_and(|e| e == ip);
            }
            // A port in the entry is ignored, as curl does.
            let name = match entry.rsplit_once(':') {
                Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) => n,
                _ => entry.as_str(),
            };
            let name = name
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.');
            !name.is_empty()
                && (host == name
                    || (host.len() > name.len()
                        && host.ends_with(name)
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'))
        })
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
        let bits = usize::from(bits);
        if bits > a.len() * 8 {
            return false;
        }
        let (whole, rest) = (bits / 8, bits % 8);
        if a[..whole] != b[..whole] {
            return false;
        }
        if rest == 0 {
            return true;
        }
        let mask = 0xFFu8 << (8 - rest);
        (a[whole] & mask) == (b[whole] & mask)
    }
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => prefix_eq(&a.octets(), &b.octets(), bits),
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix_eq(&a.octets(), &b.octets(), bits),
        _ => false,
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(char::from(T[(n >> 18) as usize & 63]));
        out.push(char::from(T[(n >> 12) as usize & 63]));
        out.push(if chunk.len() > 1 {
            char::from(T[(n >> 6) as usize & 63])
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            char::from(T[n as usize & 63])
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn rules(explicit: Option<&str>, env: &'static [(&'static str, &'static str)]) -> ProxyRules {
        ProxyRules::new(explicit, &env_of(env)).unwrap()
    }

    fn host_of(r: &ProxyRules, scheme: &str, host: &str) -> Option<String> {
        r.proxy_for(scheme, host)
            .map(|p| format!("{}:{}", p.host, p.port))
    }

    #[test]
    fn explicit_wins_and_no_proxy_applies() {
        let env: &[(&str, &str)] = &[
            ("HTTPS_PROXY", "http://envproxy:3128"),
            ("NO_PROXY", ".corp.example,10.0.0.0/8"),
        ];
        let r = rules(Some("http://cli:8080"), env);
        assert_eq!(
            host_of(&r, "https", "login.microsoftonline.com").as_deref(),
            Some("cli:8080")
        );
        assert_eq!(
            host_of(&r, "http", "cacerts.digicert.com").as_deref(),
            Some("cli:8080")
        );
        assert_eq!(host_of(&r, "https", "10.1.2.3"), None);
        let r = rules(None, env);
        assert_eq!(
            host_of(&r, "https", "login.microsoftonline.com").as_deref(),
            Some("envproxy:3128")
        );
        assert_eq!(host_of(&r, "https", "a.corp.example"), None);
        // HTTPS_PROXY is for https only.
        assert_eq!(host_of(&r, "http", "cacerts.digicert.com"), None);
        assert_eq!(host_of(&rules(None, &[]), "https", "x"), None);
    }

    #[test]
    fn variables_by_scheme_lower_case_first() {
        let r = rules(
            None,
            &[
                ("https_proxy", "http://low:1"),
                ("HTTPS_PROXY", "http://up:2"),
                ("HTTP_PROXY", "http://plain:3"),
                ("ALL_PROXY", "http://all:4"),
                ("no_proxy", ""),
                ("NO_PROXY", "skip.example"),
            ],
        );
        assert_eq!(host_of(&r, "https", "a.example").as_deref(), Some("low:1"));
        assert_eq!(host_of(&r, "http", "a.example").as_deref(), Some("plain:3"));
        assert_eq!(host_of(&r, "ftp", "a.example").as_deref(), Some("all:4"));
        // An empty no_proxy counts as unset: NO_PROXY applies.
        assert_eq!(host_of(&r, "https", "skip.example"), None);
        let r = rules(None, &[("ALL_PROXY", "http://all:4"), ("https_proxy", " ")]);
        assert_eq!(host_of(&r, "https", "a.example").as_deref(), Some("all:4"));
    }

    #[test]
    fn cgi_environments_ignore_upper_case_http_proxy() {
        let r = rules(
            None,
            &[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")],
        );
        assert_eq!(host_of(&r, "http", "a.example"), None);
        let r = rules(
            None,
            &[("http_proxy", "http://ok:1"), ("REQUEST_METHOD", "GET")],
        );
        assert_eq!(host_of(&r, "http", "a.example").as_deref(), Some("ok:1"));
    }

    #[test]
    fn a_bad_url_names_its_source_and_hides_the_password() {
        let e = ProxyRules::new(
            None,
            &env_of(&[("HTTPS_PROXY", "socks5://u:secret@p:1080")]),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("HTTPS_PROXY = "), "{text}");
        assert!(!text.contains("secret"), "{text}");
        let e = ProxyRules::new(Some("http://[::1"), &env_of(&[])).unwrap_err();
        assert!(e.to_string().starts_with("--proxy = "), "{e}");
    }

    #[test]
    fn no_proxy_matching() {
        assert!(bypass("*", "anything"));
        assert!(bypass("example.com", "example.com"));
        assert!(bypass("example.com", "www.example.com"));
        assert!(bypass(".example.com", "www.example.com"));
        assert!(bypass("*.example.com:443", "www.example.com"));
        assert!(!bypass("example.com", "badexample.com"));
        assert!(bypass("127.0.0.1", "127.0.0.1"));
        assert!(bypass("127.0.0.0/8", "127.9.9.9"));
        assert!(!bypass("127.0.0.0/8", "128.0.0.1"));
        assert!(bypass("::1", "[::1]"));
        assert!(bypass("fd00::/8", "fd12::1"));
        assert!(!bypass("", "x"));
        assert!(!bypass("10.0.0.0/99", "10.0.0.1"));
    }

    #[test]
    fn proxy_urls() {
        let p = parse("proxy.corp:3128").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.authorization.as_deref()),
            ("proxy.corp", 3128, None)
        );
        let p = parse("http://us%40er:p%3Ass@[::1]:8080/").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 8080));
        assert_eq!(
            p.authorization.as_deref(),
            Some(&*format!("Basic {}", base64(b"us@er:p:ss")))
        );
        assert!(!p.shown.contains("p%3Ass"));
        assert_eq!(parse("http://proxy").unwrap().port, 80);
        assert!(parse("socks5://proxy:1080").is_err());
        assert_eq!(parse("https://proxy").unwrap().port, 443);
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn percent_decoding_keeps_stray_percents() {
        assert_eq!(percent_decode("a%41%"), b"aA%".to_vec());
        assert_eq!(percent_decode("%4"), b"%4".to_vec());
        assert_eq!(percent_decode("%zz"), b"%zz".to_vec());
    }
}
