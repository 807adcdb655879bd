//! The views every command shares: one JSON shape for a keystore, a catalog and a catalog
//! CA, and the text table of diff/import/refresh. Rendering builds strings; `output` writes
//! them.

use std::fmt::Write as _;

use serde::Serialize;

use super::output;
use crate::catalog::{self, Catalog, CatalogCa, PageStatus};
use crate::cert::sha256_hex;
use crate::ops::{Diff, KeystoreSummary, Outcome};
use crate::plan::{self, CaStatus, Plan, Summary};

pub const RESTART: &str = "Restart the Java process that uses this keystore (for PIMSYNC: the PIMSYNC service) so that it loads the new trust anchors.";

pub use crate::catalog::format_date as ymd;

/// The `"keystore"` object of every JSON document.
#[derive(Debug, Serialize)]
pub struct KeystoreJson {
    pub path: String,
    #[serde(rename = "type")]
    pub store_type: &'static str,
    pub entries: usize,
    pub password_protected: bool,
    /// `list` only: whether the integrity digest or MAC was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

impl KeystoreJson {
    pub fn of(k: &KeystoreSummary) -> KeystoreJson {
        KeystoreJson {
            path: k.path.display().to_string(),
            store_type: k.store_type.as_str(),
            entries: k.entries,
            password_protected: k.password_protected,
            verified: None,
        }
    }
}

/// The `"catalog"` object of diff, import and refresh.
#[derive(Debug, Serialize)]
pub struct CatalogJson {
    pub source: &'static str,
    pub page_date: Option<String>,
    /// When the data was last compared with the page (see `catalog::age`).
    pub checked_on: Option<String>,
    /// Days since `checked_on` (the page's date when there is none).
    pub age_days: Option<i64>,
    pub count: usize,
    /// refresh only: why the live catalog could not be used and the built-in one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// One CA of diff, import and refresh.
#[derive(Debug, Serialize)]
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
    /// `catalog`, or for a certificate brought by the user `pem` / `os-store`.
    pub source: &'static str,
    /// Custom certificates only: the file (or OS store) it was read from, its subject and
    /// notBefore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
}

/// The document of diff, import and refresh (contract).
#[derive(Debug, Serialize)]
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

impl ReportJson {
    fn new(keystore: &KeystoreSummary, catalog: &Catalog, plan: &Plan) -> ReportJson {
        ReportJson {
            keystore: KeystoreJson::of(keystore),
            catalog: CatalogJson {
                source: catalog.source.as_str(),
                page_date: catalog.page_date.clone(),
                checked_on: catalog.checked_on.clone(),
                age_days: catalog::age::age_days(catalog, today()),
                // The catalog's CAs only; custom certificates are counted in `cas`.
                count: plan
                    .cas
                    .iter()
                    .filter(|c| c.source == plan::CaSource::Catalog)
                    .count(),
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
                    not_after: c.ca.not_after.map(ymd),
                    status: c.status,
                    alias: c.alias.clone(),
                    present: c.present,
                    source: c.source.as_str(),
                    file: c.source.location(),
                    subject: custom_cert(c).map(|x| x.subject),
                    not_before: custom_cert(c).map(|x| crate::cert::ymd(x.not_before)),
                })
                .collect(),
            summary: plan.summary(),
            backup: None,
            pruned: None,
        }
    }

    pub fn of_diff(d: &Diff, catalog: &Catalog) -> ReportJson {
        ReportJson::new(&d.keystore, catalog, &d.plan)
    }

    pub fn of_outcome(o: &Outcome, catalog: &Catalog) -> ReportJson {
        let mut r = ReportJson::new(&o.keystore, catalog, &o.plan);
        r.backup = o
            .written
            .as_ref()
            .and_then(|w| w.backup.as_deref())
            .map(|b| b.display().to_string());
        if o.prune_requested {
            r.pruned = Some(o.pruned.clone());
        }
        r
    }
}

/// The parsed certificate of a custom (non-catalog) CA of a plan.
fn custom_cert(c: &plan::CaPlan) -> Option<crate::cert::Certificate> {
    if c.source == plan::CaSource::Catalog {
        return None;
    }
    c.ca.der
        .as_deref()
        .and_then(|d| crate::cert::Certificate::parse(d).ok())
}

// ---- certificates from outside the catalog (--pem, --from-os-store)

/// Every certificate read from `--pem` files and the OS store, with its subject, SHA-256 and
/// validity: shown before anything is written.
pub fn custom_listing(loaded: &crate::custom::Loaded) -> String {
    use crate::custom::Fate;
    use crate::plan::CaSource;
    let mut out = String::new();
    let mut groups: Vec<(String, Vec<&crate::custom::ReadCert>)> = Vec::new();
    for f in &loaded.files {
        let head = format!(
            "{} ({}, {} certificate{}):",
            f.path.display(),
            f.form.as_str(),
            f.count,
            if f.count == 1 { "" } else { "s" }
        );
        let certs = loaded
            .read
            .iter()
            .filter(|r| r.source == CaSource::File(f.path.clone()))
            .collect();
        groups.push((head, certs));
    }
    if let Some((loc, n)) = &loaded.os_store {
        let certs: Vec<_> = loaded
            .read
            .iter()
            .filter(|r| matches!(r.source, CaSource::OsStore(_)))
            .collect();
        let head = format!(
            "OS trust store {loc} ({n} roots; {} selected):",
            certs.len()
        );
        groups.push((head, certs));
    }
    let _ = writeln!(out, "Certificates read:");
    for (head, certs) in groups {
        let _ = writeln!(out, "{}", wrap(&format!("  {head}"), 4));
        for r in certs {
            let c = &r.cert;
            let kind = if !c.is_ca {
                "not a CA"
            } else if c.self_issued {
                "root CA"
            } else {
                "intermediate CA"
            };
            let fate = match r.fate {
                Fate::Wanted => "",
                Fate::NotCa => ": left out (--allow-non-ca takes it)",
                Fate::Duplicate => "; left out: the same certificate was read before",
            };
            let _ = writeln!(
                out,
                "{}",
                wrap(&format!("    {}. {}", r.position, c.subject), 7)
            );
            let _ = writeln!(
                out,
                "{}",
                wrap(
                    &format!(
                        "       valid {} to {}; {kind}{fate}",
                        crate::cert::ymd(c.not_before),
                        crate::cert::ymd(c.not_after)
                    ),
                    7
                )
            );
            let _ = writeln!(out, "       SHA-256 {}", c.sha256);
        }
    }
    out.push('\n');
    out
}

/// Notes about what the files held besides certificates, and OS roots that do not parse.
pub fn custom_notes(loaded: &crate::custom::Loaded) -> Vec<String> {
    let mut out: Vec<String> = loaded
        .files
        .iter()
        .flat_map(|f| {
            f.left_out
                .iter()
                .map(move |l| format!("{}: left out {l}", f.path.display()))
        })
        .collect();
    if loaded.os_unparsed > 0 {
        if let Some((loc, _)) = &loaded.os_store {
            out.push(format!(
                "{loc}: {} root(s) that do not parse were left out",
                loaded.os_unparsed
            ));
        }
    }
    out
}

/// One keystore of a document about several (refresh with several keystores,
/// `--all-found`).
#[derive(Debug, Serialize)]
pub struct KeystoreResult {
    pub changed: bool,
    #[serde(flatten)]
    pub report: Option<ReportJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `--all-found`: what uses this store (what to restart after a change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programs: Option<Vec<ProgramJson>>,
}

/// The document about several keystores.
#[derive(Debug, Serialize)]
pub struct MultiJson {
    pub changed: bool,
    pub keystores: Vec<KeystoreResult>,
    /// `--all-found --exclude`: the stores left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

/// A program that uses a runtime or a store (`scan`, `--all-found`).
#[derive(Debug, Serialize)]
pub struct ProgramJson {
    pub kind: &'static str,
    pub name: String,
    pub defined_in: String,
}

impl ProgramJson {
    pub fn of(p: &crate::scan::Program) -> ProgramJson {
        ProgramJson {
            kind: p.kind.as_str(),
            name: p.name.clone(),
            defined_in: p.defined_in.clone(),
        }
    }
}

// ---- text of diff, import, refresh

fn status_color(s: CaStatus) -> &'static str {
    match s {
        CaStatus::Present | CaStatus::Equivalent => "32",
        CaStatus::Added => "1;32",
        CaStatus::Missing => "1;31",
        CaStatus::Expired | CaStatus::Unavailable => "33",
        CaStatus::Skipped => "2",
    }
}

pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} present, {} equivalent, {} missing, {} added, {} skipped, {} expired, {} unavailable",
        s.present, s.equivalent, s.missing, s.added, s.skipped, s.expired, s.unavailable
    )
}

/// The width every line of text output fits in.
pub const WIDTH: usize = 100;

/// Wraps `text` at word boundaries into lines of at most [`WIDTH`] columns; lines after the
/// first are indented by `indent` spaces. A word longer than a line (a path) stands alone.
pub fn wrap(text: &str, indent: usize) -> String {
    let mut out = String::new();
    // The first line keeps its leading spaces.
    let mut line: String = text.chars().take_while(|c| *c == ' ').collect();
    let pad = " ".repeat(indent);
    for word in text.split_whitespace() {
        let width = line.chars().count();
        if !line.trim().is_empty() && width + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = pad.clone();
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// `PATH`, or `PATH -> REAL` when links were followed to another file.
pub fn path_shown(k: &KeystoreSummary) -> String {
    match k.real_if_different() {
        Some(real) => format!("{} -> {}", k.path.display(), real.display()),
        None => k.path.display().to_string(),
    }
}

/// The lines under "Keystore:" that say how the file was found and opened.
pub fn keystore_details(out: &mut String, keystore: &KeystoreSummary) {
    if !keystore.how.is_given() {
        let _ = writeln!(
            out,
            "{}",
            wrap(&format!("          found through {}", keystore.how), 10)
        );
    }
    if let Some(file) = &keystore.password_setting {
        let _ = writeln!(
            out,
            "{}",
            wrap(
                &format!(
                    "          opened with the javax.net.ssl.trustStorePassword set in {}",
                    file.display()
                ),
                10
            )
        );
    }
    if let Some(m) = keystore.managed {
        let _ = writeln!(
            out,
            "{}",
            wrap(
                &format!(
                    "          a file the OS generates ({}): see the warning",
                    m.owner()
                ),
                10
            )
        );
    }
}

/// The warning for a keystore the operating system regenerates: what regenerates it, and
/// what to do instead.
pub fn managed_warning(keystore: &KeystoreSummary, wrote: bool) -> Option<String> {
    let m = keystore.managed?;
    let real = keystore.real_path.display();
    let done = if wrote {
        "the CAs added to it will be dropped"
    } else {
        "CAs added to it are dropped"
    };
    // A warning is one line, as errors are: scripts grep stderr.
    Some(format!(
        "{real} is generated by {}: {} rebuild it and {done}. \
         Schedule `azure-cacerts refresh` (docs/scheduling.md) to add them again after each rebuild, \
         or add the CAs to the OS trust store instead (`azure-cacerts fetch --out DIR` writes their PEMs): \
         {}.",
        m.owner(),
        m.regenerated_by(),
        m.os_trust_steps()
    ))
}

/// Warnings about the keystore itself: managed by the OS, a trustStoreType that does not
/// match.
pub fn keystore_warnings(keystore: &KeystoreSummary, wrote: bool) -> Vec<String> {
    let mut out: Vec<String> = managed_warning(keystore, wrote).into_iter().collect();
    if let Some((t, file)) = keystore.type_setting_mismatch() {
        out.push(format!(
            "{} sets javax.net.ssl.trustStoreType={t}, but {} is {}: the JVM may refuse it. \
             Correct the setting.",
            file.display(),
            keystore.real_path.display(),
            keystore.store_type.as_str().to_uppercase()
        ));
    }
    out
}

/// The header and the CA table. `entries_before`: an import's count before it wrote (the
/// header then shows no count: the result line says before -> after once).
pub fn report_table(
    out: &mut String,
    color: bool,
    verbose: bool,
    keystore: &KeystoreSummary,
    report: &ReportJson,
    changed: bool,
) {
    let k = &report.keystore;
    let protection = if k.password_protected {
        ""
    } else {
        ", password-less"
    };
    let count = if changed {
        String::new()
    } else {
        format!(", {} entries", k.entries)
    };
    let _ = writeln!(
        out,
        "Keystore: {} ({}{count}{protection})",
        path_shown(keystore),
        k.store_type.to_uppercase(),
    );
    keystore_details(out, keystore);
    let c = &report.catalog;
    let (catalog_rows, custom_rows): (Vec<&CaJson>, Vec<&CaJson>) =
        report.cas.iter().partition(|c| c.source == "catalog");
    if c.count == 0 && !custom_rows.is_empty() {
        let _ = writeln!(out, "Catalog:  not compared (--no-catalog)");
    } else {
        let _ = writeln!(
            out,
            "Catalog:  {}{}{}, {} CAs considered",
            c.source,
            c.page_date
                .as_deref()
                .map(|d| format!(", page of {d}"))
                .unwrap_or_default(),
            checked_text(c.checked_on.as_deref(), c.age_days),
            c.count
        );
    }
    if !catalog_rows.is_empty() {
        let _ = writeln!(out);
        ca_rows(out, color, verbose, &catalog_rows, "VARIANT");
    }
    if !custom_rows.is_empty() {
        let _ = writeln!(out, "\nOther CAs (--pem, --from-os-store):");
        ca_rows(out, color, verbose, &custom_rows, "SOURCE");
    }
}

/// The rows of the CA table; the third column is the variant (catalog) or the source.
fn ca_rows(out: &mut String, color: bool, verbose: bool, rows: &[&CaJson], third: &str) {
    let name_w = rows
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    // The alias column makes a row 160 columns wide: shown with -v (and always in JSON).
    let alias_head = if verbose { "  ALIAS" } else { "" };
    let _ = writeln!(
        out,
        "{}",
        format!(
            "{:<11}  {:<name_w$}  {:<14}  {:<10}{alias_head}",
            "STATUS", "NAME", third, "NOT AFTER"
        )
        .trim_end()
    );
    for c in rows {
        let status = output::paint(
            color,
            status_color(c.status),
            &format!("{:<11}", c.status.as_str()),
        );
        let alias = match (&c.alias, c.status) {
            _ if !verbose => String::new(),
            (Some(a), CaStatus::Equivalent) => format!("  {a} (same name and key)"),
            (Some(a), _) => format!("  {a}"),
            (None, _) => "  -".into(),
        };
        let row = format!(
            "{status}  {:<name_w$}  {:<14}  {:<10}{alias}",
            c.name,
            if c.source == "catalog" {
                c.variant.as_deref().unwrap_or("-")
            } else {
                c.source
            },
            c.not_after.as_deref().unwrap_or("?"),
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
}

/// The listed CAs that are not in the keystore and have no copy at hand, as a sentence
/// saying how to get them; None when there are none.
pub fn unavailable_notice(plan: &Plan) -> Option<String> {
    let names: Vec<&str> = plan
        .cas
        .iter()
        .filter(|c| c.status == CaStatus::Unavailable)
        .map(|c| c.ca.name.as_str())
        .collect();
    if names.is_empty() {
        return None;
    }
    Some(wrap(
        &format!(
            "{} listed CA(s) are NOT in the keystore: no verified copy is at hand offline: {}. \
             Get them with --online, or with a bundle made where there is internet \
             (`azure-cacerts fetch --online --out azure-ca-bundle`, then --bundle azure-ca-bundle).",
            names.len(),
            names.join(", ")
        ),
        2,
    ))
}

/// What an import must tell besides its result: warnings (shown even with -q), the
/// keystore's own among them, and notes.
pub fn outcome_notices(o: &Outcome) -> (Vec<String>, Vec<String>) {
    let mut warnings = skip_warnings(&o.plan);
    warnings.extend(keystore_warnings(&o.keystore, o.written.is_some()));
    let mut notes = Vec::new();
    if let Some(w) = &o.written {
        warnings.extend(w.warnings.iter().map(ToString::to_string));
        notes.extend(w.stray_removed.iter().map(|p| {
            format!(
                "removed {}, left by an earlier run that was killed",
                p.display()
            )
        }));
    }
    if let Some(stale) = &o.stale_lock {
        notes.push(stale.to_string());
    }
    (warnings, notes)
}

/// Warnings for CAs that are skipped but absent: chains through them fail.
pub fn skip_warnings(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .cas
        .iter()
        .filter(|c| c.status == CaStatus::Skipped && !c.present)
        .map(|c| {
            format!(
                "{} is skipped (--skip) but this keystore does not hold it: chains through it will fail. Drop the --skip to add it.",
                c.ca.name
            )
        })
        .collect();
    // A default skip means "the runtime ships it"; a store that lacks it gets it like any
    // other CA, and the person should know why a CA "every JDK has" was missing.
    out.extend(
        plan.cas
            .iter()
            .filter(|c| {
                c.source == plan::CaSource::Catalog
                    && plan::is_default_skip(&c.ca)
                    && matches!(c.status, CaStatus::Missing | CaStatus::Added)
            })
            .map(|c| {
                format!(
                    "{} is on the vendor's skip list because Java runtimes ship it, but this keystore lacks it (Mozilla-derived stores such as Debian's and RHEL's dropped it in 2026): it is {} like any other CA",
                    c.ca.name,
                    if c.status == CaStatus::Added { "added" } else { "wanted" }
                )
            }),
    );
    out
}

// ---- catalogs

/// The `"catalog"` object of the catalog and fetch documents.
#[derive(Debug, Serialize)]
pub struct CatalogSummary {
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
    /// Days since `checked_on` (the page's date when there is none).
    pub age_days: Option<i64>,
    /// A bundle's origin (built-in or live).
    pub origin: Option<&'static str>,
    /// A bundle's directory, or the URL the live page was read from.
    pub location: Option<String>,
}

impl CatalogSummary {
    pub fn of(c: &Catalog) -> CatalogSummary {
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
            age_days: catalog::age::age_days(c, today()),
            origin: c.origin.map(|o| o.as_str()),
            location: c.location.clone(),
        }
    }
}

/// One CA of the catalog and fetch documents.
#[derive(Debug, Serialize)]
pub struct CaView {
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
    pub fn of(ca: &CatalogCa, today: time::Date) -> CaView {
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

/// The header lines: which catalog, which page version.
/// ", checked 2026-11-25 (7 days ago)": how old the data in use is, where a header shows it.
fn checked_text(checked_on: Option<&str>, age_days: Option<i64>) -> String {
    let Some(d) = checked_on else {
        return String::new();
    };
    match age_days {
        Some(0) => format!(", checked {d} (today)"),
        Some(1) => format!(", checked {d} (1 day ago)"),
        Some(n) => format!(", checked {d} ({n} days ago)"),
        None => format!(", checked {d}"),
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

pub fn describe_source(c: &Catalog) -> String {
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
    s.push_str(&checked_text(
        c.checked_on.as_deref(),
        catalog::age::age_days(c, today()),
    ));
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
