//! `refresh`: import for schedulers. Which keystores (command line and `--config FILE`), the
//! live catalog with its fallback to the built-in one, and the log line of each run.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use super::open::{OpenRequest, PasswordSource};
use crate::catalog::{self, Catalog, CatalogError, Progress, SourceSpec};
use crate::keystore::StoreType;
use crate::locate::KeystoreLocation;

/// `--config FILE` (docs/scheduling.md).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshConfig {
    /// Skipped for every keystore of the file.
    #[serde(default)]
    pub skip: Vec<String>,
    #[serde(default, rename = "keystore")]
    pub keystores: Vec<ConfigKeystore>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConfigKeystore {
    pub path: Option<PathBuf>,
    pub pimsync_home: Option<PathBuf>,
    pub java_home: Option<PathBuf>,
    pub storepass_env: Option<String>,
    pub storepass_file: Option<PathBuf>,
    #[serde(default)]
    pub skip: Vec<String>,
}

/// One keystore to refresh, with its own skips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub request: OpenRequest,
    pub skips: Vec<String>,
    /// How the keystore was named, for messages and the log when it cannot be opened.
    pub label: String,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{source}")]
    Read {
        path: PathBuf,
        source: crate::fsio::FsioError,
    },
    #[error("{why}")]
    Invalid { path: PathBuf, why: String },
}

/// The keystores a config file lists; relative paths are relative to the file's folder.
pub fn targets_from_config(
    path: &Path,
    expected: Option<StoreType>,
) -> Result<Vec<Target>, ConfigError> {
    let bytes =
        crate::fsio::read_regular_bounded(path, crate::fsio::CONFIG_LIMIT).map_err(|source| {
            ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Invalid {
        path: path.to_path_buf(),
        why: "it is not UTF-8 text".into(),
    })?;
    let config: RefreshConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        why: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("parse error")
            .to_string(),
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut targets = Vec::new();
    for (i, k) in config.keystores.iter().enumerate() {
        let password = match (&k.storepass_env, &k.storepass_file) {
            (Some(var), _) => PasswordSource::Env(var.clone()),
            (None, Some(f)) => PasswordSource::File(base_dir.join(f)),
            (None, None) => PasswordSource::Default,
        };
        let (location, label) = if let Some(p) = &k.path {
            (KeystoreLocation::File(base_dir.join(p)), p.display())
        } else if let Some(h) = &k.pimsync_home {
            (KeystoreLocation::Pimsync(base_dir.join(h)), h.display())
        } else if let Some(h) = &k.java_home {
            (
                KeystoreLocation::Cacerts {
                    java_home: Some(base_dir.join(h)),
                },
                h.display(),
            )
        } else {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                why: format!(
                    "[[keystore]] number {} has no path, pimsync_home or java_home",
                    i + 1
                ),
            });
        };
        let mut skips = config.skip.clone();
        skips.extend(k.skip.iter().cloned());
        targets.push(Target {
            request: OpenRequest {
                location,
                expected,
                password,
            },
            skips,
            label: label.to_string(),
        });
    }
    Ok(targets)
}

/// The catalog a refresh uses.
#[derive(Debug, Clone)]
pub struct CatalogChoice {
    pub catalog: Catalog,
    pub warnings: Vec<String>,
    /// Why the live catalog could not be used, when the built-in one was taken instead.
    pub fallback: Option<String>,
}

/// The live catalog, or the built-in one with the reason when the network failed. A
/// verification failure (a tampered download) never falls back: it stops the run.
///
/// When the user did not name the source (refresh goes online by default) and the live page
/// is older than the one the built-in catalog was made from, the built-in data is newer and
/// wins. Whenever the built-in catalog is what the run uses, one warning says so if it was
/// checked against the page more than [`catalog::age::STALE_AFTER_DAYS`] ago.
pub fn catalog_with_fallback(
    spec: &SourceSpec,
    progress: &dyn Progress,
    today: time::Date,
) -> Result<CatalogChoice, CatalogError> {
    let mut choice = match catalog::load_with(spec, progress) {
        Ok(o) => match older_live_page(&o.catalog, catalog::builtin::catalog(), spec.named) {
            Some(reason) => CatalogChoice {
                catalog: catalog::builtin::load()?,
                warnings: vec![format!(
                    "{reason}: using the built-in catalog, the newer data (pass --catalog-url URL to use that page anyway)"
                )],
                fallback: Some(reason),
            },
            None => CatalogChoice {
                catalog: o.catalog,
                warnings: o.warnings,
                fallback: None,
            },
        },
        Err(e) if spec.online && e.is_network() => {
            let reason = e.to_string();
            let builtin = catalog::builtin::load()?;
            CatalogChoice {
                catalog: builtin,
                warnings: vec![format!(
                    "the live catalog could not be fetched ({reason}); using the built-in catalog"
                )],
                fallback: Some(reason),
            }
        }
        Err(e) => return Err(e),
    };
    if let Some(w) = catalog::age::stale_builtin(&choice.catalog, today) {
        choice.warnings.push(w);
    }
    Ok(choice)
}

/// Why the built-in catalog beats a live page the user did not ask for by name: the page is
/// older than the one the built-in catalog was made from.
fn older_live_page(loaded: &Catalog, builtin: &Catalog, named: bool) -> Option<String> {
    if named || loaded.source != catalog::CatalogSource::Live {
        return None;
    }
    catalog::age::older_than_builtin(loaded, builtin)?;
    Some(format!(
        "the live page is dated {}, older than the built-in catalog's page of {}",
        loaded.page_date.as_deref().unwrap_or("?"),
        builtin.page_date.as_deref().unwrap_or("?")
    ))
}

/// How one keystore's refresh ended, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogResult {
    Ok { added: usize, pruned: usize },
    Error { exit: i32, message: String },
}

/// One line of `--log-file`: `<UTC stamp> keystore=<path> added=N pruned=N source=S
/// [fallback=yes] result=ok|error [exit=N error="..."]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stamp: String,
    pub keystore: String,
    pub source: String,
    pub fallback: bool,
    pub result: LogResult,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (added, pruned) = match &self.result {
            LogResult::Ok { added, pruned } => (*added, *pruned),
            LogResult::Error { .. } => (0, 0),
        };
        write!(
            f,
            "{} keystore={} added={added} pruned={pruned} source={}",
            self.stamp, self.keystore, self.source
        )?;
        if self.fallback {
            f.write_str(" fallback=yes")?;
        }
        match &self.result {
            LogResult::Ok { .. } => f.write_str(" result=ok"),
            LogResult::Error { exit, message } => {
                write!(f, " result=error exit={exit} error={message:?}")
            }
        }
    }
}

/// Appends one line in a single write, so concurrent runs sharing a log never interleave.
pub fn append_log(path: &Path, line: &LogLine) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_live_page_loses_to_the_builtin_catalog_unless_named() {
        let builtin = catalog::builtin::catalog();
        let live = |date: &str| Catalog {
            source: catalog::CatalogSource::Live,
            page_date: Some(date.into()),
            ..Catalog::default()
        };
        let reason = older_live_page(&live("2024-06-01"), builtin, false).unwrap();
        assert_eq!(
            reason,
            "the live page is dated 2024-06-01, older than the built-in catalog's page of 2025-11-17"
        );
        assert_eq!(
            older_live_page(&live("2024-06-01"), builtin, true),
            None,
            "--catalog-url"
        );
        assert_eq!(older_live_page(&live("2025-11-17"), builtin, false), None);
        assert_eq!(older_live_page(&live("2026-03-01"), builtin, false), None);
        assert_eq!(older_live_page(builtin, builtin, false), None);
    }

    #[test]
    fn log_line_shapes() {
        let mut line = LogLine {
            stamp: "2026-12-01T00:00:00Z".into(),
            keystore: "/x/cacerts".into(),
            source: "live".into(),
            fallback: false,
            result: LogResult::Ok {
                added: 2,
                pruned: 1,
            },
        };
        assert_eq!(
            line.to_string(),
            "2026-12-01T00:00:00Z keystore=/x/cacerts added=2 pruned=1 source=live result=ok"
        );
        line.fallback = true;
        line.result = LogResult::Error {
            exit: 3,
            message: "bad \"x\"".into(),
        };
        assert_eq!(
            line.to_string(),
            "2026-12-01T00:00:00Z keystore=/x/cacerts added=0 pruned=0 source=live fallback=yes result=error exit=3 error=\"bad \\\"x\\\"\""
        );
    }

    #[test]
    fn config_paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("refresh.toml");
        std::fs::write(
            &cfg,
            "skip = [\"A\"]\n[[keystore]]\npath = \"ks.jks\"\nstorepass_file = \"pw\"\nskip = [\"B\"]\n[[keystore]]\njava_home = \"jdk\"\n",
        )
        .unwrap();
        let t = targets_from_config(&cfg, None).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0].request.location,
            KeystoreLocation::File(dir.path().join("ks.jks"))
        );
        assert_eq!(
            t[0].request.password,
            PasswordSource::File(dir.path().join("pw"))
        );
        assert_eq!(t[0].skips, vec!["A".to_string(), "B".to_string()]);
        assert_eq!(
            t[1].request.location,
            KeystoreLocation::Cacerts {
                java_home: Some(dir.path().join("jdk"))
            }
        );
        std::fs::write(&cfg, "[[keystore]]\nskip = []\n").unwrap();
        assert!(matches!(
            targets_from_config(&cfg, None),
            Err(ConfigError::Invalid { .. })
        ));
    }
}
