//! What Java matches a trust anchor on — the subject and the SubjectPublicKeyInfo — found by
//! walking a certificate's outer DER, without parsing the rest.
//!
//! `diff` and `import` ask one question of every keystore entry: "is this catalog CA already
//! an anchor?". Answering it with a full [`Certificate`](super::Certificate) for each of a
//! cacerts' ~150 entries (names formatted, both fingerprints, every extension) was a third of
//! an import; the walk reads five headers per certificate (with the reader PKCS#7 files use).

use super::der::read;
use super::{CertError, NameKey};

/// A certificate's subject Name and SubjectPublicKeyInfo, each as its DER (tag and length
/// included), borrowed from the certificate's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    pub subject: &'a [u8],
    pub spki: &'a [u8],
}

impl<'a> Identity<'a> {
    /// Reads `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    /// serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... }, ... }`.
    /// Lenient about length forms (long, short, even BER indefinite), strict about bounds.
    pub fn of(der: &'a [u8]) -> Result<Identity<'a>, CertError> {
        let bad = |what: &str| CertError(format!("{what} is not where a certificate has it"));
        // The element with `tag` at the start of `data`, and what follows it.
        let element = |data: &'a [u8], tag: u8, what: &str| match read(data, 0) {
            Ok((t, rest)) if t.tag == tag => Ok((t, rest)),
            _ => Err(bad(what)),
        };
        let (cert, _) = element(der, 0x30, "the outer SEQUENCE")?;
        let (tbs, _) = element(cert.value, 0x30, "tbsCertificate")?;
        let mut rest = tbs.value;
        if rest.first() == Some(&0xA0) {
            rest = element(rest, 0xA0, "the version")?.1;
        }
        for (tag, what) in [
            (0x02, "the serial number"),
            (0x30, "the signature algorithm"),
            (0x30, "the issuer"),
            (0x30, "the validity"),
        ] {
            rest = element(rest, tag, what)?.1;
        }
        let (subject, after) = element(rest, 0x30, "the subject")?;
        let (spki, _) = element(after, 0x30, "the public key")?;
        Ok(Identity {
            subject: subject.raw,
            spki: spki.raw,
        })
    }

    /// The subject as `X500Principal.equals` compares it; None when the Name does not parse.
    pub fn subject_key(&self) -> Option<NameKey> {
        use x509_parser::prelude::{FromDer, X509Name};
        X509Name::from_der(self.subject)
            .ok()
            .filter(|(rest, _)| rest.is_empty())
            .map(|(_, name)| NameKey::of(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Certificate;
    use super::*;

    #[test]
    fn agrees_with_the_full_parse_on_every_embedded_certificate() {
        for (name, der) in crate::catalog::builtin::der_files() {
            let id = Identity::of(der).unwrap_or_else(|e| panic!("{name}: {e}"));
            let full = Certificate::parse(der).unwrap();
            assert_eq!(id.spki, full.spki.as_slice(), "{name}");
            assert_eq!(id.subject_key(), Some(full.subject_key.clone()), "{name}");
        }
    }

    #[test]
    fn hostile_bytes_are_an_error_not_a_panic() {
        let (_, der) = crate::catalog::builtin::der_files()[0];
        for cut in 0..der.len() {
            let _ = Identity::of(&der[..cut]);
        }
        let mut flipped = der.to_vec();
        for i in 0..flipped.len().min(400) {
            flipped[i] ^= 0xFF;
            let _ = Identity::of(&flipped);
            flipped[i] ^= 0xFF;
        }
        assert!(Identity::of(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(Identity::of(b"").is_err());
    }
}
