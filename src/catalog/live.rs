//! The live catalog: the page's rows merged with the built-in data.
//!
//! The page is authoritative for membership (what is listed now) and the built-in catalog
//! for everything the page does not say (slug, SHA-256, notAfter, retired and extra CAs):
//! - a row whose SHA-1 the built-in catalog knows takes its metadata and its pinned copy (the
//!   same thumbprint is the same bytes: nothing to download, nothing a network can break);
//! - a row it does not know gets a new slug and is downloaded against the page's thumbprint;
//!   whether it is taken is decided after the download (`fetch::vet_new_cas`): a page alone
//!   never adds a root;
//! - a built-in listed CA the page no longer has becomes retired (so `refresh --prune` can
//!   remove it); built-in retired and extra CAs are kept.

use super::page::{Page, PageRow};
use super::{format_date, slugify, Catalog, CatalogCa, CatalogSource, PageStatus};

#[derive(Debug, Clone)]
pub struct Merged {
    pub catalog: Catalog,
    pub warnings: Vec<String>,
    /// Indexes into `catalog.cas` of the CAs the page lists (those without a pinned copy are
    /// what `--online` downloads).
    pub from_page: Vec<usize>,
    /// Indexes of the CAs only the page vouches for (the built-in catalog lacks them).
    pub new_on_page: Vec<usize>,
}

pub fn merge(builtin: &Catalog, page: &Page, page_url: &str, today: time::Date) -> Merged {
    let mut warnings: Vec<String> = page
        .skipped
        .iter()
        .map(|s| format!("page row skipped: {s}"))
        .collect();
    let mut cas: Vec<CatalogCa> = Vec::with_capacity(page.rows.len() + builtin.cas.len());
    let mut from_page = Vec::with_capacity(page.rows.len());
    let mut new_on_page = Vec::new();

    for row in &page.rows {
        let url = resolve(page_url, &row.url);
        let ca = match builtin.cas.iter().find(|b| b.sha1 == row.sha1) {
            // Only the page's link: it is what Microsoft publishes now, and an older address
            // from the built-in data is not worth a silent second try.
            Some(known) => CatalogCa {
                name: row.name.clone(),
                role: row.role,
                variant: known.variant.clone().or_else(|| row.variant.clone()),
                status: PageStatus::Listed,
                urls: vec![url],
                // The pinned copy, when there is one; otherwise `der` is None and the
                // certificate is downloaded against the thumbprint.
                ..known.clone()
            },
            None => {
                new_on_page.push(cas.len());
                CatalogCa {
                    name: row.name.clone(),
                    role: row.role,
                    variant: row.variant.clone(),
                    status: PageStatus::Listed,
                    sha1: row.sha1.clone(),
                    sha256: None,
                    serial: row.serial.clone(),
                    not_after: None,
                    urls: vec![url],
                    slug: new_slug(row, builtin, &cas),
                    der: None,
                    needs_keystore_issuer: false,
                }
            }
        };
        from_page.push(cas.len());
        cas.push(ca);
    }

    let on_page: std::collections::HashSet<String> = cas.iter().map(|c| c.sha1.clone()).collect();
    for b in &builtin.cas {
        if on_page.contains(&b.sha1) {
            continue;
        }
        let mut kept = b.clone();
        if b.status == PageStatus::Listed {
            warnings.push(format!(
                "the live page no longer lists {} ({}); treated as retired",
                b.display_name(),
                b.sha1
            ));
            kept.status = PageStatus::Retired;
        }
        cas.push(kept);
    }

    let catalog = Catalog {
        source: CatalogSource::Live,
        page_date: page.ms_date.clone(),
        cas,
        page_url: Some(page_url.to_string()),
        page_commit: None,
        checked_on: Some(format_date(today)),
        origin: None,
        location: Some(page_url.to_string()),
    };
    Merged {
        catalog,
        warnings,
        from_page,
        new_on_page,
    }
}

/// The slug rule of the built-in files (name, `-xsign` for the cross-signed copy), made
/// unique with the start of the thumbprint when another CA has it.
fn new_slug(row: &PageRow, builtin: &Catalog, so_far: &[CatalogCa]) -> String {
    let mut base = slugify(&row.name);
    if base.is_empty() {
        base = "ca".into();
    }
    if row.variant.as_deref() == Some("xsign") {
        base.push_str("-xsign");
    }
    let taken = |s: &str| builtin.cas.iter().chain(so_far).any(|c| c.slug == s);
    if !taken(&base) {
        return base;
    }
    let short = row.sha1.get(..8).unwrap_or(&row.sha1).to_ascii_lowercase();
    let with_sha = format!("{base}-{short}");
    if !taken(&with_sha) {
        return with_sha;
    }
    format!("{base}-{}", row.sha1.to_ascii_lowercase())
}

/// A link as printed may be relative to the page; resolve it against the page's address.
fn resolve(page_url: &str, link: &str) -> String {
    match reqwest::Url::parse(link) {
        Ok(u) => u.to_string(),
        Err(_) => reqwest::Url::parse(page_url)
            .and_then(|base| base.join(link))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| link.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{builtin, page, Role};

    fn today() -> time::Date {
        time::macros::date!(2026 - 11 - 25)
    }

    #[test]
    fn the_real_page_matches_the_builtin_catalog() {
        let b = builtin::load().unwrap();
        let p = page::parse(include_str!("../../tests/fixtures/page-2025-11-17.md")).unwrap();
        let m = merge(&b, &p, "https://example.invalid/page.md", today());
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert_eq!(m.catalog.cas.len(), b.cas.len());
        assert_eq!(m.catalog.count(PageStatus::Listed), 47);
        assert_eq!(m.catalog.count(PageStatus::Retired), 34);
        assert_eq!(m.catalog.count(PageStatus::Extra), 1);
        assert_eq!(m.from_page.len(), 47);
        for ca in &m.catalog.cas {
            let known = b.find_sha1(&ca.sha1).unwrap();
            assert_eq!(ca.slug, known.slug);
            assert_eq!(ca.sha256, known.sha256);
            assert_eq!(ca.variant, known.variant, "{}", ca.slug);
        }
    }

    #[test]
    fn new_and_vanished_cas() {
        let b = builtin::load().unwrap();
        let text = "# [Root and Subordinate CAs list](#t)\n### Root Certificate Authorities\n\
            | [DigiCert Global Root G2](rel/g2.crt) | 0x033a<br>DF3C24F9BFD666761B268073FE06D1CC8D4F82A4 |\n\
            | [DigiCert Global Root G3](https://h/g3.crt) | 0x0555<br>0000000000000000000000000000000000000001 |\n";
        let p = page::parse(text).unwrap();
        let m = merge(&b, &p, "http://h/dir/page.md", today());
        let g2 = &m.catalog.cas[0];
        assert_eq!(g2.slug, "digicert-global-root-g2");
        assert_eq!(g2.urls[0], "http://h/dir/rel/g2.crt");
        assert!(g2.sha256.is_some());
        let new = &m.catalog.cas[1];
        assert_eq!(new.slug, "digicert-global-root-g3-00000000");
        assert_eq!(new.role, Role::Root);
        assert!(new.sha256.is_none() && new.der.is_none());
        let old_g3 = m.catalog.find_slug("digicert-global-root-g3").unwrap();
        assert_eq!(old_g3.status, PageStatus::Retired);
        assert_eq!(m.catalog.count(PageStatus::Listed), 2);
        assert_eq!(m.catalog.count(PageStatus::Extra), 1);
        // Whether it is taken is decided after the download (fetch::vet_new_cas).
        assert_eq!(m.new_on_page, vec![1]);
        assert!(m.warnings.iter().any(|w| w.contains("no longer lists")));
    }
}
