//! The Azure CA catalog: which CAs Microsoft lists, with pinned thumbprints and (when known)
//! the certificate bytes. Three sources, one shape ([`Catalog`]):
//!
//! - built-in: `certs/catalog.toml` (as generated Rust data) and `certs/pem/` (as DER, by
//!   build.rs) embedded in the binary ([`builtin`]);
//! - live: Microsoft's page parsed ([`page`]), merged with the built-in data ([`live`]), and
//!   the CAs without a pinned built-in copy downloaded ([`fetch`]);
//! - bundle: a directory written by `fetch --out DIR` ([`bundle`]).
//!
//! Whatever the source, a certificate only reaches `CatalogCa::der` after its SHA-1 (and its
//! SHA-256 when known) matched the catalog and it parsed as X.509 ([`verify`]).

pub mod age;
pub mod builtin;
mod builtin_records;
pub mod bundle;
pub mod fetch;
mod file;
pub mod live;
pub mod page;
pub mod verify;

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

pub use fetch::{load_with, Obtained, Progress};
pub use verify::{CaOrigin, CaReport, ChainCheck};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Root,
    Subordinate,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Subordinate => "subordinate",
        }
    }
}

/// Where the CA stands on Microsoft's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageStatus {
    /// On the page now.
    Listed,
    /// Was on an older version of the page (or on the built-in one and gone from the live
    /// one): kept so that `refresh --prune` can recognise and remove it.
    Retired,
    /// Never on the page, but needed to build the listed chains (the self-signed G2 root).
    Extra,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Listed => "listed",
            PageStatus::Retired => "retired",
            PageStatus::Extra => "extra",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogSource {
    #[default]
    BuiltIn,
    Live,
    Bundle,
}

impl CatalogSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSource::BuiltIn => "built-in",
            CatalogSource::Live => "live",
            CatalogSource::Bundle => "bundle",
        }
    }

    fn parse(s: &str) -> Option<CatalogSource> {
        match s {
            "built-in" => Some(CatalogSource::BuiltIn),
            "live" => Some(CatalogSource::Live),
            "bundle" => Some(CatalogSource::Bundle),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogCa {
    pub name: String,
    pub role: Role,
    /// "xsign", "microsoft-root", ... when the page has two certificates under one name.
    pub variant: Option<String>,
    pub status: PageStatus,
    /// Upper-case hex, no colons.
    pub sha1: String,
    pub sha256: Option<String>,
    /// Lower-case hex without `0x`, as in the certificate (the page's when no copy is known).
    pub serial: Option<String>,
    /// The certificate's notAfter (for a retired CA with no copy: the date the page printed).
    pub not_after: Option<time::Date>,
    pub urls: Vec<String>,
    /// Stable lower-case identifier, used in aliases (`azure-ca-<slug>`) and bundle file names
    /// (`pem/<slug>.pem`).
    pub slug: String,
    /// The verified DER; None when no copy is available (offline, or not downloaded).
    /// Borrowed from the binary for the built-in copies, so a catalog costs no copy of them.
    pub der: Option<Cow<'static, [u8]>>,
    /// A CA only the live page vouches for, whose issuer is neither pinned in the built-in
    /// catalog nor on the page: wanted only when the keystore's own anchors verify its
    /// signature (see `plan`).
    pub needs_keystore_issuer: bool,
}

impl CatalogCa {
    /// Whether notAfter lies before `today`; false when the date is unknown.
    pub fn is_expired_on(&self, today: time::Date) -> bool {
        self.not_after.is_some_and(|d| d < today)
    }

    /// The name with the variant, e.g. "Microsoft Azure RSA TLS Issuing CA 03 (xsign)".
    pub fn display_name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{} ({v})", self.name),
            None => self.name.clone(),
        }
    }

    /// The PEM file name of this CA in a bundle or in `certs/pem/`.
    pub fn pem_file_name(&self) -> String {
        format!("{}.pem", self.slug)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub source: CatalogSource,
    /// The page's ms.date, `YYYY-MM-DD`.
    pub page_date: Option<String>,
    pub cas: Vec<CatalogCa>,
    /// Where the page was read: the article (built-in) or the markdown URL (live).
    pub page_url: Option<String>,
    /// The page's commit in MicrosoftDocs/azure-docs, when known (built-in only).
    pub page_commit: Option<String>,
    /// When the data was checked against the page, `YYYY-MM-DD`.
    pub checked_on: Option<String>,
    /// For a bundle: the source it was made from (built-in or live).
    pub origin: Option<CatalogSource>,
    /// For a bundle: its directory; for live: the markdown URL.
    pub location: Option<String>,
}

impl Catalog {
    /// The catalog embedded in the binary, with every embedded certificate verified against
    /// its thumbprints (see [`builtin::catalog`]).
    pub fn builtin() -> Catalog {
        builtin::catalog().clone()
    }

    pub fn find_sha1(&self, sha1: &str) -> Option<&CatalogCa> {
        let want = normalize_thumbprint(sha1)?;
        self.cas.iter().find(|c| c.sha1 == want)
    }

    pub fn find_slug(&self, slug: &str) -> Option<&CatalogCa> {
        self.cas.iter().find(|c| c.slug == slug)
    }

    pub fn count(&self, status: PageStatus) -> usize {
        self.cas.iter().filter(|c| c.status == status).count()
    }
}

/// The SOURCE options of the contract, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    pub online: bool,
    pub catalog_url: Option<String>,
    pub bundle: Option<PathBuf>,
    pub proxy: Option<String>,
    pub timeout: Duration,
    /// Take a root CA that only the live page names (never the default: one web page must
    /// not be able to add a trust anchor).
    pub accept_new_roots: bool,
    /// SHA-256 thumbprints (upper-case hex) the user vouches for: a new CA from the page with
    /// one of them is taken like a pinned one.
    pub expect_sha256: Vec<String>,
    /// Check the signatures of the embedded catalog too (`fetch`). Off elsewhere: the
    /// embedded bytes are compiled in and their chains are verified by the test suite, so
    /// every run need not spend most of its time re-proving them. Downloads and bundles are
    /// always verified in full.
    pub verify_embedded: bool,
    /// The user named this source (`--online`, `--catalog-url`, `--bundle`). When they did
    /// not (refresh goes online by default), a live page older than the built-in catalog's
    /// loses to the built-in data: the newer data wins.
    pub named: bool,
}

impl Default for SourceSpec {
    /// The built-in catalog, with the contract's default timeout for when it goes online.
    fn default() -> Self {
        SourceSpec {
            online: false,
            catalog_url: None,
            bundle: None,
            proxy: None,
            timeout: Duration::from_secs(20),
            accept_new_roots: false,
            expect_sha256: Vec::new(),
            verify_embedded: false,
            named: false,
        }
    }
}

impl SourceSpec {
    /// The markdown address `--online` reads: `--catalog-url` or Microsoft's default.
    pub fn page_url(&self) -> &str {
        self.catalog_url.as_deref().unwrap_or(DEFAULT_PAGE_URL)
    }

    /// `--catalog-url` implies `--online`.
    pub fn is_online(&self) -> bool {
        self.bundle.is_none() && (self.online || self.catalog_url.is_some())
    }
}

/// The markdown source of "Azure Certificate Authority details".
pub const DEFAULT_PAGE_URL: &str = "https://raw.githubusercontent.com/MicrosoftDocs/azure-docs/main/articles/security/fundamentals/azure-certificate-authority-details.md";

/// Why a catalog could not be produced. Every variant names the URL, file or CA. The exit
/// code and the fix each one gets are decided in `cli::failure`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// A download failed after the retries (connection, DNS, timeout, HTTP status).
    #[error("cannot download {url}{}: {why}", ca_suffix(.ca))]
    Network {
        url: String,
        ca: Option<String>,
        why: String,
    },
    /// A certificate failed verification: thumbprint, parse or signature.
    #[error("certificate rejected ({ca}): {why}")]
    Verification { ca: String, why: String },
    /// The page was read but does not yield a usable list.
    #[error("cannot use the CA page ({url}): {why}")]
    Page { url: String, why: String },
    /// The bundle directory is missing, unreadable, or not a bundle.
    #[error("cannot open bundle ({path}): {why}", path = .path.display())]
    BundleMissing { path: PathBuf, why: String },
    /// The bundle is there but its contents do not check out.
    #[error("bundle rejected ({path}): {why}", path = .path.display())]
    BundleInvalid { path: PathBuf, why: String },
    /// The bundle could not be written.
    #[error("cannot write bundle ({path}): {why}", path = .path.display())]
    Output { path: PathBuf, why: String },
    /// A SOURCE option has a value that cannot be used (e.g. a malformed proxy URL).
    #[error("bad option {option}: {why}")]
    Option { option: String, why: String },
    /// The catalog embedded in the binary is broken: a build problem, never user input.
    #[error("built-in catalog is broken: {why}")]
    Builtin { why: String },
}

fn ca_suffix(ca: &Option<String>) -> String {
    ca.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

impl CatalogError {
    /// A download failed: the one failure `refresh` may answer with the built-in catalog.
    pub fn is_network(&self) -> bool {
        matches!(self, CatalogError::Network { .. })
    }
}

/// Resolves a SOURCE: built-in, live (with downloads) or bundle. Every `der` in the result
/// has been verified; warnings (e.g. page rows that could not be read) are dropped here, use
/// [`load_with`] to see them.
pub fn load(spec: &SourceSpec) -> Result<Catalog, CatalogError> {
    load_with(spec, &fetch::NoProgress).map(|o| o.catalog)
}

/// Upper-case hex without separators, or None when it is not a 40-digit SHA-1.
pub fn normalize_thumbprint(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Lower-case hex without `0x`, separators, or leading zero pairs beyond what DER needs:
/// the page prints serials with and without `0x`, in either case.
pub fn normalize_serial(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let hex: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// Lower-case words joined by dashes: "Microsoft TLS G2 ECC CA OCSP 02" →
/// "microsoft-tls-g2-ecc-ca-ocsp-02" (the rule the built-in PEM file names follow).
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Whether a slug is safe as a file name and an alias part.
pub fn is_valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 120
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &fmt).ok()
}

/// `YYYY-MM-DD`, as the catalog, the bundles and every report print dates.
pub fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A short human description of an error and its causes, on one line.
pub(crate) fn chain_message(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CatalogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_thumbprints_and_serials() {
        assert_eq!(
            normalize_thumbprint("aec13cdd5ea6a3998aec14ac331ad96bedbb770f").as_deref(),
            Some("AEC13CDD5EA6A3998AEC14AC331AD96BEDBB770F")
        );
        assert_eq!(normalize_thumbprint("AB:CD").as_deref(), None);
        assert_eq!(normalize_serial("0x02361857").as_deref(), Some("02361857"));
        assert_eq!(normalize_serial(" 0CF5BD06 ").as_deref(), Some("0cf5bd06"));
        assert_eq!(normalize_serial("0x"), None);
        assert_eq!(normalize_serial("zz"), None);
    }

    #[test]
    fn slugs_follow_the_pem_names() {
        assert_eq!(
            slugify("Microsoft TLS G2 ECC CA OCSP 02"),
            "microsoft-tls-g2-ecc-ca-ocsp-02"
        );
        assert_eq!(
            slugify("Entrust Root Certification Authority - G2"),
            "entrust-root-certification-authority-g2"
        );
        assert_eq!(slugify("  --Ünï--"), "n");
        assert!(is_valid_slug("azure-ca-1"));
        assert!(!is_valid_slug("../x"));
        assert!(!is_valid_slug(""));
    }

    #[test]
    fn only_downloads_are_network_failures() {
        let net = CatalogError::Network {
            url: "u".into(),
            ca: None,
            why: "w".into(),
        };
        assert!(net.is_network());
        assert_eq!(net.to_string(), "cannot download u: w");
        let v = CatalogError::Verification {
            ca: "X".into(),
            why: "w".into(),
        };
        assert!(!v.is_network());
    }
}
