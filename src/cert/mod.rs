//! X.509 certificates: one parsed type ([`Certificate`]), names ([`name`]), fingerprints and
//! the date formats the output uses; [`file`] reads the certificates of PEM, DER and PKCS#7
//! files.

mod certificate;
mod der;
pub mod file;
mod identity;
pub mod name;
mod pkcs7;
mod signature;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::OffsetDateTime;

pub use certificate::{minimal_integer, Aki, Certificate, KeyKind};
pub use identity::Identity;
pub use name::{display_name, NameKey};
pub use signature::{verify_signature, verify_small_rsa_handshake, SigCheck};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed certificate: {0}")]
pub struct CertError(pub String);

/// Upper-case hex without separators, as the contract prints fingerprints.
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

pub fn sha1_hex(der: &[u8]) -> String {
    hex_upper(&Sha1::digest(der))
}

pub fn sha256_hex(der: &[u8]) -> String {
    hex_upper(&Sha256::digest(der))
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
}
