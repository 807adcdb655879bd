//! How old the catalog data in use is, and when that is worth a warning.
//!
//! Two dates describe a catalog: the page's own `ms.date` (when Microsoft last edited it) and
//! `checked_on` (when this data was compared with the page: the build of the built-in
//! catalog, the day a bundle was made, today for the live page). The page may rightly stay
//! unchanged for a year, so the age that matters is `checked_on`'s: it says how long ago
//! someone looked.

use time::Date;

use super::{parse_date, Catalog, CatalogSource};

/// A built-in catalog checked longer ago than this makes an offline `refresh` warn: Microsoft
/// has changed its CA list more than once a year since 2023.
pub const STALE_AFTER_DAYS: i64 = 180;

/// The date the data was last compared with the page (`checked_on`, else the page's date).
pub fn data_date(c: &Catalog) -> Option<Date> {
    c.checked_on
        .as_deref()
        .or(c.page_date.as_deref())
        .and_then(parse_date)
}

/// Whole days from [`data_date`] to `today` (0 for a date in the future: a skewed clock is
/// not a reason to warn).
pub fn age_days(c: &Catalog, today: Date) -> Option<i64> {
    data_date(c).map(|d| (today - d).whole_days().max(0))
}

/// A bundle or a live page made from an older version of the page than the built-in
/// catalog: its CA list may lack CAs this binary knows. Both dates, and what to do.
pub fn older_than_builtin(c: &Catalog, builtin: &Catalog) -> Option<String> {
    let (theirs, ours) = (c.page_date.as_deref()?, builtin.page_date.as_deref()?);
    let (t, o) = (parse_date(theirs)?, parse_date(ours)?);
    if t >= o {
        return None;
    }
    match c.source {
        CatalogSource::Bundle => Some(format!(
            "the bundle {} was made from the page of {theirs}, older than the built-in catalog's page of {ours}: \
             it may lack CAs Microsoft added since. Make a new bundle (azure-cacerts fetch --online --out DIR), \
             or drop --bundle to use the built-in catalog",
            c.location.as_deref().unwrap_or("")
        )),
        CatalogSource::Live => Some(format!(
            "the live page {} is dated {theirs}, older than the page of {ours} the built-in catalog was made from: \
             it may be an outdated copy or mirror",
            c.location.as_deref().unwrap_or("")
        )),
        CatalogSource::BuiltIn => None,
    }
}

/// The built-in catalog checked more than [`STALE_AFTER_DAYS`] ago.
pub fn stale_builtin(c: &Catalog, today: Date) -> Option<String> {
    if c.source != CatalogSource::BuiltIn {
        return None;
    }
    let days = age_days(c, today)?;
    (days > STALE_AFTER_DAYS).then(|| {
        format!(
            "the built-in catalog was last checked against Microsoft's page on {} ({days} days ago): \
             Microsoft may have changed its CA list since. Let refresh go online (drop --offline), \
             use a bundle made recently (--bundle DIR), or update azure-cacerts",
            data_date(c).map(super::format_date).unwrap_or_default()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn catalog(source: CatalogSource, page: &str, checked: Option<&str>) -> Catalog {
        Catalog {
            source,
            page_date: Some(page.into()),
            checked_on: checked.map(str::to_string),
            location: Some("LOC".into()),
            ..Catalog::default()
        }
    }

    #[test]
    fn age_counts_from_the_check_not_from_the_page() {
        let c = catalog(CatalogSource::BuiltIn, "2025-11-17", Some("2026-11-25"));
        assert_eq!(age_days(&c, date!(2026 - 12 - 02)), Some(7));
        let no_check = catalog(CatalogSource::BuiltIn, "2025-11-17", None);
        assert_eq!(age_days(&no_check, date!(2025 - 11 - 27)), Some(10));
        assert_eq!(age_days(&c, date!(2026 - 01 - 01)), Some(0), "clock behind");
    }

    #[test]
    fn a_builtin_catalog_goes_stale_after_180_days() {
        let c = catalog(CatalogSource::BuiltIn, "2025-11-17", Some("2026-11-25"));
        assert_eq!(stale_builtin(&c, date!(2027 - 05 - 24)), None, "180 days");
        let w = stale_builtin(&c, date!(2027 - 05 - 25)).unwrap();
        assert!(w.contains("on 2026-11-25 (181 days ago)"), "{w}");
        let live = catalog(CatalogSource::Live, "2025-11-17", Some("2020-01-01"));
        assert_eq!(stale_builtin(&live, date!(2027 - 05 - 25)), None);
    }

    #[test]
    fn older_sources_are_named_with_both_dates() {
        let builtin = catalog(CatalogSource::BuiltIn, "2025-11-17", Some("2026-11-25"));
        let old_bundle = catalog(CatalogSource::Bundle, "2024-06-01", Some("2024-06-02"));
        let w = older_than_builtin(&old_bundle, &builtin).unwrap();
        assert!(
            w.contains("bundle LOC") && w.contains("2024-06-01") && w.contains("2025-11-17"),
            "{w}"
        );
        let old_live = catalog(CatalogSource::Live, "2024-06-01", None);
        let w = older_than_builtin(&old_live, &builtin).unwrap();
        assert!(w.contains("live page LOC is dated 2024-06-01"), "{w}");
        let same = catalog(CatalogSource::Live, "2025-11-17", None);
        assert_eq!(older_than_builtin(&same, &builtin), None);
        let newer = catalog(CatalogSource::Bundle, "2026-03-01", None);
        assert_eq!(older_than_builtin(&newer, &builtin), None);
    }
}
