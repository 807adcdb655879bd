//! `azure-cacerts refresh`: `import` for schedulers (cron, systemd timers, Task Scheduler).
//! Several keystores handled independently, one log line per keystore, silence when nothing
//! changed. The job list, the fallback policy and the log format are `ops::refresh`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use time::OffsetDateTime;

use super::args::{
    pimsync_home_from_env, Format, GlobalOpts, NetOpts, PasswordOpts, SelectOpts, StoreTypeArg,
    WriteOpts,
};
use super::failure::{CliResult, Failure};
use super::output::{self, DownloadBar};
use super::render::{KeystoreResult, MultiJson, ReportJson, RESTART};
use crate::locate::KeystoreLocation;
use crate::ops::refresh::{self as job, LogLine, LogResult, Target};
use crate::ops::{self, OpenRequest};

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
    #[arg(long, value_enum, ignore_case = true, default_value_t = StoreTypeArg::Auto)]
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
    #[command(flatten)]
    pub custom: super::args::CustomOpts,

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
    #[command(flatten)]
    pub found: super::all_found::FoundOpts,
}

/// The keystores named on the command line and in `--config`, and with `--all-found`
/// every store found (with those `--exclude` left out).
fn targets(args: &RefreshArgs) -> CliResult<(Vec<Target>, super::all_found::FoundExtras)> {
    args.found.check()?;
    let expected = args.storetype.expected();
    let password = args.password.source()?;
    let given_pimsync_home = args
        .pimsync_home
        .as_deref()
        .map(super::args::check_pimsync_home)
        .transpose()?;
    let named = |location: KeystoreLocation, label: String| Target {
        request: OpenRequest {
            location,
            expected,
            password: password.clone(),
        },
        skips: Vec::new(),
        label,
    };
    let mut targets: Vec<Target> = args
        .keystores
        .iter()
        .map(|k| named(KeystoreLocation::File(k.clone()), k.display().to_string()))
        .collect();
    if args.cacerts {
        targets.push(named(
            KeystoreLocation::Cacerts {
                java_home: args.java_home.clone(),
            },
            "--cacerts".into(),
        ));
    }
    let named_elsewhere =
        !args.keystores.is_empty() || args.cacerts || args.config.is_some() || args.found.all_found;
    let from_env = || {
        (!named_elsewhere)
            .then(pimsync_home_from_env)
            .flatten()
            .map(|h| super::args::check_pimsync_home(&h))
            .transpose()
    };
    let pimsync_home = match given_pimsync_home {
        Some(h) => Some(h),
        None => from_env()?,
    };
    if let Some(h) = pimsync_home {
        targets.push(named(
            KeystoreLocation::Pimsync(h.clone()),
            h.display().to_string(),
        ));
    }
    if let Some(path) = &args.config {
        targets.extend(job::targets_from_config(path, expected)?);
    }
    let mut extras = super::all_found::FoundExtras::default();
    if args.found.all_found {
        let (found, more) =
            super::all_found::refresh_targets(&args.found, &targets, &password, expected)?;
        targets.extend(found);
        extras = more;
    }
    if targets.is_empty() && !args.found.all_found {
        return Err(Failure::usage(
            "no keystore to refresh",
            "refresh needs at least one keystore",
            "Give -k FILE (repeatable), --cacerts, --pimsync-home DIR or --config FILE.",
        ));
    }
    if (targets.len() > 1 || args.found.all_found) && args.write.lock_file.is_some() {
        return Err(Failure::usage(
            "--lock-file with several keystores",
            "one lock file cannot guard several keystores",
            "Drop --lock-file: each keystore gets <file>.lock.",
        ));
    }
    Ok((targets, extras))
}

pub fn run(args: &RefreshArgs, g: &GlobalOpts) -> CliResult<i32> {
    let now = OffsetDateTime::now_utc();
    let stamp = crate::cert::iso_utc_from_ms(now.unix_timestamp() * 1000).unwrap_or_default();
    let (targets, extras) = targets(args)?;
    let spec = args.net.spec(!args.offline)?;
    let log = |line: &LogLine| -> Option<Failure> {
        let path = args.log_file.as_ref()?;
        job::append_log(path, line).err().map(|e| {
            Failure::new(
                super::failure::ExitKind::Usage,
                "cannot write the log file",
                path.display().to_string(),
                e,
                "Check --log-file.",
            )
        })
    };
    // A run that stops before any keystore is touched is still a run the log records.
    let stopped = |failure: Failure, source: &str, fallback: bool| -> Failure {
        for t in &targets {
            if let Some(f) = log(&LogLine {
                stamp: stamp.clone(),
                keystore: t.label.clone(),
                source: source.into(),
                fallback,
                result: LogResult::Error {
                    exit: failure.exit_code(),
                    message: failure.to_string(),
                },
            }) {
                output::error(&f);
            }
        }
        failure
    };
    let choice = match job::catalog_with_fallback(&spec, &DownloadBar::new(g, &spec), now.date()) {
        Ok(choice) => choice,
        Err(e) => {
            let source = if spec.is_online() { "live" } else { "built-in" };
            return Err(stopped(Failure::from(&e), source, false));
        }
    };
    for w in &choice.warnings {
        output::warn(w);
    }
    let catalog = &choice.catalog;
    let source = catalog.source.as_str();
    // Read once for every keystore: the same files, the same pins.
    let loaded = crate::custom::load(&args.custom.request(&args.net.pins()?)?, catalog)
        .map_err(|e| stopped(Failure::from(&e), source, choice.fallback.is_some()))?;
    for n in super::render::custom_notes(&loaded) {
        output::note(g, n);
    }
    let settings = args.write.settings(args.lock_timeout, args.prune, now);
    let mut worst = 0;
    let mut results = Vec::new();
    let mut text = String::new();
    for (label, failure) in &extras.unusable {
        output::error(failure);
        worst = worst.max(failure.exit_code());
        results.push(KeystoreResult {
            changed: false,
            report: None,
            error: Some(failure.to_string()),
            label: Some(label.clone()),
            programs: None,
        });
    }
    for target in &targets {
        let mut select = args.select.clone();
        select.skip.extend(target.skips.iter().cloned());
        let mut selection = select.selection(now);
        selection.use_catalog = !args.custom.no_catalog;
        selection.custom = loaded.wanted.clone();
        let (result, outcome_line) =
            match ops::apply(&target.request, catalog, &selection, &settings) {
                Ok(outcome) => {
                    let mut report = ReportJson::of_outcome(&outcome, catalog);
                    report.catalog.fallback = choice.fallback.clone();
                    let changed = outcome.changed();
                    if g.format == Format::Text && !g.quiet && (changed || g.verbose) {
                        let _ = writeln!(
                            text,
                            "{}: added {}, pruned {}{}",
                            super::render::path_shown(&outcome.keystore),
                            outcome.added.len(),
                            outcome.pruned.len(),
                            report
                                .backup
                                .as_deref()
                                .map(|b| format!(" (backup {b})"))
                                .unwrap_or_default()
                        );
                    }
                    let line = LogResult::Ok {
                        added: outcome.added.len(),
                        pruned: outcome.pruned.len(),
                    };
                    let shown = report.keystore.path.clone();
                    (
                        KeystoreResult {
                            changed,
                            report: Some(report),
                            error: None,
                            label: None,
                            programs: None,
                        },
                        (shown, line),
                    )
                }
                Err(e) => {
                    let failure = Failure::from(&e);
                    output::error(&failure);
                    worst = worst.max(failure.exit_code());
                    let line = LogResult::Error {
                        exit: failure.exit_code(),
                        message: failure.to_string(),
                    };
                    (
                        KeystoreResult {
                            changed: false,
                            report: None,
                            error: Some(failure.to_string()),
                            label: Some(target.label.clone()),
                            programs: None,
                        },
                        (target.label.clone(), line),
                    )
                }
            };
        let (keystore, result_line) = outcome_line;
        if let Some(f) = log(&LogLine {
            stamp: stamp.clone(),
            keystore,
            source: source.into(),
            fallback: choice.fallback.is_some(),
            result: result_line,
        }) {
            output::error(&f);
            worst = worst.max(f.exit_code());
        }
        results.push(result);
    }
    let changed = results.iter().any(|r| r.changed);
    match g.format {
        Format::Json => {
            // --all-found: the document about several keystores, however many were found.
            if results.len() == 1 && !args.found.all_found {
                output::print_json(&results[0])?;
            } else {
                output::print_json(&MultiJson {
                    changed,
                    keystores: results,
                    excluded: extras
                        .excluded
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect(),
                })?;
            }
            if changed {
                output::restart_notice(RESTART);
            }
        }
        Format::Text if g.quiet => {
            if changed {
                output::restart_notice(RESTART);
            }
        }
        Format::Text => {
            if changed {
                let _ = writeln!(text, "{}", super::render::wrap(RESTART, 0));
            }
            output::emit(&text)?;
        }
    }
    Ok(worst)
}
