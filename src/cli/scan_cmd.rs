//! `azure-cacerts scan`: every Java runtime and truststore on this machine, who uses
//! which, and each store's Azure state as `diff` computes it. Changes nothing; exit 1 when
//! a store lacks wanted CAs (the worst code of the stores that could not be read wins).

use std::fmt::Write as _;
use std::path::Path;

use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::all_found::{DiscoverOpts, FoundOpts};
use super::args::{
    Format, GlobalOpts, PasswordOpts, SelectOpts, SourceOpts, StoreTypeArg, TargetOpts,
};
use super::failure::{CliResult, Failure};
use super::output;
use super::prometheus::Exposition;
use super::render::{self, CatalogJson, ProgramJson};
use crate::catalog::Catalog;
use crate::locate::Managed;
use crate::ops::scan::{self as found, Exclusions, ScanReport, ScannedStore, StoreState};
use crate::plan::{self, CaStatus, Selection, Summary};
use crate::scan;

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceOpts,
    #[command(flatten)]
    pub select: SelectOpts,
    /// The password to try on every store (default: changeit, or the trustStorePassword
    /// set beside the setting that names a store).
    #[command(flatten)]
    pub password: PasswordOpts,
    /// Refuse stores of another type (default: detect by content).
    #[arg(long, value_enum, ignore_case = true, default_value_t = StoreTypeArg::Auto)]
    pub storetype: StoreTypeArg,
    #[command(flatten)]
    pub discover: DiscoverOpts,
}

impl ScanArgs {
    /// `import --all-found --dry-run`: the scan of what it would update.
    pub fn of(target: &TargetOpts, opts: &FoundOpts) -> CliResult<ScanArgs> {
        super::all_found::refuse_named(target)?;
        Ok(ScanArgs {
            source: target.source.clone(),
            select: target.select.clone(),
            password: target.keystore.password.clone(),
            storetype: target.keystore.storetype,
            discover: opts.discover.clone(),
        })
    }
}

fn managed_str(m: Managed) -> &'static str {
    match m {
        Managed::Debian => "debian",
        Managed::Rhel => "rhel",
    }
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[derive(Serialize)]
struct RuntimeJson {
    home: String,
    vendor: Option<String>,
    version: Option<String>,
    cacerts: Option<String>,
    found_by: Vec<&'static str>,
    programs: Vec<ProgramJson>,
}

#[derive(Serialize)]
struct CaRef {
    name: String,
    sha1: String,
}

#[derive(Serialize)]
struct StoreJson {
    /// The real file.
    path: String,
    /// Every path that leads to it.
    paths: Vec<String>,
    /// `read`, `excluded` or `error`.
    state: &'static str,
    #[serde(rename = "type")]
    store_type: Option<&'static str>,
    entries: Option<usize>,
    password_protected: Option<bool>,
    /// The start-up file whose trustStorePassword opened it.
    password_setting: Option<String>,
    managed: Option<&'static str>,
    runtimes: Vec<String>,
    named_by: Vec<String>,
    programs: Vec<ProgramJson>,
    summary: Option<Summary>,
    missing: Vec<CaRef>,
    error: Option<String>,
    exit: Option<i32>,
}

#[derive(Serialize)]
struct NotRuntimeJson {
    source: &'static str,
    path: String,
}

#[derive(Serialize, Default)]
struct ScanSummary {
    runtimes: usize,
    stores: usize,
    /// Stores read that lack wanted CAs.
    lacking: usize,
    /// Missing CAs over every store read.
    missing: usize,
    failed: usize,
    excluded: usize,
}

#[derive(Serialize)]
struct ScanJson {
    catalog: CatalogJson,
    runtimes: Vec<RuntimeJson>,
    stores: Vec<StoreJson>,
    not_runtimes: Vec<NotRuntimeJson>,
    summary: ScanSummary,
}

fn store_json(s: &ScannedStore) -> StoreJson {
    let st = &s.store;
    let mut j = StoreJson {
        path: path_str(&st.real_path),
        paths: st.paths.iter().map(|p| path_str(p)).collect(),
        state: "read",
        store_type: None,
        entries: None,
        password_protected: None,
        password_setting: None,
        managed: st.managed.map(managed_str),
        runtimes: st.runtimes.iter().map(|p| path_str(p)).collect(),
        named_by: st.named_by.iter().map(|p| path_str(p)).collect(),
        programs: st.programs.iter().map(ProgramJson::of).collect(),
        summary: None,
        missing: Vec::new(),
        error: None,
        exit: None,
    };
    match &s.state {
        StoreState::Excluded => j.state = "excluded",
        StoreState::Failed(e) => {
            let f = Failure::from(e.as_ref());
            j.state = "error";
            j.error = Some(f.to_string());
            j.exit = Some(f.exit_code());
        }
        StoreState::Read(d) => {
            j.store_type = Some(d.keystore.store_type.as_str());
            j.entries = Some(d.keystore.entries);
            j.password_protected = Some(d.keystore.password_protected);
            j.password_setting = d.keystore.password_setting.as_deref().map(path_str);
            j.summary = Some(d.plan.summary());
            j.missing = d
                .plan
                .missing()
                .map(|c| CaRef {
                    name: c.ca.display_name(),
                    sha1: c.ca.sha1.clone(),
                })
                .collect();
        }
    }
    j
}

fn summary(report: &ScanReport) -> ScanSummary {
    let mut s = ScanSummary {
        runtimes: report.runtimes.len(),
        stores: report.stores.len(),
        lacking: report.lacking(),
        ..ScanSummary::default()
    };
    for st in &report.stores {
        match &st.state {
            StoreState::Read(d) => s.missing += d.plan.summary().missing,
            StoreState::Failed(_) => s.failed += 1,
            StoreState::Excluded => s.excluded += 1,
        }
    }
    s
}

/// 1 when a store lacks CAs, the code of a store that could not be read when that is
/// worse (3), else 0.
fn exit_code(report: &ScanReport) -> i32 {
    report
        .stores
        .iter()
        .map(|s| match &s.state {
            StoreState::Read(d) if d.plan.summary().missing > 0 => 1,
            StoreState::Failed(e) => Failure::from(e.as_ref()).exit_code(),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fn catalog_json(catalog: &Catalog, selection: &Selection) -> CatalogJson {
    CatalogJson {
        source: catalog.source.as_str(),
        page_date: catalog.page_date.clone(),
        checked_on: catalog.checked_on.clone(),
        age_days: crate::catalog::age::age_days(catalog, selection.now.date()),
        count: plan::candidates(catalog, selection).count(),
        fallback: None,
    }
}

pub fn run(args: &ScanArgs, g: &GlobalOpts) -> CliResult<i32> {
    let now = OffsetDateTime::now_utc();
    let machine = args.discover.machine()?;
    let password = args.password.source()?;
    let catalog = output::load_catalog(g, &args.source.spec()?)?.catalog;
    let selection = args.select.selection(now);
    let discovery = scan::discover(&machine);
    let exclusions = Exclusions::new(&machine, &args.discover.exclude);
    let report = found::scan(
        discovery,
        &exclusions,
        &catalog,
        &selection,
        &password,
        args.storetype.expected(),
    );
    args.discover.warn_unmatched(&report.unmatched_excludes);
    for s in &report.stores {
        if let StoreState::Read(d) = &s.state {
            if let Some((t, file)) = d.keystore.type_setting_mismatch() {
                output::warn(format!(
                    "{} sets javax.net.ssl.trustStoreType={t}, but {} is {}: the JVM may refuse it. Correct the setting.",
                    file.display(),
                    d.keystore.real_path.display(),
                    d.keystore.store_type.as_str().to_uppercase()
                ));
            }
        }
    }
    let code = exit_code(&report);
    if g.prometheus() {
        let mut metrics = Exposition::default();
        for s in &report.stores {
            let label = path_str(&s.store.real_path);
            match &s.state {
                StoreState::Read(d) => metrics.keystore(&label, &d.plan, now),
                StoreState::Failed(_) => metrics.unreadable(&label),
                StoreState::Excluded => {}
            }
        }
        metrics.catalog(&catalog, now);
        output::emit(&metrics.render())?;
        return Ok(code);
    }
    match g.format {
        Format::Json => output::print_json(&ScanJson {
            catalog: catalog_json(&catalog, &selection),
            runtimes: report
                .runtimes
                .iter()
                .map(|r| RuntimeJson {
                    home: path_str(&r.home),
                    vendor: r.vendor.clone(),
                    version: r.version.clone(),
                    cacerts: r.cacerts.as_deref().map(path_str),
                    found_by: r.sources.iter().map(|s| s.as_str()).collect(),
                    programs: r.programs.iter().map(ProgramJson::of).collect(),
                })
                .collect(),
            stores: report.stores.iter().map(store_json).collect(),
            not_runtimes: report
                .not_runtimes
                .iter()
                .map(|n| NotRuntimeJson {
                    source: n.source.as_str(),
                    path: path_str(&n.path),
                })
                .collect(),
            summary: summary(&report),
        })?,
        Format::Text if g.quiet => {}
        Format::Text => output::emit(&text(g, args, &report))?,
    }
    Ok(code)
}

fn joined<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn line(out: &mut String, indent: usize, text: &str) {
    let _ = writeln!(
        out,
        "{}",
        render::wrap(&format!("{}{text}", " ".repeat(indent)), indent + 2)
    );
}

fn text(g: &GlobalOpts, args: &ScanArgs, report: &ScanReport) -> String {
    let color = output::use_color(g);
    let mut out = String::new();
    let _ = writeln!(out, "Java runtimes: {}", report.runtimes.len());
    for r in &report.runtimes {
        line(&mut out, 2, &r.home.display().to_string());
        let what = match (&r.vendor, &r.version) {
            (Some(v), Some(n)) => format!("{v} {n}"),
            (None, Some(n)) => format!("version {n}"),
            (Some(v), None) => v.clone(),
            (None, None) => "no release file".into(),
        };
        let cacerts = if r.cacerts.is_some() {
            ""
        } else {
            "; no cacerts"
        };
        line(
            &mut out,
            6,
            &format!(
                "{what}{cacerts}; found by {}",
                joined(r.sources.iter().map(|s| s.as_str()))
            ),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Truststores: {}", report.stores.len());
    for s in &report.stores {
        store_text(&mut out, color, s);
    }
    if !report.not_runtimes.is_empty() {
        let _ = writeln!(out);
        for n in &report.not_runtimes {
            line(
                &mut out,
                0,
                &format!(
                    "No Java runtime at {} (named by {}).",
                    n.path.display(),
                    n.source.as_str()
                ),
            );
        }
    }
    let s = summary(report);
    let _ = writeln!(out);
    let mut parts = vec![format!(
        "{} lacking Azure CAs ({} missing)",
        s.lacking, s.missing
    )];
    if s.failed > 0 {
        parts.push(format!("{} could not be read", s.failed));
    }
    if s.excluded > 0 {
        parts.push(format!("{} excluded", s.excluded));
    }
    line(
        &mut out,
        0,
        &format!(
            "Summary: {} runtime(s), {} truststore(s): {}.",
            s.runtimes,
            s.stores,
            parts.join(", ")
        ),
    );
    if s.lacking > 0 {
        let mut cmd = "azure-cacerts import --all-found".to_string();
        if let Some(root) = &args.discover.system_root {
            cmd.push_str(&format!(
                " --system-root {}",
                crate::suggest::quote_arg(&root.display().to_string())
            ));
        }
        for e in &args.discover.exclude {
            cmd.push_str(&format!(
                " --exclude {}",
                crate::suggest::quote_arg(&e.display().to_string())
            ));
        }
        line(
            &mut out,
            0,
            &format!("Run `{cmd}` to add the missing CAs to every store above (each backed up and verified)."),
        );
    }
    out
}

fn store_text(out: &mut String, color: bool, s: &ScannedStore) {
    let st = &s.store;
    let head = match &s.state {
        StoreState::Read(d) => {
            let k = &d.keystore;
            format!(
                "{} ({}, {} entries{})",
                st.real_path.display(),
                k.store_type.as_str().to_uppercase(),
                k.entries,
                if k.password_protected {
                    ""
                } else {
                    ", password-less"
                }
            )
        }
        _ => st.real_path.display().to_string(),
    };
    line(out, 2, &head);
    let others: Vec<_> = st.paths.iter().filter(|p| **p != st.real_path).collect();
    if !others.is_empty() {
        line(
            out,
            6,
            &format!(
                "reached through {}",
                joined(others.iter().map(|p| p.display()))
            ),
        );
    }
    if !st.runtimes.is_empty() {
        line(
            out,
            6,
            &format!(
                "cacerts of {}",
                joined(st.runtimes.iter().map(|p| p.display()))
            ),
        );
    }
    for f in &st.named_by {
        line(
            out,
            6,
            &format!("named by javax.net.ssl.trustStore in {}", f.display()),
        );
    }
    if !st.programs.is_empty() {
        line(out, 6, &format!("used by {}", joined(&st.programs)));
    }
    if let Some(m) = st.managed {
        line(
            out,
            6,
            &format!(
                "generated by {}: {} rebuild it and drop CAs added to it",
                m.owner(),
                m.regenerated_by()
            ),
        );
    }
    match &s.state {
        StoreState::Excluded => line(out, 6, "excluded (--exclude): not read"),
        StoreState::Failed(e) => {
            let f = Failure::from(e.as_ref());
            line(
                out,
                6,
                &output::paint(color, "1;31", &format!("not read: {f}")),
            );
        }
        StoreState::Read(d) => {
            if let Some(file) = &d.keystore.password_setting {
                line(
                    out,
                    6,
                    &format!(
                        "opened with the trustStorePassword set in {}",
                        file.display()
                    ),
                );
            }
            let sum = d.plan.summary();
            let state = if sum.missing > 0 {
                output::paint(color, "1;31", &format!("{} missing", sum.missing))
            } else {
                output::paint(color, "32", "nothing missing")
            };
            line(
                out,
                6,
                &format!(
                    "Azure: {state}; {} present, {} equivalent, {} skipped, {} expired, {} unavailable",
                    sum.present, sum.equivalent, sum.skipped, sum.expired, sum.unavailable
                ),
            );
            let names: Vec<String> = d
                .plan
                .cas
                .iter()
                .filter(|c| c.status == CaStatus::Missing)
                .map(|c| c.ca.display_name())
                .collect();
            if !names.is_empty() && names.len() <= 5 {
                line(out, 8, &format!("missing: {}", names.join(", ")));
            }
        }
    }
}
