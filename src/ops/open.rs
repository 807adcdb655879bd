//! Opening the keystore a command names: locate it, resolve the store password, read the file
//! (bounded), parse it. One path for every command, doctor included.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fsio::{self, FileKind, FsioError};
use crate::keystore::{Keystore, KeystoreError, StoreType};
use crate::locate::{self, FoundBy, KeystoreLocation, LocateError};

/// The JDK's default cacerts password, used when none is given (contract).
pub const DEFAULT_STOREPASS: &str = "changeit";

/// Where the store password comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PasswordSource {
    /// `changeit`, the JDK default.
    #[default]
    Default,
    Given(String),
    /// An environment variable's value.
    Env(String),
    /// The first line of a file (a BOM and the line ending removed).
    File(PathBuf),
    /// `javax.net.ssl.trustStorePassword` in the start-up file that named the truststore:
    /// used instead of [`PasswordSource::Default`] when the user gave no password.
    Setting {
        file: PathBuf,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePassword {
    pub value: String,
    /// False when the value is the `changeit` default rather than something the user gave.
    pub explicit: bool,
    /// The start-up file whose `javax.net.ssl.trustStorePassword` this is.
    pub setting: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum PasswordError {
    #[error("the environment variable {var} is not set or not valid Unicode")]
    EnvMissing { var: String },
    #[error("{source}")]
    File { path: PathBuf, source: FsioError },
    #[error("the store password file {} is not text (UTF-8 or UTF-16 with a BOM)", path.display())]
    NotText { path: PathBuf },
}

/// The first line of a password file: UTF-8 (a BOM allowed), or UTF-16 with its BOM as
/// Windows PowerShell 5.1's `>` writes it; the line ending removed.
fn first_line(path: &Path, bytes: &[u8]) -> Result<String, PasswordError> {
    let utf16 = |le: bool, body: &[u8]| {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    let text = match bytes {
        [0xFF, 0xFE, body @ ..] => utf16(true, body),
        [0xFE, 0xFF, body @ ..] => utf16(false, body),
        _ => std::str::from_utf8(bytes).ok().map(str::to_string),
    }
    .ok_or_else(|| PasswordError::NotText {
        path: path.to_path_buf(),
    })?;
    let first = text.lines().next().unwrap_or("");
    Ok(first.strip_prefix('\u{feff}').unwrap_or(first).to_string())
}

impl PasswordSource {
    pub fn resolve(&self) -> Result<StorePassword, PasswordError> {
        let explicit = |value: String| StorePassword {
            value,
            explicit: true,
            setting: None,
        };
        match self {
            PasswordSource::Default => Ok(StorePassword {
                value: DEFAULT_STOREPASS.to_string(),
                explicit: false,
                setting: None,
            }),
            PasswordSource::Setting { file, value } => Ok(StorePassword {
                value: value.clone(),
                explicit: true,
                setting: Some(file.clone()),
            }),
            PasswordSource::Given(p) => Ok(explicit(p.clone())),
            PasswordSource::Env(var) => std::env::var(var)
                .map(explicit)
                .map_err(|_| PasswordError::EnvMissing { var: var.clone() }),
            PasswordSource::File(path) => {
                let bytes = fsio::read_regular_bounded(path, fsio::PASSWORD_FILE_LIMIT).map_err(
                    |source| PasswordError::File {
                        path: path.clone(),
                        source,
                    },
                )?;
                Ok(explicit(first_line(path, &bytes)?))
            }
        }
    }
}

/// Which keystore, and how to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub location: KeystoreLocation,
    /// Refuse another format (default: detect by content).
    pub expected: Option<StoreType>,
    pub password: PasswordSource,
}

impl OpenRequest {
    /// The password to try for a located file: the user's, else the trustStorePassword set
    /// beside the trustStore setting that named it, else the default.
    pub fn password_for(&self, found: &locate::Located) -> PasswordSource {
        match (&self.password, &found.jvm) {
            (
                PasswordSource::Default,
                locate::JvmTrustSettings {
                    file: Some(file),
                    password: Some(value),
                    ..
                },
            ) => PasswordSource::Setting {
                file: file.clone(),
                value: value.clone(),
            },
            (p, _) => p.clone(),
        }
    }
}

/// A keystore read and parsed.
#[derive(Debug, Clone)]
pub struct Opened {
    pub path: PathBuf,
    pub how: FoundBy,
    /// The trustStore* settings found with the file (PIMSYNC start-up files).
    pub jvm: locate::JvmTrustSettings,
    /// The file's bytes as read: the writer checks nobody changed them meanwhile.
    pub bytes: Vec<u8>,
    pub keystore: Keystore,
    pub password: StorePassword,
}

#[derive(Debug, Error)]
pub enum OpenError {
    #[error("{source}")]
    Locate {
        location: KeystoreLocation,
        source: LocateError,
    },
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("{source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("it is {kind}, not a keystore file")]
    NotRegular { path: PathBuf, kind: FileKind },
    #[error("it is larger than {}, far larger than any keystore; it was not read", fsio::human_size(*limit))]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{source}")]
    Parse {
        path: PathBuf,
        source: KeystoreError,
        /// Whether the password tried was given by the user (not the `changeit` default).
        password_explicit: bool,
        /// The start-up file whose trustStorePassword was tried.
        password_setting: Option<PathBuf>,
    },
    /// The file is a certificate, not a keystore (`-k cert.pem`).
    #[error("it is a {} certificate, not a keystore", if *pem { "PEM" } else { "DER" })]
    Certificate { path: PathBuf, pem: bool },
}

/// The error for bytes that do not parse as a keystore: a certificate given where a
/// keystore was expected is named as such.
fn parse_error(
    path: &Path,
    bytes: &[u8],
    source: KeystoreError,
    password: &StorePassword,
) -> OpenError {
    if !matches!(
        source,
        KeystoreError::WrongPassword(_) | KeystoreError::PasswordRequired(_)
    ) {
        let trimmed = bytes.trim_ascii_start();
        if trimmed.starts_with(b"-----BEGIN CERTIFICATE-----")
            || trimmed.starts_with(b"-----BEGIN TRUSTED CERTIFICATE-----")
        {
            return OpenError::Certificate {
                path: path.to_path_buf(),
                pem: true,
            };
        }
        if crate::cert::Certificate::parse(bytes).is_ok() {
            return OpenError::Certificate {
                path: path.to_path_buf(),
                pem: false,
            };
        }
    }
    OpenError::Parse {
        path: path.to_path_buf(),
        source,
        password_explicit: password.explicit,
        password_setting: password.setting.clone(),
    }
}

impl OpenError {
    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            OpenError::Read { path, .. }
            | OpenError::NotRegular { path, .. }
            | OpenError::TooLarge { path, .. }
            | OpenError::Parse { path, .. }
            | OpenError::Certificate { path, .. } => Some(path),
            OpenError::Password(
                PasswordError::File { path, .. } | PasswordError::NotText { path },
            ) => Some(path),
            OpenError::Locate { .. } | OpenError::Password(_) => None,
        }
    }
}

/// Finds the file a location means.
pub fn locate(location: &KeystoreLocation) -> Result<locate::Located, OpenError> {
    let found = locate::resolve(location).map_err(|source| OpenError::Locate {
        location: location.clone(),
        source,
    })?;
    tracing::debug!("keystore {} ({})", found.path.display(), found.how);
    Ok(found)
}

/// Reads a keystore file: a regular file only (a FIFO or device would hang or never end),
/// at most [`fsio::KEYSTORE_LIMIT`] bytes whatever its size claims.
pub fn read_keystore_file(path: &Path) -> Result<Vec<u8>, OpenError> {
    fsio::read_regular_bounded(path, fsio::KEYSTORE_LIMIT).map_err(|e| match e {
        FsioError::NotRegular { path, kind } => OpenError::NotRegular { path, kind },
        FsioError::TooLarge { path, limit } => OpenError::TooLarge { path, limit },
        FsioError::Io { path, source } => OpenError::Read { path, source },
    })
}

/// Locates, reads and parses with the store password, verifying integrity.
pub fn open(request: &OpenRequest) -> Result<Opened, OpenError> {
    let found = locate(&request.location)?;
    open_at(found, request)
}

/// [`open`] for a file already located (import locks it before reading).
pub fn open_at(found: locate::Located, request: &OpenRequest) -> Result<Opened, OpenError> {
    read_and_parse(found, request, None).map(|(opened, _)| opened)
}

/// When [`open_lenient`] may fall back to reading without an integrity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lenience {
    /// Only when the password was the `changeit` default (keytool lists a file it cannot
    /// verify when no password is typed; an explicit wrong password is an error).
    DefaultPasswordOnly,
    /// Whatever the password: a JVM loads its truststore without one (doctor).
    AnyPassword,
}

/// Like [`open`], but when the password does not match, reads the keystore without
/// verifying its integrity. Returns whether that happened. Nothing is ever written from a
/// keystore opened this way: the facade refuses to serialize it.
pub fn open_lenient(
    request: &OpenRequest,
    lenience: Lenience,
) -> Result<(Opened, bool), OpenError> {
    let found = locate(&request.location)?;
    read_and_parse(found, request, Some(lenience))
}

/// Resolves the password, reads the file, parses it; with a `lenience`, a password that does
/// not match falls back to an unverified read (the `bool`).
fn read_and_parse(
    found: locate::Located,
    request: &OpenRequest,
    lenience: Option<Lenience>,
) -> Result<(Opened, bool), OpenError> {
    let password = request.password_for(&found).resolve()?;
    let bytes = read_keystore_file(&found.path)?;
    let parse_err = |source| parse_error(&found.path, &bytes, source, &password);
    let lenient = match lenience {
        None => false,
        Some(Lenience::DefaultPasswordOnly) => !password.explicit,
        Some(Lenience::AnyPassword) => true,
    };
    let (keystore, unverified) =
        match Keystore::parse(&bytes, request.expected, Some(&password.value)) {
            Ok(keystore) => (keystore, false),
            Err(KeystoreError::WrongPassword(_)) if lenient => (
                Keystore::parse(&bytes, request.expected, None).map_err(parse_err)?,
                true,
            ),
            Err(e) => return Err(parse_err(e)),
        };
    Ok((
        Opened {
            path: found.path,
            how: found.how,
            jvm: found.jvm,
            bytes,
            keystore,
            password,
        },
        unverified,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_files_of_every_windows_editor() {
        let p = Path::new("pw.txt");
        let utf16le = |s: &str| {
            let mut b = vec![0xFF, 0xFE];
            b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            b
        };
        assert_eq!(first_line(p, b"s3cret\n").unwrap(), "s3cret");
        assert_eq!(first_line(p, b"\xEF\xBB\xBFs3cret\r\n").unwrap(), "s3cret");
        assert_eq!(
            first_line(p, &utf16le("s3cr\u{e9}t\r\n")).unwrap(),
            "s3cr\u{e9}t"
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend("pw".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(first_line(p, &be).unwrap(), "pw");
        assert_eq!(first_line(p, b"").unwrap(), "");
        assert!(matches!(
            first_line(p, b"\xFF\x00\x80"),
            Err(PasswordError::NotText { .. })
        ));
    }
}
