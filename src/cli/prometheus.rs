//! `--format prometheus`: the text exposition format node_exporter's textfile collector
//! reads (`# HELP`, `# TYPE`, then `name{label="value"} number` lines), so fleets can alert
//! before trust breaks: CAs missing, the earliest expiry of an Azure CA a keystore holds,
//! the age of the catalog the answer came from.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::catalog::Catalog;
use crate::plan::{CaStatus, Plan};

/// The statuses a keystore's CAs are counted by (`added` never occurs in a diff).
const STATUSES: [CaStatus; 6] = [
    CaStatus::Present,
    CaStatus::Equivalent,
    CaStatus::Missing,
    CaStatus::Skipped,
    CaStatus::Expired,
    CaStatus::Unavailable,
];

struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, String)>,
}

/// Metric families in the order they are first used, every sample of a family together
/// (the format requires it).
#[derive(Default)]
pub struct Exposition {
    families: Vec<Family>,
}

/// A label value with `\`, `"` and line feeds escaped (Windows paths have backslashes).
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl Exposition {
    fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        value: impl std::fmt::Display,
    ) {
        let at = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    samples: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        self.families[at].samples.push((labels, value.to_string()));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} gauge", f.name);
            for (labels, value) in &f.samples {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                if labels.is_empty() {
                    let _ = writeln!(out, "{} {value}", f.name);
                } else {
                    let _ = writeln!(out, "{}{{{}}} {value}", f.name, labels.join(","));
                }
            }
        }
        out
    }

    /// The per-keystore metrics of a diff.
    pub fn keystore(&mut self, keystore: &str, plan: &Plan, now: OffsetDateTime) {
        self.gauge(
            "azure_cacerts_keystore_readable",
            "1 when the keystore could be read and compared with the catalog, 0 when not.",
            vec![("keystore", keystore.to_string())],
            1,
        );
        for status in STATUSES {
            let n = plan.cas.iter().filter(|c| c.status == status).count();
            self.gauge(
                "azure_cacerts_cas",
                "Azure CAs of the catalog by status in this keystore, as diff counts them (missing: what import would add).",
                vec![
                    ("keystore", keystore.to_string()),
                    ("status", status.as_str().to_string()),
                ],
                n,
            );
        }
        let today = now.date();
        let earliest = plan
            .cas
            .iter()
            .filter(|c| c.present && c.status != CaStatus::Expired)
            .filter_map(|c| Some((c.ca.not_after?, c)))
            .min_by_key(|(d, _)| *d);
        if let Some((date, c)) = earliest {
            self.gauge(
                "azure_cacerts_earliest_ca_expiry_days",
                "Days until the earliest notAfter among the Azure CAs this keystore holds (the CA is named).",
                vec![
                    ("keystore", keystore.to_string()),
                    ("ca", c.ca.display_name()),
                ],
                (date - today).whole_days(),
            );
        }
    }

    /// A keystore a scan found but could not read.
    pub fn unreadable(&mut self, keystore: &str) {
        self.gauge(
            "azure_cacerts_keystore_readable",
            "1 when the keystore could be read and compared with the catalog, 0 when not.",
            vec![("keystore", keystore.to_string())],
            0,
        );
    }

    /// The catalog's age and the time of this run (a stale textfile shows as an old
    /// timestamp).
    pub fn catalog(&mut self, catalog: &Catalog, now: OffsetDateTime) {
        if let Some(days) = crate::catalog::age::age_days(catalog, now.date()) {
            let date = |d: &Option<String>| d.clone().unwrap_or_default();
            self.gauge(
                "azure_cacerts_catalog_age_days",
                "Days since the catalog in use was last compared with Microsoft's page (checked_on; the page's date when unknown).",
                vec![
                    ("source", catalog.source.as_str().to_string()),
                    ("page_date", date(&catalog.page_date)),
                    ("checked_on", date(&catalog.checked_on)),
                ],
                days,
            );
        }
        self.gauge(
            "azure_cacerts_run_timestamp_seconds",
            "When azure-cacerts wrote these metrics (Unix time).",
            Vec::new(),
            now.unix_timestamp(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_families_grouped() {
        assert_eq!(escape_label(r#"C:\a "b""#), r#"C:\\a \"b\""#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        let mut e = Exposition::default();
        e.unreadable("/a");
        e.catalog(&Catalog::builtin(), OffsetDateTime::now_utc());
        e.unreadable("/b");
        let text = e.render();
        let readable: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("azure_cacerts_keystore_readable"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(readable.len(), 2);
        assert_eq!(readable[1], readable[0] + 1, "{text}");
        assert_eq!(
            text.matches("# TYPE azure_cacerts_keystore_readable gauge")
                .count(),
            1
        );
    }
}
