//! The page parser on the shared copy of Microsoft's page and on the served fixture with its
//! extra quirks.

use crate::common;
use crate::support;

use azure_cacerts::catalog::{page, Catalog, Role};

#[test]
fn shared_page_copy() {
    let path = common::azure_ca_dir().join("page/list-tab-2025-11-17.md");
    let text = std::fs::read_to_string(path).unwrap();
    let p = page::parse(&text).unwrap();
    assert_eq!(p.ms_date.as_deref(), Some("2025-11-17"));
    assert_eq!(p.rows.len(), 47);
    assert_eq!(p.rows.iter().filter(|r| r.role == Role::Root).count(), 7);
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);

    // Both copies of a cross-signed CA under one name, told apart by the link.
    let ecc03: Vec<_> = p
        .rows
        .iter()
        .filter(|r| r.name == "Microsoft Azure ECC TLS Issuing CA 03")
        .collect();
    assert_eq!(ecc03.len(), 2);
    assert_eq!(ecc03[0].variant.as_deref(), Some("xsign"));
    assert_eq!(ecc03[1].variant.as_deref(), Some("microsoft-root"));
    assert_ne!(ecc03[0].sha1, ecc03[1].sha1);

    // Lower-case thumbprint on the page, upper case here.
    assert!(p
        .rows
        .iter()
        .any(|r| r.sha1 == "AEC13CDD5EA6A3998AEC14AC331AD96BEDBB770F"));
    // Serials with and without 0x come out alike.
    let g2tls = p
        .rows
        .iter()
        .find(|r| r.name == "DigiCert Global G2 TLS RSA SHA256 2020 CA1")
        .unwrap();
    assert_eq!(
        g2tls.serial.as_deref(),
        Some("0cf5bd062b5602f47ab8502c23ccf066")
    );
    // http and https links are kept as printed.
    assert!(p
        .rows
        .iter()
        .any(|r| r.url.starts_with("http://cacerts.digicert.com/")));
    assert!(p
        .rows
        .iter()
        .any(|r| r.url.starts_with("https://caissuers.microsoft.com/")));

    // Every row's thumbprint is in the built-in catalog, with the same role and variant.
    let b = Catalog::builtin();
    for r in &p.rows {
        let ca = b
            .find_sha1(&r.sha1)
            .unwrap_or_else(|| panic!("{} not built in", r.name));
        assert_eq!(ca.role, r.role, "{}", r.name);
        assert_eq!(ca.variant, r.variant, "{}", r.name);
    }
}

#[test]
fn served_fixture_with_more_quirks() {
    let text = support::served_page("http://127.0.0.1:9");
    let p = page::parse(&text).unwrap();
    assert_eq!(p.rows.len(), 43, "{:?}", p.skipped);
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    let g2 = p
        .rows
        .iter()
        .find(|r| r.name == "DigiCert Global Root G2")
        .unwrap();
    assert_eq!(
        g2.sha1, "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
        "missing trailing pipe"
    );
    let cloud = p
        .rows
        .iter()
        .find(|r| r.name == "DigiCert Cloud Services CA-1")
        .unwrap();
    assert_eq!(
        cloud.sha1, "81B68D6CD2F221F8F534E677523BB236BBA1DC56",
        "doubled trailing pipe"
    );
    let ocsp10 = p
        .rows
        .iter()
        .find(|r| r.name == "Microsoft TLS G2 RSA CA OCSP 10")
        .unwrap();
    assert_eq!(ocsp10.sha1, "B663D8413CA35F3F22643CCBC2D3250700916B1A");
    let ecc04 = p
        .rows
        .iter()
        .find(|r| r.sha1 == "406E3B38EFF35A727F276FE993590B70F8224AED")
        .unwrap();
    assert_eq!(
        ecc04.serial.as_deref(),
        Some("33000000322164aedab61f509d000000000032"),
        "<BR/>"
    );
    assert!(p
        .rows
        .iter()
        .all(|r| r.url.starts_with("http://127.0.0.1:9/")));
}

/// certs/ and src/catalog/builtin_pems.rs are what scripts/build-catalog.py makes of
/// the vendored tests/fixtures/azure-ca now (skipped where python3 with tomllib, 3.11+, is missing).
#[test]
fn generated_catalog_is_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let probe = std::process::Command::new("python3")
        .args(["-c", "import tomllib"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with tomllib is not available");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/build-catalog.py"))
        .args(["--check", "--shared"])
        .arg(common::fixtures_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
}

// ---- plausible next versions of the page (issue: the catalog in a world that moved)

fn real_page() -> String {
    support::read_fixture("page-2025-11-17.md")
}

/// The page with the two "Microsoft TLS RSA/ECC Root G2" rows moved from the subordinate
/// table to the top of the root table (a change proposed to the page).
fn g2_rows_in_the_root_table(text: &str) -> String {
    let g2: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("| [Microsoft TLS ECC Root G2]")
                || l.starts_with("| [Microsoft TLS RSA Root G2]")
        })
        .collect();
    assert_eq!(g2.len(), 2);
    let without: String = text
        .lines()
        .filter(|l| !g2.contains(l))
        .map(|l| format!("{l}\n"))
        .collect();
    g2.iter()
        .fold(without, |page, row| support::with_row(&page, true, row))
}

/// The page without the eight cross-signed Azure issuing CAs, which expired on 2026-08-25 (an
/// open change to the page removes them).
fn without_expired_xsign_rows(text: &str) -> String {
    text.lines()
        .filter(|l| !(l.starts_with("| [Microsoft Azure") && l.contains("%20-%20xsign.crt")))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_page_with_the_g2_rows_among_the_roots_keeps_them_as_they_were() {
    use azure_cacerts::catalog::{builtin, live, PageStatus};
    let text = g2_rows_in_the_root_table(&real_page());
    let p = page::parse(&text).unwrap();
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    assert_eq!(p.rows.len(), 47);
    assert_eq!(p.rows.iter().filter(|r| r.role == Role::Root).count(), 9);
    let b = builtin::load().unwrap();
    let m = live::merge(
        &b,
        &p,
        "https://example.invalid/page.md",
        time::macros::date!(2026 - 12 - 02),
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert!(
        m.new_on_page.is_empty(),
        "nothing new: the same thumbprints"
    );
    assert_eq!(m.catalog.count(PageStatus::Listed), 47);
    for slug in [
        "microsoft-tls-ecc-root-g2-xsign",
        "microsoft-tls-rsa-root-g2-xsign",
    ] {
        let ca = m
            .catalog
            .find_slug(slug)
            .unwrap_or_else(|| panic!("{slug}"));
        let known = b.find_slug(slug).unwrap();
        assert_eq!(ca.role, Role::Root, "the page's table decides the role");
        assert_eq!(
            (ca.status, &ca.variant, &ca.sha256),
            (PageStatus::Listed, &known.variant, &known.sha256)
        );
        assert_eq!(ca.der, known.der, "the pinned copy, not a download");
    }
}

#[test]
fn a_page_without_the_expired_xsign_rows_retires_them_and_keeps_the_twins() {
    use azure_cacerts::catalog::{builtin, live, PageStatus};
    let text = without_expired_xsign_rows(&real_page());
    let p = page::parse(&text).unwrap();
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    assert_eq!(p.rows.len(), 39);
    let b = builtin::load().unwrap();
    let m = live::merge(
        &b,
        &p,
        "https://example.invalid/page.md",
        time::macros::date!(2026 - 12 - 02),
    );
    assert_eq!(m.catalog.count(PageStatus::Listed), 39);
    let gone: Vec<_> = m
        .warnings
        .iter()
        .filter(|w| w.contains("no longer lists") && w.contains("(xsign)"))
        .collect();
    assert_eq!(gone.len(), 8, "{:?}", m.warnings);
    for kind in ["ecc", "rsa"] {
        for n in ["03", "04", "07", "08"] {
            let xsign = m
                .catalog
                .find_slug(&format!("microsoft-azure-{kind}-tls-issuing-ca-{n}-xsign"))
                .unwrap();
            assert_eq!(xsign.status, PageStatus::Retired, "{}", xsign.slug);
            let twin = m
                .catalog
                .find_slug(&format!("microsoft-azure-{kind}-tls-issuing-ca-{n}"))
                .unwrap();
            assert_eq!(twin.status, PageStatus::Listed, "{}", twin.slug);
            assert!(twin.der.is_some());
        }
    }
}
