//! The catalog embedded in the binary: `certs/catalog.toml` as the Rust data
//! `scripts/build-catalog.py` generates beside it (builtin_records.rs), and the certificates of
//! `certs/pem/` as DER, decoded by build.rs. A run parses no TOML and decodes no base64; what
//! the bytes must be (pins, parse, dates, equal to catalog.toml) the tests below prove.

use std::sync::OnceLock;

use super::{builtin_records, file, Catalog, CatalogError, CatalogSource};

mod der {
    include!(concat!(env!("OUT_DIR"), "/builtin_der.rs"));
}

/// certs/catalog.toml, verbatim: what builtin_records.rs must equal.
#[cfg(test)]
pub const CATALOG_TOML: &str = include_str!("../../certs/catalog.toml");

/// The embedded certificates: (PEM file name under certs/pem/, DER).
pub fn der_files() -> &'static [(&'static str, &'static [u8])] {
    der::DERS
}

/// The DER of the embedded certificate that certs/pem/`name` holds.
pub fn der_file(name: &str) -> Option<&'static [u8]> {
    der::DERS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| der::DERS[i].1)
}

/// The built-in catalog with every embedded certificate attached. Computed once per process.
pub fn load() -> Result<Catalog, CatalogError> {
    static BUILT: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

/// [`load`], or — if the embedded data were ever broken, which the tests rule out — an empty
/// catalog, so that the infallible [`Catalog::builtin`] has something to return.
pub(crate) fn catalog() -> &'static Catalog {
    static FALLBACK: OnceLock<Catalog> = OnceLock::new();
    FALLBACK.get_or_init(|| load().unwrap_or_default())
}

/// A file of certs/pem/, read from the source tree (the binary embeds only the DER).
#[cfg(test)]
pub(crate) fn pem_file(name: &str) -> Option<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs/pem")
        .join(name);
    std::fs::read(path).ok()
}

fn build() -> Result<Catalog, CatalogError> {
    let broken = |why: String| CatalogError::Builtin { why };
    let parsed = file::from_file(&builtin_records::catalog_file()).map_err(broken)?;
    let mut catalog = parsed.catalog;
    catalog.source = CatalogSource::BuiltIn;
    for (ca, pem) in catalog.cas.iter_mut().zip(parsed.pems) {
        let Some(name) = pem else { continue };
        let der =
            der_file(&name).ok_or_else(|| broken(format!("certs/pem/{name} is not embedded")))?;
        ca.der = Some(std::borrow::Cow::Borrowed(der));
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{PageStatus, Role};
    use crate::cert::{ymd, Certificate};

    #[test]
    fn the_generated_records_are_catalog_toml() {
        assert_eq!(
            file::read_toml(CATALOG_TOML).unwrap(),
            builtin_records::catalog_file()
        );
    }

    #[test]
    fn embedded_catalog_loads_with_the_expected_shape() {
        let c = load().expect("built-in catalog");
        assert_eq!(c.source, CatalogSource::BuiltIn);
        assert_eq!(c.page_date.as_deref(), Some("2025-11-17"));
        assert_eq!(
            c.page_commit.as_deref(),
            Some("03e5750af10b23b5ba437d5b333ec5e9437844f9")
        );
        assert_eq!(c.checked_on.as_deref(), Some("2026-11-25"));
        assert_eq!(c.count(PageStatus::Listed), 47);
        assert_eq!(c.count(PageStatus::Retired), 34);
        assert_eq!(c.count(PageStatus::Extra), 1);
        let listed_roots = c
            .cas
            .iter()
            .filter(|x| x.status == PageStatus::Listed && x.role == Role::Root);
        assert_eq!(listed_roots.count(), 7);
        assert_eq!(c.cas.iter().filter(|x| x.der.is_some()).count(), 68);
        // The four ECC OCSP CAs have no verified copy: listed, but unavailable offline.
        let missing: Vec<_> = c
            .cas
            .iter()
            .filter(|x| x.status == PageStatus::Listed && x.der.is_none())
            .map(|x| x.slug.as_str())
            .collect();
        assert_eq!(
            missing,
            [
                "microsoft-tls-g2-ecc-ca-ocsp-02",
                "microsoft-tls-g2-ecc-ca-ocsp-04",
                "microsoft-tls-g2-ecc-ca-ocsp-06",
                "microsoft-tls-g2-ecc-ca-ocsp-08"
            ]
        );
        let xs = c
            .find_slug("microsoft-azure-rsa-tls-issuing-ca-03-xsign")
            .unwrap();
        assert_eq!(xs.variant.as_deref(), Some("xsign"));
        let g2 = c
            .find_sha1("21734d95a2473be25cbfd12a84c6fbc5bc8e2414")
            .unwrap();
        assert_eq!(g2.status, PageStatus::Extra);
        assert_eq!(g2.slug, "microsoft-tls-rsa-root-g2-selfsigned");
        assert_eq!(
            g2.urls,
            ["https://www.microsoft.com/pkiops/certs/Microsoft%20TLS%20RSA%20Root%20G2.crt"]
        );
    }

    /// The thumbprints in catalog.toml are the page's; the bytes must hash to them, and the
    /// dates must be the certificate's own.
    #[test]
    fn every_embedded_pem_matches_its_thumbprints_and_dates() {
        let c = load().unwrap();
        let parsed = file::parse(CATALOG_TOML).unwrap();
        let mut checked = 0;
        let on_disk =
            std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/pem"))
                .unwrap()
                .count();
        for (ca, pem) in c.cas.iter().zip(parsed.pems) {
            let Some(name) = pem else {
                assert!(ca.der.is_none());
                continue;
            };
            assert_eq!(name, ca.pem_file_name());
            let bytes = pem_file(&name).unwrap();
            let der = rustls_pki_types::pem::PemObject::from_pem_slice(&bytes)
                .map(|d: rustls_pki_types::CertificateDer<'static>| d.to_vec())
                .unwrap();
            let info = Certificate::parse(&der).unwrap();
            // What every download must pass, the embedded copies pass too.
            crate::catalog::verify::check_pins(ca, &der).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(info.sha1, ca.sha1, "{name}");
            assert_eq!(Some(&info.sha256), ca.sha256.as_ref(), "{name}");
            let not_after = ca.not_after.map(crate::catalog::format_date);
            assert_eq!(Some(ymd(info.not_after)), not_after, "{name}");
            assert_eq!(ca.der.as_deref(), Some(der.as_slice()));
            checked += 1;
        }
        assert_eq!(checked, 68);
        assert_eq!(
            der_files().len(),
            68,
            "an embedded file the catalog does not use"
        );
        assert_eq!(
            on_disk, 68,
            "certs/pem holds a file the catalog does not use"
        );
    }

    #[test]
    fn slugs_are_unique_and_safe() {
        let c = load().unwrap();
        let mut slugs: Vec<_> = c.cas.iter().map(|x| x.slug.clone()).collect();
        assert!(slugs.iter().all(|s| crate::catalog::is_valid_slug(s)));
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), c.cas.len());
    }
}
