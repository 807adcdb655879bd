//! `azure-cacerts catalog [SOURCE]`: the CA catalog in use, as a table or JSON.
//!
//! Also home of what every SOURCE-taking command shares: turning the options into a
//! [`SourceSpec`], the progress bar, and the JSON summary of a catalog.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::args::{Format, GlobalOpts, NetOpts, SourceOpts};
use super::output;
use crate::catalog::{self, Catalog, CatalogCa, PageStatus, Progress, SourceSpec};
use crate::error::{CliResult, Failure};

#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub source: SourceOpts,
}

pub fn run(args: &CatalogArgs, g: &GlobalOpts) -> CliResult<i32> {
    let spec = source_spec(&args.source)?;
    let bar = DownloadBar::new(g, &spec);
    let obtained = catalog::load_with(&spec, &bar)?;
    for w in &obtained.warnings {
        output::warn(w);
    }
    let today = time::OffsetDateTime::now_utc().date();
    let c = &obtained.catalog;
    match g.format {
        Format::Json => output::print_json(&CatalogDoc {
            catalog: CatalogSummary::of(c),
            cas: c.cas.iter().map(|ca| CaView::of(ca, today)).collect(),
        })?,
        Format::Text => print_table(c, today, output::use_color(g)),
    }
    Ok(0)
}

/// The SOURCE options as the catalog module takes them.
pub(crate) fn source_spec(opts: &SourceOpts) -> CliResult<SourceSpec> {
    if opts.online && opts.net.bundle.is_some() {
        return Err(conflicting_sources());
    }
    source_spec_with(opts.online || opts.net.catalog_url.is_some(), &opts.net)
}

fn conflicting_sources() -> Failure {
    Failure::usage(
        "conflicting sources",
        "--bundle reads an offline bundle and cannot be combined with --online or --catalog-url",
        "Drop one of them",
    )
}

/// The SOURCE of a command that decides for itself whether it is online (refresh is by default).
pub(crate) fn source_spec_with(online: bool, net: &NetOpts) -> CliResult<SourceSpec> {
    if net.bundle.is_some() && net.catalog_url.is_some() {
        return Err(conflicting_sources());
    }
    if net.timeout == 0 {
        return Err(Failure::usage(
            "bad option --timeout",
            "the timeout must be at least 1 second",
            "Pass --timeout SECS with SECS >= 1",
        ));
    }
    Ok(SourceSpec {
        online: online && net.bundle.is_none(),
        catalog_url: net.catalog_url.clone(),
        bundle: net.bundle.clone(),
        proxy: net.proxy.clone(),
        timeout: Duration::from_secs(net.timeout),
    })
}

/// The `"catalog"` object of the JSON documents.
#[derive(Debug, Serialize)]
pub(crate) struct CatalogSummary {
    pub source: &'static str,
    pub page_date: Option<String>,
    pub count: usize,
    pub listed: usize,
    pub retired: usize,
    pub extra: usize,
    pub available: usize,
    pub page_url: Option<String>,
    pub page_commit: Option<String>,
    pub checked_on: Option<String>,
    /// A bundle's origin (built-in or live).
    pub origin: Option<&'static str>,
    /// A bundle's directory, or the URL the live page was read from.
    pub location: Option<String>,
}

impl CatalogSummary {
    pub(crate) fn of(c: &Catalog) -> CatalogSummary {
        CatalogSummary {
            source: c.source.as_str(),
            page_date: c.page_date.clone(),
            count: c.cas.len(),
            listed: c.count(PageStatus::Listed),
            retired: c.count(PageStatus::Retired),
            extra: c.count(PageStatus::Extra),
            available: c.cas.iter().filter(|x| x.der.is_some()).count(),
            page_url: c.page_url.clone(),
            page_commit: c.page_commit.clone(),
            checked_on: c.checked_on.clone(),
            origin: c.origin.map(|o| o.as_str()),
            location: c.location.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct CatalogDoc {
    catalog: CatalogSummary,
    cas: Vec<CaView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CaView {
    pub name: String,
    pub slug: String,
    pub role: &'static str,
    pub variant: Option<String>,
    pub status: &'static str,
    pub sha1: String,
    pub sha256: Option<String>,
    pub serial: Option<String>,
    pub not_after: Option<String>,
    pub expired: bool,
    /// Whether a verified copy of the certificate is at hand.
    pub available: bool,
    pub urls: Vec<String>,
}

impl CaView {
    pub(crate) fn of(ca: &CatalogCa, today: time::Date) -> CaView {
        CaView {
            name: ca.name.clone(),
            slug: ca.slug.clone(),
            role: ca.role.as_str(),
            variant: ca.variant.clone(),
            status: ca.status.as_str(),
            sha1: ca.sha1.clone(),
            sha256: ca.sha256.clone(),
            serial: ca.serial.clone(),
            not_after: ca.not_after.map(ymd),
            expired: ca.is_expired_on(today),
            available: ca.der.is_some(),
            urls: ca.urls.clone(),
        }
    }
}

pub(crate) fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The header lines: which catalog, which page version.
pub(crate) fn describe_source(c: &Catalog) -> String {
    let mut s = format!("Azure CA catalog: {}", c.source.as_str());
    if let Some(o) = c.origin {
        s.push_str(&format!(" (made from the {} catalog)", o.as_str()));
    }
    if let Some(loc) = &c.location {
        s.push_str(&format!(", {loc}"));
    }
    s.push('\n');
    s.push_str(&format!(
        "Page of {}",
        c.page_date.as_deref().unwrap_or("unknown date")
    ));
    if let Some(d) = &c.checked_on {
        s.push_str(&format!(", checked {d}"));
    }
    if let Some(commit) = &c.page_commit {
        s.push_str(&format!(
            ", commit {}",
            commit.chars().take(10).collect::<String>()
        ));
    }
    if let Some(u) = c
        .page_url
        .as_ref()
        .filter(|u| Some(*u) != c.location.as_ref())
    {
        s.push_str(&format!("\n{u}"));
    }
    s
}

fn print_table(c: &Catalog, today: time::Date, color: bool) {
    let mut out = String::new();
    let available = c.cas.iter().filter(|x| x.der.is_some()).count();
    let _ = writeln!(out, "{}", describe_source(c));
    let _ = writeln!(
        out,
        "{} CAs: {} listed, {} retired, {} extra; {} with a verified certificate, {} without",
        c.cas.len(),
        c.count(PageStatus::Listed),
        c.count(PageStatus::Retired),
        c.count(PageStatus::Extra),
        available,
        c.cas.len() - available
    );
    let _ = writeln!(out);

    let rows: Vec<[String; 7]> = c
        .cas
        .iter()
        .map(|ca| {
            let date = match ca.not_after {
                Some(d) if ca.is_expired_on(today) => format!("{} EXPIRED", ymd(d)),
                Some(d) => ymd(d),
                None => "unknown".into(),
            };
            [
                ca.name.clone(),
                ca.role.as_str().into(),
                ca.variant.clone().unwrap_or_else(|| "-".into()),
                date,
                ca.sha1.clone(),
                ca.status.as_str().into(),
                if ca.der.is_some() {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect();
    let header = [
        "NAME",
        "ROLE",
        "VARIANT",
        "NOT AFTER",
        "SHA-1",
        "STATUS",
        "CERT",
    ];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7], paint: &dyn Fn(usize, String) -> String| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let padded = if i + 1 == cells.len() {
                    cell.to_string()
                } else {
                    format!("{cell:<width$}", width = widths[i])
                };
                paint(i, padded)
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        line(header, &|_, s| output::paint(color, "1", &s))
    );
    for r in &rows {
        let cells = [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5], &*r[6]];
        let expired = r[3].ends_with("EXPIRED");
        let _ = writeln!(
            out,
            "{}",
            line(cells, &|i, s| match i {
                3 if expired => output::paint(color, "31", &s),
                5 if r[5] != "listed" => output::paint(color, "2", &s),
                6 if r[6] == "no" => output::paint(color, "33", &s),
                _ => s,
            })
        );
    }
    emit(&out);
}

/// Writes text to stdout; a closed pipe (`| head`) is not an error worth a message or a panic.
pub(crate) fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A progress bar for downloads: only on a terminal, never with --quiet or JSON, and only
/// when something is downloaded at all.
pub(crate) struct DownloadBar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    enabled: bool,
}

impl DownloadBar {
    pub(crate) fn new(g: &GlobalOpts, spec: &SourceSpec) -> DownloadBar {
        let enabled = spec.is_online()
            && !g.quiet
            && g.format == Format::Text
            && std::io::stderr().is_terminal();
        DownloadBar {
            bar: Mutex::new(None),
            enabled,
        }
    }
}

impl Progress for DownloadBar {
    fn begin(&self, total: usize) {
        if !self.enabled || total == 0 {
            return;
        }
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix("Downloading");
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, what: &str) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_message(what.to_string());
                bar.inc(1);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
