//! Opening the keystore a command names: locate it, resolve the store password, read the file
//! (bounded), parse it. One path for every command, doctor included.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::keystore::{Keystore, KeystoreError, StoreType};
use crate::locate::{self, FoundBy, KeystoreLocation, LocateError};

/// The JDK's default cacerts password, used when none is given (contract).
pub const DEFAULT_STOREPASS: &str = "changeit";

/// Keystores larger than this are not keystores (the 144-entry cacerts is 180 KB).
pub const MAX_KEYSTORE_BYTES: u64 = 256 * 1024 * 1024;

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePassword {
    pub value: String,
    /// False when the value is the `changeit` default rather than something the user gave.
    pub explicit: bool,
}

#[derive(Debug, Error)]
pub enum PasswordError {
    #[error("the environment variable {var} is not set or not valid Unicode")]
    EnvMissing { var: String },
    #[error("cannot read the store password file {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PasswordSource {
    pub fn resolve(&self) -> Result<StorePassword, PasswordError> {
        let explicit = |value: String| StorePassword {
            value,
            explicit: true,
        };
        match self {
            PasswordSource::Default => Ok(StorePassword {
                value: DEFAULT_STOREPASS.to_string(),
                explicit: false,
            }),
            PasswordSource::Given(p) => Ok(explicit(p.clone())),
            PasswordSource::Env(var) => std::env::var(var)
                .map(explicit)
                .map_err(|_| PasswordError::EnvMissing { var: var.clone() }),
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| PasswordError::File {
                    path: path.clone(),
                    source,
                })?;
                // The first line, without its line ending: files written by `echo` or Notepad end in one.
                let first = text.lines().next().unwrap_or("");
                let first = first.strip_prefix('\u{feff}').unwrap_or(first);
                Ok(explicit(first.to_string()))
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

/// A keystore read and parsed.
#[derive(Debug, Clone)]
pub struct Opened {
    pub path: PathBuf,
    pub how: FoundBy,
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
    #[error("it is a directory")]
    Directory { path: PathBuf },
    #[error("{len} bytes is far larger than any keystore")]
    TooLarge { path: PathBuf, len: u64 },
    #[error("{source}")]
    Parse {
        path: PathBuf,
        source: KeystoreError,
        /// Whether the password tried was given by the user (not the `changeit` default).
        password_explicit: bool,
    },
}

impl OpenError {
    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            OpenError::Read { path, .. }
            | OpenError::Directory { path }
            | OpenError::TooLarge { path, .. }
            | OpenError::Parse { path, .. } => Some(path),
            OpenError::Password(PasswordError::File { path, .. }) => Some(path),
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

/// Reads a keystore file, refusing directories and files no keystore could be.
pub fn read_keystore_file(path: &Path) -> Result<Vec<u8>, OpenError> {
    let read_err = |source| OpenError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        return Err(OpenError::Directory {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_KEYSTORE_BYTES {
        return Err(OpenError::TooLarge {
            path: path.to_path_buf(),
            len: meta.len(),
        });
    }
    std::fs::read(path).map_err(read_err)
}

/// Locates, reads and parses with the store password, verifying integrity.
pub fn open(request: &OpenRequest) -> Result<Opened, OpenError> {
    let found = locate(&request.location)?;
    open_at(found, request)
}

/// [`open`] for a file already located (import locks it before reading).
pub fn open_at(found: locate::Located, request: &OpenRequest) -> Result<Opened, OpenError> {
    let password = request.password.resolve()?;
    let bytes = read_keystore_file(&found.path)?;
    let keystore =
        Keystore::parse(&bytes, request.expected, Some(&password.value)).map_err(|source| {
            OpenError::Parse {
                path: found.path.clone(),
                source,
                password_explicit: password.explicit,
            }
        })?;
    Ok(Opened {
        path: found.path,
        how: found.how,
        bytes,
        keystore,
        password,
    })
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
    let password = request.password.resolve()?;
    let bytes = read_keystore_file(&found.path)?;
    let parse_err = |source| OpenError::Parse {
        path: found.path.clone(),
        source,
        password_explicit: password.explicit,
    };
    let (keystore, unverified) =
        match Keystore::parse(&bytes, request.expected, Some(&password.value)) {
            Ok(keystore) => (keystore, false),
            Err(KeystoreError::WrongPassword(_))
                if !password.explicit || lenience == Lenience::AnyPassword =>
            {
                (
                    Keystore::parse(&bytes, request.expected, None).map_err(parse_err)?,
                    true,
                )
            }
            Err(e) => return Err(parse_err(e)),
        };
    Ok((
        Opened {
            path: found.path,
            how: found.how,
            bytes,
            keystore,
            password,
        },
        unverified,
    ))
}
