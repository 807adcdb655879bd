//! Recognises Bouncy Castle keystores (BKS, BKS-V1, UBER, BCFKS) by their structure, so that
//! such a file is named for what it is rather than called damaged. Nothing here reads them.
//!
//! BKS and UBER (`org.bouncycastle.jce.provider.BcKeyStoreSpi`) have no magic number:
//!
//! ```text
//! u32 version (1 | 2), u32 salt length, salt, u32 iteration count, then
//!   BKS:  entries { u8 type (1..=4), UTF alias, i64 date, u32 chain length, chain, body }
//!         up to a type 0, then a 20-byte HMAC-SHA1;
//!   UBER: the same entries and a SHA-1 digest, all encrypted (Twofish-CBC).
//! ```
//!
//! So a BKS is told by walking its entries to the HMAC exactly, and UBER by the same header
//! followed by anything else. BCFKS (`BcFKSKeyStoreSpi`) is DER: `ObjectStore ::= SEQUENCE {
//! storeData, integrityCheck }`, whose first element is a SEQUENCE where PKCS#12 has its
//! version INTEGER.

use super::BouncyCastleFormat;

/// Salt lengths BKS/UBER could plausibly use (Bouncy Castle writes 20).
const MAX_SALT: u32 = 1024;
/// The HMAC-SHA1 at the end of a BKS.
const BKS_MAC_LEN: usize = 20;
/// Entry types: certificate, key, secret, sealed.
const MAX_TYPE: u8 = 4;

/// Which Bouncy Castle format `data` is, if it is one.
pub fn sniff(data: &[u8]) -> Option<BouncyCastleFormat> {
    match data.first()? {
        0x00 => sniff_bks(data),
        0x30 => looks_like_bcfks(data).then_some(BouncyCastleFormat::Bcfks),
        _ => None,
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn utf(&mut self) -> Option<()> {
        let n = self.u16()?;
        self.take(usize::from(n)).map(|_| ())
    }

    fn bytes(&mut self) -> Option<()> {
        let n = usize::try_from(self.u32()?).ok()?;
        self.take(n).map(|_| ())
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

fn sniff_bks(data: &[u8]) -> Option<BouncyCastleFormat> {
    let mut c = Cursor { data, pos: 0 };
    let version = c.u32()?;
    if version != 1 && version != 2 {
        return None;
    }
    let salt_len = c.u32()?;
    if salt_len == 0 || salt_len > MAX_SALT {
        return None;
    }
    c.take(salt_len as usize)?;
    let iterations = c.u32()?;
    if iterations == 0 || iterations > i32::MAX as u32 {
        return None;
    }
    let body_start = c.pos;
    if walks_bks_entries(&mut c) {
        return Some(if version == 1 {
            BouncyCastleFormat::BksV1
        } else {
            BouncyCastleFormat::Bks
        });
    }
    // UBER: the same header, then at least one cipher block (Twofish: 16 bytes).
    (body_start + 16 <= data.len()).then_some(BouncyCastleFormat::Uber)
}

/// Walks BKS entries; true when they end with a type-0 marker followed by exactly the HMAC.
fn walks_bks_entries(c: &mut Cursor<'_>) -> bool {
    let mut walk = || -> Option<bool> {
        loop {
            let t = c.u8()?;
            if t == 0 {
                return Some(c.remaining() == BKS_MAC_LEN);
            }
            if t > MAX_TYPE {
                return Some(false);
            }
            c.utf()?; // alias
            c.take(8)?; // date
            let chain = c.u32()?;
            // Each certificate costs at least six bytes; a longer chain cannot fit.
            if chain as usize > c.remaining() / 6 {
                return Some(false);
            }
            for _ in 0..chain {
                c.utf()?; // certificate type
                c.bytes()?;
            }
            match t {
                1 => {
                    c.utf()?;
                    c.bytes()?;
                }
                2 => {
                    c.u8()?; // key type
                    c.utf()?; // format
                    c.utf()?; // algorithm
                    c.bytes()?;
                }
                _ => c.bytes()?,
            }
        }
    };
    walk().unwrap_or(false)
}

/// A DER header at `pos`: (tag, content start, content end).
fn der_header(data: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *data.get(pos)?;
    let first = *data.get(pos + 1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = data.get(pos + 2..pos + 2 + n)?;
        (
            bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)),
            2 + n,
        )
    };
    let start = pos + header;
    let end = start.checked_add(len)?;
    (end <= data.len()).then_some((tag, start, end))
}

/// `SEQUENCE { SEQUENCE storeData, SEQUENCE|[0] integrityCheck }` with nothing after it,
/// where storeData starts with an AlgorithmIdentifier (encrypted) or an INTEGER version,
/// and a MAC integrity check starts with an AlgorithmIdentifier.
fn looks_like_bcfks(data: &[u8]) -> bool {
    let check = || -> Option<bool> {
        let (_, start, end) = der_header(data, 0)?;
        if end != data.len() {
            return Some(false);
        }
        let (t1, s1, e1) = der_header(data, start)?;
        if t1 != 0x30 {
            return Some(false);
        }
        let (inner, _, _) = der_header(data, s1)?;
        if inner != 0x30 && inner != 0x02 {
            return Some(false);
        }
        let (t2, s2, e2) = der_header(data, e1)?;
        if e2 != end {
            return Some(false);
        }
        match t2 {
            0x30 => {
                let (alg, alg_start, _) = der_header(data, s2)?;
                let (oid, _, _) = der_header(data, alg_start)?;
                Some(alg == 0x30 && oid == 0x06)
            }
            0xA0 => Some(true),
            _ => Some(false),
        }
    };
    check().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u32) -> Vec<u8> {
        let mut v = version.to_be_bytes().to_vec();
        v.extend(20u32.to_be_bytes());
        v.extend([7u8; 20]);
        v.extend(1024u32.to_be_bytes());
        v
    }

    #[test]
    fn bks_is_walked_to_its_hmac() {
        for (version, format) in [(1, BouncyCastleFormat::BksV1), (2, BouncyCastleFormat::Bks)] {
            let mut empty = header(version);
            empty.push(0);
            empty.extend([9u8; 20]);
            assert_eq!(sniff(&empty), Some(format));

            let mut one = header(version);
            one.push(1); // a certificate
            one.extend(b"\x00\x02ca");
            one.extend(0i64.to_be_bytes());
            one.extend(0u32.to_be_bytes());
            one.extend(b"\x00\x05X.509");
            one.extend(3u32.to_be_bytes());
            one.extend([0x30, 0x01, 0x00]);
            one.push(0);
            one.extend([9u8; 20]);
            assert_eq!(sniff(&one), Some(format));
        }
    }

    #[test]
    fn uber_is_the_header_and_ciphertext() {
        let mut uber = header(1);
        uber.extend([0x9Eu8; 32]);
        assert_eq!(sniff(&uber), Some(BouncyCastleFormat::Uber));
    }

    #[test]
    fn other_files_are_not_bouncy_castle() {
        assert_eq!(sniff(&[]), None);
        assert_eq!(sniff(&[0xFE, 0xED, 0xFE, 0xED]), None);
        assert_eq!(sniff(&header(3)), None);
        assert_eq!(sniff(&[0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF]), None);
        // A PKCS#12 PFX: SEQUENCE { INTEGER 3, ... }.
        assert_eq!(sniff(&[0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00]), None);
    }

    #[test]
    fn bcfks_is_a_sequence_of_two_sequences() {
        // SEQUENCE { SEQUENCE { SEQUENCE { OID } }, SEQUENCE { SEQUENCE { OID } } }
        let store = [
            0x30, 0x10, 0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x2A, 0x03, 0x30, 0x06, 0x30, 0x04,
            0x06, 0x02, 0x2A, 0x03,
        ];
        assert_eq!(sniff(&store), Some(BouncyCastleFormat::Bcfks));
        let mut trailing = store.to_vec();
        trailing.push(0);
        assert_eq!(sniff(&trailing), None);
    }
}
