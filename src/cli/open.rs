//! Finding, reading and parsing the keystore the user named, with the password policy of
//! the contract. Shared by every command that takes KEYSTORE options.

use std::path::PathBuf;

use super::args::{KeystoreOpts, StoreTypeArg};
use super::password::{self, StorePassword};
use crate::error::{CliResult, ExitKind, Failure};
use crate::keystore::{Keystore, KeystoreError, StoreType};
pub use crate::locate::GIVEN_WITH_K;
use crate::locate::{self, KeystoreLocation};

/// Keystores larger than this are not keystores (the 144-entry cacerts is 180 KB).
const MAX_KEYSTORE_BYTES: u64 = 256 * 1024 * 1024;

pub struct Opened {
    pub path: PathBuf,
    pub how: String,
    pub bytes: Vec<u8>,
    pub keystore: Keystore,
    pub password: StorePassword,
}

pub fn location(opts: &KeystoreOpts) -> CliResult<KeystoreLocation> {
    if let Some(p) = &opts.keystore {
        Ok(KeystoreLocation::File(p.clone()))
    } else if opts.cacerts {
        Ok(KeystoreLocation::Cacerts {
            java_home: opts.java_home.clone(),
        })
    } else if let Some(h) = opts
        .pimsync_home
        .clone()
        .or_else(super::args::pimsync_home_from_env)
    {
        Ok(KeystoreLocation::Pimsync(h))
    } else {
        Err(Failure::usage(
            "no keystore given",
            "this command needs a keystore",
            "Name it with -k FILE, --cacerts (the Java runtime's), or --pimsync-home DIR (or set PIMSYNC_HOME).",
        ))
    }
}

pub fn locate(opts: &KeystoreOpts) -> CliResult<(PathBuf, String)> {
    let loc = location(opts)?;
    let found = locate::resolve(&loc).map_err(|e| {
        Failure::new(
            ExitKind::Keystore,
            "cannot find the keystore",
            match &loc {
                KeystoreLocation::File(p) | KeystoreLocation::Pimsync(p) => p.display().to_string(),
                KeystoreLocation::Cacerts { .. } => "--cacerts".to_string(),
            },
            e,
            "Name the file with -k FILE, or the runtime with --java-home DIR.",
        )
    })?;
    tracing::debug!("keystore {} ({})", found.path.display(), found.how);
    Ok((found.path, found.how))
}

pub fn read_file(path: &std::path::Path) -> CliResult<Vec<u8>> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        let fix = if e.kind() == std::io::ErrorKind::NotFound {
            "Check the path (-k), or use --cacerts / --pimsync-home to find it."
        } else {
            "Check the permissions, or run as the user who owns the keystore."
        };
        Failure::new(ExitKind::Keystore, "cannot read keystore", &shown, e, fix)
    })?;
    if meta.is_dir() {
        return Err(Failure::new(
            ExitKind::Keystore,
            "cannot read keystore",
            &shown,
            "it is a directory",
            "Name the keystore file itself, e.g. .../lib/security/cacerts.",
        ));
    }
    if meta.len() > MAX_KEYSTORE_BYTES {
        return Err(Failure::new(
            ExitKind::Keystore,
            "cannot read keystore",
            &shown,
            format!("{} bytes is far larger than any keystore", meta.len()),
            "Check that -k names a keystore.",
        ));
    }
    std::fs::read(path).map_err(|e| {
        Failure::new(
            ExitKind::Keystore,
            "cannot read keystore",
            &shown,
            e,
            "Check the permissions, or run as the user who owns the keystore.",
        )
    })
}

pub fn expected_type(arg: StoreTypeArg) -> Option<StoreType> {
    match arg {
        StoreTypeArg::Auto => None,
        StoreTypeArg::Jks => Some(StoreType::Jks),
        StoreTypeArg::Jceks => Some(StoreType::Jceks),
        StoreTypeArg::Pkcs12 => Some(StoreType::Pkcs12),
    }
}

/// The one-line failure for a keystore that does not parse.
pub fn keystore_failure(
    path: &std::path::Path,
    err: &KeystoreError,
    password: &StorePassword,
) -> Failure {
    let fix = match err {
        KeystoreError::WrongPassword(_) if !password.explicit => {
            "The default password changeit did not match: pass the right one with --storepass-file FILE or --storepass-env VAR."
        }
        KeystoreError::WrongPassword(_) => {
            "Check the store password; if it is right, the file was modified: restore it from a backup."
        }
        KeystoreError::PasswordRequired(_) => "Pass the store password with --storepass-file FILE or --storepass-env VAR.",
        KeystoreError::TypeMismatch { .. } => "Drop --storetype to detect the format by content.",
        KeystoreError::Unsupported(_) => "Open it with keytool from the JDK that wrote it.",
        _ => "Check that this is the right file; restore it from a backup if it was damaged.",
    };
    Failure::new(
        ExitKind::Keystore,
        "cannot read keystore",
        path.display().to_string(),
        err,
        fix,
    )
}

/// Reads and parses with the store password, verifying integrity.
pub fn open(opts: &KeystoreOpts) -> CliResult<Opened> {
    let (path, how) = locate(opts)?;
    open_at(path, how, opts)
}

/// [`open`] for a path already located (import locks it first).
pub fn open_at(path: PathBuf, how: String, opts: &KeystoreOpts) -> CliResult<Opened> {
    let password = password::resolve(&opts.password)?;
    let bytes = read_file(&path)?;
    let keystore = Keystore::parse(&bytes, expected_type(opts.storetype), Some(&password.value))
        .map_err(|e| keystore_failure(&path, &e, &password))?;
    Ok(Opened {
        path,
        how,
        bytes,
        keystore,
        password,
    })
}

/// Like [`open`], but when no password was given and `changeit` does not match, reads the
/// keystore without verifying its integrity (keytool does the same when no password is
/// typed). Returns whether that happened. For `list` only: nothing is ever written this way.
pub fn open_for_listing(opts: &KeystoreOpts) -> CliResult<(Opened, bool)> {
    let (path, how) = locate(opts)?;
    let password = password::resolve(&opts.password)?;
    let bytes = read_file(&path)?;
    let expected = expected_type(opts.storetype);
    let (keystore, unverified) = match Keystore::parse(&bytes, expected, Some(&password.value)) {
        Ok(keystore) => (keystore, false),
        Err(KeystoreError::WrongPassword(_)) if !password.explicit => {
            let keystore = Keystore::parse(&bytes, expected, None)
                .map_err(|e| keystore_failure(&path, &e, &password))?;
            (keystore, true)
        }
        Err(e) => return Err(keystore_failure(&path, &e, &password)),
    };
    Ok((
        Opened {
            path,
            how,
            bytes,
            keystore,
            password,
        },
        unverified,
    ))
}
