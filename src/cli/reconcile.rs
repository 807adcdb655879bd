//! `diff` and `import`: which Azure CAs a keystore lacks, and adding exactly those.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::args::{Format, GlobalOpts, KeystoreOpts, SelectOpts, SourceOpts};
use super::{catalog_cmd, open, output};
use crate::catalog::{self, Catalog, CatalogError};
use crate::cert::sha256_hex;
use crate::error::{CliResult, ExitKind, Failure};
use crate::keystore::{EntryKind, Keystore};
use crate::lock;
use crate::plan::{self, CaStatus, Plan, Selection, Summary};
use crate::write::{self, Backup, ReplaceOptions, WriteError};

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub keystore: KeystoreOpts,
    #[command(flatten)]
    pub source: SourceOpts,
    #[command(flatten)]
    pub select: SelectOpts,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The same keystore, source and selection as `diff`.
    #[command(flatten)]
    pub target: DiffArgs,
    /// Show what would be added and change nothing (the same as `diff`).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub write: WriteOpts,
    /// How long to wait for another run to release the lock.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub lock_timeout: u64,
}

/// How import and refresh write: backup, aliases, lock file.
#[derive(Debug, Clone, Args)]
pub struct WriteOpts {
    /// Do not keep a copy of the keystore before writing it.
    #[arg(long, conflicts_with = "backup_dir")]
    pub no_backup: bool,
    /// Put the backup in this directory instead of beside the keystore.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Prefix of the aliases of added entries.
    #[arg(long, value_name = "PREFIX", default_value = plan::DEFAULT_ALIAS_PREFIX)]
    pub alias_prefix: String,
    /// Lock file that keeps two runs from writing at once (default: <keystore>.lock).
    #[arg(long, value_name = "FILE")]
    pub lock_file: Option<PathBuf>,
}

impl WriteOpts {
    pub fn settings(
        &self,
        lock_timeout_secs: u64,
        prune: bool,
        now: OffsetDateTime,
    ) -> ApplySettings {
        ApplySettings {
            backup: if self.no_backup {
                Backup::None
            } else if let Some(d) = &self.backup_dir {
                Backup::Dir(d.clone())
            } else {
                Backup::Beside
            },
            alias_prefix: self.alias_prefix.clone(),
            lock_file: self.lock_file.clone(),
            lock_timeout: Duration::from_secs(lock_timeout_secs),
            prune,
            now,
        }
    }
}

pub fn selection(opts: &SelectOpts, now: OffsetDateTime) -> Selection {
    Selection {
        default_skips: !opts.no_default_skips,
        extra_skips: opts.skip.clone(),
        roots_only: opts.roots_only,
        now,
    }
}

pub fn catalog_failure(e: &CatalogError) -> Failure {
    e.to_failure()
}

/// Resolves the SOURCE options (progress bar on a terminal, warnings on stderr).
pub fn load_catalog(source: &SourceOpts, g: &GlobalOpts) -> CliResult<Catalog> {
    let spec = catalog_cmd::source_spec(source)?;
    let bar = catalog_cmd::DownloadBar::new(g, &spec);
    let obtained = catalog::load_with(&spec, &bar)?;
    for w in &obtained.warnings {
        output::warn(w);
    }
    Ok(obtained.catalog)
}

// ---- JSON of the contract

#[derive(Serialize)]
pub struct KeystoreJson {
    pub path: String,
    #[serde(rename = "type")]
    pub store_type: &'static str,
    pub entries: usize,
    pub password_protected: bool,
}

#[derive(Serialize)]
pub struct CatalogJson {
    pub source: &'static str,
    pub page_date: Option<String>,
    pub count: usize,
    /// refresh only: why the live catalog could not be used and the built-in one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

#[derive(Serialize)]
pub struct CaJson {
    pub name: String,
    pub role: catalog::Role,
    pub variant: Option<String>,
    pub sha1: String,
    pub sha256: Option<String>,
    pub not_after: Option<String>,
    pub status: CaStatus,
    pub alias: Option<String>,
    pub present: bool,
}

#[derive(Serialize)]
pub struct ReportJson {
    pub keystore: KeystoreJson,
    pub catalog: CatalogJson,
    pub cas: Vec<CaJson>,
    pub summary: Summary,
    pub backup: Option<String>,
    /// refresh --prune only: what was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Vec<plan::Pruned>>,
}

fn date_string(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn report_json(
    path: &str,
    ks: &Keystore,
    catalog: &Catalog,
    plan: &Plan,
    backup: Option<&std::path::Path>,
) -> ReportJson {
    ReportJson {
        keystore: KeystoreJson {
            path: path.to_string(),
            store_type: ks.store_type().as_str(),
            entries: ks.entries().len(),
            password_protected: ks.is_password_protected(),
        },
        catalog: CatalogJson {
            source: catalog.source.as_str(),
            page_date: catalog.page_date.clone(),
            count: plan.cas.len(),
            fallback: None,
        },
        cas: plan
            .cas
            .iter()
            .map(|c| CaJson {
                name: c.ca.name.clone(),
                role: c.ca.role,
                variant: c.ca.variant.clone(),
                sha1: c.ca.sha1.clone(),
                sha256: c
                    .ca
                    .sha256
                    .clone()
                    .or_else(|| c.ca.der.as_deref().map(sha256_hex)),
                not_after: c.ca.not_after.map(date_string),
                status: c.status,
                alias: c.alias.clone(),
                present: c.present,
            })
            .collect(),
        summary: plan.summary(),
        backup: backup.map(|b| b.display().to_string()),
        pruned: None,
    }
}

// ---- text

fn status_color(s: CaStatus) -> &'static str {
    match s {
        CaStatus::Present | CaStatus::Equivalent => "32",
        CaStatus::Added => "1;32",
        CaStatus::Missing => "1;31",
        CaStatus::Expired | CaStatus::Unavailable => "33",
        CaStatus::Skipped => "2",
    }
}

fn summary_line(s: &Summary) -> String {
    format!(
        "{} present, {} equivalent, {} missing, {} added, {} skipped, {} expired, {} unavailable",
        s.present, s.equivalent, s.missing, s.added, s.skipped, s.expired, s.unavailable
    )
}

fn print_table(g: &GlobalOpts, report: &ReportJson) {
    let color = output::use_color(g);
    let name_w = report
        .cas
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<11}  {:<name_w$}  {:<14}  {:<10}  ALIAS",
        "STATUS", "NAME", "VARIANT", "NOT AFTER"
    );
    for c in &report.cas {
        let status = output::paint(
            color,
            status_color(c.status),
            &format!("{:<11}", c.status.as_str()),
        );
        let alias = match (&c.alias, c.status) {
            (Some(a), CaStatus::Equivalent) => format!("{a} (same name and key)"),
            (Some(a), _) => a.clone(),
            (None, _) => "-".into(),
        };
        println!(
            "{status}  {:<name_w$}  {:<14}  {:<10}  {alias}",
            c.name,
            c.variant.as_deref().unwrap_or("-"),
            c.not_after.as_deref().unwrap_or("?"),
        );
    }
}

fn print_header(report: &ReportJson, how: &str) {
    let k = &report.keystore;
    let protection = if k.password_protected {
        ""
    } else {
        ", password-less"
    };
    println!(
        "Keystore: {} ({}, {} entries{protection})",
        k.path,
        k.store_type.to_uppercase(),
        k.entries
    );
    if how != open::GIVEN_WITH_K {
        println!("          found through {how}");
    }
    let c = &report.catalog;
    println!(
        "Catalog:  {}{}, {} CAs considered",
        c.source,
        c.page_date
            .as_deref()
            .map(|d| format!(", page of {d}"))
            .unwrap_or_default(),
        c.count
    );
    println!();
}

fn warn_about_skips(g: &GlobalOpts, plan: &Plan) {
    if g.quiet {
        return;
    }
    for c in plan
        .cas
        .iter()
        .filter(|c| c.status == CaStatus::Skipped && !c.present)
    {
        let why = if plan::is_default_skip(&c.ca) {
            "Java runtimes ship it"
        } else {
            "--skip"
        };
        output::warn(format!(
            "{} is skipped ({why}) but this keystore does not hold it: chains through it will fail. {}",
            c.ca.name,
            if why == "--skip" { "Drop the --skip to add it." } else { "Add it with --no-default-skips." }
        ));
    }
}

// ---- diff

pub fn run_diff(args: &DiffArgs, g: &GlobalOpts) -> CliResult<i32> {
    let opened = open::open(&args.keystore)?;
    let catalog = load_catalog(&args.source, g)?;
    let plan = plan::plan(
        &catalog,
        &opened.keystore,
        &selection(&args.select, OffsetDateTime::now_utc()),
    );
    let path = opened.path.display().to_string();
    show_diff(
        g,
        &path,
        &opened.how,
        &opened.keystore,
        &catalog,
        &plan,
        &import_hint(&opened.path),
    )
}

fn import_hint(path: &std::path::Path) -> String {
    let p = path.display().to_string();
    if p.contains(' ') {
        format!("azure-cacerts import -k \"{p}\"")
    } else {
        format!("azure-cacerts import -k {p}")
    }
}

fn show_diff(
    g: &GlobalOpts,
    path: &str,
    how: &str,
    ks: &Keystore,
    catalog: &Catalog,
    plan: &Plan,
    hint: &str,
) -> CliResult<i32> {
    warn_about_skips(g, plan);
    let report = report_json(path, ks, catalog, plan, None);
    let missing = report.summary.missing;
    match g.format {
        Format::Json => output::print_json(&report)?,
        Format::Text => {
            if !g.quiet {
                print_header(&report, how);
                print_table(g, &report);
                println!();
            }
            println!("Summary: {}", summary_line(&report.summary));
            if missing > 0 && !g.quiet {
                println!("Run `{hint}` to add the {missing} missing CA(s).");
            }
        }
    }
    Ok(if missing > 0 { 1 } else { 0 })
}

// ---- import

/// How `import` and `refresh` change a keystore.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    pub backup: Backup,
    pub alias_prefix: String,
    pub lock_file: Option<PathBuf>,
    pub lock_timeout: Duration,
    /// Also remove our own entries (alias prefix) that expired or left the page.
    pub prune: bool,
    pub now: OffsetDateTime,
}

/// What one keystore went through.
pub struct Applied {
    pub report: ReportJson,
    pub how: String,
    pub added: Vec<(String, String)>,
    pub before_entries: usize,
}

impl Applied {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || self.report.pruned.as_ref().is_some_and(|p| !p.is_empty())
    }
}

fn lock_failure(path: &std::path::Path, e: lock::LockError) -> Failure {
    Failure::new(
        ExitKind::Keystore,
        "keystore is locked",
        path.display().to_string(),
        e,
        "Wait for the other run to finish, or raise --lock-timeout.",
    )
}

/// Locks, reads, plans, adds the missing CAs (and prunes), writes safely, verifies.
pub fn apply(
    g: &GlobalOpts,
    keystore: &KeystoreOpts,
    catalog: &Catalog,
    selection: &Selection,
    settings: &ApplySettings,
) -> CliResult<Applied> {
    let (path, how) = open::locate(keystore)?;
    // Lock before reading, so that what we parse is what we replace.
    let lock_path = settings
        .lock_file
        .clone()
        .unwrap_or_else(|| lock::default_lock_path(&path));
    let _lock =
        lock::acquire(&lock_path, settings.lock_timeout).map_err(|e| lock_failure(&path, e))?;
    tracing::debug!("locked {}", lock_path.display());
    let opened = open::open_at(path, how, keystore)?;
    let mut plan = plan::plan(catalog, &opened.keystore, selection);
    warn_about_skips(g, &plan);

    let before = opened.keystore.clone();
    let mut updated = opened.keystore.clone();
    let mut pruned = Vec::new();
    if settings.prune {
        for p in plan::prunable(&before, catalog, &settings.alias_prefix, settings.now) {
            updated.remove_entry(&p.alias).map_err(|e| {
                Failure::new(
                    ExitKind::Keystore,
                    "cannot prune an entry",
                    format!("{} alias {}", opened.path.display(), p.alias),
                    e,
                    "Nothing was changed; remove it with keytool -delete if it must go.",
                )
            })?;
            pruned.push(p);
        }
    }
    let mut added: Vec<(String, String)> = Vec::new(); // (alias, sha256)
    let created_ms = settings.now.unix_timestamp() * 1000;
    for c in plan
        .cas
        .iter_mut()
        .filter(|c| c.status == CaStatus::Missing)
    {
        let Some(der) = c.ca.der.as_deref() else {
            continue;
        };
        let alias = plan::choose_alias(&updated, &settings.alias_prefix, &c.ca.slug);
        updated
            .add_trusted_cert(&alias, der, created_ms)
            .map_err(|e| {
                Failure::new(
                    ExitKind::Keystore,
                    "cannot add a certificate",
                    c.ca.name.clone(),
                    e,
                    "Report this as a bug; the keystore was not changed.",
                )
            })?;
        added.push((alias.clone(), sha256_hex(der)));
        c.status = CaStatus::Added;
        c.alias = Some(alias);
        c.present = true;
    }

    let mut backup_path = None;
    if !added.is_empty() || !pruned.is_empty() {
        let password = Some(opened.password.value.as_str());
        let new_bytes = updated
            .to_bytes(password)
            .map_err(|e| open::keystore_failure(&opened.path, &e, &opened.password))?;
        let removed: Vec<String> = pruned.iter().map(|p| p.alias.clone()).collect();
        let verify = |bytes: &[u8]| verify_written(bytes, &before, password, &added, &removed);
        let opts = ReplaceOptions {
            backup: settings.backup.clone(),
            stamp: write::backup_stamp(settings.now),
            verify: &verify,
            fault: None,
        };
        let replaced = write::replace(&opened.path, &opened.bytes, &new_bytes, &opts)
            .map_err(|e| write_failure(&e))?;
        tracing::debug!(
            "wrote {} ({} bytes, verified); backup {:?}",
            replaced.target.display(),
            new_bytes.len(),
            replaced.backup
        );
        backup_path = replaced.backup;
    }
    let shown = opened.path.display().to_string();
    let mut report = report_json(&shown, &updated, catalog, &plan, backup_path.as_deref());
    if settings.prune {
        report.pruned = Some(pruned);
    }
    Ok(Applied {
        report,
        how: opened.how,
        added,
        before_entries: before.entries().len(),
    })
}

pub fn run_import(args: &ImportArgs, g: &GlobalOpts) -> CliResult<i32> {
    let now = OffsetDateTime::now_utc();
    let selection = selection(&args.target.select, now);
    if args.dry_run {
        return run_diff(&args.target, g);
    }
    let catalog = load_catalog(&args.target.source, g)?;
    let settings = args.write.settings(args.lock_timeout, false, now);
    let applied = apply(g, &args.target.keystore, &catalog, &selection, &settings)?;
    match g.format {
        Format::Json => {
            output::print_json(&applied.report)?;
            if applied.changed() {
                output::note(g, RESTART);
            }
        }
        Format::Text => print_import_text(g, &applied),
    }
    Ok(0)
}

pub const RESTART: &str = "Restart the Java process that uses this keystore (for PIMSYNC: the PIMSYNC service) so that it loads the new trust anchors.";

/// Re-reads what was written: the same entries as before, less the pruned ones, plus exactly
/// the added ones.
fn verify_written(
    bytes: &[u8],
    before: &Keystore,
    password: Option<&str>,
    added: &[(String, String)],
    removed: &[String],
) -> Result<(), String> {
    let after =
        Keystore::parse(bytes, Some(before.store_type()), password).map_err(|e| e.to_string())?;
    if after.is_password_protected() != before.is_password_protected() {
        return Err("the password protection changed".into());
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
    for (alias, sha256) in added {
        let found = after.entries().iter().any(|e| {
            e.kind == EntryKind::TrustedCert
                && &e.alias == alias
                && e.certs.first().map(|d| sha256_hex(d)).as_deref() == Some(sha256.as_str())
        });
        if !found {
            return Err(format!("the new entry {alias} is not there"));
        }
    }
    Ok(())
}

fn write_failure(e: &WriteError) -> Failure {
    let fix = match e {
        WriteError::ReadOnly { .. } => "Make it writable (or run as its owner / an administrator) and run again; nothing was changed.",
        WriteError::Changed { .. } => "Another program (keytool, a package update, another run) wrote it meanwhile; run again. Nothing was changed by us.",
        WriteError::Verify { .. } => "The original keystore was kept; report this as a bug with the keystore type.",
        WriteError::Io { .. } => "The original keystore was kept; fix the cause (disk space, permissions) and run again.",
    };
    Failure::new(
        ExitKind::Keystore,
        "cannot write keystore",
        e.path().display().to_string(),
        e,
        fix,
    )
}

fn print_import_text(g: &GlobalOpts, applied: &Applied) {
    let report = &applied.report;
    let k = &report.keystore;
    if applied.added.is_empty() {
        println!(
            "0 added: {} already holds every wanted Azure CA ({}).",
            k.path,
            summary_line(&report.summary)
        );
        return;
    }
    if !g.quiet {
        print_header(report, &applied.how);
        print_table(g, report);
        println!();
    }
    println!(
        "Added {} CA(s) to {} ({}: {} -> {} entries).",
        applied.added.len(),
        k.path,
        k.store_type.to_uppercase(),
        applied.before_entries,
        k.entries
    );
    println!("Summary: {}", summary_line(&report.summary));
    match &report.backup {
        Some(b) => println!("Backup: {b}"),
        None => println!("Backup: none (--no-backup)"),
    }
    println!("{RESTART}");
}
