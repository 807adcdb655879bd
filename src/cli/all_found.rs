//! The options that make a command work on every truststore `scan` finds (`--all-found`,
//! `--exclude`, `--system-root`), and `import --all-found`: one transaction per store, one
//! report line per store, the worst exit code. Shared by scan, import and refresh.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use time::OffsetDateTime;

use super::args::{Format, GlobalOpts, TargetOpts, WriteOpts};
use super::failure::{CliResult, Failure};
use super::output;
use super::render::{self, KeystoreResult, MultiJson, ProgramJson, ReportJson};
use crate::keystore::StoreType;
use crate::ops::refresh::Target;
use crate::ops::scan::{self as found, Exclusions};
use crate::ops::{OpenRequest, PasswordSource};
use crate::scan::{self, Machine, Os, Program};

/// Which machine to look at and what to leave out.
#[derive(Debug, Clone, Default, Args)]
pub struct DiscoverOpts {
    /// Leave out this truststore: its path, a link to it, or a folder holding it or its Java
    /// runtime (repeatable).
    #[arg(long, value_name = "PATH")]
    pub exclude: Vec<PathBuf>,
    /// Look at the system installed under DIR (a mounted disk, a container image) instead
    /// of this one; absolute paths in its files and links are taken inside DIR.
    #[arg(long, value_name = "DIR")]
    pub system_root: Option<PathBuf>,
}

impl DiscoverOpts {
    pub fn machine(&self) -> CliResult<Machine> {
        let Some(root) = &self.system_root else {
            return Ok(Machine::this());
        };
        if !root.is_dir() {
            return Err(Failure::usage(
                "bad option --system-root",
                format!("{} is not a folder", root.display()),
                "Give the folder the other system is mounted at.",
            ));
        }
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .collect();
        Ok(Machine::at_root(root, Os::current(), env))
    }

    /// `--exclude X` that left nothing out: a warning (a typo would otherwise go unseen).
    pub fn warn_unmatched(&self, unmatched: &[PathBuf]) {
        for p in unmatched {
            output::warn(format!(
                "--exclude {} matched no truststore found; nothing was left out for it",
                p.display()
            ));
        }
    }
}

/// `--all-found` and its companions (import, refresh).
#[derive(Debug, Clone, Default, Args)]
pub struct FoundOpts {
    /// Every truststore `azure-cacerts scan` finds on this machine, each with its own
    /// lock, backup and verification.
    #[arg(long)]
    pub all_found: bool,
    #[command(flatten)]
    pub discover: DiscoverOpts,
}

impl FoundOpts {
    /// `--exclude` and `--system-root` mean something only with `--all-found`.
    pub fn check(&self) -> CliResult<()> {
        if !self.all_found
            && (!self.discover.exclude.is_empty() || self.discover.system_root.is_some())
        {
            return Err(Failure::usage(
                "--exclude or --system-root without --all-found",
                "they choose among the truststores --all-found finds",
                "Add --all-found, or name the keystore with -k FILE alone.",
            ));
        }
        Ok(())
    }
}

/// One keystore option given with `--all-found` (import names one keystore or all).
pub fn refuse_named(target: &TargetOpts) -> CliResult<()> {
    let k = &target.keystore;
    if k.keystore.is_some() || k.cacerts || k.java_home.is_some() || k.pimsync_home.is_some() {
        return Err(Failure::usage(
            "--all-found with a keystore option",
            "--all-found updates every truststore found; -k, --cacerts, --java-home and --pimsync-home name one",
            "Drop one of them (leave stores out with --exclude PATH).",
        ));
    }
    Ok(())
}

fn names(programs: &[Program]) -> Vec<String> {
    programs.iter().map(ToString::to_string).collect()
}

/// `import --all-found`.
pub fn import(
    target: &TargetOpts,
    opts: &FoundOpts,
    write: &WriteOpts,
    lock_timeout: u64,
    g: &GlobalOpts,
) -> CliResult<i32> {
    refuse_named(target)?;
    if write.lock_file.is_some() {
        return Err(Failure::usage(
            "--lock-file with --all-found",
            "one lock file cannot guard several keystores",
            "Drop --lock-file: each keystore gets <file>.lock.",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let password = target.keystore.password.source()?;
    let expected = target.keystore.storetype.expected();
    let machine = opts.discover.machine()?;
    let catalog = output::load_catalog(g, &target.source.spec()?)?.catalog;
    let selection = target.select.selection(now);
    let settings = write.settings(lock_timeout, false, now);
    let discovery = scan::discover(&machine);
    let exclusions = Exclusions::new(&machine, &opts.discover.exclude);
    let applied = found::apply_found(
        discovery,
        &exclusions,
        &catalog,
        &selection,
        &settings,
        &password,
        expected,
    );
    opts.discover.warn_unmatched(&applied.unmatched_excludes);

    let mut worst = 0;
    let mut results = Vec::new();
    let mut text = String::new();
    let mut restart: Vec<String> = Vec::new();
    let (mut updated, mut current, mut failed) = (0, 0, 0);
    for o in &applied.outcomes {
        let shown = o.store.real_path.display().to_string();
        let programs = Some(o.store.programs.iter().map(ProgramJson::of).collect());
        match &o.result {
            Ok(outcome) => {
                let (warnings, notes) = render::outcome_notices(outcome);
                for w in warnings {
                    output::warn(w);
                }
                for n in notes {
                    output::note(g, n);
                }
                let report = ReportJson::of_outcome(outcome, &catalog);
                if outcome.changed() {
                    updated += 1;
                    for p in names(&o.store.programs) {
                        if !restart.contains(&p) {
                            restart.push(p);
                        }
                    }
                    let _ = writeln!(
                        text,
                        "{shown}: added {} CA(s) ({}: {} -> {} entries), backup {}",
                        outcome.added.len(),
                        report.keystore.store_type.to_uppercase(),
                        outcome.entries_before,
                        report.keystore.entries,
                        report.backup.as_deref().unwrap_or("none (--no-backup)")
                    );
                } else {
                    current += 1;
                    let _ = writeln!(
                        text,
                        "{shown}: 0 added, it already holds every wanted Azure CA at hand"
                    );
                }
                results.push(KeystoreResult {
                    changed: outcome.changed(),
                    report: Some(report),
                    error: None,
                    label: None,
                    programs,
                });
            }
            Err(e) => {
                failed += 1;
                let failure = Failure::from(e);
                output::error(&failure);
                worst = worst.max(failure.exit_code());
                let _ = writeln!(
                    text,
                    "{shown}: NOT updated (exit {}): {failure}",
                    failure.exit_code()
                );
                results.push(KeystoreResult {
                    changed: false,
                    report: None,
                    error: Some(failure.to_string()),
                    label: Some(shown),
                    programs,
                });
            }
        }
    }
    for s in &applied.excluded {
        let _ = writeln!(text, "{}: excluded", s.real_path.display());
    }
    let changed = applied.changed();
    match g.format {
        Format::Json => output::print_json(&MultiJson {
            changed,
            keystores: results,
            excluded: applied
                .excluded
                .iter()
                .map(|s| s.real_path.display().to_string())
                .collect(),
        })?,
        Format::Text if g.quiet => {}
        Format::Text => {
            if applied.outcomes.is_empty() && applied.excluded.is_empty() {
                let _ = writeln!(text, "No Java truststore found (see `azure-cacerts scan`).");
            } else {
                let _ = writeln!(
                    text,
                    "{} truststore(s): {updated} updated, {current} already current, {failed} failed, {} excluded.",
                    applied.outcomes.len() + applied.excluded.len(),
                    applied.excluded.len()
                );
            }
            output::emit(&text)?;
        }
    }
    if changed {
        output::restart_notice(&restart_line(&restart));
    }
    Ok(worst)
}

/// The reminder after `--all-found` changed stores, naming what uses them.
fn restart_line(programs: &[String]) -> String {
    if programs.is_empty() {
        return "Restart the Java programs that use the updated truststores so that they load the new trust anchors.".into();
    }
    format!(
        "Restart the Java programs that use the updated truststores so that they load the new trust anchors: {}.",
        programs.join(", ")
    )
}

/// What `refresh --all-found` found besides its targets.
#[derive(Debug, Default)]
pub struct FoundExtras {
    /// Left out by `--exclude`.
    pub excluded: Vec<PathBuf>,
    /// Stores that cannot be refreshed safely (their label and why), reported as failures.
    pub unusable: Vec<(String, Failure)>,
}

/// `refresh --all-found`: the stores found, as refresh targets (those already named on the
/// command line or in the config are left to them).
pub fn refresh_targets(
    opts: &FoundOpts,
    named: &[Target],
    password: &PasswordSource,
    expected: Option<StoreType>,
) -> CliResult<(Vec<Target>, FoundExtras)> {
    let machine = opts.discover.machine()?;
    let discovery = scan::discover(&machine);
    let exclusions = Exclusions::new(&machine, &opts.discover.exclude);
    opts.discover
        .warn_unmatched(&exclusions.unmatched(&discovery.stores));
    // A store named with -k, --cacerts, --pimsync-home or the config is refreshed once.
    let named_files: Vec<PathBuf> = named
        .iter()
        .filter_map(|t| crate::ops::open::locate(&t.request.location).ok())
        .map(|found| crate::write::real_path(&found.path).unwrap_or(found.path))
        .collect();
    let (included, excluded) = found::split_excluded(discovery, &exclusions);
    let mut extras = FoundExtras {
        excluded: excluded.into_iter().map(|s| s.real_path).collect(),
        unusable: Vec::new(),
    };
    let mut targets = Vec::new();
    for s in included
        .into_iter()
        .filter(|s| !named_files.contains(&s.real_path))
    {
        let label = s.real_path.display().to_string();
        if let Err(e) = found::check_resolved(&s) {
            extras.unusable.push((label, Failure::from(&e)));
            continue;
        }
        let request: OpenRequest = found::request_for(&s, password, expected);
        targets.push(Target {
            request,
            skips: Vec::new(),
            label,
        });
    }
    Ok((targets, extras))
}
