//! The root CAs the operating system trusts, for `--from-os-store` and for naming a
//! TLS-inspecting proxy's root that the OS has but Java lacks.
//!
//! - Linux (and other Unix): the distribution's PEM bundle, the first of [`BUNDLES`] that
//!   exists (Debian/Ubuntu, RHEL/Fedora, SUSE, Alpine), read through [`crate::fsio`].
//! - Windows: the machine's `ROOT` store (which shows the roots deployed by group policy and
//!   the enterprise store as well) and the current user's, through `schannel`.
//! - Either: the environment variable [`BUNDLE_ENV`] names a PEM/DER/PKCS#7 file to read
//!   instead (tests, and machines whose trust bundle lives elsewhere).
//!
//! Nothing here filters: which roots are wanted is the caller's choice ([`crate::custom`]).

use std::path::PathBuf;

use thiserror::Error;

use crate::cert::file::{self, CertFileError};
use crate::fsio::{self, FsioError};

/// A file to read as the OS trust store instead of the system's.
pub const BUNDLE_ENV: &str = "AZURE_CACERTS_OS_TRUST_BUNDLE";

/// The distributions' bundles of trusted roots, in the order they are looked for.
pub const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The roots, and where they were read.
#[derive(Debug, Clone)]
pub struct OsRoots {
    /// DER, as the store holds them (duplicates removed).
    pub certs: Vec<Vec<u8>>,
    /// "/etc/ssl/certs/ca-certificates.crt", or "the Windows ROOT stores (...)".
    pub location: String,
}

#[derive(Debug, Error)]
pub enum OsStoreError {
    #[error("{source}")]
    Read { path: PathBuf, source: FsioError },
    #[error("{source}")]
    Parse {
        path: PathBuf,
        source: CertFileError,
    },
    /// No bundle at any of the known places.
    #[error("no trust bundle at {}", BUNDLES.join(", "))]
    NotFound,
    /// The Windows certificate store could not be opened.
    #[error("{0}")]
    Windows(String),
}

/// The roots the operating system trusts (or those of the file [`BUNDLE_ENV`] names).
pub fn load() -> Result<OsRoots, OsStoreError> {
    if let Some(path) = std::env::var_os(BUNDLE_ENV).filter(|v| !v.is_empty()) {
        return read_bundle(PathBuf::from(path));
    }
    system()
}

#[cfg(not(windows))]
fn system() -> Result<OsRoots, OsStoreError> {
    let found = BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(OsStoreError::NotFound)?;
    read_bundle(found)
}

#[cfg(windows)]
fn system() -> Result<OsRoots, OsStoreError> {
    use schannel::cert_store::CertStore;
    let mut certs = Vec::new();
    let mut opened = Vec::new();
    let mut errors = Vec::new();
    for (name, store) in [
        ("LocalMachine\\Root", CertStore::open_local_machine("ROOT")),
        ("CurrentUser\\Root", CertStore::open_current_user("ROOT")),
    ] {
        match store {
            Ok(s) => {
                opened.push(name);
                certs.extend(s.certs().map(|c| c.to_der().to_vec()));
            }
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    if opened.is_empty() {
        return Err(OsStoreError::Windows(format!(
            "cannot open the Windows certificate store ({})",
            errors.join("; ")
        )));
    }
    Ok(OsRoots {
        certs: dedup(certs),
        location: format!("the Windows certificate store ({})", opened.join(", ")),
    })
}

fn read_bundle(path: PathBuf) -> Result<OsRoots, OsStoreError> {
    let bytes = fsio::read_regular_bounded(&path, fsio::CERT_FILE_LIMIT).map_err(|source| {
        OsStoreError::Read {
            path: path.clone(),
            source,
        }
    })?;
    let read = file::read(&bytes).map_err(|source| OsStoreError::Parse {
        path: path.clone(),
        source,
    })?;
    Ok(OsRoots {
        certs: dedup(read.certs),
        location: path.display().to_string(),
    })
}

fn dedup(certs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashSet::new();
    certs
        .into_iter()
        .filter(|c| seen.insert(crate::cert::sha256_hex(c)))
        .collect()
}
