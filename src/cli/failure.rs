//! The user-facing failure: one line, an exit code from the contract.
//!
//! Library modules have their own precise error enums; this is the one place that turns each
//! of them into a [`Failure`]: what failed, the file or CA, why, what to do, and the exit code.

use std::fmt;

use crate::catalog::CatalogError;
use crate::keystore::{JavaLoadProblem, KeystoreError};
use crate::locate::KeystoreLocation;
use crate::lock::LockError;
use crate::ops::refresh::ConfigError;
use crate::ops::{ApplyError, OpenError};
use crate::proxy::ProxyError;
use crate::write::WriteError;

/// Exit codes of the contract (README.md and docs/usage.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 2: the command line is wrong.
    Usage,
    /// 3: keystore unreadable, wrong password, corrupt, unsupported, not writable.
    Keystore,
    /// 4: a network error stopped the job.
    Network,
    /// 5: thumbprint mismatch, bad signature, malformed certificate.
    Verification,
}

impl ExitKind {
    pub fn code(self) -> i32 {
        match self {
            ExitKind::Usage => 2,
            ExitKind::Keystore => 3,
            ExitKind::Network => 4,
            ExitKind::Verification => 5,
        }
    }
}

/// `error: <what> (<file or CA>): <why>. <what to do>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ExitKind,
    pub what: String,
    pub subject: String,
    pub why: String,
    pub fix: String,
}

impl Failure {
    pub fn new(
        kind: ExitKind,
        what: impl Into<String>,
        subject: impl Into<String>,
        why: impl fmt::Display,
        fix: impl Into<String>,
    ) -> Self {
        Failure {
            kind,
            what: what.into(),
            subject: subject.into(),
            why: why.to_string(),
            fix: fix.into(),
        }
    }

    pub fn usage(what: impl Into<String>, why: impl fmt::Display, fix: impl Into<String>) -> Self {
        Failure::new(ExitKind::Usage, what, "command line", why, fix)
    }

    /// `fetch`: listed CAs without a pinned copy whose download failed. The run produced
    /// everything else (and the bundle, when `written`), so this is reported after the output.
    pub fn downloads_failed(names: &[String], written: bool) -> Self {
        let n = names.len();
        Failure::new(
            ExitKind::Network,
            format!(
                "cannot download {n} listed CA{}",
                if n == 1 { "" } else { "s" }
            ),
            names.join(", "),
            if written {
                "the network failed (see the warnings above); the bundle was written without them and records them as unavailable"
            } else {
                "the network failed (see the warnings above); they are unavailable in this run"
            },
            "Run fetch again when those addresses are reachable (check --proxy or HTTPS_PROXY)",
        )
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.code()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it on one line whatever the parts contain: scripts grep stderr.
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        let why = one_line(&self.why);
        let why = why.trim_end_matches('.');
        write!(
            f,
            "{} ({}): {}.",
            one_line(&self.what),
            one_line(&self.subject),
            why
        )?;
        if !self.fix.is_empty() {
            write!(f, " {}", one_line(&self.fix))?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

pub type CliResult<T> = Result<T, Failure>;

// ---- keystores: locating, reading, parsing

fn location_subject(location: &KeystoreLocation) -> String {
    match location {
        KeystoreLocation::File(p) | KeystoreLocation::Pimsync(p) => p.display().to_string(),
        KeystoreLocation::Cacerts { .. } => "--cacerts".to_string(),
    }
}

/// The fix for a keystore that does not parse.
fn keystore_fix(err: &KeystoreError, password_explicit: bool) -> String {
    match err {
        KeystoreError::WrongPassword(_) if !password_explicit => {
            "The default password changeit did not match: pass the right one with --storepass-file FILE or --storepass-env VAR.".into()
        }
        KeystoreError::WrongPassword(_) => {
            "Check the store password; if it is right, the file was modified: restore it from a backup.".into()
        }
        KeystoreError::PasswordRequired(_) => {
            "No store password was given: pass it with --storepass-file FILE or --storepass-env VAR.".into()
        }
        KeystoreError::TypeMismatch { .. } => "Drop --storetype to detect the format by content.".into(),
        KeystoreError::BouncyCastle { format } => format!(
            "It is not damaged. Convert it to PKCS12 with keytool and the Bouncy Castle provider: keytool -importkeystore -srcstoretype {format} -providerpath bcprov.jar -providerclass org.bouncycastle.jce.provider.BouncyCastleProvider -srckeystore FILE -deststoretype PKCS12 -destkeystore FILE.p12, then use the .p12."
        ),
        KeystoreError::JavaCannotLoad(p) => match p {
            JavaLoadProblem::SealedKey { .. } => "Java cannot load it either (keytool: Invalid secret key format): re-create that secret key with the tool that wrote it, or restore the keystore from a backup.".into(),
            JavaLoadProblem::Pbes2Cipher { .. } => "Java cannot load it either: re-export it with AES-256-CBC (e.g. openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC).".into(),
            JavaLoadProblem::Pbmac1 => "JDK 17 and 25 keytool cannot open it either: re-export it with a classic MAC (openssl pkcs12 -export -macalg sha256, without -pbmac1_pbkdf2).".into(),
            _ => "Java cannot load it either: re-export it from the tool that made it.".into(),
        },
        KeystoreError::Unsupported(_) => {
            "azure-cacerts cannot read that part of the file; if keytool -list opens it, convert it with keytool -importkeystore -deststoretype PKCS12 and use the result.".into()
        }
        _ => "Check that this is the right file; restore it from a backup if it was damaged.".into(),
    }
}

impl From<&OpenError> for Failure {
    fn from(e: &OpenError) -> Failure {
        let keystore = |path: &std::path::Path, why: &dyn fmt::Display, fix: &str| {
            Failure::new(
                ExitKind::Keystore,
                "cannot read keystore",
                path.display().to_string(),
                why,
                fix,
            )
        };
        match e {
            OpenError::Locate { location, source } => Failure::new(
                ExitKind::Keystore,
                "cannot find the keystore",
                location_subject(location),
                source,
                "Name the file with -k FILE, or the runtime with --java-home DIR.",
            ),
            OpenError::Password(crate::ops::open::PasswordError::EnvMissing { var }) => {
                Failure::new(
                    ExitKind::Usage,
                    "no store password",
                    format!("environment variable {var}"),
                    "the variable is not set or not valid Unicode",
                    format!("Set {var}, or pass --storepass-file FILE."),
                )
            }
            OpenError::Password(crate::ops::open::PasswordError::File { path, source }) => {
                Failure::new(
                    ExitKind::Usage,
                    "cannot read the store password file",
                    path.display().to_string(),
                    source,
                    "Check the path and its permissions; give a regular file.",
                )
            }
            OpenError::Password(crate::ops::open::PasswordError::NotText { path }) => Failure::new(
                ExitKind::Usage,
                "cannot read the store password file",
                path.display().to_string(),
                e,
                "Save it as UTF-8 (or UTF-16 with a BOM) with the password on the first line.",
            ),
            OpenError::Read { path, source } => {
                let fix = if source.kind() == std::io::ErrorKind::NotFound {
                    "Check the path (-k), or use --cacerts / --pimsync-home to find it."
                } else {
                    "Check the permissions, or run as the user who owns the keystore."
                };
                keystore(path, source, fix)
            }
            OpenError::NotRegular { path, .. } => keystore(
                path,
                e,
                "Name the keystore file itself, e.g. .../lib/security/cacerts.",
            ),
            OpenError::TooLarge { path, .. } => {
                keystore(path, e, "Check that -k names a keystore.")
            }
            OpenError::Parse {
                path,
                source,
                password_setting: Some(file),
                ..
            } if matches!(source, KeystoreError::WrongPassword(_)) => keystore(
                path,
                source,
                &format!(
                    "The password tried is javax.net.ssl.trustStorePassword from {}; correct it there, or pass the right one with --storepass-file FILE.",
                    file.display()
                ),
            ),
            OpenError::Parse {
                path,
                source,
                password_explicit,
                ..
            } => keystore(path, source, &keystore_fix(source, *password_explicit)),
            OpenError::Certificate { path, .. } => {
                let file = crate::suggest::quote_arg(&path.display().to_string());
                keystore(
                    path,
                    e,
                    &format!(
                        "-k names the keystore (e.g. --cacerts for the Java runtime's). To see whether a keystore trusts this certificate: azure-cacerts check -k KEYSTORE --chain {file}; to import it by hand: keytool -importcert -file {file} -alias NAME -keystore KEYSTORE"
                    ),
                )
            }
        }
    }
}

impl From<OpenError> for Failure {
    fn from(e: OpenError) -> Failure {
        Failure::from(&e)
    }
}

// ---- the import transaction

/// What to do when the account running us may not change a file.
const NEEDS_RIGHTS: &str =
    "Run as root (Windows: from an elevated administrator prompt) or as the keystore's owner";

impl From<&WriteError> for Failure {
    fn from(e: &WriteError) -> Failure {
        let permission = matches!(e, WriteError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied);
        let fix = match e {
            WriteError::ReadOnly { .. } => format!("Make it writable, or {}; nothing was changed.", lower_first(NEEDS_RIGHTS)),
            WriteError::Changed { .. } => "Another program (keytool, a package update, another run) wrote it meanwhile; run again. Nothing was changed by us.".into(),
            WriteError::Io { after_rename: true, .. } => "The keystore WAS updated and its backup kept: check it with azure-cacerts list, then restart Java.".into(),
            WriteError::Verify { after_rename: true, .. } => "The keystore was changed and may not be what we wrote: restore the backup if Java cannot load it, and report a bug.".into(),
            WriteError::Verify { .. } => "The original keystore was kept; report this as a bug with the keystore type.".into(),
            // EPERM on the rename itself: for root that is an immutable or append-only file
            // or directory (chattr +i / +a), which no right overrides.
            WriteError::Io { what: "replace", path, source, .. }
                if cfg!(unix) && source.raw_os_error() == Some(1) =>
            {
                let dir = path.parent().map_or_else(|| ".".into(), |d| d.display().to_string());
                format!(
                    "{NEEDS_RIGHTS}; if you already are, the file or its directory is marked immutable or append-only: see lsattr -d {} {dir}, and chattr -i; nothing was changed.",
                    path.display()
                )
            }
            WriteError::Io { .. } if permission => format!("{NEEDS_RIGHTS}; nothing was changed."),
            WriteError::Io { .. } => "The original keystore was kept; fix the cause (disk space, permissions) and run again.".into(),
        };
        Failure::new(
            ExitKind::Keystore,
            "cannot write keystore",
            e.path().display().to_string(),
            e,
            fix,
        )
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

impl From<&ApplyError> for Failure {
    fn from(e: &ApplyError) -> Failure {
        match e {
            ApplyError::Open(e) => Failure::from(&**e),
            ApplyError::Lock {
                keystore, source, ..
            } => lock_failure(keystore, source),
            ApplyError::Prune {
                keystore,
                alias,
                source,
            } => Failure::new(
                ExitKind::Keystore,
                "cannot prune an entry",
                format!("{} alias {alias}", keystore.display()),
                source,
                "Nothing was changed; remove it with keytool -delete if it must go.",
            ),
            ApplyError::Add { ca_name, source } => Failure::new(
                ExitKind::Keystore,
                "cannot add a certificate",
                ca_name,
                source,
                "Report this as a bug; the keystore was not changed.",
            ),
            ApplyError::Serialize { keystore, source } => Failure::new(
                ExitKind::Keystore,
                "cannot read keystore",
                keystore.display().to_string(),
                source,
                keystore_fix(source, true),
            ),
            ApplyError::Write(w) => Failure::from(w),
        }
    }
}

impl From<ApplyError> for Failure {
    fn from(e: ApplyError) -> Failure {
        Failure::from(&e)
    }
}

fn lock_failure(keystore: &std::path::Path, e: &LockError) -> Failure {
    let (what, fix) = match e {
        LockError::Busy { .. } => (
            "keystore is locked",
            "Wait for the other run to finish, or raise --lock-timeout.".to_string(),
        ),
        LockError::PermissionDenied { .. } => (
            "cannot lock keystore",
            format!("{NEEDS_RIGHTS}, or put the lock elsewhere with --lock-file FILE; nothing was changed."),
        ),
        LockError::ReadOnlyFilesystem { .. } => (
            "cannot lock keystore",
            "The keystore is on a read-only file system (an image layer, a read-only mount): it cannot be updated there; remount it read-write.".to_string(),
        ),
        LockError::Symlink { .. } => (
            "cannot lock keystore",
            "Something put a symbolic link at the lock path: find out who, remove it, and run again; nothing was changed.".to_string(),
        ),
        LockError::NotRegular { .. } => (
            "cannot lock keystore",
            "Remove what is at the lock path, or choose another --lock-file; nothing was changed.".to_string(),
        ),
        LockError::Io { .. } => (
            "cannot lock keystore",
            "Fix the cause (disk space, inodes: df -i) and run again; nothing was changed.".to_string(),
        ),
    };
    Failure::new(
        ExitKind::Keystore,
        what,
        keystore.display().to_string(),
        e,
        fix,
    )
}

// ---- refresh

impl From<&ConfigError> for Failure {
    fn from(e: &ConfigError) -> Failure {
        match e {
            ConfigError::Read { path, source } => Failure::new(
                ExitKind::Usage,
                "cannot read the config file",
                path.display().to_string(),
                source,
                "Check --config.",
            ),
            ConfigError::Invalid { path, why } => Failure::new(
                ExitKind::Usage,
                "invalid config file",
                path.display().to_string(),
                why,
                "See docs/scheduling.md for the format.",
            ),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure::from(&e)
    }
}

// ---- proxies

impl From<&ProxyError> for Failure {
    fn from(e: &ProxyError) -> Failure {
        let ProxyError::Invalid { origin, url, why } = e;
        let fix = if origin == "--proxy" {
            "Give an http:// proxy URL, e.g. --proxy http://proxy.example:3128."
        } else {
            "Correct or unset the variable, or pass --proxy http://HOST:PORT."
        };
        Failure::new(
            ExitKind::Usage,
            "bad proxy setting",
            origin,
            format!("{url:?} is not a proxy URL: {why}"),
            fix,
        )
    }
}

// ---- catalogs

/// Network → 4; anything that makes the bytes untrustworthy (a thumbprint mismatch, a
/// malformed or badly signed certificate, a page that does not parse, a tampered or
/// incomplete bundle) → 5; a bundle directory that is missing or not a bundle, an output
/// directory that cannot be written, or a bad option value → 2 (the command line points at the
/// wrong place).
fn catalog_exit(e: &CatalogError) -> ExitKind {
    match e {
        CatalogError::Network { .. } => ExitKind::Network,
        CatalogError::Verification { .. }
        | CatalogError::Page { .. }
        | CatalogError::BundleInvalid { .. }
        | CatalogError::Builtin { .. } => ExitKind::Verification,
        CatalogError::BundleMissing { .. }
        | CatalogError::Output { .. }
        | CatalogError::Option { .. } => ExitKind::Usage,
    }
}

impl From<&CatalogError> for Failure {
    fn from(e: &CatalogError) -> Failure {
        let kind = catalog_exit(e);
        match e {
            CatalogError::Network { url, ca, why } => Failure::new(
                kind,
                "cannot download",
                match ca {
                    Some(ca) => format!("{ca}, {url}"),
                    None => url.clone(),
                },
                why,
                "Check the network and the proxy (--proxy, HTTPS_PROXY/HTTP_PROXY), raise --timeout, \
                 or work offline with the built-in catalog (no --online) or a bundle (--bundle DIR)",
            ),
            CatalogError::Verification { ca, why } => Failure::new(
                kind,
                "certificate rejected",
                ca,
                why,
                "Nothing was written. Do not trust this copy; try again later, or use the built-in \
                 catalog (no --online) and report the mismatch",
            ),
            CatalogError::Page { url, why } => Failure::new(
                kind,
                "cannot use the CA page",
                url,
                why,
                "The page layout may have changed: use the built-in catalog (no --online), or point \
                 --catalog-url at the page's markdown source",
            ),
            CatalogError::BundleMissing { path, why } => Failure::new(
                kind,
                "cannot open bundle",
                path.display().to_string(),
                why,
                "Pass a directory written by `azure-cacerts fetch --out DIR`",
            ),
            CatalogError::BundleInvalid { path, why } => Failure::new(
                kind,
                "bundle rejected",
                path.display().to_string(),
                why,
                "The bundle was altered or damaged: write it again with `azure-cacerts fetch --out DIR`",
            ),
            CatalogError::Output { path, why } => Failure::new(
                kind,
                "cannot write bundle",
                path.display().to_string(),
                why,
                "Choose a writable directory for --out (nothing was written)",
            ),
            CatalogError::Option { option, why } => Failure::new(
                kind,
                "bad option",
                option,
                why,
                "Correct the value and run again",
            ),
            CatalogError::Builtin { why } => Failure::new(
                kind,
                "built-in catalog is broken",
                "azure-cacerts",
                why,
                "This is a build problem: reinstall azure-cacerts, or use --online or --bundle DIR",
            ),
        }
    }
}

impl From<CatalogError> for Failure {
    fn from(e: CatalogError) -> Failure {
        Failure::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_exit_codes_follow_the_contract() {
        let net = CatalogError::Network {
            url: "u".into(),
            ca: None,
            why: "w".into(),
        };
        let f = Failure::from(&net);
        assert_eq!(f.exit_code(), 4);
        assert!(f.to_string().starts_with("cannot download (u): w."), "{f}");
        let v = CatalogError::Verification {
            ca: "X".into(),
            why: "w".into(),
        };
        assert_eq!(Failure::from(&v).exit_code(), 5);
        let p = CatalogError::Page {
            url: "u".into(),
            why: "w".into(),
        };
        assert_eq!(Failure::from(&p).exit_code(), 5);
        let b = CatalogError::BundleMissing {
            path: "d".into(),
            why: "w".into(),
        };
        assert_eq!(Failure::from(&b).exit_code(), 2);
    }

    #[test]
    fn renders_contract_shape_on_one_line() {
        let f = Failure::new(
            ExitKind::Keystore,
            "cannot read keystore",
            "/tmp/x.jks",
            "wrong password or tampered keystore\n(digest mismatch).",
            "Pass the store password with --storepass-file.",
        );
        assert_eq!(
            f.to_string(),
            "cannot read keystore (/tmp/x.jks): wrong password or tampered keystore (digest mismatch). Pass the store password with --storepass-file."
        );
        assert_eq!(f.exit_code(), 3);
    }
}
