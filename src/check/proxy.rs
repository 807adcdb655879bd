//! Which HTTP proxy tunnels a check connection, as curl decides it: `--proxy URL`, else
//! https_proxy / HTTPS_PROXY / all_proxy / ALL_PROXY; NO_PROXY / no_proxy exempts hosts in
//! both cases (the same rule the catalog downloads follow).

use std::net::IpAddr;

/// An HTTP proxy that accepts CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Basic ...` credentials from the URL's user:password.
    pub authorization: Option<String>,
    /// The URL without its password, for messages.
    pub shown: String,
}

/// The proxy for `target_host`, if any. `env` reads an environment variable (a parameter so
/// that tests do not touch the process environment).
pub fn choose(
    explicit: Option<&str>,
    target_host: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, String> {
    let from_env = || {
        ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.trim().is_empty()))
    };
    let url = match explicit.map(str::trim) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => match from_env() {
            Some(u) => u,
            None => return Ok(None),
        },
    };
    let no_proxy = env("no_proxy")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| env("NO_PROXY"))
        .unwrap_or_default();
    if bypass(&no_proxy, target_host) {
        return Ok(None);
    }
    parse(&url).map(Some)
}

/// `http://[user[:password]@]host[:port][/]`; a URL without a scheme is taken as http.
pub fn parse(url: &str) -> Result<Proxy, String> {
    let full = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let u = reqwest::Url::parse(&full).map_err(|e| format!("{url:?} is not a proxy URL: {e}"))?;
    if u.scheme() != "http" {
        return Err(format!(
            "{}:// proxies are not supported for check; give an http:// proxy that accepts CONNECT",
            u.scheme()
        ));
    }
    let host = u
        .host_str()
        .ok_or_else(|| format!("{url:?} has no host"))?
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
        host,
        port,
        authorization,
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

    #[test]
    fn explicit_wins_and_no_proxy_applies() {
        let env = env_of(&[
            ("HTTPS_PROXY", "http://envproxy:3128"),
            ("NO_PROXY", ".corp.example,10.0.0.0/8"),
        ]);
        let p = choose(Some("http://cli:8080"), "login.microsoftonline.com", &env)
            .unwrap()
            .unwrap();
        assert_eq!((p.host.as_str(), p.port), ("cli", 8080));
        let p = choose(None, "login.microsoftonline.com", &env)
            .unwrap()
            .unwrap();
        assert_eq!((p.host.as_str(), p.port), ("envproxy", 3128));
        assert_eq!(choose(None, "a.corp.example", &env).unwrap(), None);
        assert_eq!(
            choose(Some("http://cli:8080"), "10.1.2.3", &env).unwrap(),
            None
        );
        assert_eq!(choose(None, "x", &env_of(&[])).unwrap(), None);
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
        assert!(parse("https://proxy:443").is_err());
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
