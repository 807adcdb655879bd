//! The one parsed form of an X.509 certificate, read once with x509-parser and shared by the
//! catalog, the matching of trust anchors, `list` and the PKIX emulation of `check`.
//!
//! Certificates may come from a hostile server: every field is read defensively, and a
//! certificate that does not parse is reported, never unwrapped.

use time::OffsetDateTime;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::name::{display_name, NameKey};
use super::{sha1_hex, sha256_hex, CertError};

/// The Authority Key Identifier of a certificate: how it names the key and certificate of
/// its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aki {
    pub key_id: Option<Vec<u8>>,
    /// The issuer's serial number, minimally encoded (compare with [`Facts::serial`]).
    pub serial: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub der: Vec<u8>,
    /// Upper-case hex without separators, as the contract prints fingerprints.
    pub sha1: String,
    pub sha256: String,
    /// As Java prints an X500Principal: most specific first ("CN=..., O=..., C=US").
    pub subject: String,
    pub issuer: String,
    /// Compared the way `X500Principal.equals` does.
    pub subject_key: NameKey,
    pub issuer_key: NameKey,
    /// The values of the subject's O attributes.
    pub organizations: Vec<String>,
    /// DER of SubjectPublicKeyInfo: with the subject, what Java matches trust anchors on.
    pub spki: Vec<u8>,
    /// 1, 2 or 3.
    pub version: u32,
    /// Minimal two's-complement bytes, so that equal numbers compare equal.
    pub serial: Vec<u8>,
    pub serial_hex: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub self_issued: bool,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Aki>,
    /// Java's `getBasicConstraints()`: None when not a CA, else the path length limit
    /// (u32::MAX when unlimited).
    pub ca_path_len: Option<u32>,
    /// A CA by BasicConstraints, or a v1 certificate (which has none and may act as one).
    pub is_ca: bool,
    /// (digitalSignature, keyCertSign) when a KeyUsage extension is present.
    pub key_usage: Option<(bool, bool)>,
    /// Whether an ExtendedKeyUsage extension allows TLS server authentication; None when absent.
    pub eku_server: Option<bool>,
    /// Whether a Netscape cert-type extension allows an SSL server; None when absent.
    pub ns_ssl_server: Option<bool>,
    /// Critical extensions Java's PKIX checkers do not process (it rejects such certificates).
    pub unknown_critical: Vec<String>,
    pub sig_alg: String,
    /// subjectAltName DNS names and IP addresses; the subject's last CN.
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<std::net::IpAddr>,
    pub common_name: Option<String>,
    /// The subject key's algorithm and size in bits (the modulus for RSA, p for DSA, the
    /// field for EC; 0 when unknown), what Java's algorithm constraints look at.
    pub key_kind: KeyKind,
    pub key_bits: usize,
}

/// The kind of a subject public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Rsa,
    Dsa,
    Ec,
    Ed25519,
    Ed448,
    Other,
}

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "RSA",
            KeyKind::Dsa => "DSA",
            KeyKind::Ec => "EC",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Ed448 => "Ed448",
            KeyKind::Other => "unknown",
        }
    }
}

// Extensions Java's PKIX checkers resolve (KeyChecker, ConstraintsChecker, PolicyChecker),
// by their last arc under id-ce (2.5.29).
const HANDLED_CRITICAL_ARCS: &[u8] = &[
    15, // keyUsage
    37, // extKeyUsage
    17, // subjectAltName
    19, // basicConstraints
    30, // nameConstraints
    32, // certificatePolicies
    33, // policyMappings
    36, // policyConstraints
    54, // inhibitAnyPolicy
];

const EKU_MS_SGC: &str = "1.3.6.1.4.1.311.10.3.3";
const EKU_NS_SGC: &str = "2.16.840.1.113730.4.1";

/// INTEGER content bytes in their shortest two's-complement form.
pub fn minimal_integer(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes;
    while b.len() > 1 && ((b[0] == 0x00 && b[1] & 0x80 == 0) || (b[0] == 0xFF && b[1] & 0x80 != 0))
    {
        b = &b[1..];
    }
    b.to_vec()
}

impl Certificate {
    pub fn parse(der: &[u8]) -> Result<Certificate, CertError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| CertError(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError(format!(
                "{} bytes after the certificate",
                rest.len()
            )));
        }
        let tbs = &cert.tbs_certificate;
        let mut ski = None;
        let mut aki = None;
        let mut key_usage = None;
        let mut eku_server = None;
        let mut ns_ssl_server = None;
        let mut ca_path_len = None;
        let mut unknown_critical = Vec::new();
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        for ext in tbs.extensions() {
            // The dotted form only where it is shown or unusual: formatting an OID for every
            // extension of every anchor was a tenth of a `diff`.
            if ext.critical && !is_handled_critical(&ext.oid) {
                unknown_critical.push(ext.oid.to_id_string());
            }
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = Some(Aki {
                        key_id: a.key_identifier.as_ref().map(|k| k.0.to_vec()),
                        serial: a.authority_cert_serial.map(minimal_integer),
                    })
                }
                ParsedExtension::KeyUsage(ku) => {
                    key_usage = Some((ku.digital_signature(), ku.key_cert_sign()))
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let sgc = eku.other.iter().any(|o| {
                        let s = o.to_id_string();
                        s == EKU_MS_SGC || s == EKU_NS_SGC
                    });
                    eku_server = Some(eku.server_auth || eku.any || sgc);
                }
                ParsedExtension::NSCertType(t) => ns_ssl_server = Some(t.ssl_server()),
                ParsedExtension::SubjectAlternativeName(san) => {
                    use x509_parser::extensions::GeneralName;
                    for n in &san.general_names {
                        match n {
                            GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                            GeneralName::IPAddress(b) => {
                                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                                    ip_addresses.push(std::net::IpAddr::from(a));
                                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                                    ip_addresses.push(std::net::IpAddr::from(a));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::BasicConstraints(bc) if bc.ca => {
                    ca_path_len = Some(bc.path_len_constraint.unwrap_or(u32::MAX));
                }
                // Java refuses to build a certificate whose known extension is garbage.
                ParsedExtension::ParseError { error } if is_known(&ext.oid) => {
                    return Err(CertError(format!(
                        "extension {} is malformed: {error}",
                        ext.oid.to_id_string()
                    )));
                }
                _ => {}
            }
        }
        let version = tbs.version.0.saturating_add(1);
        let organizations = tbs
            .subject
            .iter_organization()
            .filter_map(|o| o.as_str().ok().map(str::to_string))
            .collect();
        let sig_alg = cert.signature_algorithm.algorithm.to_id_string();
        let common_name = tbs
            .subject
            .iter_common_name()
            .last()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let (key_kind, key_bits) = key_facts(tbs.public_key());
        let is_ca = ca_path_len.is_some() || version == 1;
        Ok(Certificate {
            der: der.to_vec(),
            sha1: sha1_hex(der),
            sha256: sha256_hex(der),
            subject: display_name(&tbs.subject),
            issuer: display_name(&tbs.issuer),
            subject_key: NameKey::of(&tbs.subject),
            issuer_key: NameKey::of(&tbs.issuer),
            organizations,
            spki: tbs.subject_pki.raw.to_vec(),
            version,
            serial: minimal_integer(tbs.raw_serial()),
            serial_hex: tbs.raw_serial_as_string().replace(':', ""),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            self_issued: NameKey::of(&tbs.subject) == NameKey::of(&tbs.issuer),
            ski,
            aki,
            ca_path_len,
            is_ca,
            key_usage,
            eku_server,
            ns_ssl_server,
            unknown_critical,
            sig_alg,
            dns_names,
            ip_addresses,
            common_name,
            key_kind,
            key_bits,
        })
    }

    /// Whether the certificate names `host` the way Java's HTTPS hostname check reads it:
    /// subjectAltName entries when there are any (a `*` only as the whole leftmost label),
    /// else the most specific CN.
    pub fn names_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return self.ip_addresses.contains(&ip);
        }
        let matches = |pattern: &str| {
            let p = pattern.trim_end_matches('.').to_ascii_lowercase();
            match p.strip_prefix("*.") {
                Some(rest) => host.split_once('.').is_some_and(|(first, tail)| {
                    !first.is_empty() && tail == rest && rest.contains('.')
                }),
                None => p == host,
            }
        };
        if !self.dns_names.is_empty() || !self.ip_addresses.is_empty() {
            return self.dns_names.iter().any(|d| matches(d));
        }
        self.common_name.as_deref().is_some_and(matches)
    }

    /// Java's test for the same trust anchor: an equal subject and the same key.
    pub fn same_name_and_key(&self, other: &Certificate) -> bool {
        self.subject_key == other.subject_key && self.spki == other.spki
    }

    /// The CN, else the whole subject: what a person recognises in a table.
    pub fn display_name(&self) -> &str {
        self.common_name.as_deref().unwrap_or(&self.subject)
    }

    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.not_after < now
    }
}

/// The last arc of an `id-ce` OID (2.5.29.n, DER 55 1D n), the arc every extension Java's
/// checkers know lives under.
fn id_ce_arc(oid: &x509_parser::der_parser::oid::Oid) -> Option<u8> {
    match oid.as_bytes() {
        [0x55, 0x1D, n] if *n < 0x80 => Some(*n),
        _ => None,
    }
}

fn is_handled_critical(oid: &x509_parser::der_parser::oid::Oid) -> bool {
    id_ce_arc(oid).is_some_and(|n| HANDLED_CRITICAL_ARCS.contains(&n))
}

fn is_known(oid: &x509_parser::der_parser::oid::Oid) -> bool {
    // subjectKeyIdentifier (14) and authorityKeyIdentifier (35) besides the handled ones.
    id_ce_arc(oid).is_some_and(|n| HANDLED_CRITICAL_ARCS.contains(&n) || n == 14 || n == 35)
}

fn key_facts(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> (KeyKind, usize) {
    match spki.parsed() {
        Ok(PublicKey::RSA(k)) => (KeyKind::Rsa, bit_length(k.modulus)),
        Ok(PublicKey::DSA(_)) => (KeyKind::Dsa, dsa_p_bits(spki)),
        Ok(PublicKey::EC(p)) => (KeyKind::Ec, p.key_size()),
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => (KeyKind::Ed25519, 255),
            "1.3.101.113" => (KeyKind::Ed448, 448),
            // x509-parser leaves an id-RSASSA-PSS key unparsed; its bits are an RSAPublicKey.
            "1.2.840.113549.1.1.10" => (
                KeyKind::Rsa,
                x509_parser::public_key::RSAPublicKey::from_der(&spki.subject_public_key.data)
                    .map(|(_, k)| bit_length(k.modulus))
                    .unwrap_or(0),
            ),
            _ => (KeyKind::Other, 0),
        },
    }
}

/// A DSA key's size is that of its prime p (Java's `keySize`), from the parameters
/// SEQUENCE { p, q, g } of its AlgorithmIdentifier; 0 when they are absent.
fn dsa_p_bits(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> usize {
    use x509_parser::der_parser::ber::BerObjectContent;
    let Some(params) = spki.algorithm.parameters.as_ref() else {
        return 0;
    };
    let Ok((_, seq)) = x509_parser::der_parser::parse_der(params.as_bytes()) else {
        return 0;
    };
    match &seq.content {
        BerObjectContent::Sequence(items) => match items.first().map(|i| &i.content) {
            Some(BerObjectContent::Integer(p)) => bit_length(p),
            _ => 0,
        },
        _ => 0,
    }
}

/// Bits of an unsigned big-endian integer (x509-parser's RSA key_size miscounts some moduli).
pub(crate) fn bit_length(bytes: &[u8]) -> usize {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    match bytes.get(start) {
        Some(&first) => (bytes.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_compare_minimally() {
        assert_eq!(minimal_integer(&[0x00, 0x01]), vec![0x01]);
        assert_eq!(minimal_integer(&[0x00, 0x80]), vec![0x00, 0x80]);
        assert_eq!(minimal_integer(&[0xFF, 0xFF, 0x80]), vec![0x80]);
        assert_eq!(minimal_integer(&[0xFF, 0x7F]), vec![0xFF, 0x7F]);
        assert_eq!(minimal_integer(&[0x00]), vec![0x00]);
        assert_eq!(minimal_integer(&[]), Vec::<u8>::new());
    }

    #[test]
    fn counts_modulus_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[0x00]), 0);
    }

    fn with_names(dns: &[&str], ips: &[&str], cn: Option<&str>) -> Certificate {
        let mut f = Certificate::parse(&test_cert()).expect("test certificate");
        f.dns_names = dns.iter().map(|s| s.to_string()).collect();
        f.ip_addresses = ips.iter().map(|s| s.parse().expect("ip")).collect();
        f.common_name = cn.map(str::to_string);
        f
    }

    fn test_cert() -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs/pem/microsoft-rsa-root-certificate-authority-2017.pem");
        let pem = std::fs::read(path).expect("built-in PEM");
        crate::check::read_chain(&pem).expect("PEM").remove(0)
    }

    #[test]
    fn host_names_match_like_java() {
        let f = with_names(
            &["*.login.microsoftonline.com", "login.microsoftonline.com"],
            &[],
            None,
        );
        assert!(f.names_host("login.microsoftonline.com"));
        assert!(f.names_host("Stamp2.Login.MicrosoftOnline.com."));
        assert!(!f.names_host("a.b.login.microsoftonline.com"));
        assert!(!f.names_host("microsoftonline.com"));
        let star = with_names(&["*.com"], &[], None);
        assert!(!star.names_host("example.com"));
        let ip = with_names(&["localhost"], &["127.0.0.1"], Some("ignored"));
        assert!(ip.names_host("127.0.0.1"));
        assert!(!ip.names_host("::1"));
        assert!(!ip.names_host("ignored"));
        let cn_only = with_names(&[], &[], Some("server.test"));
        assert!(cn_only.names_host("server.test"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Certificate::parse(b"").is_err());
        assert!(Certificate::parse(b"not a certificate").is_err());
        assert!(Certificate::parse(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    }
}
