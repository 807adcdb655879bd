//! `azure-cacerts fetch [SOURCE] [--out DIR]`: obtain and verify every CA of the catalog
//! (with --online, download what has no pinned copy; check the embedded or bundled copies
//! otherwise), and with `--out DIR` write an offline bundle. Nothing is written when a
//! certificate fails verification; a CA that could not be downloaded is recorded as
//! unavailable in the bundle, and the run ends with exit 4 naming it.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::args::{Format, GlobalOpts, SourceOpts};
use super::failure::{CliResult, Failure};
use super::output;
use super::render::{describe_source, CaView, CatalogSummary};
use crate::catalog::{bundle, CaOrigin, CaReport, CatalogCa, ChainCheck, PageStatus};

#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub source: SourceOpts,
    /// Write an offline bundle (catalog.toml + pem/) to DIR, for `--bundle DIR` elsewhere.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &FetchArgs, g: &GlobalOpts) -> CliResult<i32> {
    // fetch is the command that checks the catalog: the embedded copies too.
    let mut spec = args.source.spec()?;
    spec.verify_embedded = true;
    let obtained = output::load_catalog(g, &spec)?;
    let c = &obtained.catalog;

    let written = match &args.out {
        Some(dir) => Some(bundle::write(c, dir, time::OffsetDateTime::now_utc())?),
        None => None,
    };

    let today = time::OffsetDateTime::now_utc().date();
    let rows: Vec<Row> = c
        .cas
        .iter()
        .zip(&obtained.reports)
        .map(|(ca, r)| Row::of(ca, r, today))
        .collect();
    let summary = Summary::of(&rows);
    match g.format {
        Format::Json => output::print_json(&FetchDoc {
            catalog: CatalogSummary::of(c),
            cas: rows,
            summary,
            bundle: written.as_ref().map(|w| w.dir.display().to_string()),
        })?,
        // Quiet: nothing on success (warnings and errors still go to stderr).
        Format::Text if g.quiet => {}
        Format::Text => {
            let mut text = render_text(c, &rows, &summary, g);
            if let Some(w) = &written {
                let _ = writeln!(
                    text,
                    "Bundle written: {} ({} certificates)",
                    w.dir.display(),
                    w.certificates
                );
            }
            output::emit(&text)?;
        }
    }
    let failed: Vec<String> = c
        .cas
        .iter()
        .zip(&obtained.reports)
        .filter(|(ca, r)| {
            ca.status != PageStatus::Retired && matches!(r.origin, CaOrigin::DownloadFailed { .. })
        })
        .map(|(ca, _)| ca.display_name())
        .collect();
    if failed.is_empty() {
        return Ok(0);
    }
    // Each one was named with its address and reason as it failed (a warning); this line says
    // what it means for the run, once.
    let failure = Failure::downloads_failed(&failed, written.is_some());
    output::error(&failure);
    Ok(failure.exit_code())
}

#[derive(Debug, Serialize)]
struct FetchDoc {
    catalog: CatalogSummary,
    cas: Vec<Row>,
    summary: Summary,
    bundle: Option<String>,
}

#[derive(Debug, Serialize)]
struct Row {
    /// The same fields as `catalog` prints for the CA.
    #[serde(flatten)]
    ca: CaView,
    /// downloaded | built-in | bundle | unavailable
    origin: &'static str,
    /// The URL the certificate came from (after redirects), when downloaded; the URL tried
    /// when the download failed.
    url: Option<String>,
    /// Why the download failed (the CA is then unavailable).
    download_error: Option<String>,
    /// self-signed | verified | issuer-not-in-set | unsupported | not-checked
    signature: &'static str,
    /// The CA of the set whose key verified the signature.
    signed_by: Option<String>,
    /// Details when the signature could not be checked.
    signature_note: Option<String>,
}

impl Row {
    fn of(ca: &CatalogCa, r: &CaReport, today: time::Date) -> Row {
        let (signed_by, note) = match &r.chain {
            ChainCheck::SignedBy { name, .. } => (Some(name.clone()), None),
            ChainCheck::IssuerNotInSet { issuer } => {
                (None, Some(format!("issuer not in the catalog: {issuer}")))
            }
            ChainCheck::Unsupported { why } => (None, Some(why.clone())),
            _ => (None, None),
        };
        Row {
            ca: CaView::of(ca, today),
            origin: r.origin.as_str(),
            url: match &r.origin {
                CaOrigin::Downloaded { url } | CaOrigin::DownloadFailed { url, .. } => {
                    Some(url.clone())
                }
                _ => None,
            },
            download_error: match &r.origin {
                CaOrigin::DownloadFailed { why, .. } => Some(why.clone()),
                _ => None,
            },
            signature: r.chain.as_str(),
            signed_by,
            signature_note: note,
        }
    }

    fn display_name(&self) -> String {
        match &self.ca.variant {
            Some(v) => format!("{} ({v})", self.ca.name),
            None => self.ca.name.clone(),
        }
    }
}

#[derive(Debug, Serialize, Default)]
struct Summary {
    /// Listed and extra CAs with a verified certificate.
    verified: usize,
    downloaded: usize,
    /// Listed and extra CAs without one.
    unavailable: usize,
    /// Retired CAs (kept for pruning; never downloaded).
    retired: usize,
    self_signed: usize,
    signed_in_set: usize,
    issuer_not_in_set: usize,
    unsupported: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Summary {
        let mut s = Summary::default();
        for r in rows {
            if r.ca.status == PageStatus::Retired.as_str() {
                s.retired += 1;
                continue;
            }
            if r.ca.available {
                s.verified += 1;
            } else {
                s.unavailable += 1;
            }
            if r.origin == "downloaded" {
                s.downloaded += 1;
            }
            match r.signature {
                "self-signed" => s.self_signed += 1,
                "verified" => s.signed_in_set += 1,
                "issuer-not-in-set" => s.issuer_not_in_set += 1,
                "unsupported" => s.unsupported += 1,
                _ => {}
            }
        }
        s
    }
}

fn render_text(c: &crate::catalog::Catalog, rows: &[Row], s: &Summary, g: &GlobalOpts) -> String {
    let mut out = String::new();
    let color = output::use_color(g);
    if !g.quiet {
        let _ = writeln!(out, "{}", describe_source(c));
        let _ = writeln!(out);
        // Retired CAs are only there to be pruned: the table shows what an import would use.
        let shown: Vec<&Row> = rows
            .iter()
            .filter(|r| r.ca.status != PageStatus::Retired.as_str())
            .collect();
        let width = shown
            .iter()
            .map(|r| r.display_name().chars().count())
            .max()
            .unwrap_or(4);
        for r in shown {
            let origin = format!("{:<11}", r.origin);
            let origin = if r.ca.available {
                origin
            } else {
                output::paint(color, "33", &origin)
            };
            let sig = match r.signature {
                _ if r.download_error.is_some() => format!(
                    "download failed: {}",
                    r.download_error.as_deref().unwrap_or("")
                ),
                "self-signed" => "self-signed".to_string(),
                "verified" => format!("signed by {}", r.signed_by.as_deref().unwrap_or("?")),
                "not-checked" => "-".to_string(),
                _ => r
                    .signature_note
                    .clone()
                    .unwrap_or_else(|| r.signature.to_string()),
            };
            let expired = if r.ca.expired {
                output::paint(color, "31", " EXPIRED")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {origin}  {:<width$}  {sig}{expired}",
                r.display_name()
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "{} CAs verified ({} downloaded), {} unavailable, {} retired kept; signatures: {} checked against an issuer in the set, {} self-signed, {} with the issuer outside the set{}",
        s.verified,
        s.downloaded,
        s.unavailable,
        s.retired,
        s.signed_in_set,
        s.self_signed,
        s.issuer_not_in_set,
        if s.unsupported > 0 { format!(", {} unsupported", s.unsupported) } else { String::new() }
    );
    out
}
