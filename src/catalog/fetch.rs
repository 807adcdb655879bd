//! Resolving a SOURCE to a verified catalog, and the HTTP that `--online` needs.
//!
//! Downloads use reqwest's blocking client with rustls (no OpenSSL). Proxies: `--proxy`
//! when given (NO_PROXY still applies, as with curl), else HTTPS_PROXY / HTTP_PROXY /
//! ALL_PROXY / NO_PROXY from the environment (reqwest reads them). Each request is retried
//! for connection errors, timeouts and 5xx answers only — a 404 or a wrong body will not
//! get better by asking again.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::verify::{self, CaOrigin, CaReport, ChainCheck};
use super::{builtin, bundle, chain_message, live, page, Catalog, CatalogError, SourceSpec};
use crate::proxy::ProxyRules;

/// How many downloads run at once.
const PARALLEL: usize = 4;
/// Waits before the second and third attempt.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(1000)];
/// Certificates are a few KiB; anything this large is not one.
const MAX_CERT_BYTES: u64 = 1 << 20;
/// The markdown page is ~100 KiB.
const MAX_PAGE_BYTES: u64 = 2 << 20;

/// Progress of the downloads, for a progress bar. Called from several threads.
pub trait Progress: Sync {
    fn begin(&self, _total: usize) {}
    fn advance(&self, _what: &str) {}
    fn finish(&self) {}
}

/// No progress display.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A resolved SOURCE: the catalog (every `der` verified), what happened to each CA (same
/// order as `catalog.cas`), and warnings worth showing.
#[derive(Debug, Clone)]
pub struct Obtained {
    pub catalog: Catalog,
    pub reports: Vec<CaReport>,
    pub warnings: Vec<String>,
}

/// Where each CA's certificate came from when nothing was downloaded.
fn origins_of(catalog: &Catalog, with_der: CaOrigin) -> Vec<CaOrigin> {
    catalog
        .cas
        .iter()
        .map(|c| {
            if c.der.is_some() {
                with_der.clone()
            } else {
                CaOrigin::Unavailable
            }
        })
        .collect()
}

/// [`super::load`] with progress and the report `fetch` prints.
pub fn load_with(spec: &SourceSpec, progress: &dyn Progress) -> Result<Obtained, CatalogError> {
    let (mut catalog, mut origins, mut warnings, new_on_page) = if let Some(dir) = &spec.bundle {
        let catalog = bundle::read(dir)?;
        let origins = origins_of(&catalog, CaOrigin::Bundle);
        (catalog, origins, Vec::new(), Vec::new())
    } else if spec.is_online() {
        online(spec, progress)?
    } else {
        let catalog = builtin::load()?;
        let origins = origins_of(&catalog, CaOrigin::BuiltIn);
        (catalog, origins, Vec::new(), Vec::new())
    };
    let embedded = spec.bundle.is_none() && !spec.is_online();
    let mut chains = if embedded && !spec.verify_embedded {
        vec![ChainCheck::NotChecked; catalog.cas.len()]
    } else {
        verify::check_chains(&catalog.cas)?
    };
    if let Some(w) = super::age::older_than_builtin(&catalog, builtin::catalog()) {
        warnings.push(w);
    }
    vet_new_cas(
        &mut catalog,
        &mut origins,
        &mut chains,
        &new_on_page,
        spec,
        &mut warnings,
    );
    let reports = catalog
        .cas
        .iter()
        .zip(origins)
        .zip(chains)
        .map(|((ca, origin), chain)| CaReport {
            slug: ca.slug.clone(),
            origin,
            chain,
        })
        .collect();
    Ok(Obtained {
        catalog,
        reports,
        warnings,
    })
}

/// Catalog, where each CA's bytes came from, warnings, and the CAs only the live page names.
type Resolved = (Catalog, Vec<CaOrigin>, Vec<String>, Vec<usize>);

/// A web page alone must not grow a trust store. A CA that only the live page names (the
/// built-in catalog lacks it) is taken when
/// - the user vouched for it (`--expect-sha256`), or
/// - it is a subordinate whose signature verifies with a CA pinned in the built-in catalog
///   (or with one taken by this rule), or
/// - it is a root and `--accept-new-roots` was given.
///
/// A subordinate whose issuer is in no catalog is kept for `plan`, which wants it only when
/// the keystore's own anchors verify it. Anything else loses its bytes (status
/// `unavailable`) with a warning saying how to take it.
fn vet_new_cas(
    catalog: &mut Catalog,
    origins: &mut [CaOrigin],
    chains: &mut [ChainCheck],
    new_on_page: &[usize],
    spec: &SourceSpec,
    warnings: &mut Vec<String>,
) {
    let mut pending: Vec<usize> = new_on_page
        .iter()
        .copied()
        .filter(|&i| catalog.cas[i].der.is_some())
        .collect();
    let vouched = |ca: &super::CatalogCa| {
        ca.sha256
            .as_ref()
            .is_some_and(|h| spec.expect_sha256.iter().any(|e| e == h))
    };
    let mut taken: std::collections::HashSet<String> = catalog
        .cas
        .iter()
        .enumerate()
        .filter(|(i, _)| !new_on_page.contains(i))
        .map(|(_, c)| c.slug.clone())
        .collect();
    // Take what chains to a taken CA until nothing changes (a new subordinate may be signed
    // by a new subordinate that a pinned root signed).
    loop {
        let before = pending.len();
        pending.retain(|&i| {
            let ca = &catalog.cas[i];
            let ok = vouched(ca)
                || match &chains[i] {
                    ChainCheck::SignedBy { slug, .. } => taken.contains(slug),
                    ChainCheck::SelfSigned => spec.accept_new_roots,
                    _ => false,
                };
            if ok {
                taken.insert(ca.slug.clone());
            }
            !ok
        });
        if pending.len() == before {
            break;
        }
    }
    for i in pending {
        let ca = &mut catalog.cas[i];
        let name = ca.display_name();
        match &chains[i] {
            ChainCheck::IssuerNotInSet { issuer } => {
                ca.needs_keystore_issuer = true;
                warnings.push(format!(
                    "the live page lists {name} ({}), which the built-in catalog lacks and whose issuer {issuer} is in no catalog: it is wanted only if the keystore already trusts that issuer",
                    ca.sha1
                ));
            }
            ChainCheck::SelfSigned => {
                warnings.push(format!(
                    "the live page lists a new root CA, {name} (SHA-256 {}): a web page alone never adds a trust anchor, so it is left out; check it and pass --accept-new-roots or --expect-sha256 {}",
                    ca.sha256.as_deref().unwrap_or("?"),
                    ca.sha256.as_deref().unwrap_or("SHA256")
                ));
                ca.der = None;
                origins[i] = CaOrigin::Unavailable;
                chains[i] = ChainCheck::NotChecked;
            }
            _ => {
                warnings.push(format!(
                    "the live page lists {name} ({}), which the built-in catalog lacks and which chains to no CA it pins: left out; pass --expect-sha256 {} to take it",
                    ca.sha1,
                    ca.sha256.as_deref().unwrap_or("SHA256")
                ));
                ca.der = None;
                origins[i] = CaOrigin::Unavailable;
                chains[i] = ChainCheck::NotChecked;
            }
        }
    }
}

/// Plain http is refused for the page (its thumbprints are the pins), except on loopback
/// (tests). Certificate links are upgraded to https: every host the page links (Microsoft,
/// DigiCert) serves them there, and the thumbprint check then guards a TLS-protected copy.
pub(crate) fn secure_url(url: &str) -> Result<String, String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(url.to_string());
    };
    if parsed.scheme() != "http" || is_loopback(&parsed) {
        return Ok(url.to_string());
    }
    let mut https = parsed.clone();
    https
        .set_scheme("https")
        .map_err(|()| format!("{url} cannot be fetched over https"))?;
    if https.port() == Some(80) {
        let _ = https.set_port(None);
    }
    Ok(https.to_string())
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

fn online(spec: &SourceSpec, progress: &dyn Progress) -> Result<Resolved, CatalogError> {
    let base = builtin::load()?;
    let client = client(spec)?;
    let page_url = spec.page_url().to_string();
    if reqwest::Url::parse(&page_url).is_ok_and(|u| u.scheme() == "http" && !is_loopback(&u)) {
        return Err(CatalogError::Option {
            option: format!("--catalog-url {page_url}"),
            why: "the page is read over plain http; its thumbprints are what every download is checked against, so it must come over https".into(),
        });
    }
    let budget = Budget::for_timeout(spec.timeout);
    let (body, _) = get(&client, &page_url, MAX_PAGE_BYTES, None, &budget)?;
    let text = String::from_utf8(body).map_err(|_| CatalogError::Page {
        url: page_url.clone(),
        why: "the page is not UTF-8 text".into(),
    })?;
    let parsed = page::parse(&text).map_err(|e| CatalogError::Page {
        url: page_url.clone(),
        why: e.0,
    })?;
    let today = time::OffsetDateTime::now_utc().date();
    let merged = live::merge(&base, &parsed, &page_url, today);
    let mut catalog = merged.catalog;
    let mut warnings = merged.warnings;

    // Only what has no pinned copy is downloaded: a row whose thumbprint the built-in catalog
    // pins already carries those bytes (live::merge). That is the page's new CAs and the
    // listed or extra CAs the built-in catalog knows only by thumbprint.
    let mut origins = origins_of(&catalog, CaOrigin::BuiltIn);
    let from_page: std::collections::HashSet<usize> = merged.from_page.iter().copied().collect();
    let jobs: Vec<usize> = (0..catalog.cas.len())
        .filter(|&i| {
            let c = &catalog.cas[i];
            c.der.is_none()
                && !c.urls.is_empty()
                && (from_page.contains(&i) || c.status == super::PageStatus::Extra)
        })
        .collect();

    let results = download_all(&client, &catalog, &jobs, progress, &budget);

    // A thumbprint or parse failure stops everything: it may be an attack. A network failure
    // only costs that CA (it becomes unavailable, with a warning naming it and the address),
    // so one unreachable host does not stop the CAs everyone else serves.
    let mut downloaded = Vec::with_capacity(jobs.len());
    let mut failed = Vec::new();
    for (&i, result) in jobs.iter().zip(results) {
        match result {
            Ok(d) => downloaded.push((i, d)),
            Err(CatalogError::Network { url, why, .. }) => failed.push((i, url, why)),
            Err(e) => return Err(e),
        }
    }
    for (i, url, why) in failed {
        let ca = &catalog.cas[i];
        let url = if url.is_empty() {
            ca.urls.first().cloned().unwrap_or_default()
        } else {
            url
        };
        warnings.push(format!(
            "cannot download {} from {url}: {why}; it is unavailable in this run (the built-in catalog has no copy of it)",
            ca.display_name()
        ));
        origins[i] = CaOrigin::DownloadFailed { url, why };
    }
    for (i, d) in downloaded {
        let ca = &mut catalog.cas[i];
        ca.sha256.get_or_insert(d.checked.info.sha256.clone());
        ca.not_after = Some(d.checked.info.not_after.date());
        if ca.serial.is_none() {
            ca.serial = Some(d.checked.serial.clone());
        }
        ca.der = Some(d.der.into());
        origins[i] = CaOrigin::Downloaded { url: d.url };
    }
    Ok((catalog, origins, warnings, merged.new_on_page))
}

struct Download {
    der: Vec<u8>,
    url: String,
    checked: verify::Checked,
}

/// Downloads `jobs` (indexes into `catalog.cas`) a few at a time; results in job order.
fn download_all(
    client: &reqwest::blocking::Client,
    catalog: &Catalog,
    jobs: &[usize],
    progress: &dyn Progress,
    budget: &Budget,
) -> Vec<Result<Download, CatalogError>> {
    progress.begin(jobs.len());
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<Download, CatalogError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(jobs.len()) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = jobs.get(k) else { break };
                let ca = &catalog.cas[i];
                let result = download_one(client, ca, budget);
                progress.advance(&ca.display_name());
                if let Ok(mut slots) = slots.lock() {
                    slots[k] = Some(result);
                }
            });
        }
    });
    progress.finish();
    let slots = slots.into_inner().unwrap_or_else(|p| p.into_inner());
    slots
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(CatalogError::Network {
                    url: String::new(),
                    ca: None,
                    why: "download did not run".into(),
                })
            })
        })
        .collect()
}

/// Tries the CA's URLs in order until one answers; the answer must then verify (a wrong
/// body is never papered over by trying another address).
fn download_one(
    client: &reqwest::blocking::Client,
    ca: &super::CatalogCa,
    budget: &Budget,
) -> Result<Download, CatalogError> {
    let mut last: Option<CatalogError> = None;
    for url in &ca.urls {
        let url = &secure_url(url).map_err(|why| CatalogError::Network {
            url: url.clone(),
            ca: Some(ca.display_name()),
            why,
        })?;
        match get(
            client,
            url,
            MAX_CERT_BYTES,
            Some(&ca.display_name()),
            budget,
        ) {
            Ok((body, final_url)) => {
                let der = verify::decode_pinned(&body, &ca.sha1).map_err(|why| {
                    CatalogError::Verification {
                        ca: ca.display_name(),
                        why: format!("{why}, downloaded from {final_url}"),
                    }
                })?;
                let checked = verify::check_pins(ca, &der).map_err(|e| match e {
                    CatalogError::Verification { ca, why } => CatalogError::Verification {
                        ca,
                        why: format!("{why}, downloaded from {final_url}"),
                    },
                    e => e,
                })?;
                return Ok(Download {
                    der,
                    url: final_url,
                    checked,
                });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| CatalogError::Network {
        url: String::new(),
        ca: Some(ca.display_name()),
        why: "no download URL".into(),
    }))
}

pub(crate) fn client(spec: &SourceSpec) -> Result<reqwest::blocking::Client, CatalogError> {
    if spec.timeout.is_zero() {
        return Err(CatalogError::Option {
            option: "--timeout".into(),
            why: "must be at least 1 second".into(),
        });
    }
    let mut b = reqwest::blocking::Client::builder()
        .user_agent(concat!("azure-cacerts/", env!("CARGO_PKG_VERSION")))
        .timeout(spec.timeout)
        .connect_timeout(spec.timeout)
        .redirect(reqwest::redirect::Policy::limited(10));
    // The one proxy rule set (crate::proxy), also used by `check`, instead of reqwest's own.
    let rules = ProxyRules::from_env(spec.proxy.as_deref()).map_err(|e| CatalogError::Option {
        option: "proxy".into(),
        why: e.to_string(),
    })?;
    b = b.no_proxy().proxy(reqwest::Proxy::custom(move |url| {
        let host = url.host_str()?;
        let proxy = rules.proxy_for(url.scheme(), host)?;
        reqwest::Url::parse(&proxy.url).ok()
    }));
    b.build().map_err(|e| CatalogError::Option {
        option: "network client".into(),
        why: chain_message(&e),
    })
}

enum Attempt {
    Retry(String),
    Fail(String),
}

/// GET with retries; returns the body and the final URL (after redirects).
/// When the online step must end: each request gets the `--timeout` for its whole answer
/// (headers and body), and all of them together get [`Budget::for_timeout`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    per_request: Duration,
    ends: Instant,
}

impl Budget {
    /// Six request timeouts (two minutes with the default 20 s): enough for the page and
    /// every CA on a slow link, and a bound when thousands never answer.
    pub(crate) fn for_timeout(timeout: Duration) -> Budget {
        let total = timeout * 6;
        Budget {
            per_request: timeout,
            ends: Instant::now() + total,
        }
    }

    fn total_secs(&self) -> u64 {
        (self.per_request * 6).as_secs()
    }

    fn spent(&self) -> bool {
        Instant::now() >= self.ends
    }
}

fn get(
    client: &reqwest::blocking::Client,
    url: &str,
    limit: u64,
    ca: Option<&str>,
    budget: &Budget,
) -> Result<(Vec<u8>, String), CatalogError> {
    let fail = |why: String| CatalogError::Network {
        url: url.to_string(),
        ca: ca.map(str::to_string),
        why,
    };
    let mut attempt = 0;
    loop {
        if budget.spent() {
            return Err(fail(format!(
                "the online step ran out of its {} s budget (6 x --timeout)",
                budget.total_secs()
            )));
        }
        match get_once(client, url, limit, budget) {
            Ok(ok) => return Ok(ok),
            Err(Attempt::Fail(why)) => return Err(fail(why)),
            Err(Attempt::Retry(why)) => {
                let Some(wait) = BACKOFF.get(attempt) else {
                    return Err(fail(format!("{why} (after {} attempts)", attempt + 1)));
                };
                tracing::debug!("{url}: {why}; retrying in {} ms", wait.as_millis());
                std::thread::sleep(
                    (*wait).min(budget.ends.saturating_duration_since(Instant::now())),
                );
                attempt += 1;
            }
        }
    }
}

fn get_once(
    client: &reqwest::blocking::Client,
    url: &str,
    limit: u64,
    budget: &Budget,
) -> Result<(Vec<u8>, String), Attempt> {
    tracing::debug!("GET {url}");
    let started = Instant::now();
    let ends = (started + budget.per_request).min(budget.ends);
    let resp = client.get(url).send().map_err(classify)?;
    let status = resp.status();
    let final_url = resp.url().to_string();
    if status.is_server_error() {
        return Err(Attempt::Retry(format!("HTTP {status} from {final_url}")));
    }
    if !status.is_success() {
        return Err(Attempt::Fail(format!("HTTP {status} from {final_url}")));
    }
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(Attempt::Fail(format!(
            "the answer is larger than {limit} bytes"
        )));
    }
    // Read in chunks against the deadline: a server that trickles bytes must not hold the
    // run for longer than the timeout (each read alone is bounded by the client's timeout).
    let mut body = Vec::new();
    let mut reader = resp.take(limit + 1);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if Instant::now() > ends {
            return Err(Attempt::Retry(format!(
                "the answer did not arrive within {} s ({} bytes so far)",
                budget.per_request.as_secs(),
                body.len()
            )));
        }
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A connection that breaks mid-body is as transient as one that never opened.
            Err(e) => {
                return Err(Attempt::Retry(format!(
                    "reading the answer failed: {}",
                    chain_message(&e)
                )))
            }
        }
    }
    if body.len() as u64 > limit {
        return Err(Attempt::Fail(format!(
            "the answer is larger than {limit} bytes"
        )));
    }
    Ok((body, final_url))
}

fn classify(e: reqwest::Error) -> Attempt {
    let why = if e.is_timeout() {
        "timed out".to_string()
    } else {
        // reqwest's own message repeats the URL; the causes say what went wrong.
        let mut src = std::error::Error::source(&e);
        let mut parts = Vec::new();
        while let Some(s) = src {
            let t = s.to_string();
            if !parts.contains(&t) {
                parts.push(t);
            }
            src = s.source();
        }
        if parts.is_empty() {
            chain_message(&e)
        } else {
            parts.join(": ")
        }
    };
    if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
        Attempt::Retry(why)
    } else {
        Attempt::Fail(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ChainCheck;

    #[test]
    fn certificate_links_are_upgraded_to_https_except_on_loopback() {
        assert_eq!(
            secure_url("http://cacerts.digicert.com/DigiCertGlobalRootG2.crt").unwrap(),
            "https://cacerts.digicert.com/DigiCertGlobalRootG2.crt"
        );
        assert_eq!(
            secure_url("http://www.microsoft.com:80/pkiops/certs/x.crt").unwrap(),
            "https://www.microsoft.com/pkiops/certs/x.crt"
        );
        for kept in [
            "https://www.microsoft.com/x.crt",
            "http://127.0.0.1:8080/x.crt",
            "http://localhost/x.crt",
            "http://[::1]:9/x.crt",
        ] {
            assert_eq!(secure_url(kept).unwrap(), kept);
        }
    }

    #[test]
    fn a_zero_timeout_or_bad_proxy_is_an_option_error() {
        let spec = SourceSpec {
            timeout: Duration::ZERO,
            ..SourceSpec::default()
        };
        assert!(matches!(
            client(&spec).unwrap_err(),
            CatalogError::Option { .. }
        ));
        let spec = SourceSpec {
            proxy: Some("http://[::1".into()),
            ..SourceSpec::default()
        };
        assert!(matches!(
            client(&spec).unwrap_err(),
            CatalogError::Option { .. }
        ));
    }

    #[test]
    fn builtin_source_needs_no_network() {
        let o = load_with(&SourceSpec::default(), &NoProgress).unwrap();
        assert_eq!(o.catalog.cas.len(), o.reports.len());
        assert!(o
            .reports
            .iter()
            .all(|r| r.origin != CaOrigin::Downloaded { url: String::new() }));
        let unavailable = o
            .reports
            .iter()
            .filter(|r| r.origin == CaOrigin::Unavailable)
            .count();
        assert_eq!(unavailable, 14);
        // Embedded signatures are proven by the tests, not re-checked on every run...
        assert!(o.reports.iter().all(|r| r.chain == ChainCheck::NotChecked));
        // ...except when asked (fetch).
        let spec = SourceSpec {
            verify_embedded: true,
            ..SourceSpec::default()
        };
        let o = load_with(&spec, &NoProgress).unwrap();
        assert!(o
            .reports
            .iter()
            .any(|r| matches!(r.chain, ChainCheck::SignedBy { .. })));
    }
}
