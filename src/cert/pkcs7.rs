//! The certificates of a PKCS#7 / CMS SignedData (`.p7b`, `.p7c`): RFC 5652 `ContentInfo`
//! with content type signedData, whose `certificates [0] IMPLICIT CertificateSet` is all a
//! certificate bundle uses ("degenerate" SignedData: no content, no signers).
//!
//! A small bounded walker rather than the `cms` crate (already in the tree through `pkcs12`):
//! each certificate must come out as the very bytes the file holds, so that its SHA-256 is
//! the one `--expect-sha256` pins and keytool later prints; `cms` decodes into typed
//! structures (strict DER, strict string types) and would re-encode them, and it refuses the
//! BER (indefinite lengths) that Windows and Java write and read. Judging each certificate is
//! left to [`crate::cert::Certificate`]. Lengths are checked against the bytes present before
//! anything is sliced, nesting is bounded, nothing is allocated from a length read from the
//! input.

use super::der::{read, Tlv};

/// `1.2.840.113549.1.7.2` (signedData), as OID content bytes.
const SIGNED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
/// What a PKCS#7 file holds besides certificates (for a note).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs7Certs {
    pub certs: Vec<Vec<u8>>,
    /// Entries of the certificate set that are not X.509 certificates (attribute
    /// certificates, "other" formats): left out.
    pub other_entries: usize,
}

/// Whether `der` starts like a ContentInfo (SEQUENCE { OBJECT IDENTIFIER, ... }) rather than a
/// certificate (SEQUENCE { SEQUENCE, ... }).
pub fn looks_like(der: &[u8]) -> bool {
    let Ok((outer, _)) = read(der, 0) else {
        return false;
    };
    outer.tag == 0x30 && outer.value.first() == Some(&0x06)
}

/// The certificates of a ContentInfo holding a SignedData, in file order.
pub fn certificates(der: &[u8]) -> Result<Pkcs7Certs, String> {
    let (info, rest) = read(der, 0)?;
    if !rest.iter().all(|&b| b == 0) {
        return Err(format!("{} bytes follow the PKCS#7 structure", rest.len()));
    }
    expect(&info, 0x30, "ContentInfo")?;
    let (oid, rest) = read(info.value, 1)?;
    expect(&oid, 0x06, "the content type")?;
    if oid.value != SIGNED_DATA {
        return Err(
            "its content type is not signedData (1.2.840.113549.1.7.2): it holds no certificate list"
                .into(),
        );
    }
    let (explicit, _) = read(rest, 1)?;
    expect(&explicit, 0xA0, "the content [0]")?;
    let (signed, _) = read(explicit.value, 2)?;
    expect(&signed, 0x30, "SignedData")?;
    let (version, rest) = read(signed.value, 3)?;
    expect(&version, 0x02, "the SignedData version")?;
    let (digests, rest) = read(rest, 3)?;
    expect(&digests, 0x31, "digestAlgorithms")?;
    let (_encap, mut rest) = read(rest, 3)?;
    let mut out = Pkcs7Certs::default();
    while !rest.is_empty() {
        let (field, after) = read(rest, 3)?;
        rest = after;
        // certificates [0] IMPLICIT SET OF CertificateChoices; [1] is crls, then signerInfos.
        if field.tag != 0xA0 {
            continue;
        }
        let mut items = field.value;
        while !items.is_empty() {
            let (item, after) = read(items, 4)?;
            items = after;
            // CertificateChoices: a plain Certificate is a SEQUENCE; the others are tagged.
            if item.tag == 0x30 {
                out.certs.push(item.raw.to_vec());
            } else {
                out.other_entries += 1;
            }
        }
    }
    Ok(out)
}

fn expect(t: &Tlv<'_>, tag: u8, what: &str) -> Result<(), String> {
    if t.tag == tag {
        Ok(())
    } else {
        Err(format!(
            "{what} has tag 0x{:02X}, expected 0x{tag:02X}",
            t.tag
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn bundle(certs: &[&[u8]]) -> Vec<u8> {
        let set: Vec<u8> = certs.concat();
        let signed = [
            tlv(0x02, &[1]),
            tlv(0x31, &[]),
            tlv(
                0x30,
                &tlv(
                    0x06,
                    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01],
                ),
            ),
            tlv(0xA0, &set),
            tlv(0x31, &[]),
        ]
        .concat();
        tlv(
            0x30,
            &[tlv(0x06, SIGNED_DATA), tlv(0xA0, &tlv(0x30, &signed))].concat(),
        )
    }

    #[test]
    fn takes_every_certificate_as_it_is() {
        let a = tlv(0x30, &tlv(0x30, b"first"));
        let b = tlv(0x30, &[0x55; 300]);
        let p7 = bundle(&[&a, &tlv(0xA1, b"attr"), &b]);
        assert!(looks_like(&p7));
        assert!(!looks_like(&a));
        let got = certificates(&p7).unwrap();
        assert_eq!(got.certs, vec![a, b]);
        assert_eq!(got.other_entries, 1);
    }

    #[test]
    fn reads_indefinite_lengths() {
        let a = tlv(0x30, &tlv(0x30, b"cert"));
        let der = bundle(&[&a]);
        // Re-encode the outer ContentInfo with an indefinite length, as BER writers do.
        let inner = &der[2..];
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(inner);
        ber.extend([0, 0]);
        assert_eq!(certificates(&ber).unwrap().certs, vec![a]);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let good = bundle(&[&tlv(0x30, b"x")]);
        for cut in 0..good.len() {
            let _ = certificates(&good[..cut]);
        }
        for i in 0..good.len() {
            for v in [0x00, 0x80, 0x84, 0xFF, 0x1F] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = certificates(&bad);
            }
        }
        // Deep nesting of indefinite lengths stops at the bound.
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 10_000)
            .flatten()
            .collect();
        assert!(certificates(&deep).is_err());
        assert!(certificates(&tlv(0x30, &[tlv(0x06, &[1, 2]), tlv(0xA0, &[])].concat())).is_err());
    }
}
