//! `azure-cacerts import`: add exactly the missing Azure CAs (backup, atomic write, verified).

use std::fmt::Write as _;

use clap::Args;
use time::OffsetDateTime;

use super::args::{Format, GlobalOpts, TargetOpts, WriteOpts};
use super::failure::CliResult;
use super::output;
use super::render::{self, ReportJson, RESTART};
use crate::ops::{self, Outcome};

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The same keystore, source and selection as `diff`.
    #[command(flatten)]
    pub target: TargetOpts,
    /// Show what would be added and change nothing (the same as `diff`).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub write: WriteOpts,
    /// How long to wait for another run to release the lock.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub lock_timeout: u64,
    #[command(flatten)]
    pub found: super::all_found::FoundOpts,
}

/// The transaction; `--dry-run` is dispatched to `diff` before this.
pub fn run(args: &ImportArgs, g: &GlobalOpts) -> CliResult<i32> {
    args.found.check()?;
    if args.found.all_found {
        return super::all_found::import(
            &args.target,
            &args.found,
            &args.write,
            args.lock_timeout,
            g,
        );
    }
    let now = OffsetDateTime::now_utc();
    let request = args.target.keystore.request()?;
    let catalog = args.target.catalog(g)?;
    let (selection, loaded) = args.target.selection_with(now, &catalog)?;
    for n in render::custom_notes(&loaded) {
        output::note(g, n);
    }
    // Every certificate from outside the catalog is shown before anything is written.
    if g.format == Format::Text && !g.quiet && !loaded.read.is_empty() {
        output::emit(&render::custom_listing(&loaded))?;
    }
    let settings = args.write.settings(args.lock_timeout, false, now);
    let outcome = match ops::apply(&request, &catalog, &selection, &settings) {
        Err(ops::ApplyError::Open(e)) => match super::args::ask_after_default_failed(&e) {
            // Asked on a terminal after changeit failed; nothing was written meanwhile.
            Some(password) => ops::apply(
                &ops::OpenRequest {
                    password,
                    ..request
                },
                &catalog,
                &selection,
                &settings,
            )?,
            None => return Err(ops::ApplyError::Open(e).into()),
        },
        r => r?,
    };
    let (warnings, notes) = render::outcome_notices(&outcome);
    for w in warnings {
        output::warn(w);
    }
    for n in notes {
        output::note(g, n);
    }
    let report = ReportJson::of_outcome(&outcome, &catalog);
    let printed = match g.format {
        Format::Json => output::print_json(&report),
        // Quiet: nothing on stdout; the restart notice alone, on stderr.
        Format::Text if g.quiet => Ok(()),
        Format::Text => output::emit(&text(g, &outcome, &report)),
    };
    // The keystore is already written: a report that cannot be printed must not read as if
    // nothing happened.
    printed.map_err(|mut f| {
        if outcome.changed() {
            f.fix = format!(
                "The keystore {} WAS updated ({} added{}); only this report is lost. {RESTART}",
                report.keystore.path,
                outcome.added.len(),
                report
                    .backup
                    .as_deref()
                    .map(|b| format!(", backup {b}"))
                    .unwrap_or_default()
            );
        }
        f
    })?;
    if (g.format == Format::Json || g.quiet) && outcome.changed() {
        output::restart_notice(RESTART);
    }
    Ok(0)
}

fn text(g: &GlobalOpts, outcome: &Outcome, report: &ReportJson) -> String {
    let mut out = String::new();
    let k = &report.keystore;
    let shown = render::path_shown(&outcome.keystore);
    if outcome.added.is_empty() {
        let what = if outcome
            .plan
            .cas
            .iter()
            .any(|c| c.source != crate::plan::CaSource::Catalog)
        {
            "CA"
        } else {
            "Azure CA"
        };
        let holds = if outcome.plan.summary().unavailable == 0 {
            format!("already holds every wanted {what}")
        } else {
            format!("holds every wanted {what} that is at hand")
        };
        let _ = writeln!(out, "0 added: {shown} {holds}.");
        let _ = writeln!(out, "Summary: {}", render::summary_line(&report.summary));
        if let Some(notice) = render::unavailable_notice(&outcome.plan) {
            let _ = writeln!(out, "{notice}");
        }
        return out;
    }
    render::report_table(
        &mut out,
        output::use_color(g),
        g.verbose,
        &outcome.keystore,
        report,
        true,
    );
    out.push('\n');
    // One line whatever the path's length: scripts and people grep for it.
    let _ = writeln!(
        out,
        "Added {} CA(s) to {shown} ({}: {} -> {} entries).",
        outcome.added.len(),
        k.store_type.to_uppercase(),
        outcome.entries_before,
        k.entries
    );
    let _ = writeln!(out, "Summary: {}", render::summary_line(&report.summary));
    if let Some(notice) = render::unavailable_notice(&outcome.plan) {
        let _ = writeln!(out, "{notice}");
    }
    match &report.backup {
        Some(b) => {
            let _ = writeln!(out, "Backup: {b}");
        }
        None => {
            let _ = writeln!(out, "Backup: none (--no-backup)");
        }
    }
    let _ = writeln!(out, "{}", render::wrap(RESTART, 0));
    out
}
