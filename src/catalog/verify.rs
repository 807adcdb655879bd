//! What makes a certificate trustworthy here: its bytes hash to the pinned thumbprints, it
//! parses as X.509, and its signature verifies with the key of its issuer when the issuer is
//! in the same set.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::{CatalogCa, CatalogError};
use crate::cert::{sha1_hex, sha256_hex, Certificate};

/// Where a CA's bytes came from in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaOrigin {
    /// Downloaded from this URL (after redirects) and verified.
    Downloaded { url: String },
    /// The copy embedded in the binary.
    BuiltIn,
    /// The copy in the bundle.
    Bundle,
    /// No verified copy.
    Unavailable,
    /// No pinned copy, and the download failed for a network reason (never a wrong body:
    /// that stops the run).
    DownloadFailed { url: String, why: String },
}

impl CaOrigin {
    pub fn as_str(&self) -> &'static str {
        match self {
            CaOrigin::Downloaded { .. } => "downloaded",
            CaOrigin::BuiltIn => "built-in",
            CaOrigin::Bundle => "bundle",
            CaOrigin::Unavailable | CaOrigin::DownloadFailed { .. } => "unavailable",
        }
    }
}

/// The outcome of the signature check of one CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Self-signed, and the self-signature verifies.
    SelfSigned,
    /// Signed by this CA of the set (slug, display name).
    SignedBy { slug: String, name: String },
    /// The issuer is not in the set, so the signature could not be checked (not an error).
    IssuerNotInSet { issuer: String },
    /// The signature algorithm is one the verifier does not implement (not an error).
    Unsupported { why: String },
    /// No copy of the certificate.
    NotChecked,
}

impl ChainCheck {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChainCheck::SelfSigned => "self-signed",
            ChainCheck::SignedBy { .. } => "verified",
            ChainCheck::IssuerNotInSet { .. } => "issuer-not-in-set",
            ChainCheck::Unsupported { .. } => "unsupported",
            ChainCheck::NotChecked => "not-checked",
        }
    }
}

/// One line of the fetch report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaReport {
    pub slug: String,
    pub origin: CaOrigin,
    pub chain: ChainCheck,
}

/// The certificate in a response or file body: DER as is, or the PEM block whose SHA-1 is
/// `sha1` (a PEM file may carry a chain). Errors say what was found instead.
pub fn decode_pinned(body: &[u8], sha1: &str) -> Result<Vec<u8>, String> {
    if body.first() == Some(&0x30) {
        return Ok(body.to_vec());
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    for item in CertificateDer::pem_slice_iter(body) {
        match item {
            Ok(der) => {
                if sha1_hex(&der) == sha1 {
                    return Ok(der.to_vec());
                }
                found.push(der.to_vec());
            }
            Err(e) => return Err(format!("not a DER or PEM certificate ({e})")),
        }
    }
    match found.len() {
        0 => Err(format!(
            "not a DER or PEM certificate ({})",
            describe_body(body)
        )),
        // One certificate, not the pinned one: check_pins names both thumbprints.
        1 => Ok(found.remove(0)),
        n => Err(format!("none of the {n} PEM certificates has SHA-1 {sha1}")),
    }
}

/// What a body that is no certificate looks like, without quoting any of it: a local file
/// may be anything a link points at (an error once printed the start of /etc/shadow).
fn describe_body(body: &[u8]) -> String {
    if body.is_empty() {
        return "it is empty".into();
    }
    let kind = match std::str::from_utf8(body) {
        Ok(t) if t.trim_start().starts_with('<') => "HTML or XML (an error page?)",
        Ok(_) => "text",
        Err(_) => "binary data",
    };
    format!("{} bytes of {kind}", body.len())
}

/// Facts read from a certificate that passed [`check_pins`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub info: Certificate,
    pub serial: String,
}

/// SHA-1 always, SHA-256 when the catalog knows it, then a full X.509 parse. The bytes are
/// not trusted for anything before this passes.
pub fn check_pins(ca: &CatalogCa, der: &[u8]) -> Result<Checked, CatalogError> {
    let reject = |why: String| CatalogError::Verification {
        ca: ca.display_name(),
        why,
    };
    let sha1 = sha1_hex(der);
    if sha1 != ca.sha1 {
        return Err(reject(format!(
            "SHA-1 thumbprint mismatch: got {sha1}, the catalog pins {}",
            ca.sha1
        )));
    }
    if let Some(want) = &ca.sha256 {
        let got = sha256_hex(der);
        if &got != want {
            return Err(reject(format!(
                "SHA-256 mismatch: got {got}, the catalog pins {want}"
            )));
        }
    }
    let info = Certificate::parse(der).map_err(|e| reject(e.to_string()))?;
    if !info.is_ca {
        return Err(reject(
            "the certificate is not a CA (basicConstraints cA is false)".into(),
        ));
    }
    let serial = X509Certificate::from_der(der)
        .map(|(_, c)| {
            c.tbs_certificate
                .raw_serial()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .map_err(|e| reject(format!("malformed certificate: {e}")))?;
    Ok(Checked { info, serial })
}

/// Checks the signature of every certificate in `cas` that has bytes against its issuer in the
/// same set (issuer DN equals subject DN, and the key identifiers agree when both are given).
/// A signature that does not verify is an error; an issuer outside the set is only reported.
pub fn check_chains(cas: &[CatalogCa]) -> Result<Vec<ChainCheck>, CatalogError> {
    struct Parsed<'a> {
        cert: X509Certificate<'a>,
        ski: Option<Vec<u8>>,
        aki: Option<Vec<u8>>,
    }
    let mut parsed: Vec<Option<Parsed>> = Vec::with_capacity(cas.len());
    for ca in cas {
        let Some(der) = ca.der.as_deref() else {
            parsed.push(None);
            continue;
        };
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| CatalogError::Verification {
            ca: ca.display_name(),
            why: format!("malformed certificate: {e}"),
        })?;
        let (mut ski, mut aki) = (None, None);
        for ext in cert.tbs_certificate.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => {}
            }
        }
        parsed.push(Some(Parsed { cert, ski, aki }));
    }

    let same_name = |a: &X509Certificate, b: &X509Certificate| {
        a.issuer().as_raw() == b.subject().as_raw()
            || a.issuer().to_string() == b.subject().to_string()
    };

    let mut out = Vec::with_capacity(cas.len());
    for (i, p) in parsed.iter().enumerate() {
        let Some(p) = p else {
            out.push(ChainCheck::NotChecked);
            continue;
        };
        let self_issued = p.cert.subject().as_raw() == p.cert.issuer().as_raw();
        // Candidates: itself when self-issued, then every other CA whose subject is the issuer.
        let mut candidates: Vec<usize> = Vec::new();
        if self_issued {
            candidates.push(i);
        }
        for (j, q) in parsed.iter().enumerate() {
            let Some(q) = q else { continue };
            if j == i || !same_name(&p.cert, &q.cert) {
                continue;
            }
            if let (Some(aki), Some(ski)) = (&p.aki, &q.ski) {
                if aki != ski {
                    continue;
                }
            }
            candidates.push(j);
        }
        if candidates.is_empty() {
            out.push(ChainCheck::IssuerNotInSet {
                issuer: p.cert.issuer().to_string(),
            });
            continue;
        }
        let mut verdict: Option<ChainCheck> = None;
        let mut failure: Option<String> = None;
        let mut unsupported: Option<String> = None;
        for j in candidates {
            let Some(q) = &parsed[j] else { continue };
            let key = (j != i).then(|| q.cert.public_key());
            match p.cert.verify_signature(key) {
                Ok(()) => {
                    verdict = Some(if j == i {
                        ChainCheck::SelfSigned
                    } else {
                        ChainCheck::SignedBy {
                            slug: cas[j].slug.clone(),
                            name: cas[j].display_name(),
                        }
                    });
                    break;
                }
                Err(X509Error::SignatureUnsupportedAlgorithm) => {
                    unsupported = Some(format!(
                        "{} is not supported",
                        p.cert.signature_algorithm.algorithm
                    ));
                }
                Err(e) => {
                    let by = if j == i {
                        "its own key".to_string()
                    } else {
                        format!("the key of {}", cas[j].display_name())
                    };
                    failure.get_or_insert(format!("the signature does not verify with {by} ({e})"));
                }
            }
        }
        match (verdict, failure, unsupported) {
            (Some(v), _, _) => out.push(v),
            (None, Some(why), _) => {
                return Err(CatalogError::Verification {
                    ca: cas[i].display_name(),
                    why,
                });
            }
            (None, None, Some(why)) => out.push(ChainCheck::Unsupported { why }),
            (None, None, None) => out.push(ChainCheck::IssuerNotInSet {
                issuer: p.cert.issuer().to_string(),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin;

    #[test]
    fn every_builtin_signature_verifies() {
        let c = builtin::load().unwrap();
        let checks = check_chains(&c.cas).unwrap();
        for (ca, check) in c.cas.iter().zip(&checks) {
            match check {
                ChainCheck::NotChecked => assert!(ca.der.is_none()),
                ChainCheck::SelfSigned | ChainCheck::SignedBy { .. } => {}
                // Retired intermediates whose root left the catalog long ago.
                ChainCheck::IssuerNotInSet { .. } => {}
                ChainCheck::Unsupported { why } => panic!("{}: {why}", ca.slug),
            }
        }
        let find = |slug: &str| {
            let i = c.cas.iter().position(|x| x.slug == slug).unwrap();
            checks[i].clone()
        };
        assert_eq!(find("digicert-global-root-ca"), ChainCheck::SelfSigned);
        match find("microsoft-azure-rsa-tls-issuing-ca-03-xsign") {
            ChainCheck::SignedBy { slug, .. } => assert_eq!(slug, "digicert-global-root-g2"),
            other => panic!("{other:?}"),
        }
        match find("microsoft-tls-g2-rsa-ca-ocsp-16") {
            ChainCheck::SignedBy { slug, .. } => {
                assert!(slug.starts_with("microsoft-tls-rsa-root-g2"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_flipped_signature_byte_is_an_error() {
        let c = builtin::load().unwrap();
        let mut cas: Vec<CatalogCa> = c
            .cas
            .iter()
            .filter(|x| {
                x.slug == "digicert-global-root-g2"
                    || x.slug == "digicert-global-g2-tls-rsa-sha256-2020-ca1"
            })
            .cloned()
            .collect();
        assert_eq!(cas.len(), 2);
        let sub = cas
            .iter_mut()
            .find(|x| x.slug.contains("2020-ca1"))
            .unwrap();
        let der = sub.der.as_mut().unwrap().to_mut();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let e = check_chains(&cas).unwrap_err();
        assert!(matches!(e, CatalogError::Verification { .. }), "{e}");
        assert!(e.to_string().contains("does not verify"), "{e}");
    }

    #[test]
    fn decodes_der_and_pem_and_refuses_garbage() {
        let c = builtin::load().unwrap();
        let ca = c.find_slug("digicert-global-root-g3").unwrap();
        let der = ca.der.clone().unwrap().into_owned();
        assert_eq!(decode_pinned(&der, &ca.sha1).unwrap(), der);
        let pem = builtin::pem_file("digicert-global-root-g3.pem").unwrap();
        assert_eq!(decode_pinned(&pem, &ca.sha1).unwrap(), der);
        // A chain file: the pinned certificate is picked out of it.
        let mut chain = builtin::pem_file("digicert-global-root-g2.pem").unwrap();
        chain.extend_from_slice(&pem);
        assert_eq!(decode_pinned(&chain, &ca.sha1).unwrap(), der);
        let e = decode_pinned(b"<html>404</html>", &ca.sha1).unwrap_err();
        assert!(e.contains("HTML") && !e.contains("404"), "{e}");
        let e = decode_pinned(b"root:$6$secret:19000:0:99999:7:::\n", &ca.sha1).unwrap_err();
        assert!(!e.contains("root") && !e.contains("secret"), "{e}");
        assert!(decode_pinned(b"", &ca.sha1).is_err());
        assert!(check_pins(ca, &der[..der.len() - 1]).is_err());
        assert!(check_pins(ca, &der).is_ok());
    }
}
