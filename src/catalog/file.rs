//! The TOML shape shared by `certs/catalog.toml` and a bundle's `catalog.toml`.
//!
//! Reading is strict about what the tool relies on (thumbprints, slugs, roles, statuses,
//! file names) and lenient about the rest: unknown keys are ignored so that a newer writer's
//! bundle still reads.

use serde::{Deserialize, Serialize};

use super::{
    format_date, is_valid_slug, normalize_serial, normalize_thumbprint, parse_date, Catalog,
    CatalogCa, CatalogSource, PageStatus, Role,
};

pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CatalogFile {
    pub schema_version: u32,
    /// Where the data came from: built-in or live (a bundle records its origin here).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_on: Option<String>,
    /// When `fetch --out` wrote the bundle (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    #[serde(rename = "ca", default)]
    pub cas: Vec<CaRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CaRecord {
    pub slug: String,
    pub name: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub status: String,
    pub sha1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after_source: Option<String>,
    #[serde(default)]
    pub urls: Vec<String>,
    /// File name under `pem/`; absent when there is no verified copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A catalog read from a file, with the PEM file name of each CA (same order as `cas`).
pub(crate) struct Parsed {
    pub catalog: Catalog,
    pub pems: Vec<Option<String>>,
}

pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    from_file(&read_toml(text)?)
}

pub(crate) fn read_toml(text: &str) -> Result<CatalogFile, String> {
    toml::from_str(text).map_err(|e| {
        // toml's message spans several lines with a source excerpt; the first is enough.
        let msg = e.to_string();
        format!(
            "catalog.toml is not valid: {}",
            msg.lines().next().unwrap_or("parse error")
        )
    })
}

/// The checks and normalisation of [`parse`], on a file already read (the built-in catalog
/// arrives this way, as generated data).
pub(crate) fn from_file(file: &CatalogFile) -> Result<Parsed, String> {
    if file.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "catalog.toml has schema_version {}, this azure-cacerts reads {SCHEMA_VERSION}",
            file.schema_version
        ));
    }
    let origin = CatalogSource::parse(&file.source)
        .ok_or_else(|| format!("catalog.toml has an unknown source {:?}", file.source))?;
    if let Some(d) = &file.page_date {
        parse_date(d).ok_or_else(|| format!("catalog.toml has a bad page_date {d:?}"))?;
    }

    let mut cas = Vec::with_capacity(file.cas.len());
    let mut pems = Vec::with_capacity(file.cas.len());
    for (i, r) in file.cas.iter().enumerate() {
        let at = || format!("[[ca]] #{} ({})", i + 1, r.name);
        if !is_valid_slug(&r.slug) {
            return Err(format!(
                "{}: slug {:?} is not lower-case letters, digits and dashes",
                at(),
                r.slug
            ));
        }
        let role = match r.role.as_str() {
            "root" => Role::Root,
            "subordinate" => Role::Subordinate,
            other => return Err(format!("{}: unknown role {other:?}", at())),
        };
        let status = match r.status.as_str() {
            "listed" => PageStatus::Listed,
            "retired" => PageStatus::Retired,
            "extra" => PageStatus::Extra,
            other => return Err(format!("{}: unknown status {other:?}", at())),
        };
        let sha1 = normalize_thumbprint(&r.sha1)
            .ok_or_else(|| format!("{}: sha1 {:?} is not 40 hex digits", at(), r.sha1))?;
        let sha256 = match &r.sha256 {
            Some(s) => Some(
                normalize_sha256(s)
                    .ok_or_else(|| format!("{}: sha256 {s:?} is not 64 hex digits", at()))?,
            ),
            None => None,
        };
        let not_after = match &r.not_after {
            Some(d) => Some(
                parse_date(d)
                    .ok_or_else(|| format!("{}: not_after {d:?} is not YYYY-MM-DD", at()))?,
            ),
            None => None,
        };
        if let Some(p) = &r.pem {
            if !is_plain_pem_name(p) {
                return Err(format!(
                    "{}: pem {p:?} must be a plain file name ending in .pem",
                    at()
                ));
            }
        }
        if cas.iter().any(|c: &CatalogCa| c.slug == r.slug) {
            return Err(format!("{}: slug {:?} appears twice", at(), r.slug));
        }
        if cas.iter().any(|c: &CatalogCa| c.sha1 == sha1) {
            return Err(format!("{}: sha1 {sha1} appears twice", at()));
        }
        cas.push(CatalogCa {
            name: r.name.clone(),
            role,
            variant: r.variant.clone().filter(|v| !v.is_empty()),
            status,
            sha1,
            sha256,
            serial: r.serial.as_deref().and_then(normalize_serial),
            not_after,
            urls: r.urls.clone(),
            slug: r.slug.clone(),
            der: None,
            needs_keystore_issuer: false,
        });
        pems.push(r.pem.clone());
    }
    let catalog = Catalog {
        source: origin,
        page_date: file.page_date.clone(),
        cas,
        page_url: file.page_url.clone(),
        page_commit: file.page_commit.clone(),
        checked_on: file.checked_on.clone(),
        origin: None,
        location: None,
    };
    Ok(Parsed { catalog, pems })
}

/// The bundle's catalog.toml for `catalog`: every CA, with `pem` for those that have bytes.
pub(crate) fn render(catalog: &Catalog, fetched_on: &str) -> Result<String, String> {
    let origin = match catalog.source {
        CatalogSource::Bundle => catalog.origin.unwrap_or(CatalogSource::BuiltIn),
        s => s,
    };
    let file = CatalogFile {
        schema_version: SCHEMA_VERSION,
        source: origin.as_str().to_string(),
        page_title: None,
        page_url: catalog.page_url.clone(),
        page_source_url: match origin {
            CatalogSource::Live => catalog.location.clone(),
            _ => None,
        },
        page_commit: catalog.page_commit.clone(),
        page_date: catalog.page_date.clone(),
        checked_on: catalog.checked_on.clone(),
        fetched_on: Some(fetched_on.to_string()),
        generated_by: Some(format!(
            "azure-cacerts {} fetch --out",
            env!("CARGO_PKG_VERSION")
        )),
        cas: catalog
            .cas
            .iter()
            .map(|c| CaRecord {
                slug: c.slug.clone(),
                name: c.name.clone(),
                role: c.role.as_str().to_string(),
                variant: c.variant.clone(),
                status: c.status.as_str().to_string(),
                sha1: c.sha1.clone(),
                sha256: c.sha256.clone(),
                serial: c.serial.clone(),
                not_after: c.not_after.map(format_date),
                not_after_source: None,
                urls: c.urls.clone(),
                pem: c.der.as_ref().map(|_| c.pem_file_name()),
                removed: None,
                note: None,
            })
            .collect(),
    };
    let body = toml::to_string(&file).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Offline bundle of the Azure CA catalog, written by `azure-cacerts fetch --out`.\n\
         # Read it with `--bundle DIR`; every pem/<slug>.pem is checked against sha1/sha256 here.\n\n{body}"
    ))
}

pub(crate) fn normalize_sha256(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

fn is_plain_pem_name(p: &str) -> bool {
    p.len() > 4
        && p.ends_with(".pem")
        && !p.starts_with('.')
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
schema_version = 1
source = "live"
page_date = "2025-11-17"
[[ca]]
slug = "a"
name = "A"
role = "root"
status = "listed"
sha1 = "a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436"
pem = "a.pem"
future_key = 1
"#;

    #[test]
    fn reads_and_normalises() {
        let p = parse(ONE).unwrap();
        assert_eq!(p.catalog.source, CatalogSource::Live);
        assert_eq!(
            p.catalog.cas[0].sha1,
            "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436"
        );
        assert_eq!(p.pems[0].as_deref(), Some("a.pem"));
    }

    #[test]
    fn rejects_what_the_tool_relies_on() {
        assert!(parse(&ONE.replace("a.pem", "../a.pem")).is_err());
        assert!(parse(&ONE.replace("slug = \"a\"", "slug = \"A/\"")).is_err());
        assert!(parse(&ONE.replace("\"root\"", "\"leaf\"")).is_err());
        assert!(parse(&ONE.replace("schema_version = 1", "schema_version = 9")).is_err());
        assert!(parse(&ONE.replace("5436\"", "54\"")).is_err());
        assert!(parse("not toml [[").is_err());
    }
}
