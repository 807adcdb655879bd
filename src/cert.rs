//! What the tool needs to know about an X.509 certificate, read with x509-parser.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed certificate: {0}")]
pub struct CertError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// RFC 4514 style, most significant last as OpenSSL/Java print it: "CN=..., O=..., C=US".
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub sha1: String,
    pub sha256: String,
    /// DER of the subject Name: equal bytes mean equal names for the CAs we deal with.
    pub subject_der: Vec<u8>,
    /// DER of SubjectPublicKeyInfo: with the subject, what Java matches trust anchors on.
    pub spki_der: Vec<u8>,
    pub is_ca: bool,
    pub self_issued: bool,
}

/// Upper-case hex without separators, as the contract prints fingerprints.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

pub fn sha1_hex(der: &[u8]) -> String {
    hex_upper(&Sha1::digest(der))
}

pub fn sha256_hex(der: &[u8]) -> String {
    hex_upper(&Sha256::digest(der))
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Result<CertInfo, CertError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| CertError(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError(format!(
                "{} bytes after the certificate",
                rest.len()
            )));
        }
        let tbs = &cert.tbs_certificate;
        let common_name = tbs
            .subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let is_ca = tbs
            .basic_constraints()
            .ok()
            .flatten()
            .map(|bc| bc.value.ca)
            .unwrap_or(tbs.version.0 == 0);
        Ok(CertInfo {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            common_name,
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            sha1: sha1_hex(der),
            sha256: sha256_hex(der),
            subject_der: tbs.subject.as_raw().to_vec(),
            spki_der: tbs.subject_pki.raw.to_vec(),
            is_ca,
            self_issued: tbs.subject.as_raw() == tbs.issuer.as_raw(),
        })
    }

    /// The CN, else the whole subject: what a person recognises in a table.
    pub fn display_name(&self) -> &str {
        self.common_name.as_deref().unwrap_or(&self.subject)
    }

    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.not_after < now
    }
}

/// `YYYY-MM-DD` of a date-time, in UTC.
pub fn ymd(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `YYYY-MM-DDTHH:MM:SSZ` from milliseconds since the epoch.
pub fn iso_utc_from_ms(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(iso_utc_from_ms(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso_utc_from_ms(1_764_064_800_000).unwrap(),
            "2025-11-25T10:00:00Z"
        );
        assert!(iso_utc_from_ms(i64::MAX).is_none());
    }

    #[test]
    fn hex_is_upper_without_colons() {
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
    }

    #[test]
    fn rejects_garbage() {
        assert!(CertInfo::parse(b"not a certificate").is_err());
    }
}
