//! Which catalog CAs a keystore lacks: the heart of `diff` and `import`.
//!
//! Matching is Java's trust-anchor rule, shared with `check` ([`crate::anchors`]): the
//! identical certificate is `present`; an anchor with the same subject and public key is
//! `equivalent` (Java accepts it as the same anchor). Aliases are never the test.

use serde::Serialize;
use time::OffsetDateTime;

use crate::anchors::{AnchorMatch, AnchorSet, Held};
use crate::catalog::{Catalog, CatalogCa, PageStatus, Role};
use crate::cert::Certificate;
use crate::keystore::{EntryKind, Keystore};

/// Where a candidate CA comes from: the Azure catalog, or a certificate the user brought
/// (`--pem FILE`, `--from-os-store`; see [`crate::custom`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    Catalog,
    /// A certificate file given with `--pem`.
    File(std::path::PathBuf),
    /// The operating system's trust store; where it was read.
    OsStore(String),
}

impl CaSource {
    /// The JSON `source` of a CA: `catalog`, `pem` or `os-store`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaSource::Catalog => "catalog",
            CaSource::File(_) => "pem",
            CaSource::OsStore(_) => "os-store",
        }
    }

    /// The file or store it was read from (none for the catalog).
    pub fn location(&self) -> Option<String> {
        match self {
            CaSource::Catalog => None,
            CaSource::File(p) => Some(p.display().to_string()),
            CaSource::OsStore(l) => Some(l.clone()),
        }
    }
}

/// A certificate from outside the catalog that is wanted like a catalog CA: matched the same
/// way, added under `alias` (lower case; a numeric suffix when taken).
#[derive(Debug, Clone)]
pub struct CustomCa {
    pub cert: Certificate,
    pub source: CaSource,
    pub alias: String,
}

impl CustomCa {
    /// The certificate in the shape the plan and the reports use for every CA.
    fn as_catalog_ca(&self) -> CatalogCa {
        let c = &self.cert;
        CatalogCa {
            name: c.display_name().to_string(),
            role: if c.self_issued {
                Role::Root
            } else {
                Role::Subordinate
            },
            variant: None,
            // Not on the page; never pruned (its alias lacks the tool's prefix).
            status: PageStatus::Extra,
            sha1: c.sha1.clone(),
            sha256: Some(c.sha256.clone()),
            serial: Some(c.serial_hex.to_ascii_lowercase()),
            not_after: Some(c.not_after.to_offset(time::UtcOffset::UTC).date()),
            urls: Vec::new(),
            slug: self.alias.clone(),
            der: Some(c.der.clone().into()),
            needs_keystore_issuer: false,
        }
    }
}

/// CAs every supported Java runtime already ships (contract: default skips).
pub const DEFAULT_SKIPS: &[(&str, &str)] = &[
    (
        "DigiCert Global Root CA",
        "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
    ),
    (
        "Entrust Root Certification Authority - G2",
        "8CF427FD790C3AD166068DE81E57EFBB932272D4",
    ),
];

pub const DEFAULT_ALIAS_PREFIX: &str = "azure-ca-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaStatus {
    Present,
    Equivalent,
    Missing,
    Added,
    Skipped,
    Expired,
    Unavailable,
}

impl CaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaStatus::Present => "present",
            CaStatus::Equivalent => "equivalent",
            CaStatus::Missing => "missing",
            CaStatus::Added => "added",
            CaStatus::Skipped => "skipped",
            CaStatus::Expired => "expired",
            CaStatus::Unavailable => "unavailable",
        }
    }
}

/// The SELECT options of the contract.
#[derive(Debug, Clone)]
pub struct Selection {
    pub default_skips: bool,
    /// Names or SHA-1 thumbprints (any case, colons allowed).
    pub extra_skips: Vec<String>,
    pub roots_only: bool,
    pub now: OffsetDateTime,
    /// Whether the catalog's CAs are candidates (`--no-catalog` leaves only the custom ones).
    pub use_catalog: bool,
    /// Certificates from `--pem` and `--from-os-store`, wanted beside the catalog's.
    pub custom: Vec<CustomCa>,
}

impl Selection {
    pub fn new(now: OffsetDateTime) -> Self {
        Selection {
            default_skips: true,
            extra_skips: Vec::new(),
            roots_only: false,
            now,
            use_catalog: true,
            custom: Vec::new(),
        }
    }

    /// Skipped by the user (`--skip`): never imported.
    fn is_skipped(&self, ca: &CatalogCa) -> bool {
        self.extra_skips.iter().any(|s| {
            let thumb: String = s
                .chars()
                .filter(|c| *c != ':' && !c.is_whitespace())
                .collect();
            ca.name.eq_ignore_ascii_case(s.trim()) || ca.sha1.eq_ignore_ascii_case(&thumb)
        })
    }

    /// A default skip: the vendor's list leaves it out because the runtime ships it. It means
    /// "already there": reported as skipped when the keystore holds it, and wanted like any
    /// other CA when it does not (Mozilla-derived stores dropped DigiCert Global Root CA).
    fn is_default_skip(&self, ca: &CatalogCa) -> bool {
        self.default_skips && is_default_skip(ca)
    }
}

/// One of the CAs the vendor's list skips because Java runtimes ship them: reported as
/// skipped when present, wanted like any other CA when absent.
pub fn is_default_skip(ca: &CatalogCa) -> bool {
    DEFAULT_SKIPS
        .iter()
        .any(|(_, sha1)| ca.sha1.eq_ignore_ascii_case(sha1))
}

#[derive(Debug, Clone)]
pub struct CaPlan {
    pub ca: CatalogCa,
    pub status: CaStatus,
    /// Where the CA (or its equivalent) is in the keystore, or the alias it was added under.
    pub alias: Option<String>,
    /// Whether the keystore holds this CA or an equivalent anchor.
    pub present: bool,
    /// The catalog, or the file or store a custom certificate came from.
    pub source: CaSource,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub present: usize,
    pub equivalent: usize,
    pub missing: usize,
    pub added: usize,
    pub skipped: usize,
    pub expired: usize,
    pub unavailable: usize,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub cas: Vec<CaPlan>,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.cas {
            match c.status {
                CaStatus::Present => s.present += 1,
                CaStatus::Equivalent => s.equivalent += 1,
                CaStatus::Missing => s.missing += 1,
                CaStatus::Added => s.added += 1,
                CaStatus::Skipped => s.skipped += 1,
                CaStatus::Expired => s.expired += 1,
                CaStatus::Unavailable => s.unavailable += 1,
            }
        }
        s
    }

    pub fn missing(&self) -> impl Iterator<Item = &CaPlan> {
        self.cas.iter().filter(|c| c.status == CaStatus::Missing)
    }
}

/// The CAs a diff reports: every CA on the page and the extra ones (retired CAs are only for
/// pruning), restricted to roots with --roots-only.
pub fn candidates<'a>(
    catalog: &'a Catalog,
    selection: &'a Selection,
) -> impl Iterator<Item = &'a CatalogCa> {
    catalog
        .cas
        .iter()
        .filter(|ca| matches!(ca.status, PageStatus::Listed | PageStatus::Extra))
        .filter(move |ca| !selection.roots_only || ca.role == Role::Root)
}

pub fn plan(catalog: &Catalog, anchors: &AnchorSet, selection: &Selection) -> Plan {
    let today = selection.now.date();
    let mut cas: Vec<CaPlan> = candidates(catalog, selection)
        .filter(|_| selection.use_catalog)
        .map(|ca| {
            let held = ca
                .der
                .as_deref()
                .and_then(|d| anchors.find(d))
                .map(|h| (h.alias.to_string(), h.how == AnchorMatch::Exact));
            let (alias, present, exact) = match held {
                Some((a, exact)) => (Some(a), true, exact),
                None => (None, false, false),
            };
            let expired = ca.not_after.is_some_and(|d| d < today);
            let status = if selection.is_skipped(ca) || (selection.is_default_skip(ca) && present) {
                CaStatus::Skipped
            } else if expired {
                CaStatus::Expired
            } else if present && exact {
                CaStatus::Present
            } else if present {
                CaStatus::Equivalent
            } else if ca.der.is_none() || (ca.needs_keystore_issuer && !vouched_by(anchors, ca)) {
                CaStatus::Unavailable
            } else {
                CaStatus::Missing
            };
            CaPlan {
                ca: ca.clone(),
                status,
                alias,
                present,
                source: CaSource::Catalog,
            }
        })
        .collect();
    // A custom certificate that is a catalog candidate already is that candidate.
    // Every catalog CA with a copy has its SHA-256 (pinned, or learnt from the download).
    let in_catalog: std::collections::HashSet<String> = if selection.custom.is_empty() {
        Default::default()
    } else {
        cas.iter().filter_map(|c| c.ca.sha256.clone()).collect()
    };
    for custom in &selection.custom {
        if in_catalog.contains(&custom.cert.sha256) {
            continue;
        }
        let ca = custom.as_catalog_ca();
        let held = anchors.find(&custom.cert.der);
        let status = if selection.is_skipped(&ca) {
            CaStatus::Skipped
        } else if ca.is_expired_on(today) {
            CaStatus::Expired
        } else {
            match held {
                Some(Held {
                    how: AnchorMatch::Exact,
                    ..
                }) => CaStatus::Present,
                Some(_) => CaStatus::Equivalent,
                None => CaStatus::Missing,
            }
        };
        cas.push(CaPlan {
            ca,
            status,
            alias: held.map(|h| h.alias.to_string()),
            present: held.is_some(),
            source: custom.source.clone(),
        });
    }
    Plan { cas }
}

/// Whether an anchor of the keystore issued `ca` (its subject is the CA's issuer and its key
/// verifies the CA's signature): what a CA that only the live page names needs to be wanted.
fn vouched_by(anchors: &AnchorSet, ca: &CatalogCa) -> bool {
    let Some(cert) = ca.der.as_deref().and_then(|d| Certificate::parse(d).ok()) else {
        return false;
    };
    anchors.anchors().iter().any(|a| {
        a.cert.subject_key == cert.issuer_key
            && crate::cert::verify_signature(&cert, &a.cert) == crate::cert::SigCheck::Valid
    })
}

/// Lower-case alias `<prefix><slug>`, with `-2`, `-3`... when another entry has the name.
pub fn choose_alias(keystore: &Keystore, prefix: &str, slug: &str) -> String {
    let base = format!("{prefix}{slug}").to_lowercase();
    if !keystore.contains_alias(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|a| !keystore.contains_alias(a))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(name: &str, sha1: &str) -> CatalogCa {
        CatalogCa {
            name: name.into(),
            role: Role::Root,
            variant: None,
            status: PageStatus::Listed,
            sha1: sha1.into(),
            sha256: None,
            serial: None,
            not_after: None,
            urls: vec![],
            slug: "x".into(),
            der: None,
            needs_keystore_issuer: false,
        }
    }

    #[test]
    fn skips_by_default_name_or_thumbprint() {
        let now = OffsetDateTime::now_utc();
        let mut sel = Selection::new(now);
        let digicert = ca(
            "DigiCert Global Root CA",
            "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
        );
        // A default skip means "already there", not "never": only --skip means never.
        assert!(sel.is_default_skip(&digicert) && !sel.is_skipped(&digicert));
        assert!(!sel.is_skipped(&ca("Other", "00")));
        sel.extra_skips = vec!["other".into(), "ab:cd".into()];
        assert!(sel.is_skipped(&ca("Other", "00")));
        assert!(sel.is_skipped(&ca("Y", "ABCD")));
        sel.default_skips = false;
        assert!(!sel.is_default_skip(&digicert));
    }
}

/// An entry `refresh --prune` removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub alias: String,
    pub name: String,
    pub sha1: String,
    /// "expired" or "retired".
    pub reason: &'static str,
}

/// Entries we may remove: the alias carries our prefix AND the certificate has expired or is
/// a CA Microsoft retired from the page. Anything else (entries of people or of the JDK, even
/// expired ones) is never touched.
pub fn prunable(
    keystore: &Keystore,
    catalog: &Catalog,
    prefix: &str,
    now: OffsetDateTime,
) -> Vec<Pruned> {
    let prefix = prefix.to_lowercase();
    let mut out: Vec<Pruned> = Vec::new();
    for e in keystore
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::TrustedCert)
    {
        if !e.alias.to_lowercase().starts_with(&prefix) || out.iter().any(|p| p.alias == e.alias) {
            continue;
        }
        let Some(der) = e.certs.first() else { continue };
        let sha1 = crate::cert::sha1_hex(der);
        let info = Certificate::parse(der).ok();
        let name = info
            .as_ref()
            .map(|i| i.display_name().to_string())
            .unwrap_or_else(|| e.alias.clone());
        let retired = catalog
            .cas
            .iter()
            .any(|ca| ca.status == PageStatus::Retired && ca.sha1.eq_ignore_ascii_case(&sha1));
        // A certificate we cannot parse is not ours to judge.
        let expired = info.as_ref().is_some_and(|i| i.is_expired_at(now));
        let reason = if expired {
            "expired"
        } else if retired {
            "retired"
        } else {
            continue;
        };
        out.push(Pruned {
            alias: e.alias.clone(),
            name,
            sha1,
            reason,
        });
    }
    out
}
