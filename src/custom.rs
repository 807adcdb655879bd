//! Certificates from outside the Azure catalog: the files of `--pem` and the roots of the
//! operating system's trust store (`--from-os-store`). They go through the same plan and the
//! same import transaction as the catalog's CAs ([`crate::plan::CustomCa`]); this module
//! reads them, decides which are wanted, and enforces the pins.
//!
//! `--expect-sha256 HEX` (repeatable) names the certificates the user vouches for. For a
//! file, every CA certificate it holds must be one of them (a file that was swapped or grew
//! a certificate is refused); from the OS store, only they are taken. Either way, a pin that
//! matches nothing read (nor a catalog CA) refuses the run: what was expected is not there.
//! Nothing is written after a refusal.

use std::collections::HashSet;
use std::path::PathBuf;

use thiserror::Error;

use crate::catalog::Catalog;
use crate::cert::file::{self, CertFileError, Form};
use crate::cert::{CertError, Certificate};
use crate::fsio::{self, FsioError};
use crate::osstore::{self, OsStoreError};
use crate::plan::{CaSource, CustomCa};

/// Alias prefix of custom certificates: never the tool's own prefix, so `refresh --prune`
/// never removes them.
pub const ALIAS_PREFIX: &str = "custom-";

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomRequest {
    pub pem_files: Vec<PathBuf>,
    pub from_os_store: bool,
    /// Case-insensitive text the subject or issuer of an OS root must contain (any of them).
    pub issuer_contains: Vec<String>,
    /// Upper-case hex SHA-256 pins.
    pub expect_sha256: Vec<String>,
    /// Take certificates that are not CAs too.
    pub allow_non_ca: bool,
    /// The alias of the one certificate taken (instead of `custom-<name>`).
    pub alias: Option<String>,
}

impl CustomRequest {
    /// Nothing besides the catalog was asked for.
    pub fn is_empty(&self) -> bool {
        self.pem_files.is_empty() && !self.from_os_store
    }
}

/// What became of one certificate read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Wanted: planned like a catalog CA (present, missing, ...).
    Wanted,
    /// Not a CA (no BasicConstraints CA flag): left out without `--allow-non-ca`.
    NotCa,
    /// The same certificate was read before (another file, or earlier in this one).
    Duplicate,
}

/// One certificate as read, in the order read (OS roots: only those selected).
#[derive(Debug, Clone)]
pub struct ReadCert {
    pub cert: Certificate,
    pub source: CaSource,
    /// 1-based position in its file.
    pub position: usize,
    pub fate: Fate,
}

/// A `--pem` file as read.
#[derive(Debug, Clone)]
pub struct FileRead {
    pub path: PathBuf,
    pub form: Form,
    pub count: usize,
    /// What the file held besides certificates (never its content).
    pub left_out: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub files: Vec<FileRead>,
    /// Where the OS roots were read, and how many it holds.
    pub os_store: Option<(String, usize)>,
    /// OS roots that do not parse (left out).
    pub os_unparsed: usize,
    pub read: Vec<ReadCert>,
    /// The wanted ones, for [`crate::plan::Selection::custom`].
    pub wanted: Vec<CustomCa>,
}

#[derive(Debug, Error)]
pub enum CustomError {
    #[error("{source}")]
    Read { path: PathBuf, source: FsioError },
    #[error("{source}")]
    Parse {
        path: PathBuf,
        source: CertFileError,
    },
    #[error("certificate {position} of the file does not parse: {source}")]
    Malformed {
        path: PathBuf,
        position: usize,
        source: CertError,
    },
    #[error("certificate {position} ({subject}, SHA-256 {sha256}) is not one of the --expect-sha256 values")]
    Unpinned {
        path: PathBuf,
        position: usize,
        subject: String,
        sha256: String,
    },
    #[error("no certificate read has the expected SHA-256 {sha256} (read: {searched})")]
    PinNotFound { sha256: String, searched: String },
    #[error("{0}")]
    OsStore(#[from] OsStoreError),
    #[error("--from-os-store takes no root without --issuer-contains TEXT or --expect-sha256 HEX")]
    NoFilter,
    #[error("--alias names one entry, but {count} certificates are to be taken")]
    AliasForMany { count: usize },
}

impl CustomError {
    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            CustomError::Read { path, .. }
            | CustomError::Parse { path, .. }
            | CustomError::Malformed { path, .. }
            | CustomError::Unpinned { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// `custom-<name>`: the CN (else the subject) folded to lower-case letters, digits and
/// dashes; the SHA-256's first digits when nothing is left.
pub fn default_alias(cert: &Certificate) -> String {
    let mut slug = String::new();
    for ch in cert.display_name().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!(
            "{ALIAS_PREFIX}{}",
            cert.sha256.get(..12).unwrap_or("").to_ascii_lowercase()
        )
    } else {
        format!("{ALIAS_PREFIX}{slug}")
    }
}

/// Reads the files and the OS store, decides what is wanted, checks the pins.
pub fn load(request: &CustomRequest, catalog: &Catalog) -> Result<Loaded, CustomError> {
    let mut out = Loaded::default();
    if request.is_empty() {
        return Ok(out);
    }
    let pins = &request.expect_sha256;
    if request.from_os_store && request.issuer_contains.is_empty() && pins.is_empty() {
        return Err(CustomError::NoFilter);
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut all_sha256: Vec<String> = Vec::new();
    let wanted_ca = |c: &Certificate| c.is_ca || request.allow_non_ca;

    for path in &request.pem_files {
        let bytes = fsio::read_regular_bounded(path, fsio::CERT_FILE_LIMIT).map_err(|source| {
            CustomError::Read {
                path: path.clone(),
                source,
            }
        })?;
        let read = file::read(&bytes).map_err(|source| CustomError::Parse {
            path: path.clone(),
            source,
        })?;
        out.files.push(FileRead {
            path: path.clone(),
            form: read.form,
            count: read.certs.len(),
            left_out: read.left_out,
        });
        for (i, der) in read.certs.iter().enumerate() {
            let position = i + 1;
            let cert = Certificate::parse(der).map_err(|source| CustomError::Malformed {
                path: path.clone(),
                position,
                source,
            })?;
            all_sha256.push(cert.sha256.clone());
            let fate = if !seen.insert(cert.sha256.clone()) {
                Fate::Duplicate
            } else if !wanted_ca(&cert) {
                Fate::NotCa
            } else {
                Fate::Wanted
            };
            if fate == Fate::Wanted && !pins.is_empty() && !pins.contains(&cert.sha256) {
                return Err(CustomError::Unpinned {
                    path: path.clone(),
                    position,
                    subject: cert.subject.clone(),
                    sha256: cert.sha256.clone(),
                });
            }
            out.read.push(ReadCert {
                cert,
                source: CaSource::File(path.clone()),
                position,
                fate,
            });
        }
    }

    if request.from_os_store {
        let roots = osstore::load()?;
        out.os_store = Some((roots.location.clone(), roots.certs.len()));
        let wanted_text: Vec<String> = request
            .issuer_contains
            .iter()
            .map(|t| t.to_lowercase())
            .collect();
        for (i, der) in roots.certs.iter().enumerate() {
            // A root the OS holds but x509-parser cannot read is not one to import anyway.
            let Ok(cert) = Certificate::parse(der) else {
                out.os_unparsed += 1;
                continue;
            };
            all_sha256.push(cert.sha256.clone());
            let named = wanted_text.is_empty()
                || wanted_text.iter().any(|t| {
                    cert.subject.to_lowercase().contains(t)
                        || cert.issuer.to_lowercase().contains(t)
                });
            let pinned = pins.is_empty() || pins.contains(&cert.sha256);
            if !(named && pinned && wanted_ca(&cert)) {
                continue;
            }
            let fate = if !seen.insert(cert.sha256.clone()) {
                Fate::Duplicate
            } else {
                Fate::Wanted
            };
            out.read.push(ReadCert {
                cert,
                source: CaSource::OsStore(roots.location.clone()),
                position: i + 1,
                fate,
            });
        }
    }

    let in_catalog = |h: &String| {
        catalog.cas.iter().any(|c| {
            c.sha256.as_ref() == Some(h)
                || c.der
                    .as_deref()
                    .is_some_and(|d| &crate::cert::sha256_hex(d) == h)
        })
    };
    if let Some(missing) = pins
        .iter()
        .find(|p| !all_sha256.contains(p) && !in_catalog(p))
    {
        let mut searched: Vec<String> = request
            .pem_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        if let Some((loc, _)) = &out.os_store {
            searched.push(loc.clone());
        }
        return Err(CustomError::PinNotFound {
            sha256: missing.clone(),
            searched: searched.join(", "),
        });
    }

    let wanted: Vec<&ReadCert> = out.read.iter().filter(|r| r.fate == Fate::Wanted).collect();
    if request.alias.is_some() && wanted.len() > 1 {
        return Err(CustomError::AliasForMany {
            count: wanted.len(),
        });
    }
    out.wanted = wanted
        .into_iter()
        .map(|r| CustomCa {
            alias: match &request.alias {
                Some(a) => a.trim().to_lowercase(),
                None => default_alias(&r.cert),
            },
            cert: r.cert.clone(),
            source: r.source.clone(),
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> Certificate {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs/pem")
            .join(name);
        let bytes = std::fs::read(path).unwrap();
        Certificate::parse(&file::read(&bytes).unwrap().certs[0]).unwrap()
    }

    #[test]
    fn aliases_are_lower_case_slugs() {
        let c = builtin("digicert-global-root-g2.pem");
        assert_eq!(default_alias(&c), "custom-digicert-global-root-g2");
    }

    #[test]
    fn files_must_match_the_pins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pem");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("certs/pem/baltimore-cybertrust-root.pem"),
            &path,
        )
        .unwrap();
        let sha = builtin("baltimore-cybertrust-root.pem").sha256;
        let mut req = CustomRequest {
            pem_files: vec![path.clone()],
            ..CustomRequest::default()
        };
        let empty = Catalog::default();
        assert_eq!(load(&req, &empty).unwrap().wanted.len(), 1);
        req.expect_sha256 = vec![sha.clone()];
        assert_eq!(load(&req, &empty).unwrap().wanted.len(), 1);
        req.expect_sha256 = vec!["00".repeat(32)];
        assert!(matches!(
            load(&req, &empty),
            Err(CustomError::Unpinned { .. })
        ));
        req.expect_sha256 = vec![sha, "AB".repeat(32)];
        assert!(matches!(
            load(&req, &empty),
            Err(CustomError::PinNotFound { .. })
        ));
        req.expect_sha256.clear();
        req.from_os_store = true;
        assert!(matches!(load(&req, &empty), Err(CustomError::NoFilter)));
    }
}
