//! `diff` and the import transaction: lock, read, plan, prune, add, serialize, replace
//! atomically, verify. Returns what happened as data; the command line renders it.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use time::OffsetDateTime;

use super::open::{self, OpenError, OpenRequest, Opened};
use crate::anchors::AnchorSet;
use crate::catalog::Catalog;
use crate::cert::sha256_hex;
use crate::keystore::{EntryKind, Keystore, KeystoreError, StoreType};
use crate::locate::{self, FoundBy, Managed};
use crate::lock::{self, LockError, StaleLock};
use crate::plan::{self, CaStatus, Plan, Pruned, Selection};
use crate::write::{self, Backup, ReplaceOptions, WriteError, WriteWarning};

/// What a keystore is, as every report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreSummary {
    pub path: PathBuf,
    /// The file read and written once symbolic links are followed (a Debian JDK's
    /// lib/security/cacerts is /etc/ssl/certs/java/cacerts).
    pub real_path: PathBuf,
    /// Set when the real file is one the operating system regenerates.
    pub managed: Option<Managed>,
    pub how: FoundBy,
    pub store_type: StoreType,
    pub entries: usize,
    pub password_protected: bool,
    /// The start-up file whose `javax.net.ssl.trustStorePassword` opened the keystore.
    pub password_setting: Option<PathBuf>,
    /// `javax.net.ssl.trustStoreType` set for this truststore, and the file that sets it.
    pub type_setting: Option<(String, PathBuf)>,
}

impl KeystoreSummary {
    /// The real file when it is not the path given (a link was followed).
    pub fn real_if_different(&self) -> Option<&std::path::Path> {
        locate::leads_elsewhere(&self.path, &self.real_path).then_some(self.real_path.as_path())
    }

    /// A trustStoreType setting that does not name this keystore's format: the JVM that
    /// reads the setting may refuse the file.
    pub fn type_setting_mismatch(&self) -> Option<&(String, PathBuf)> {
        let matches = |t: &str| {
            t.eq_ignore_ascii_case(self.store_type.as_str())
                // Java 9+ reads PKCS12 through a JKS keystore and JKS through PKCS12.
                || (t.eq_ignore_ascii_case("jks") && self.store_type == StoreType::Pkcs12)
                || (t.eq_ignore_ascii_case("pkcs12") && self.store_type == StoreType::Jks)
                // The JCEKS provider reads JKS files too.
                || (t.eq_ignore_ascii_case("jceks") && self.store_type == StoreType::Jks)
        };
        self.type_setting.as_ref().filter(|(t, _)| !matches(t))
    }

    pub fn of(opened: &Opened) -> KeystoreSummary {
        KeystoreSummary::with(opened, &opened.keystore)
    }

    fn with(opened: &Opened, keystore: &Keystore) -> KeystoreSummary {
        let real_path = locate::real_path(&opened.path);
        KeystoreSummary {
            path: opened.path.clone(),
            managed: Managed::of_real_path(&real_path),
            real_path,
            how: opened.how.clone(),
            store_type: keystore.store_type(),
            entries: keystore.entries().len(),
            password_protected: keystore.is_password_protected(),
            password_setting: opened.password.setting.clone(),
            type_setting: opened.jvm.store_type.clone().zip(opened.jvm.file.clone()),
        }
    }
}

/// What `diff` found: the keystore and, for every candidate CA, its status.
#[derive(Debug, Clone)]
pub struct Diff {
    pub keystore: KeystoreSummary,
    pub plan: Plan,
}

/// Compares a keystore with the catalog. Changes nothing.
pub fn diff(
    request: &OpenRequest,
    catalog: &Catalog,
    selection: &Selection,
) -> Result<Diff, OpenError> {
    let opened = open::open(request)?;
    let plan = plan::plan(
        catalog,
        &AnchorSet::from_keystore(&opened.keystore),
        selection,
    );
    Ok(Diff {
        keystore: KeystoreSummary::of(&opened),
        plan,
    })
}

/// How `import` and `refresh` change a keystore.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    pub backup: Backup,
    pub alias_prefix: String,
    /// Default: `<keystore>.lock` beside the real file.
    pub lock_file: Option<PathBuf>,
    pub lock_timeout: Duration,
    /// Also remove our own entries (alias prefix) that expired or left the page.
    pub prune: bool,
    pub now: OffsetDateTime,
}

/// An entry the transaction added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub alias: String,
    pub sha256: String,
    pub ca_name: String,
}

/// The file that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The real file (a symlink's target when the keystore path is a link).
    pub target: PathBuf,
    pub backup: Option<PathBuf>,
    /// What the caller should tell although the write happened (not durable, hard links).
    pub warnings: Vec<WriteWarning>,
    /// Temporary files of earlier, killed runs that were removed.
    pub stray_removed: Vec<PathBuf>,
}

/// What one keystore went through.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The keystore after the transaction (before it when nothing changed).
    pub keystore: KeystoreSummary,
    pub entries_before: usize,
    /// Statuses after the transaction: the CAs added are `added`.
    pub plan: Plan,
    pub added: Vec<Added>,
    /// Entries removed (with `prune`); empty otherwise.
    pub pruned: Vec<Pruned>,
    pub prune_requested: bool,
    /// None when nothing had to change.
    pub written: Option<Written>,
    /// The lock was left by an earlier run that ended without releasing it.
    pub stale_lock: Option<StaleLock>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.pruned.is_empty()
    }
}

#[derive(Debug, Error)]
pub enum ApplyError {
    /// Boxed: an open error carries paths and I/O errors, and every `Result` of the
    /// transaction would otherwise be as large as it.
    #[error(transparent)]
    Open(Box<OpenError>),
    #[error("{source}")]
    Lock {
        keystore: PathBuf,
        lock: PathBuf,
        source: LockError,
    },
    #[error("{source}")]
    Prune {
        keystore: PathBuf,
        alias: String,
        source: KeystoreError,
    },
    #[error("{source}")]
    Add {
        ca_name: String,
        source: KeystoreError,
    },
    #[error("{source}")]
    Serialize {
        keystore: PathBuf,
        source: KeystoreError,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<OpenError> for ApplyError {
    fn from(e: OpenError) -> ApplyError {
        ApplyError::Open(Box::new(e))
    }
}

/// Locks, reads, plans, adds the missing CAs (and prunes), writes safely, verifies.
pub fn apply(
    request: &OpenRequest,
    catalog: &Catalog,
    selection: &Selection,
    settings: &ApplySettings,
) -> Result<Outcome, ApplyError> {
    let found = open::locate(&request.location)?;
    // Lock before reading, so that what we parse is what we replace.
    let lock_path = settings
        .lock_file
        .clone()
        .unwrap_or_else(|| lock::default_lock_path(&found.path));
    let lock =
        lock::acquire(&lock_path, settings.lock_timeout).map_err(|source| ApplyError::Lock {
            keystore: found.path.clone(),
            lock: lock_path.clone(),
            source,
        })?;
    tracing::debug!("locked {}", lock_path.display());
    let opened = open::open_at(found, request)?;
    // Whatever Java cannot load is never written: an import would only produce another file
    // the JVM refuses.
    if let Some(problem) = opened.keystore.java_load_problem() {
        return Err(ApplyError::from(OpenError::Parse {
            path: opened.path.clone(),
            source: KeystoreError::JavaCannotLoad(problem.clone()),
            password_explicit: opened.password.explicit,
            password_setting: opened.password.setting.clone(),
        }));
    }
    let mut plan = plan::plan(
        catalog,
        &AnchorSet::from_keystore(&opened.keystore),
        selection,
    );

    let before = &opened.keystore;
    let mut updated = before.clone();
    let mut pruned = Vec::new();
    if settings.prune {
        for p in plan::prunable(before, catalog, &settings.alias_prefix, settings.now) {
            updated
                .remove_entry(&p.alias)
                .map_err(|source| ApplyError::Prune {
                    keystore: opened.path.clone(),
                    alias: p.alias.clone(),
                    source,
                })?;
            pruned.push(p);
        }
    }
    let mut added: Vec<Added> = Vec::new();
    let created_ms = settings.now.unix_timestamp() * 1000;
    for c in plan
        .cas
        .iter_mut()
        .filter(|c| c.status == CaStatus::Missing)
    {
        let Some(der) = c.ca.der.as_deref() else {
            continue;
        };
        // A custom certificate's slug is its whole alias (`custom-<name>` or `--alias`).
        let prefix = match c.source {
            plan::CaSource::Catalog => settings.alias_prefix.as_str(),
            _ => "",
        };
        let alias = plan::choose_alias(&updated, prefix, &c.ca.slug);
        updated
            .add_trusted_cert(&alias, der, created_ms)
            .map_err(|source| ApplyError::Add {
                ca_name: c.ca.name.clone(),
                source,
            })?;
        added.push(Added {
            alias: alias.clone(),
            sha256: sha256_hex(der),
            ca_name: c.ca.name.clone(),
        });
        c.status = CaStatus::Added;
        c.alias = Some(alias);
        c.present = true;
    }

    let mut written = None;
    if !added.is_empty() || !pruned.is_empty() {
        let password = Some(opened.password.value.as_str());
        let new_bytes = updated
            .to_bytes(password)
            .map_err(|source| ApplyError::Serialize {
                keystore: opened.path.clone(),
                source,
            })?;
        let removed: Vec<&str> = pruned.iter().map(|p| p.alias.as_str()).collect();
        let verify = |bytes: &[u8]| verify_written(bytes, before, password, &added, &removed);
        let opts = ReplaceOptions {
            backup: settings.backup.clone(),
            stamp: write::backup_stamp(settings.now),
            verify: &verify,
            fault: None,
        };
        let replaced = write::replace(&opened.path, &opened.bytes, &new_bytes, &opts)?;
        tracing::debug!(
            "wrote {} ({} bytes, verified); backup {}",
            replaced.target.display(),
            new_bytes.len(),
            replaced
                .backup
                .as_deref()
                .map_or_else(|| "none".to_string(), |b| b.display().to_string())
        );
        written = Some(Written {
            target: replaced.target,
            backup: replaced.backup,
            warnings: replaced.warnings,
            stray_removed: replaced.stray_removed,
        });
    }
    Ok(Outcome {
        keystore: KeystoreSummary::with(&opened, &updated),
        entries_before: before.entries().len(),
        plan,
        added,
        pruned,
        prune_requested: settings.prune,
        written,
        stale_lock: lock.stale().cloned(),
    })
}

/// Re-reads what was written: the same entries as before, less the pruned ones, plus exactly
/// the added ones.
fn verify_written(
    bytes: &[u8],
    before: &Keystore,
    password: Option<&str>,
    added: &[Added],
    removed: &[&str],
) -> Result<(), String> {
    let after =
        Keystore::parse(bytes, Some(before.store_type()), password).map_err(|e| e.to_string())?;
    if after.is_password_protected() != before.is_password_protected() {
        return Err("the password protection changed".into());
    }
    // Read back by Java's loading rules, not only ours.
    if let Some(problem) = after.java_load_problem() {
        return Err(format!("Java could not load the result: {problem}"));
    }
    let is_removed = |alias: &str| removed.iter().any(|r| r.eq_ignore_ascii_case(alias));
    let kept: Vec<_> = before
        .entries()
        .iter()
        .filter(|e| !is_removed(&e.alias))
        .collect();
    let expected = kept.len() + added.len();
    if after.entries().len() != expected {
        return Err(format!(
            "{} entries, expected {expected}",
            after.entries().len()
        ));
    }
    if let Some(lost) = kept.iter().find(|e| !after.entries().contains(e)) {
        return Err(format!("entry {:?} changed", lost.alias));
    }
    for a in added {
        let found = after.entries().iter().any(|e| {
            e.kind == EntryKind::TrustedCert
                && e.alias == a.alias
                && e.certs.first().map(|d| sha256_hex(d)).as_deref() == Some(a.sha256.as_str())
        });
        if !found {
            return Err(format!("the new entry {} is not there", a.alias));
        }
    }
    Ok(())
}
