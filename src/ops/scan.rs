//! `scan` and `--all-found`: every truststore [`crate::scan::discover`] finds, compared
//! with the catalog exactly as `diff` does ([`super::diff`]), or updated one at a time
//! through the import transaction ([`super::apply`]): each with its own lock, backup and
//! verification, a failure in one leaving the others to proceed.

use std::path::PathBuf;

use super::apply::{self, ApplyError, ApplySettings, Diff, Outcome};
use super::open::{OpenError, OpenRequest, PasswordSource};
use crate::catalog::Catalog;
use crate::keystore::StoreType;
use crate::locate::{FoundBy, KeystoreLocation, Located};
use crate::plan::Selection;
use crate::scan::{Discovery, Machine, NotARuntime, Runtime, Store};

/// The stores `--exclude` leaves out.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    /// As given, and with links followed.
    paths: Vec<(PathBuf, PathBuf)>,
}

impl Exclusions {
    pub fn new(machine: &Machine, given: &[PathBuf]) -> Exclusions {
        Exclusions {
            paths: given
                .iter()
                .map(|g| {
                    let abs = std::path::absolute(g).unwrap_or_else(|_| g.clone());
                    let real = machine.real_path(&abs);
                    (abs, real)
                })
                .collect(),
        }
    }

    /// Whether a store is left out: an exclusion names it, a path that leads to it, or a
    /// folder holding one of them or one of its runtimes.
    pub fn excludes(&self, store: &Store) -> bool {
        self.paths
            .iter()
            .any(|(abs, real)| store.is_under(abs) || store.is_under(real))
    }

    /// The exclusions that left out none of `stores` (a typo, a path of another machine).
    pub fn unmatched(&self, stores: &[Store]) -> Vec<PathBuf> {
        self.paths
            .iter()
            .filter(|(abs, real)| !stores.iter().any(|s| s.is_under(abs) || s.is_under(real)))
            .map(|(abs, _)| abs.clone())
            .collect()
    }
}

/// How to open a found store: its real file (links already followed inside the machine's
/// root), the user's password, else the trustStorePassword set beside the setting that
/// names it, else `changeit`.
pub fn request_for(
    store: &Store,
    password: &PasswordSource,
    expected: Option<StoreType>,
) -> OpenRequest {
    let mut request = OpenRequest {
        location: KeystoreLocation::File(store.real_path.clone()),
        expected,
        password: password.clone(),
    };
    request.password = request.password_for(&Located {
        path: store.real_path.clone(),
        how: FoundBy::Given,
        jvm: store.settings.clone(),
    });
    request
}

/// The file a found store names must be the file that is read and written: no link left
/// to follow. A link that could not be followed inside `--system-root` (a loop) would
/// otherwise be followed by the open and the write as this machine reads it, perhaps out of
/// the root to this machine's own file.
pub fn check_resolved(store: &Store) -> Result<(), OpenError> {
    let refuse = || OpenError::Read {
        path: store.real_path.clone(),
        source: std::io::Error::other(
            "a symbolic link on its path cannot be followed inside the system looked at (a loop?)",
        ),
    };
    match crate::write::real_path(&store.real_path) {
        Ok(real) if real == store.real_path => Ok(()),
        Ok(_) => Err(refuse()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => Err(refuse()),
    }
}

/// What a scan found about one store.
#[derive(Debug)]
pub enum StoreState {
    /// Left out by `--exclude`: not read.
    Excluded,
    /// Read and compared: the diff of this store.
    Read(Box<Diff>),
    /// It could not be read (missing, wrong password, corrupt...).
    Failed(Box<OpenError>),
}

#[derive(Debug)]
pub struct ScannedStore {
    pub store: Store,
    pub state: StoreState,
}

impl ScannedStore {
    /// Wanted CAs it lacks, as `diff` counts them; None when it was not read.
    pub fn missing(&self) -> Option<usize> {
        match &self.state {
            StoreState::Read(d) => Some(d.plan.summary().missing),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct ScanReport {
    pub runtimes: Vec<Runtime>,
    pub stores: Vec<ScannedStore>,
    pub not_runtimes: Vec<NotARuntime>,
    pub unmatched_excludes: Vec<PathBuf>,
}

impl ScanReport {
    /// Stores that were read and lack wanted CAs.
    pub fn lacking(&self) -> usize {
        self.stores
            .iter()
            .filter(|s| s.missing().is_some_and(|m| m > 0))
            .count()
    }
}

/// Reads every store found and compares it with the catalog (changes nothing).
pub fn scan(
    discovery: Discovery,
    exclusions: &Exclusions,
    catalog: &Catalog,
    selection: &Selection,
    password: &PasswordSource,
    expected: Option<StoreType>,
) -> ScanReport {
    let unmatched_excludes = exclusions.unmatched(&discovery.stores);
    let stores = discovery
        .stores
        .into_iter()
        .map(|store| {
            let state = if exclusions.excludes(&store) {
                StoreState::Excluded
            } else {
                let diffed = check_resolved(&store).and_then(|()| {
                    apply::diff(&request_for(&store, password, expected), catalog, selection)
                });
                match diffed {
                    Ok(d) => StoreState::Read(Box::new(d)),
                    Err(e) => StoreState::Failed(Box::new(e)),
                }
            };
            ScannedStore { store, state }
        })
        .collect();
    ScanReport {
        runtimes: discovery.runtimes,
        stores,
        not_runtimes: discovery.not_runtimes,
        unmatched_excludes,
    }
}

/// What the transaction did to one found store.
#[derive(Debug)]
pub struct FoundOutcome {
    pub store: Store,
    pub result: Result<Outcome, ApplyError>,
}

#[derive(Debug)]
pub struct AppliedAll {
    pub outcomes: Vec<FoundOutcome>,
    pub excluded: Vec<Store>,
    pub unmatched_excludes: Vec<PathBuf>,
}

impl AppliedAll {
    pub fn changed(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| o.result.as_ref().is_ok_and(Outcome::changed))
    }
}

/// The stores to update and the ones left out.
pub fn split_excluded(discovery: Discovery, exclusions: &Exclusions) -> (Vec<Store>, Vec<Store>) {
    discovery
        .stores
        .into_iter()
        .partition(|s| !exclusions.excludes(s))
}

/// Adds the missing CAs to every store found but the excluded ones, one transaction per
/// store (`settings.lock_file` must be None: each store has its own lock).
pub fn apply_found(
    discovery: Discovery,
    exclusions: &Exclusions,
    catalog: &Catalog,
    selection: &Selection,
    settings: &ApplySettings,
    password: &PasswordSource,
    expected: Option<StoreType>,
) -> AppliedAll {
    let unmatched_excludes = exclusions.unmatched(&discovery.stores);
    let (included, excluded) = split_excluded(discovery, exclusions);
    let outcomes = included
        .into_iter()
        .map(|store| {
            let result = check_resolved(&store)
                .map_err(ApplyError::from)
                .and_then(|()| {
                    apply::apply(
                        &request_for(&store, password, expected),
                        catalog,
                        selection,
                        settings,
                    )
                });
            FoundOutcome { store, result }
        })
        .collect();
    AppliedAll {
        outcomes,
        excluded,
        unmatched_excludes,
    }
}
