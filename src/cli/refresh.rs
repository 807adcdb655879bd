//! `azure-cacerts refresh`: `import` for schedulers (cron, systemd timers, Task Scheduler).
//! Live catalog by default with a fallback to the built-in one, several keystores handled
//! independently, a lock per keystore, optional pruning of our own stale entries, one log
//! line per keystore, and silence when nothing changed.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::args::{
    Format, GlobalOpts, KeystoreOpts, NetOpts, PasswordOpts, SelectOpts, StoreTypeArg,
};
use super::output;
use super::reconcile::{self, ReportJson, WriteOpts};
use crate::catalog::{self, Catalog};
use crate::error::{CliResult, ExitKind, Failure};

#[derive(Debug, Clone, Args)]
pub struct RefreshArgs {
    /// A keystore to keep current (repeatable).
    #[arg(short = 'k', long = "keystore", value_name = "PATH")]
    pub keystores: Vec<PathBuf>,
    /// Also the cacerts of the Java runtime (--java-home, JAVA_HOME, java on PATH).
    #[arg(long)]
    pub cacerts: bool,
    #[arg(long, value_name = "DIR")]
    pub java_home: Option<PathBuf>,
    /// Also the truststore of this PIMSYNC installation (default: env PIMSYNC_HOME when
    /// no other keystore is named).
    #[arg(long, value_name = "DIR")]
    pub pimsync_home: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = StoreTypeArg::Auto)]
    pub storetype: StoreTypeArg,
    /// Store password for the keystores named on the command line.
    #[command(flatten)]
    pub password: PasswordOpts,
    /// A TOML file listing keystores (see docs/scheduling.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Use the built-in catalog instead of Microsoft's live page.
    #[arg(long, conflicts_with_all = ["catalog_url", "bundle"])]
    pub offline: bool,
    #[command(flatten)]
    pub net: NetOpts,

    #[command(flatten)]
    pub select: SelectOpts,

    /// Remove entries this tool added (alias prefix) whose certificate expired or left the page.
    #[arg(long)]
    pub prune: bool,
    /// How long to wait for another run holding the lock.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lock_timeout: u64,
    /// Append one line per keystore and run to this file.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    #[command(flatten)]
    pub write: WriteOpts,
}

/// `--config FILE`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshConfig {
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
struct Job {
    opts: KeystoreOpts,
    skips: Vec<String>,
    label: String,
}

fn base_opts(args: &RefreshArgs) -> KeystoreOpts {
    KeystoreOpts {
        keystore: None,
        cacerts: false,
        java_home: args.java_home.clone(),
        pimsync_home: None,
        storetype: args.storetype,
        password: args.password.clone(),
    }
}

fn jobs(args: &RefreshArgs) -> CliResult<Vec<Job>> {
    let mut jobs = Vec::new();
    for k in &args.keystores {
        let mut o = base_opts(args);
        o.keystore = Some(k.clone());
        jobs.push(Job {
            opts: o,
            skips: vec![],
            label: k.display().to_string(),
        });
    }
    if args.cacerts {
        let mut o = base_opts(args);
        o.cacerts = true;
        jobs.push(Job {
            opts: o,
            skips: vec![],
            label: "--cacerts".into(),
        });
    }
    let named_elsewhere = !args.keystores.is_empty() || args.cacerts || args.config.is_some();
    let pimsync_home = args.pimsync_home.clone().or_else(|| {
        if named_elsewhere {
            None
        } else {
            super::args::pimsync_home_from_env()
        }
    });
    if let Some(h) = &pimsync_home {
        let mut o = base_opts(args);
        o.pimsync_home = Some(h.clone());
        jobs.push(Job {
            opts: o,
            skips: vec![],
            label: h.display().to_string(),
        });
    }
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                ExitKind::Usage,
                "cannot read the config file",
                path.display().to_string(),
                e,
                "Check --config.",
            )
        })?;
        let config: RefreshConfig = toml::from_str(&text).map_err(|e| {
            Failure::new(
                ExitKind::Usage,
                "invalid config file",
                path.display().to_string(),
                e.to_string().lines().next().unwrap_or("parse error"),
                "See docs/scheduling.md for the format.",
            )
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        for (i, k) in config.keystores.iter().enumerate() {
            let mut o = base_opts(args);
            o.password = PasswordOpts {
                storepass: None,
                storepass_env: k.storepass_env.clone(),
                storepass_file: k.storepass_file.as_ref().map(|f| base_dir.join(f)),
            };
            let label = if let Some(p) = &k.path {
                o.keystore = Some(base_dir.join(p));
                p.display().to_string()
            } else if let Some(h) = &k.pimsync_home {
                o.pimsync_home = Some(base_dir.join(h));
                h.display().to_string()
            } else if let Some(h) = &k.java_home {
                o.cacerts = true;
                o.java_home = Some(base_dir.join(h));
                h.display().to_string()
            } else {
                return Err(Failure::new(
                    ExitKind::Usage,
                    "invalid config file",
                    path.display().to_string(),
                    format!(
                        "[[keystore]] number {} has no path, pimsync_home or java_home",
                        i + 1
                    ),
                    "Give each keystore one of them.",
                ));
            };
            let mut skips = config.skip.clone();
            skips.extend(k.skip.iter().cloned());
            jobs.push(Job {
                opts: o,
                skips,
                label,
            });
        }
    }
    if jobs.is_empty() {
        return Err(Failure::usage(
            "no keystore to refresh",
            "refresh needs at least one keystore",
            "Give -k FILE (repeatable), --cacerts, --pimsync-home DIR or --config FILE.",
        ));
    }
    if jobs.len() > 1 && args.write.lock_file.is_some() {
        return Err(Failure::usage(
            "--lock-file with several keystores",
            "one lock file cannot guard several keystores",
            "Drop --lock-file: each keystore gets <file>.lock.",
        ));
    }
    Ok(jobs)
}

/// The live catalog, or the built-in one with the reason when the network failed. A
/// verification failure (a tampered download) never falls back: it stops the run.
fn catalog_for(args: &RefreshArgs, g: &GlobalOpts) -> CliResult<(Catalog, Option<String>)> {
    let spec = super::catalog_cmd::source_spec_with(!args.offline, &args.net)?;
    let bar = super::catalog_cmd::DownloadBar::new(g, &spec);
    match catalog::load_with(&spec, &bar) {
        Ok(o) => {
            for w in &o.warnings {
                output::warn(w);
            }
            Ok((o.catalog, None))
        }
        Err(e) if spec.online && e.exit_kind() == ExitKind::Network => {
            let reason = e.to_string();
            output::warn(format!(
                "the live catalog could not be fetched ({reason}); using the built-in catalog"
            ));
            let builtin = catalog::builtin::load().map_err(|e| reconcile::catalog_failure(&e))?;
            Ok((builtin, Some(reason)))
        }
        Err(e) => Err(reconcile::catalog_failure(&e)),
    }
}

#[derive(Serialize)]
struct KeystoreResult {
    changed: bool,
    #[serde(flatten)]
    report: Option<ReportJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

#[derive(Serialize)]
struct MultiJson {
    changed: bool,
    keystores: Vec<KeystoreResult>,
}

fn log_line(path: &Path, line: &str) -> Result<(), Failure> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Failure::new(
                ExitKind::Usage,
                "cannot write the log file",
                path.display().to_string(),
                e,
                "Check --log-file.",
            )
        })?;
    // One write call per line: concurrent runs appending to the same log do not interleave.
    f.write_all(format!("{line}\n").as_bytes()).map_err(|e| {
        Failure::new(
            ExitKind::Usage,
            "cannot write the log file",
            path.display().to_string(),
            e,
            "Check --log-file.",
        )
    })
}

pub fn run(args: &RefreshArgs, g: &GlobalOpts) -> CliResult<i32> {
    let now = OffsetDateTime::now_utc();
    let jobs = jobs(args)?;
    let (catalog, fallback) = catalog_for(args, g)?;
    let source = catalog.source.as_str();
    let settings = args.write.settings(args.lock_timeout, args.prune, now);
    let stamp = crate::cert::iso_utc_from_ms(now.unix_timestamp() * 1000).unwrap_or_default();
    let mut worst = 0;
    let mut results = Vec::new();
    for job in &jobs {
        let mut select = args.select.clone();
        select.skip.extend(job.skips.iter().cloned());
        let selection = reconcile::selection(&select, now);
        let outcome = reconcile::apply(g, &job.opts, &catalog, &selection, &settings);
        let (result, line) = match outcome {
            Ok(mut applied) => {
                applied.report.catalog.fallback = fallback.clone();
                let pruned = applied.report.pruned.as_ref().map_or(0, Vec::len);
                let changed = applied.changed();
                let line = format!(
                    "{stamp} keystore={} added={} pruned={pruned} source={source}{} result=ok",
                    applied.report.keystore.path,
                    applied.added.len(),
                    if fallback.is_some() {
                        " fallback=yes"
                    } else {
                        ""
                    }
                );
                if g.format == Format::Text && (changed || g.verbose) {
                    println!(
                        "{}: added {}, pruned {pruned}{}",
                        applied.report.keystore.path,
                        applied.added.len(),
                        applied
                            .report
                            .backup
                            .as_deref()
                            .map(|b| format!(" (backup {b})"))
                            .unwrap_or_default()
                    );
                }
                (
                    KeystoreResult {
                        changed,
                        report: Some(applied.report),
                        error: None,
                        label: None,
                    },
                    line,
                )
            }
            Err(failure) => {
                output::error(&failure);
                worst = worst.max(failure.exit_code());
                let line = format!(
                    "{stamp} keystore={} added=0 pruned=0 source={source} result=error exit={} error={:?}",
                    job.label,
                    failure.exit_code(),
                    failure.to_string()
                );
                let r = KeystoreResult {
                    changed: false,
                    report: None,
                    error: Some(failure.to_string()),
                    label: Some(job.label.clone()),
                };
                (r, line)
            }
        };
        if let Some(log) = &args.log_file {
            if let Err(f) = log_line(log, &line) {
                output::error(&f);
                worst = worst.max(f.exit_code());
            }
        }
        results.push(result);
    }
    let changed = results.iter().any(|r| r.changed);
    match g.format {
        Format::Json => {
            if results.len() == 1 {
                output::print_json(&results[0])?;
            } else {
                output::print_json(&MultiJson {
                    changed,
                    keystores: results,
                })?;
            }
        }
        Format::Text => {}
    }
    if changed {
        if g.format == Format::Text {
            println!("{}", reconcile::RESTART);
        } else {
            output::note(g, reconcile::RESTART);
        }
    }
    Ok(worst)
}
