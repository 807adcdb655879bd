//! Reads the "Root and Subordinate CAs list" tab of the markdown source of Microsoft's
//! "Azure Certificate Authority details" page.
//!
//! The page is hand-edited and inconsistent (see docs/catalog.md), so
//! the parser is lenient about layout and strict about data: a row counts only with a link
//! and a 40-digit thumbprint; anything else in a table is reported, never guessed at. A page
//! that yields no root CA is an error, never an empty catalog.

use super::{normalize_serial, normalize_thumbprint, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRow {
    /// The link text, as printed.
    pub name: String,
    /// The link target, as printed (may be relative, http or https).
    pub url: String,
    pub role: Role,
    /// "xsign" when the link is the cross-signed file; "microsoft-root" for its twin under the
    /// same name; None for a CA with one row.
    pub variant: Option<String>,
    /// Lower-case hex without `0x`.
    pub serial: Option<String>,
    /// Upper-case hex.
    pub sha1: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// ms.date of the front matter, as `YYYY-MM-DD`.
    pub ms_date: Option<String>,
    pub rows: Vec<PageRow>,
    /// Table rows that were skipped, with why (for a warning).
    pub skipped: Vec<String>,
}

impl Page {
    pub fn roots(&self) -> impl Iterator<Item = &PageRow> {
        self.rows.iter().filter(|r| r.role == Role::Root)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PageError(pub String);

const TAB_PREFIX: &str = "# [";

/// More CA rows than any version of the page has had (about 50) by a wide margin: a page
/// with more is not the page, and every row would cost a download.
pub const MAX_ROWS: usize = 500;

pub fn parse(text: &str) -> Result<Page, PageError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ms_date = front_matter_date(text);
    let lines: Vec<&str> = text.lines().collect();

    let start = lines
        .iter()
        .position(|l| is_list_tab_heading(l))
        .ok_or_else(|| {
            PageError(
                "no \"Root and Subordinate CAs list\" tab (is this the markdown source of \
             \"Azure Certificate Authority details\"?)"
                    .into(),
            )
        })?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with(TAB_PREFIX))
        .map_or(lines.len(), |p| start + 1 + p);

    let mut page = Page {
        ms_date,
        ..Page::default()
    };
    let mut section: Option<Role> = None;
    let mut seen = std::collections::HashSet::new();
    for (n, raw) in lines[start + 1..end].iter().enumerate() {
        let line_no = start + 2 + n;
        let line = raw.trim();
        if line.starts_with('#') {
            section = heading_role(line);
            continue;
        }
        if !line.starts_with('|') {
            continue;
        }
        let Some(role) = section else { continue };
        let cells = split_cells(line);
        let Some(first) = cells.first() else { continue };
        let Some((name, url)) = first_link(first) else {
            // Header and separator rows have no link; a data row without one is worth a word.
            if cells.iter().skip(1).any(|c| find_thumbprint(c).is_some()) {
                page.skipped.push(format!(
                    "line {line_no}: a thumbprint without a download link"
                ));
            }
            continue;
        };
        let Some(second) = cells.get(1) else {
            page.skipped.push(format!(
                "line {line_no} ({name}): no serial/thumbprint cell"
            ));
            continue;
        };
        let Some((sha1, serial)) = find_thumbprint(second) else {
            page.skipped
                .push(format!("line {line_no} ({name}): no 40-digit thumbprint"));
            continue;
        };
        if !seen.insert(sha1.clone()) {
            page.skipped.push(format!(
                "line {line_no} ({name}): thumbprint {sha1} listed twice"
            ));
            continue;
        }
        if page.rows.len() == MAX_ROWS {
            return Err(PageError(format!(
                "the list tab has more than {MAX_ROWS} CA rows; Microsoft's page has about 50, so this is not that page"
            )));
        }
        let variant = is_xsign_url(&url).then(|| "xsign".to_string());
        page.rows.push(PageRow {
            name,
            url,
            role,
            variant,
            serial,
            sha1,
        });
    }

    // The page prints both copies of a cross-signed CA under one name: the twin of an xsign
    // row is the one a Microsoft root issued.
    let xsign_names: std::collections::HashSet<String> = page
        .rows
        .iter()
        .filter(|r| r.variant.is_some())
        .map(|r| r.name.clone())
        .collect();
    for row in page.rows.iter_mut().filter(|r| r.variant.is_none()) {
        if xsign_names.contains(&row.name) {
            row.variant = Some("microsoft-root".into());
        }
    }

    if page.roots().next().is_none() {
        let why = if page.rows.is_empty() {
            "the list tab has no CA rows under \"Root Certificate Authorities\"".to_string()
        } else {
            format!(
                "the list tab has {} subordinate rows but none under \"Root Certificate Authorities\"",
                page.rows.len()
            )
        };
        return Err(PageError(why));
    }
    Ok(page)
}

fn is_list_tab_heading(line: &str) -> bool {
    let l = line.trim();
    if !l.starts_with(TAB_PREFIX) {
        return false;
    }
    let label = l[TAB_PREFIX.len()..]
        .split(']')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    label.contains("root") && label.contains("subordinate") && label.contains("list")
}

fn heading_role(line: &str) -> Option<Role> {
    let h = line.trim_start_matches('#').trim().to_ascii_lowercase();
    if h.contains("subordinate") && h.contains("certificate authorit") {
        Some(Role::Subordinate)
    } else if h.contains("root") && h.contains("certificate authorit") {
        Some(Role::Root)
    } else {
        None
    }
}

/// `ms.date: 11/17/2025` (the page's format) or `2025-11-17`.
fn front_matter_date(text: &str) -> Option<String> {
    let mut lines = text.lines();
    if lines.next()?.trim() != "---" {
        return None;
    }
    for line in lines {
        let line = line.trim();
        if line == "---" {
            break;
        }
        let Some(value) = line.strip_prefix("ms.date:") else {
            continue;
        };
        let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if let Some(d) = super::parse_date(v) {
            return Some(super::format_date(d));
        }
        let mut parts = v.split('/');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        let (m, d, y): (u8, u8, i32) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
        let month = time::Month::try_from(m).ok()?;
        let date = time::Date::from_calendar_date(y, month, d).ok()?;
        return Some(super::format_date(date));
    }
    None
}

/// Cells of a table row; copes with a missing or doubled trailing `|`.
fn split_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    inner
        .split('|')
        .map(|c| c.trim().to_string())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(|c| c.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// `[text](url)` or `[text](url "title")` or `[text](<url>)`.
fn first_link(cell: &str) -> Option<(String, String)> {
    let open = cell.find('[')?;
    let close = open + cell[open..].find("](")?;
    let name = cell[open + 1..close].trim();
    let rest = &cell[close + 2..];
    let end = rest.find(')')?;
    let mut target = rest[..end].trim();
    if let Some(t) = target.strip_prefix('<') {
        target = t.split('>').next().unwrap_or("").trim();
    } else if let Some(sp) = target.find(char::is_whitespace) {
        target = &target[..sp];
    }
    let name = strip_emphasis(name);
    if name.is_empty() || target.is_empty() {
        return None;
    }
    Some((name, target.to_string()))
}

/// `*name*` / `**name**` (the page once printed new rows in italics).
fn strip_emphasis(s: &str) -> String {
    s.trim_matches(|c| c == '*' || c == '_').trim().to_string()
}

/// The thumbprint and the serial in "serial<br>thumbprint" (any `<br>` spelling).
fn find_thumbprint(cell: &str) -> Option<(String, Option<String>)> {
    let parts = split_br(cell);
    let idx = parts
        .iter()
        .position(|p| normalize_thumbprint(p).is_some())?;
    let sha1 = normalize_thumbprint(&parts[idx])?;
    let serial = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != idx)
        .find_map(|(_, p)| normalize_serial(p));
    Some((sha1, serial))
}

fn split_br(cell: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = cell;
    loop {
        let lower = rest.to_ascii_lowercase();
        let hit = ["<br", "</br"].iter().filter_map(|t| lower.find(t)).min();
        match hit {
            Some(i) => {
                parts.push(rest[..i].trim().to_string());
                let after = &rest[i..];
                rest = after.find('>').map_or("", |e| &after[e + 1..]);
            }
            None => {
                parts.push(rest.trim().to_string());
                break;
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// `…/Name%20-%20xsign.crt` or `…/Name - xsign.crt`, any case, any extension.
pub fn is_xsign_url(url: &str) -> bool {
    let decoded = url.replace("%20", " ").to_ascii_lowercase();
    let path = decoded.split(['?', '#']).next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    stem.trim_end().ends_with("- xsign") || stem.ends_with("-xsign")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../tests/fixtures/page-2025-11-17.md");

    #[test]
    fn reads_the_real_page() {
        let p = parse(PAGE).unwrap();
        assert_eq!(p.ms_date.as_deref(), Some("2025-11-17"));
        assert_eq!(p.rows.len(), 47, "skipped: {:?}", p.skipped);
        assert_eq!(p.roots().count(), 7);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        let xsign = p
            .rows
            .iter()
            .filter(|r| r.variant.as_deref() == Some("xsign"))
            .count();
        let msroot = p
            .rows
            .iter()
            .filter(|r| r.variant.as_deref() == Some("microsoft-root"))
            .count();
        // 8 Azure issuing CAs in two copies, plus the two G2 roots (xsign only on the page).
        assert_eq!((xsign, msroot), (10, 8));
        let hybrid = p
            .rows
            .iter()
            .find(|r| r.name == "DigiCert TLS Hybrid ECC SHA384 2020 CA1")
            .unwrap();
        assert_eq!(hybrid.sha1, "AEC13CDD5EA6A3998AEC14AC331AD96BEDBB770F");
        assert_eq!(
            hybrid.serial.as_deref(),
            Some("07f2f35c87a877af7aefe947993525bd")
        );
        let g2 = p
            .rows
            .iter()
            .find(|r| r.name == "Microsoft TLS RSA Root G2")
            .unwrap();
        assert_eq!(g2.sha1, "B5EE89E77326AB2BF1775BD99C19A28947FF8184");
        assert_eq!(
            g2.serial.as_deref(),
            Some("0b0c6b2c466917b04773c647d4afc0c8")
        );
        assert_eq!(g2.role, Role::Subordinate);
        assert!(p.rows.iter().any(|r| r.url.starts_with("http://")));
    }

    #[test]
    fn survives_layout_quirks() {
        let page = "---\nms.date: 2025-01-02\n---\n# [Root and Subordinate CAs list](#tab/x)\n\
            ## Root Certificate Authorities\n\
            | CA | Serial |\n|--|--|\n\
            | *[Root A](https://h/a.crt \"t\")* | 0XAB <BR/> a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436 ||  \n\
            ## Subordinate Certificate Authorities\n\
            | [Sub B](<http://h/Sub%20B%20-%20xsign.cer>) | 01</br>DF:3C:24:F9:BF:D6:66:76:1B:26:80:73:FE:06:D1:CC:8D:4F:82:A4\n\
            | [Sub B](http://h/Sub%20B.cer) | 7E04DE896A3E666D00E687D33FFAD93BE83D349E |\n\
            | [No thumb](http://h/x) | 0x01 |\n\
            # [Certificate Authority chains](#tab/chains)\n\
            | [Later](http://h/l) | 17F3DE5E9F0F19E98EF61F32266E20C407AE30EE |\n";
        let p = parse(page).unwrap();
        assert_eq!(p.ms_date.as_deref(), Some("2025-01-02"));
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].name, "Root A");
        assert_eq!(p.rows[0].url, "https://h/a.crt");
        assert_eq!(p.rows[0].serial.as_deref(), Some("ab"));
        assert_eq!(p.rows[1].variant.as_deref(), Some("xsign"));
        assert_eq!(p.rows[1].sha1, "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4");
        assert_eq!(p.rows[2].variant.as_deref(), Some("microsoft-root"));
        assert_eq!(p.skipped.len(), 1);
    }

    #[test]
    fn refuses_a_page_without_roots() {
        assert!(parse("").is_err());
        assert!(parse("<html><body>Azure CA</body></html>").is_err());
        let no_roots =
            "# [Root and Subordinate CAs list](#t)\n### Subordinate Certificate Authorities\n\
            | [S](http://h/s) | 01<br>7E04DE896A3E666D00E687D33FFAD93BE83D349E |\n";
        let e = parse(no_roots).unwrap_err();
        assert!(e.0.contains("none under"), "{e}");
        let bad_thumbs =
            "# [Root and Subordinate CAs list](#t)\n### Root Certificate Authorities\n\
            | [R](http://h/r) | 01<br>7E04DE |\n";
        assert!(parse(bad_thumbs).is_err());
    }

    #[test]
    fn recognises_xsign_links() {
        assert!(is_xsign_url(
            "https://x/Microsoft%20Azure%20ECC%20TLS%20Issuing%20CA%2003%20-%20xsign.crt"
        ));
        assert!(is_xsign_url(
            "https://x/Microsoft TLS RSA Root G2 - xsign.crt"
        ));
        assert!(!is_xsign_url(
            "https://x/Microsoft%20Azure%20ECC%20TLS%20Issuing%20CA%2003.crt"
        ));
        assert!(!is_xsign_url("https://crt.sh/?d=123"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "|",
            "# [",
            "# [Root and Subordinate CAs list",
            "[](",
            "| [a](",
            "| [a]() | <br",
            "\u{feff}---\nms.date: 13/45/2025\n---",
        ] {
            let _ = parse(s);
            let _ = split_br(s);
            let _ = first_link(s);
        }
    }
}
