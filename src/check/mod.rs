//! `check`: would Java trust this server with this keystore, and if not, why and which
//! catalog CA would fix it.
//!
//! [`tls`] fetches the chain a server presents (through an HTTP CONNECT proxy when one is
//! configured, [`crate::proxy`]); [`pkix`] re-enacts Java's PKIX decision on it; this module adds
//! the remedy from the Azure catalog and the Entrust distrust warning; [`intercept`] recognises
//! a TLS-inspecting proxy on top of that verdict. Nothing here prints.

pub mod algorithms;
pub mod constraints;
pub mod intercept;
pub mod pkix;
pub mod policy;
pub mod tls;

use std::fmt;

use time::OffsetDateTime;

use crate::catalog::{Catalog, CatalogCa, PageStatus, Role};
use crate::cert::Certificate;
use crate::keystore::EntryKind;
pub use algorithms::{JavaRules, JavaVersion};
pub use pkix::{Anchor, AnchorSet, How, Problem, Step, Verdict};

/// The servers checked when none is named: Entra ID sign-in and Exchange Online.
pub const DEFAULT_HOSTS: &[&str] = &["login.microsoftonline.com", "outlook.office365.com"];
pub const DEFAULT_PORT: u16 = 443;

/// The catalog's CAs that have a certificate, each parsed once per run: every verdict, fix
/// trial and interception test of a `check` run (all its hosts) reads these.
pub struct CatalogCerts<'a> {
    pub cas: Vec<(&'a CatalogCa, Certificate)>,
}

impl<'a> CatalogCerts<'a> {
    pub fn of(catalog: &'a Catalog) -> CatalogCerts<'a> {
        CatalogCerts {
            cas: catalog
                .cas
                .iter()
                .filter_map(|ca| Some((ca, Certificate::parse(ca.der.as_deref()?).ok()?)))
                .collect(),
        }
    }
}

/// A catalog CA that, added to the keystore, makes Java trust the chain.
#[derive(Debug, Clone)]
pub struct FixCa {
    pub ca: CatalogCa,
    /// What `import` would do about it with its default selection.
    pub import: Importable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importable {
    /// `import` adds it.
    Yes,
    /// `import` never adds it: expired, or retired from Microsoft's page.
    No(&'static str),
}

/// The Entrust distrust of late-2024 JDKs (JDK-8337664): TLS server certificates issued
/// after 2024-11-11 and anchored at an Entrust root.
pub const ENTRUST_CUTOFF: time::Date = time::macros::date!(2024 - 11 - 11);

#[derive(Debug, Clone)]
pub struct Report {
    pub verdict: Verdict,
    pub fix_cas: Vec<FixCa>,
    /// The path ends at an Entrust root and the leaf was issued after the cutoff.
    pub entrust_distrust: bool,
    pub warnings: Vec<String>,
    /// When the verdict blames a key: what the keystore's certificate of that name really is.
    pub name_clash: Option<NameClash>,
    /// Not trusted as sent, but trusted when the same certificates come in order (leaf, then
    /// each one's issuer): Java then validates them as sent, without the path builder's limits.
    pub in_order_helps: bool,
    /// The server certificate itself is what Java refuses (dates, algorithm, usage): no
    /// keystore change repairs it.
    pub leaf_fault: bool,
    /// Refused by name or policy constraints, and the server also sends a copy of a CA of
    /// that path (same name and key) that they do not bind, under an issuer the keystore
    /// lacks: that issuer's subject (importing it opens the other path).
    pub unbound_twin_issuer: Option<String>,
    /// A CA certificate the chain itself carries (its root when that works) whose import
    /// makes Java trust the chain, re-judged with it added: the fix for a private CA that no
    /// catalog CA anchors.
    pub sent_anchor: Option<SentAnchor>,
}

/// A certificate of the presented chain that would anchor it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentAnchor {
    pub subject: String,
    pub sha256: String,
    /// Its place in the presented chain (0 = the server certificate, never chosen).
    pub position: usize,
    /// No other certificate of the chain is a CA: `import --pem` of the whole chain file,
    /// pinned to this one, takes exactly it (the server certificate is no CA and is left out).
    pub only_ca_sent: bool,
}

/// The keystore holds a certificate with the name of the chain's issuer, and Java did not
/// take it: why, as far as the keys show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameClash {
    /// Its key does not verify the chain: another key than the CA that signed it.
    OtherKey { alias: String, subject: String },
    /// Its key verifies the chain; only the key identifier the chain's AKI names differs.
    SameKeyOtherId { alias: String, subject: String },
    /// The server appended its own, stale copy of that root (another key); the keystore's
    /// root did sign the certificate below it, and Java validates the chain as sent.
    StaleRootSent { alias: String, subject: String },
    /// The keystore trusts an earlier certificate of this self-signed server (same name and
    /// key, not a CA): Java takes it as an anchor and then refuses it, as it is no CA.
    OldServerCertificate { alias: String },
}

/// Judges `presented` (leaf first) against `store`, and when Java would not trust it, asks
/// each catalog CA whether adding it would change that.
pub fn assess(
    presented: &[Vec<u8>],
    store: &AnchorSet,
    catalog: &CatalogCerts<'_>,
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Report {
    // Parsed once: every catalog CA tried as a fix is judged on these same certificates.
    let (verdict, chain) = match pkix::parse_chain(presented) {
        Ok(chain) => (pkix::judge_chain(&chain, store, None, now, rules), chain),
        Err(refused) => (refused, Vec::new()),
    };
    let mut warnings = Vec::new();
    let mut entrust_distrust = false;
    if verdict.trusted {
        if let (Some(anchor), Some(leaf)) = (verdict.path.last(), verdict.path.first()) {
            if verdict.path.len() > 1 && is_entrust_root(&anchor.cert) {
                let issued = leaf.cert.not_before.to_offset(time::UtcOffset::UTC).date();
                if issued > ENTRUST_CUTOFF {
                    entrust_distrust = true;
                    warnings.push(format!(
                        "the path ends at the Entrust root {} and the server certificate was issued on {}, after {}: Java runtimes patched since October 2024 (8u431, 11.0.25, 17.0.13, 21.0.5 and later) distrust it whatever the keystore holds; the server needs a certificate from another CA",
                        anchor.cert.subject,
                        crate::cert::ymd(leaf.cert.not_before),
                        ENTRUST_CUTOFF
                    ));
                } else {
                    warnings.push(format!(
                        "the path ends at the Entrust root {}: this certificate predates {ENTRUST_CUTOFF}, but patched Java runtimes distrust server certificates issued under it after that date, so its renewal must come from another CA",
                        anchor.cert.subject
                    ));
                }
            }
        }
    }
    let fix_cas = if verdict.trusted {
        Vec::new()
    } else {
        fixes(&chain, store, catalog, now, rules)
    };
    let name_clash = name_clash(&verdict, store);
    let leaf_fault = !verdict.trusted
        && chain
            .first()
            .is_some_and(|leaf| pkix::leaf_fault(leaf, now, rules).is_some());
    let in_order_helps = !verdict.trusted && {
        // A chain that did not parse as a whole may still hold a usable order of the rest.
        let rest: Vec<Option<Certificate>> = if chain.is_empty() {
            presented
                .iter()
                .map(|d| Certificate::parse(d).ok())
                .collect()
        } else {
            Vec::new()
        };
        let certs: Vec<Option<&Certificate>> = if chain.is_empty() {
            rest.iter().map(Option::as_ref).collect()
        } else {
            chain.iter().map(Some).collect()
        };
        let order = in_order(&certs);
        let ordered: Vec<Certificate> = order.iter().filter_map(|&i| certs[i].cloned()).collect();
        !order.iter().copied().eq(0..presented.len())
            && pkix::judge_chain(&ordered, store, None, now, rules).trusted
    };
    let unbound_twin_issuer = unbound_twin_issuer(&verdict, &chain, store);
    let sent_anchor = if verdict.trusted || leaf_fault || in_order_helps || !fix_cas.is_empty() {
        None
    } else {
        sent_anchor(&chain, store, now, rules)
    };
    Report {
        verdict,
        fix_cas,
        entrust_distrust,
        warnings,
        name_clash,
        in_order_helps,
        leaf_fault,
        unbound_twin_issuer,
        sent_anchor,
    }
}

/// The CA certificate of `presented` (other than the server's own) whose import makes Java
/// trust the chain, trying the top of the chain first: the root is what an administrator
/// of a private CA imports.
fn sent_anchor(
    chain: &[Certificate],
    store: &AnchorSet,
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Option<SentAnchor> {
    let cas: Vec<(usize, Certificate)> = chain
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| c.is_ca)
        .map(|(i, c)| (i, c.clone()))
        .collect();
    let only_ca_sent = cas.len() == 1;
    cas.into_iter().rev().find_map(|(position, cert)| {
        if store.anchors().iter().any(|a| a.cert.der == cert.der) {
            return None;
        }
        let anchor = Anchor {
            alias: "sent".into(),
            kind: EntryKind::TrustedCert,
            cert,
        };
        pkix::judge_chain(chain, store, Some(&anchor), now, rules)
            .trusted
            .then(|| SentAnchor {
                subject: anchor.cert.subject.clone(),
                sha256: anchor.cert.sha256.clone(),
                position,
                only_ca_sent,
            })
    })
}

/// For a path refused by its name or policy constraints: a CA certificate the server also
/// sent, with the name and key of one on that path, whose issuer no anchor is, and with which
/// the sent part of the path passes those checks. Its issuer's subject.
fn unbound_twin_issuer(
    verdict: &Verdict,
    sent: &[Certificate],
    store: &AnchorSet,
) -> Option<String> {
    use pkix::ProblemCode;
    let code = verdict.problem.as_ref()?.code;
    if !matches!(
        code,
        ProblemCode::NameConstraints | ProblemCode::PolicyConstraints
    ) {
        return None;
    }
    let path: Vec<&Certificate> = verdict.path.iter().map(|s| &s.cert).collect();
    for k in 1..path.len() {
        for twin in sent {
            if twin.der == path[k].der || !twin.same_name_and_key(path[k]) {
                continue;
            }
            let anchored = store.anchors().iter().any(|a| {
                a.cert.subject_key == twin.issuer_key
                    && crate::cert::verify_signature(twin, &a.cert) == crate::cert::SigCheck::Valid
            });
            if anchored {
                continue;
            }
            let mut other: Vec<&Certificate> = path[..k].to_vec();
            other.push(twin);
            if constraints::check(&other).is_none() && policy::check(&other).is_none() {
                return Some(twin.issuer.clone());
            }
        }
    }
    None
}

/// The presented certificates as a server should send them: the leaf, then the issuer of each
/// (the sent certificate whose key verifies it), up to a self-issued one. Their places in
/// `presented` (None: a certificate that does not parse, never chosen).
fn in_order(presented: &[Option<&Certificate>]) -> Vec<usize> {
    let mut used = vec![0usize];
    while let Some(Some(cur)) = used.last().and_then(|&i| presented.get(i)) {
        if cur.self_issued && used.len() > 1 {
            break;
        }
        let next = (0..presented.len()).find(|&j| {
            !used.contains(&j)
                && presented[j].is_some_and(|p| {
                    p.subject_key == cur.issuer_key
                        && crate::cert::verify_signature(cur, p) == crate::cert::SigCheck::Valid
                })
        });
        match next {
            Some(j) => used.push(j),
            None => break,
        }
    }
    used
}

fn name_clash(verdict: &Verdict, store: &AnchorSet) -> Option<NameClash> {
    use pkix::ProblemCode;
    let code = verdict.problem.as_ref()?.code;
    if code == ProblemCode::AnchorNotCa {
        let leaf = &verdict.path.first()?.cert;
        return store
            .anchors()
            .iter()
            .find(|a| leaf.self_issued && a.cert.same_name_and_key(leaf))
            .map(|a| NameClash::OldServerCertificate {
                alias: a.alias.clone(),
            });
    }
    if !matches!(code, ProblemCode::AkiKeyMismatch | ProblemCode::Signature) {
        return None;
    }
    let top = verdict.path.last()?;
    let below = verdict.path.len().checked_sub(2).map(|i| &verdict.path[i]);
    let named = store
        .anchors()
        .iter()
        .filter(|a| a.cert.subject_key == top.cert.issuer_key && a.cert.der != top.cert.der);
    let mut found = None;
    for a in named {
        let (alias, subject) = (a.alias.clone(), a.cert.subject.clone());
        let signs = |c: &Certificate| {
            crate::cert::verify_signature(c, &a.cert) == crate::cert::SigCheck::Valid
        };
        if top.cert.self_issued
            && a.cert.spki != top.cert.spki
            && below.is_some_and(|b| signs(&b.cert))
        {
            return Some(NameClash::StaleRootSent { alias, subject });
        }
        if signs(&top.cert) {
            found = Some(NameClash::SameKeyOtherId { alias, subject });
        } else if found.is_none() {
            found = Some(NameClash::OtherKey { alias, subject });
        }
    }
    found
}

/// A warning when the server certificate does not name `host`: Java's HTTPS clients then
/// fail on the hostname check, whatever the keystore holds.
pub fn hostname_warning(presented: &[Vec<u8>], host: &str) -> Option<String> {
    let leaf = Certificate::parse(presented.first()?).ok()?;
    if leaf.names_host(host) {
        return None;
    }
    let mut named: Vec<String> = leaf.dns_names.clone();
    named.extend(leaf.ip_addresses.iter().map(|i| i.to_string()));
    if named.is_empty() {
        named.extend(leaf.common_name.clone());
    }
    Some(format!(
        "the server certificate does not name {host} (it names {}): Java HTTPS clients reject it on the host name, whatever the keystore holds",
        if named.is_empty() {
            "nothing".to_string()
        } else {
            named.join(", ")
        }
    ))
}

/// The SHA-256 fingerprints of the five Entrust roots JDK-8337664 distrusts
/// (`EntrustTLSPolicy`: entrustevca, entrustrootcaec1, entrustrootcag2, entrustrootcag4,
/// entrust2048ca). The JDK goes by these, not by names: a private CA named like Entrust is
/// not distrusted.
const ENTRUST_ROOTS_SHA256: [&str; 5] = [
    "73C176434F1BC6D5ADF45B0E76E727287C8DE57616C1E6E6141A2B2CBC7D8E4C",
    "02ED0EB28C14DA45165C566791700D6451D7FB56F0B2AB1D3B8EB070E56EDFF5",
    "43DF5774B03E7FEF5FE40D931A7BEDF1BB2E6B42738C4E6D3841103D3AA7F339",
    "DB3517D1F6732A2D5AB97C533EC70779EE3270A62FB4AC4238372460E6F01E88",
    "6DC47172E01CBCB0BF62580D895FE2B8AC9AD4F873801E0C10B9C837D21EB177",
];

fn is_entrust_root(f: &Certificate) -> bool {
    ENTRUST_ROOTS_SHA256
        .iter()
        .any(|fp| fp.eq_ignore_ascii_case(&f.sha256))
}

/// The catalog CAs that would anchor the chain, the most useful group only: roots the
/// server did not send, else intermediates it did not send, else certificates it sent.
fn fixes(
    sent: &[Certificate],
    store: &AnchorSet,
    catalog: &CatalogCerts<'_>,
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Vec<FixCa> {
    // A fault of the server certificate itself: no import can repair it, so none is offered.
    if sent
        .first()
        .is_some_and(|leaf| pkix::leaf_fault(leaf, now, rules).is_some())
    {
        return Vec::new();
    }
    let mut groups: [Vec<FixCa>; 3] = Default::default();
    for (ca, parsed) in &catalog.cas {
        let der = parsed.der.as_slice();
        // Trusting the server certificate itself would "fix" anything, expired or not: that
        // is no advice to give.
        if store.anchors().iter().any(|a| a.cert.der == der)
            || sent.first().map(|c| c.der.as_slice()) == Some(der)
        {
            continue;
        }
        let f = parsed.clone();
        let was_sent = sent
            .iter()
            .any(|s| s.der == f.der || s.same_name_and_key(&f));
        let anchor = Anchor {
            alias: format!("azure-ca-{}", ca.slug),
            kind: EntryKind::TrustedCert,
            cert: f,
        };
        if !pkix::judge_chain(sent, store, Some(&anchor), now, rules).trusted {
            continue;
        }
        let group = match (was_sent, ca.role) {
            (false, Role::Root) => 0,
            (false, Role::Subordinate) => 1,
            (true, _) => 2,
        };
        groups[group].push(FixCa {
            ca: (*ca).clone(),
            import: importable(ca, now),
        });
    }
    let mut chosen = groups
        .into_iter()
        .find(|g| !g.is_empty())
        .unwrap_or_default();
    chosen.sort_by_key(|f| (f.import != Importable::Yes, f.ca.display_name()));
    chosen
}

fn importable(ca: &CatalogCa, now: OffsetDateTime) -> Importable {
    if ca.is_expired_on(now.date()) {
        Importable::No("expired")
    } else if ca.status == PageStatus::Retired {
        Importable::No("retired from Microsoft's page")
    } else {
        // A default skip that this keystore lacks is imported like any other CA (a default
        // skip means "the runtime ships it", not "never").
        Importable::Yes
    }
}

/// The certificates of a PEM file (or of concatenated DER), in file order.
pub fn read_chain(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    if bytes.first() == Some(&0x30) {
        let mut rest = bytes;
        let mut certs = Vec::new();
        while !rest.is_empty() {
            let (after, _) = x509_parser::parse_x509_certificate(rest)
                .map_err(|e| format!("DER certificate {} does not parse: {e}", certs.len() + 1))?;
            let used = rest.len() - after.len();
            certs.push(rest[..used].to_vec());
            rest = after;
        }
        return Ok(certs);
    }
    let certs = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("no \"BEGIN CERTIFICATE\" block in it".into());
    }
    Ok(certs)
}

/// A server to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// `HOST`, `HOST:PORT`, `[IPv6]:PORT`, a bare IPv6 address, or an https:// URL.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut t = s.trim();
    if let Some((scheme, rest)) = t.split_once("://") {
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(format!(
                "{scheme}:// is not a TLS address; give HOST[:PORT]"
            ));
        }
        t = rest.split(['/', '?', '#']).next().unwrap_or("");
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 address opened with [ is not closed with ]".to_string())?;
        match after {
            "" => (h, None),
            p => (
                h,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("expected :PORT after [{h}], found {p:?}"))?,
                ),
            ),
        }
    } else if t.matches(':').count() > 1 {
        (t, None)
    } else {
        match t.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (t, None),
        }
    };
    if host.is_empty() {
        return Err("the host name is empty".into());
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/@?#".contains(c))
    {
        return Err(format!("{host:?} is not a host name"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("{p:?} is not a port number (1-65535)")),
        },
    };
    Ok(Target {
        host: host.trim_end_matches('.').to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = |s: &str| parse_target(s).map(|t| (t.host, t.port));
        assert_eq!(
            t("login.microsoftonline.com"),
            Ok(("login.microsoftonline.com".into(), 443))
        );
        assert_eq!(t("Example.COM:8443"), Ok(("example.com".into(), 8443)));
        assert_eq!(t("[::1]:4433"), Ok(("::1".into(), 4433)));
        assert_eq!(t("::1"), Ok(("::1".into(), 443)));
        assert_eq!(
            t("https://outlook.office365.com/owa"),
            Ok(("outlook.office365.com".into(), 443))
        );
        assert!(t("host:0").is_err());
        assert!(t("host:99999").is_err());
        assert!(t(":443").is_err());
        assert!(t("http://x").is_err());
        assert!(t("[::1").is_err());
        assert!(t("a b").is_err());
    }

    #[test]
    fn reads_no_chain_from_garbage() {
        assert!(read_chain(b"hello").is_err());
        assert!(read_chain(&[0x30, 0x05, 0x01]).is_err());
        assert!(
            read_chain(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }

    #[test]
    fn entrust_roots_go_by_fingerprint() {
        let pem = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("certs/pem/entrust-root-certification-authority-g2.pem"),
        )
        .expect("built-in PEM");
        let der = read_chain(&pem).expect("PEM").remove(0);
        let genuine = Certificate::parse(&der).expect("parses");
        assert!(is_entrust_root(&genuine));
        // Its own intermediate is named "Entrust" too, and is no root of the policy.
        let pem = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("certs/pem/entrust-certification-authority-l1k.pem"),
        )
        .expect("built-in PEM");
        let der = read_chain(&pem).expect("PEM").remove(0);
        assert!(!is_entrust_root(&Certificate::parse(&der).expect("parses")));
    }

    #[test]
    fn target_display_brackets_ipv6() {
        let t = Target {
            host: "::1".into(),
            port: 8443,
        };
        assert_eq!(t.to_string(), "[::1]:8443");
    }
}
