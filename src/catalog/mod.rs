//! The Azure CA catalog: which CAs Microsoft lists, with pinned thumbprints and (when known)
//! the certificate bytes. Built-in (embedded from certs/), live (Microsoft's page), or an
//! offline bundle. STUB: the full module is being written; the public names below are the
//! interface `diff`/`import` build on.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::error::ExitKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Root,
    Subordinate,
}

/// Where the CA stands on Microsoft's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageStatus {
    Listed,
    Retired,
    Extra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogSource {
    BuiltIn,
    Live,
    Bundle,
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
    pub serial: Option<String>,
    pub not_after: Option<time::Date>,
    pub urls: Vec<String>,
    /// Stable lower-case identifier, used in aliases (`azure-ca-<slug>`) and bundle file names.
    pub slug: String,
    /// The verified DER; None when no copy is available (offline, or not downloaded).
    pub der: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub source: CatalogSource,
    /// The page's ms.date, `YYYY-MM-DD`.
    pub page_date: Option<String>,
    pub cas: Vec<CatalogCa>,
}

/// The SOURCE options of the contract, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    pub online: bool,
    pub catalog_url: Option<String>,
    pub bundle: Option<PathBuf>,
    pub proxy: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("{0}")]
    Other(String),
}

impl CatalogError {
    pub fn exit_kind(&self) -> ExitKind {
        ExitKind::Verification
    }
}

impl Catalog {
    /// The catalog embedded in the binary.
    pub fn builtin() -> Catalog {
        Catalog { source: CatalogSource::BuiltIn, page_date: None, cas: Vec::new() }
    }
}

/// Resolves a SOURCE: built-in, live (with downloads) or bundle.
pub fn load(spec: &SourceSpec) -> Result<Catalog, CatalogError> {
    let _ = spec;
    Ok(Catalog::builtin())
}
