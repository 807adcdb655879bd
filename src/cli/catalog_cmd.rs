//! `azure-cacerts catalog [SOURCE]`: the CA catalog in use, as a table or JSON.

use std::fmt::Write as _;

use clap::Args;
use serde::Serialize;

use super::args::{Format, GlobalOpts, SourceOpts};
use super::failure::CliResult;
use super::output;
use super::render::{describe_source, ymd, CaView, CatalogSummary};
use crate::catalog::{Catalog, PageStatus};

#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub source: SourceOpts,
    /// Print the hosts `--online` contacts (the page source, then the certificate hosts),
    /// for proxy and firewall allow-lists.
    #[arg(long)]
    pub hosts: bool,
}

/// One host `--online` may contact.
#[derive(Serialize)]
struct HostJson {
    /// scheme://host[:port]
    origin: String,
    /// `page` (the catalog's markdown source) or `certificates`.
    purpose: &'static str,
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    })
}

fn hosts(c: &Catalog, page_url: &str) -> Vec<HostJson> {
    let mut out: Vec<HostJson> = Vec::new();
    let mut push = |url: &str, purpose| {
        // http:// is refused except on loopback: never contacted.
        let loopback = ["http://127.", "http://localhost", "http://[::1]"];
        if url.starts_with("http://") && !loopback.iter().any(|l| url.starts_with(l)) {
            return;
        }
        if let Some(o) = origin(url) {
            if !out.iter().any(|h| h.origin == o) {
                out.push(HostJson { origin: o, purpose });
            }
        }
    };
    push(page_url, "page");
    for ca in &c.cas {
        for u in &ca.urls {
            push(u, "certificates");
        }
    }
    out
}

pub fn run(args: &CatalogArgs, g: &GlobalOpts) -> CliResult<i32> {
    let spec = args.source.spec()?;
    let obtained = output::load_catalog(g, &spec)?;
    let today = time::OffsetDateTime::now_utc().date();
    let c = &obtained.catalog;
    if args.hosts {
        let page = spec
            .catalog_url
            .as_deref()
            .unwrap_or(crate::catalog::DEFAULT_PAGE_URL);
        let list = hosts(c, page);
        match g.format {
            Format::Json => output::print_json(&serde_json::json!({ "hosts": list }))?,
            Format::Text => {
                let mut out = String::new();
                for h in &list {
                    let what = match h.purpose {
                        "page" => "the CA page's markdown source (--online)",
                        _ => "certificate downloads (--online, fetch)",
                    };
                    let _ = writeln!(out, "{:<40}  {what}", h.origin);
                }
                output::emit(&out)?;
            }
        }
        return Ok(0);
    }
    match g.format {
        Format::Json => output::print_json(&CatalogDoc {
            catalog: CatalogSummary::of(c),
            cas: c.cas.iter().map(|ca| CaView::of(ca, today)).collect(),
        })?,
        // Quiet: nothing on success (warnings still go to stderr).
        Format::Text if g.quiet => {}
        Format::Text => output::emit(&table(c, today, output::use_color(g)))?,
    }
    Ok(0)
}

#[derive(Serialize)]
struct CatalogDoc {
    catalog: CatalogSummary,
    cas: Vec<CaView>,
}

fn table(c: &Catalog, today: time::Date, color: bool) -> String {
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
    out
}
