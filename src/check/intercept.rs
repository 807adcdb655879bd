//! Recognising a TLS-inspecting proxy: a chain for a Microsoft server that ends at a root
//! which is neither in the Azure catalog nor issued by one of its CAs, or a chain whose CAs
//! carry the name of an inspection product (Zscaler, Netskope, ...). Such a proxy re-signs
//! every server certificate with the company's own root, so Java fails with the same
//! `PKIX path building failed` and importing Azure CAs cannot help: the proxy's root must be
//! imported. This sits on top of [`super::pkix`]'s verdict and never changes it.
//!
//! The catalog covers every CA Microsoft's Azure and Microsoft 365 endpoints use, so a chain
//! for one of their host names that touches none of its CAs was not made by Microsoft. For
//! other hosts the catalog says nothing, and only a product name is taken as evidence.

use crate::anchors::AnchorSet;
use crate::cert::{verify_signature, Certificate, SigCheck};
use crate::check::CatalogCerts;

/// Domains whose TLS certificates Microsoft issues from the CAs of the Azure catalog.
pub const MICROSOFT_DOMAINS: &[&str] = &[
    "microsoftonline.com",
    "microsoftonline-p.com",
    "office365.com",
    "office.com",
    "office.net",
    "outlook.com",
    "onmicrosoft.com",
    "sharepoint.com",
    "microsoft.com",
    "live.com",
    "msauth.net",
    "msftauth.net",
    "msidentity.com",
    "azure.com",
    "azure.net",
    "windows.net",
    "azurewebsites.net",
    "azureedge.net",
    "azurefd.net",
    "azure-api.net",
    "cloudapp.net",
    "dynamics.com",
    "powerbi.com",
    "visualstudio.com",
];

/// Words in the names of TLS-inspection products' CAs (lower case), and the product.
const PRODUCTS: &[(&str, &str)] = &[
    ("zscaler", "Zscaler"),
    ("netskope", "Netskope"),
    ("forcepoint", "Forcepoint"),
    ("websense", "Forcepoint (Websense)"),
    ("blue coat", "Blue Coat / Symantec ProxySG"),
    ("bluecoat", "Blue Coat / Symantec ProxySG"),
    ("proxysg", "Symantec ProxySG"),
    ("fortinet", "Fortinet FortiGate"),
    ("fortigate", "Fortinet FortiGate"),
    ("palo alto", "Palo Alto Networks"),
    ("paloalto", "Palo Alto Networks"),
    ("sophos", "Sophos"),
    ("cisco umbrella", "Cisco Umbrella"),
    ("checkpoint", "Check Point"),
    ("check point", "Check Point"),
    ("mcafee web gateway", "McAfee / Skyhigh Web Gateway"),
    ("skyhigh", "Skyhigh Security"),
    ("barracuda", "Barracuda"),
    ("iboss", "iboss"),
    ("menlo security", "Menlo Security"),
    ("cloudflare for teams", "Cloudflare Gateway"),
    ("kaspersky", "Kaspersky (web traffic scanning)"),
    ("eset ssl filter", "ESET (SSL/TLS filtering)"),
    ("avast", "Avast (web shield)"),
    ("bitdefender", "Bitdefender (encrypted web scan)"),
    ("fiddler", "Fiddler"),
    ("mitmproxy", "mitmproxy"),
    ("charles proxy", "Charles Proxy"),
    ("squid", "Squid (ssl-bump)"),
    ("proxy", "a proxy"),
    ("inspection", "an inspection gateway"),
    ("intercept", "an intercepting gateway"),
];

/// Whether `host` is one of Microsoft's (a [`MICROSOFT_DOMAINS`] name or below one).
pub fn is_microsoft_host(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    MICROSOFT_DOMAINS
        .iter()
        .any(|d| h == *d || h.strip_suffix(d).is_some_and(|p| p.ends_with('.')))
}

/// The inspection product a certificate name points to, if any.
pub fn product_of(name: &str) -> Option<&'static str> {
    let n = name.to_lowercase();
    PRODUCTS
        .iter()
        .find(|(word, _)| n.contains(word))
        .map(|(_, product)| *product)
}

/// Why the chain is taken for an interception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A Microsoft host (asked for, or named by the server certificate) whose chain touches
    /// no catalog CA.
    MicrosoftHost(String),
    /// A CA of the chain is named like an inspection product's.
    ProductName(&'static str),
}

/// Where the proxy's root certificate was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootFound {
    /// The server (proxy) sent it, at this 1-based position.
    Presented(usize),
    /// The keystore holds it under this alias.
    Keystore(String),
    /// The operating system's trust store holds it (where it was read).
    OsStore(String),
}

/// The proxy's root, when its certificate is at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub cert: Certificate,
    pub found: RootFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interception {
    /// The root the chain ends at: its subject, or the issuer the top certificate names when
    /// the root certificate is not at hand.
    pub root_subject: String,
    pub root: Option<Root>,
    pub evidence: Evidence,
}

/// Looks at `presented` (leaf first) for a TLS-inspecting proxy. `host` is the server asked
/// for (None for a chain file); `os_roots` is asked only when an interception was seen and
/// the root certificate is neither sent nor in the keystore.
pub fn recognise(
    presented: &[Vec<u8>],
    store: &AnchorSet,
    catalog: &CatalogCerts<'_>,
    host: Option<&str>,
    os_roots: impl FnOnce() -> Option<(String, Vec<Certificate>)>,
) -> Option<Interception> {
    let sent: Vec<Certificate> = presented
        .iter()
        .filter_map(|d| Certificate::parse(d).ok())
        .collect();
    let leaf = sent.first()?;
    // The leaf's issuers among what was sent, as far as the names lead.
    let mut path: Vec<usize> = vec![0];
    while path.len() < sent.len() {
        let top = &sent[path[path.len() - 1]];
        if top.self_issued {
            break;
        }
        let Some(next) =
            (0..sent.len()).find(|i| !path.contains(i) && sent[*i].subject_key == top.issuer_key)
        else {
            break;
        };
        path.push(next);
    }
    let top = &sent[path[path.len() - 1]];
    let from_catalog = |c: &Certificate| {
        catalog.cas.iter().map(|(_, k)| k).any(|k| {
            k.der == c.der
                || k.same_name_and_key(c)
                || (k.subject_key == c.issuer_key && verify_signature(c, k) == SigCheck::Valid)
        })
    };
    if path.iter().any(|&i| from_catalog(&sent[i])) {
        return None;
    }
    let names = path
        .iter()
        .skip(1)
        .map(|&i| sent[i].subject.as_str())
        .chain(std::iter::once(top.issuer.as_str()));
    let product = names.clone().find_map(product_of);
    let microsoft = host
        .filter(|h| is_microsoft_host(h))
        .map(str::to_string)
        .or_else(|| {
            leaf.dns_names
                .iter()
                .find(|d| is_microsoft_host(d.trim_start_matches("*.")))
                .cloned()
        });
    let evidence = match (microsoft, product) {
        (Some(h), _) => Evidence::MicrosoftHost(h),
        (None, Some(p)) => Evidence::ProductName(p),
        (None, None) => return None,
    };
    let issued_top = |c: &Certificate| {
        c.subject_key == top.issuer_key && verify_signature(top, c) == SigCheck::Valid
    };
    let root = if top.self_issued {
        Some(Root {
            cert: top.clone(),
            found: RootFound::Presented(
                presented
                    .iter()
                    .position(|d| *d == top.der)
                    .map_or(path.len(), |p| p + 1),
            ),
        })
    } else if let Some(a) = store.anchors().iter().find(|a| issued_top(&a.cert)) {
        Some(Root {
            cert: a.cert.clone(),
            found: RootFound::Keystore(a.alias.clone()),
        })
    } else {
        os_roots().and_then(|(location, certs)| {
            certs.into_iter().find(|c| issued_top(c)).map(|cert| Root {
                cert,
                found: RootFound::OsStore(location),
            })
        })
    };
    Some(Interception {
        root_subject: root
            .as_ref()
            .map_or_else(|| top.issuer.clone(), |r| r.cert.subject.clone()),
        root,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_hosts_and_products() {
        assert!(is_microsoft_host("login.microsoftonline.com"));
        assert!(is_microsoft_host("outlook.office365.com."));
        assert!(is_microsoft_host("Microsoft.com"));
        assert!(!is_microsoft_host("notmicrosoft.com"));
        assert!(!is_microsoft_host("example.org"));
        assert_eq!(
            product_of("CN=Zscaler Root CA, O=Zscaler Inc."),
            Some("Zscaler")
        );
        assert_eq!(product_of("CN=Corp TLS Proxy CA"), Some("a proxy"));
        assert_eq!(product_of("CN=DigiCert Global Root G2"), None);
    }

    #[test]
    fn catalog_chains_are_not_interceptions() {
        let catalog = crate::catalog::Catalog::builtin();
        let find = |slug: &str| {
            catalog
                .find_slug(slug)
                .and_then(|c| c.der.clone())
                .unwrap()
                .into_owned()
        };
        // A Microsoft intermediate cross-signed by DigiCert Global Root G2, for a Microsoft host.
        let issuing = catalog
            .cas
            .iter()
            .find(|c| {
                c.name.starts_with("Microsoft Azure RSA TLS Issuing CA")
                    && c.variant.as_deref() == Some("xsign")
                    && c.der.is_some()
            })
            .and_then(|c| c.der.clone())
            .unwrap()
            .into_owned();
        let chain = vec![issuing, find("digicert-global-root-g2")];
        let r = recognise(
            &chain,
            &AnchorSet::default(),
            &CatalogCerts::of(&catalog),
            Some("login.microsoftonline.com"),
            || None,
        );
        assert_eq!(r, None);
    }
}
