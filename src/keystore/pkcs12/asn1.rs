//! A minimal DER reader and writer for PKCS#12.
//!
//! Hand-rolled rather than a derive-based decoder because the writer must keep every
//! existing structure byte for byte: the reader hands out each element's raw TLV, and
//! nothing is ever decoded and re-encoded. Lengths are checked against the bytes actually
//! present before anything is sliced, and nothing is allocated from a length read from
//! the input.

use super::super::KeystoreError;

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const BMP_STRING: u8 = 0x1E;
/// `[0]` constructed (EXPLICIT tagging).
pub const CTX0: u8 = 0xA0;
/// `[0]` primitive (IMPLICIT OCTET STRING, e.g. encryptedContent).
pub const CTX0_PRIM: u8 = 0x80;

/// One element: its tag, its content and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

/// How a shortfall is reported: at the top of the file, a length running past the end
/// means the file was cut; inside a structure whose own length was fine, it is corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    Truncated,
    Malformed,
}

pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    ctx: &'static str,
    shortfall: Shortfall,
}

impl<'a> Reader<'a> {
    /// A reader over the content of an element; `ctx` names it in errors.
    pub fn new(data: &'a [u8], ctx: &'static str) -> Self {
        Reader {
            data,
            pos: 0,
            ctx,
            shortfall: Shortfall::Malformed,
        }
    }

    /// A reader whose over-long lengths are reported as a truncated file.
    pub fn top_level(data: &'a [u8], ctx: &'static str) -> Self {
        Reader {
            data,
            pos: 0,
            ctx,
            shortfall: Shortfall::Truncated,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn short(&self, what: &str) -> KeystoreError {
        let msg = format!("{}: {what}", self.ctx);
        match self.shortfall {
            Shortfall::Truncated => KeystoreError::Truncated(msg),
            Shortfall::Malformed => KeystoreError::Malformed(msg),
        }
    }

    /// Reads the next element, whatever its tag.
    pub fn read_any(&mut self) -> Result<Tlv<'a>, KeystoreError> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let (&tag, after_tag) = rest
            .split_first()
            .ok_or_else(|| self.short("an element is missing"))?;
        if tag & 0x1F == 0x1F {
            return Err(malformed(
                self.ctx,
                format!("multi-byte tag {tag:#04X} (not used by PKCS#12)"),
            ));
        }
        let (&first, after_len) = after_tag
            .split_first()
            .ok_or_else(|| self.short("the length is missing"))?;
        let (len, len_bytes) = if first < 0x80 {
            (usize::from(first), 0usize)
        } else if first == 0x80 {
            return Err(KeystoreError::Unsupported(format!(
                "{}: BER indefinite length (keytool writes DER; re-save the file with keytool)",
                self.ctx
            )));
        } else {
            let n = usize::from(first & 0x7F);
            if n > 4 {
                return Err(malformed(self.ctx, format!("a length of {n} length bytes")));
            }
            let bytes = after_len
                .get(..n)
                .ok_or_else(|| self.short("the length is cut"))?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, n)
        };
        let header = 2 + len_bytes;
        let body = rest.get(header..).unwrap_or(&[]);
        if len > body.len() {
            return Err(self.short(&format!(
                "an element (tag {tag:#04X}) claims {len} bytes but only {} remain",
                body.len()
            )));
        }
        let raw = &rest[..header + len];
        let value = &raw[header..];
        self.pos += header + len;
        Ok(Tlv { tag, value, raw })
    }

    /// Reads the next element and checks its tag.
    pub fn read(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, KeystoreError> {
        let tlv = self.read_any().map_err(|e| add_context(e, what))?;
        if tlv.tag != tag {
            return Err(malformed(
                self.ctx,
                format!("{what}: expected tag {tag:#04X}, found {:#04X}", tlv.tag),
            ));
        }
        Ok(tlv)
    }

    /// Reads the next element if it has this tag.
    pub fn read_optional(&mut self, tag: u8, what: &str) -> Result<Option<Tlv<'a>>, KeystoreError> {
        if self.peek_tag() == Some(tag) {
            self.read(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails when anything is left: trailing bytes inside a structure are corruption.
    pub fn finish(&self, what: &str) -> Result<(), KeystoreError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(malformed(
                self.ctx,
                format!("{} unexpected bytes after {what}", self.remaining()),
            ))
        }
    }
}

fn add_context(e: KeystoreError, what: &str) -> KeystoreError {
    match e {
        KeystoreError::Truncated(m) => KeystoreError::Truncated(format!("{m} (reading {what})")),
        KeystoreError::Malformed(m) => KeystoreError::Malformed(format!("{m} (reading {what})")),
        other => other,
    }
}

pub fn malformed(ctx: &str, msg: impl std::fmt::Display) -> KeystoreError {
    KeystoreError::Malformed(format!("{ctx}: {msg}"))
}

/// A non-negative INTEGER that fits in u64; larger or negative values are refused so that
/// callers can bound them before use.
pub fn uint(tlv: &Tlv<'_>, ctx: &str) -> Result<u64, KeystoreError> {
    let v = tlv.value;
    match v.first() {
        None => return Err(malformed(ctx, "an empty INTEGER")),
        Some(b) if b & 0x80 != 0 => return Err(malformed(ctx, "a negative INTEGER")),
        _ => {}
    }
    let digits = match v {
        [0, rest @ ..] => rest,
        _ => v,
    };
    if digits.len() > 8 {
        return Err(KeystoreError::Unsupported(format!(
            "{ctx}: an INTEGER of {} bytes",
            v.len()
        )));
    }
    Ok(digits
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The content of an OCTET STRING, also in the constructed (BER) form some tools write,
/// which is a series of primitive OCTET STRING chunks.
pub fn octets<'a>(
    tlv: &Tlv<'a>,
    ctx: &'static str,
) -> Result<std::borrow::Cow<'a, [u8]>, KeystoreError> {
    if tlv.tag & 0x20 == 0 {
        return Ok(std::borrow::Cow::Borrowed(tlv.value));
    }
    let mut out = Vec::new();
    let mut r = Reader::new(tlv.value, ctx);
    while !r.is_empty() {
        out.extend_from_slice(r.read(OCTET_STRING, "an OCTET STRING chunk")?.value);
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Dotted form of an OID's content, for error messages.
pub fn oid_string(content: &[u8]) -> String {
    let mut arcs: Vec<String> = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        if acc > (u64::MAX >> 8) {
            return format!(
                "(an OID with an oversized arc: {:02X?})",
                &content[..content.len().min(16)]
            );
        }
        acc = (acc << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (first, second) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                arcs.push(first.to_string());
                arcs.push(second.to_string());
            } else {
                arcs.push(acc.to_string());
            }
            acc = 0;
        } else if i + 1 == content.len() {
            return format!("(a cut OID: {:02X?})", &content[..content.len().min(16)]);
        }
        if arcs.len() > 32 {
            arcs.push("...".into());
            break;
        }
    }
    arcs.join(".")
}

// ---------------------------------------------------------------------------------------
// Writing

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = &bytes[skip..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// One TLV from a tag and the concatenation of `parts`.
pub fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    push_len(&mut out, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, parts)
}

/// A DER SET OF: the elements sorted by their encodings, as X.690 11.6 requires.
pub fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let parts: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    tlv(SET, &parts)
}

pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(OID, &[content])
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, &[content])
}

pub fn uint_der(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    tlv(INTEGER, &[&content])
}

/// A BMPString: UTF-16BE code units, as Java writes friendlyName (supplementary characters
/// become surrogate pairs, as in Java strings).
pub fn bmp_string(s: &str) -> Vec<u8> {
    let content: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
    tlv(BMP_STRING, &[&content])
}

/// Decodes a BMPString's content; unpaired surrogates become U+FFFD, as nothing here
/// needs to round-trip them (the original bytes are kept).
pub fn decode_bmp(content: &[u8], ctx: &str) -> Result<String, KeystoreError> {
    // Not `is_multiple_of`: that needs Rust 1.87 and the crate's MSRV is 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    if content.len() % 2 != 0 {
        return Err(malformed(ctx, "a BMPString of odd length"));
    }
    let units: Vec<u16> = content
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20] {
            let body = vec![7u8; len];
            let enc = tlv(OCTET_STRING, &[&body]);
            let mut r = Reader::new(&enc, "test");
            let t = r.read(OCTET_STRING, "x").unwrap();
            assert_eq!(t.value.len(), len);
            assert_eq!(t.raw, &enc[..]);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn over_long_lengths_are_refused_without_allocating() {
        let mut r = Reader::top_level(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], "pfx");
        assert!(matches!(r.read_any(), Err(KeystoreError::Truncated(_))));
        let mut r = Reader::new(&[0x30, 0x82, 0x01], "inner");
        assert!(matches!(r.read_any(), Err(KeystoreError::Malformed(_))));
        let mut r = Reader::new(&[0x30, 0x80, 0, 0], "inner");
        assert!(matches!(r.read_any(), Err(KeystoreError::Unsupported(_))));
        let mut r = Reader::new(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9], "inner");
        assert!(matches!(r.read_any(), Err(KeystoreError::Malformed(_))));
        let mut r = Reader::new(&[0x1F, 0x81, 0x01, 0x00], "inner");
        assert!(matches!(r.read_any(), Err(KeystoreError::Malformed(_))));
        let mut r = Reader::new(&[], "inner");
        assert!(r.read_any().is_err());
    }

    #[test]
    fn integers() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            256,
            10_000,
            100_000,
            1 << 31,
            u64::MAX,
        ] {
            let enc = uint_der(v);
            let mut r = Reader::new(&enc, "t");
            let t = r.read(INTEGER, "i").unwrap();
            assert_eq!(uint(&t, "t").unwrap(), v, "{enc:02X?}");
        }
        assert_eq!(uint_der(10_000), vec![0x02, 0x02, 0x27, 0x10]);
        let neg = [0x02, 0x01, 0xFF];
        let t = Reader::new(&neg, "t").read_any().unwrap();
        assert!(uint(&t, "t").is_err());
    }

    #[test]
    fn oid_strings() {
        assert_eq!(
            oid_string(&[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01]),
            "1.2.840.113549.1.7.1"
        );
        assert!(oid_string(&[0x2A, 0x86]).starts_with("(a cut OID"));
        assert!(oid_string(&[0xFF; 40]).contains("oversized"));
    }

    #[test]
    fn bmp() {
        let enc = bmp_string("myca");
        assert_eq!(enc, vec![0x1E, 0x08, 0, 0x6D, 0, 0x79, 0, 0x63, 0, 0x61]);
        assert_eq!(decode_bmp(&enc[2..], "t").unwrap(), "myca");
        assert!(decode_bmp(&[0], "t").is_err());
    }

    #[test]
    fn set_of_is_sorted() {
        let a = vec![0x30, 0x17, 1];
        let b = vec![0x30, 0x16, 2];
        assert_eq!(
            set_of(vec![a.clone(), b.clone()]),
            [&[0x31, 6][..], &b, &a].concat()
        );
    }
}
