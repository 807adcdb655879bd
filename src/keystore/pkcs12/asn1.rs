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
// BER to DER

/// Nesting deeper than this is refused; PKCS#12 nests about a dozen levels.
const MAX_BER_DEPTH: usize = 48;

/// Universal string types whose constructed (BER) form is a series of chunks.
fn is_string_tag(base: u8) -> bool {
    matches!(
        base,
        0x04 | 0x0C | 0x12 | 0x13 | 0x14 | 0x15 | 0x16 | 0x19 | 0x1A | 0x1B | 0x1C | 0x1D | 0x1E
    )
}

/// A BER element header: (tag, length or None for indefinite, header length).
fn ber_header(
    data: &[u8],
    pos: usize,
    ctx: &str,
    short: &dyn Fn(String) -> KeystoreError,
) -> Result<(u8, Option<usize>, usize), KeystoreError> {
    let rest = data.get(pos..).unwrap_or(&[]);
    let (&tag, after) = rest
        .split_first()
        .ok_or_else(|| short(format!("{ctx}: an element is missing at offset {pos}")))?;
    if tag & 0x1F == 0x1F {
        return Err(malformed(
            ctx,
            format!("multi-byte tag {tag:#04X} (not used by PKCS#12)"),
        ));
    }
    let (&first, after_len) = after
        .split_first()
        .ok_or_else(|| short(format!("{ctx}: the length is missing at offset {pos}")))?;
    if first < 0x80 {
        return Ok((tag, Some(usize::from(first)), 2));
    }
    if first == 0x80 {
        if tag & 0x20 == 0 {
            return Err(malformed(
                ctx,
                "an indefinite length on a primitive element",
            ));
        }
        return Ok((tag, None, 2));
    }
    let n = usize::from(first & 0x7F);
    let bytes = after_len
        .get(..n)
        .ok_or_else(|| short(format!("{ctx}: the length is cut at offset {pos}")))?;
    // BER allows leading zero bytes; what is left must fit in 4 bytes.
    let significant: &[u8] = {
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        &bytes[skip..]
    };
    if significant.len() > 4 {
        return Err(malformed(ctx, format!("a length of {n} length bytes")));
    }
    let len = significant
        .iter()
        .fold(0usize, |a, &b| (a << 8) | usize::from(b));
    Ok((tag, Some(len), 2 + n))
}

/// Whether the element at `pos` (and everything in it) is already DER as far as this codec
/// cares: definite, minimal lengths and no constructed strings. Returns its end.
fn der_end(
    data: &[u8],
    pos: usize,
    depth: usize,
    ctx: &str,
    short: &dyn Fn(String) -> KeystoreError,
) -> Result<Option<usize>, KeystoreError> {
    if depth > MAX_BER_DEPTH {
        return Err(KeystoreError::Unsupported(format!(
            "{ctx}: ASN.1 nested more than {MAX_BER_DEPTH} deep"
        )));
    }
    let (tag, len, header) = ber_header(data, pos, ctx, short)?;
    let Some(len) = len else { return Ok(None) };
    let minimal = match header {
        2 => true,
        h => len >= 0x80 && h == 2 + minimal_len_bytes(len),
    };
    let start = pos + header;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| {
            short(format!(
                "{ctx}: an element (tag {tag:#04X}) claims {len} bytes but only {} remain",
                data.len().saturating_sub(start)
            ))
        })?;
    if !minimal || (tag & 0x20 != 0 && (tag & 0xC0 == 0) && is_string_tag(tag & !0x20)) {
        return Ok(None);
    }
    if tag & 0x20 != 0 {
        let mut p = start;
        while p < end {
            match der_end(&data[..end], p, depth + 1, ctx, &|m| malformed(ctx, m))? {
                Some(e) => p = e,
                None => return Ok(None),
            }
        }
    }
    Ok(Some(end))
}

fn minimal_len_bytes(len: usize) -> usize {
    let bytes = len.to_be_bytes();
    bytes.len() - bytes.iter().take_while(|&&b| b == 0).count()
}

/// Converts the BER element at `pos` to DER into `out`; returns where it ended.
fn ber_to_der(
    data: &[u8],
    pos: usize,
    depth: usize,
    out: &mut Vec<u8>,
    ctx: &str,
    short: &dyn Fn(String) -> KeystoreError,
) -> Result<usize, KeystoreError> {
    if depth > MAX_BER_DEPTH {
        return Err(KeystoreError::Unsupported(format!(
            "{ctx}: ASN.1 nested more than {MAX_BER_DEPTH} deep"
        )));
    }
    let (tag, len, header) = ber_header(data, pos, ctx, short)?;
    let start = pos + header;
    if tag & 0x20 == 0 {
        let len = len.unwrap_or(0);
        let end = start
            .checked_add(len)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                short(format!(
                    "{ctx}: an element (tag {tag:#04X}) claims {len} bytes but only {} remain",
                    data.len().saturating_sub(start)
                ))
            })?;
        out.push(tag);
        push_len(out, len);
        out.extend_from_slice(&data[start..end]);
        return Ok(end);
    }
    // Constructed: convert the children into a buffer, then write a definite header.
    let limit = match len {
        Some(len) => start
            .checked_add(len)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                short(format!(
                    "{ctx}: an element (tag {tag:#04X}) claims {len} bytes but only {} remain",
                    data.len().saturating_sub(start)
                ))
            })?,
        None => data.len(),
    };
    let mut content = Vec::new();
    let mut p = start;
    let end = loop {
        if len.is_some() && p >= limit {
            break limit;
        }
        if len.is_none() {
            match data.get(p..p + 2) {
                Some([0, 0]) => break p + 2,
                Some(_) => {}
                None => {
                    return Err(short(format!(
                    "{ctx}: an indefinite-length element (tag {tag:#04X}) has no end-of-contents"
                )))
                }
            }
        }
        p = ber_to_der(&data[..limit], p, depth + 1, &mut content, ctx, short)?;
    };
    let universal_string = tag & 0xC0 == 0 && is_string_tag(tag & !0x20);
    if universal_string {
        // The chunks (now primitive, of the same type) concatenated into one primitive.
        let base = tag & !0x20;
        let mut merged = Vec::with_capacity(content.len());
        let mut r = Reader::new(&content, "a constructed string");
        while !r.is_empty() {
            let chunk = r.read_any()?;
            if chunk.tag != base {
                return Err(malformed(
                    ctx,
                    format!(
                        "a constructed string (tag {tag:#04X}) holding a chunk of tag {:#04X}",
                        chunk.tag
                    ),
                ));
            }
            merged.extend_from_slice(chunk.value);
        }
        out.push(base);
        push_len(out, merged.len());
        out.extend_from_slice(&merged);
    } else if tag == 0x23 {
        return Err(KeystoreError::Unsupported(format!(
            "{ctx}: a constructed BIT STRING"
        )));
    } else {
        out.push(tag);
        push_len(out, content.len());
        out.extend_from_slice(&content);
    }
    Ok(end)
}

/// The first element of `data` in DER (definite minimal lengths, constructed strings
/// merged), followed by whatever came after it, unchanged; the bytes themselves when they
/// are DER already. Contents are never changed: OCTET STRING contents (an embedded
/// encoding, such as a SafeContents or a certificate) stay as they are, to be converted, if
/// need be, when they are parsed in their turn. Over-long lengths are `shortfall` errors.
pub fn to_der<'a>(
    data: &'a [u8],
    ctx: &'static str,
    shortfall: Shortfall,
) -> Result<std::borrow::Cow<'a, [u8]>, KeystoreError> {
    let short = move |m: String| match shortfall {
        Shortfall::Truncated => KeystoreError::Truncated(m),
        Shortfall::Malformed => KeystoreError::Malformed(m),
    };
    if data.is_empty() || der_end(data, 0, 0, ctx, &short)?.is_some() {
        return Ok(std::borrow::Cow::Borrowed(data));
    }
    let mut out = Vec::with_capacity(data.len());
    let end = ber_to_der(data, 0, 0, &mut out, ctx, &short)?;
    out.extend_from_slice(data.get(end..).unwrap_or_default());
    Ok(std::borrow::Cow::Owned(out))
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
    fn ber_becomes_der() {
        use std::borrow::Cow;
        // DER stays borrowed.
        let der = seq(&[&octet_string(b"ab"), &tlv(CTX0, &[&uint_der(1)])]);
        assert!(matches!(
            to_der(&der, "t", Shortfall::Malformed).unwrap(),
            Cow::Borrowed(_)
        ));
        // Indefinite lengths, a chunked OCTET STRING, a non-minimal length, nested.
        let ber = [
            0x30, 0x80, // SEQUENCE, indefinite
            0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x81, 0x01, b'b', 0x00,
            0x00, // "ab" in chunks
            0xA0, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00, // [0] { INTEGER 1 }, indefinite
            0x00, 0x00, 0xEE, // end, then a trailing byte kept as it is
        ];
        let out = to_der(&ber, "t", Shortfall::Malformed).unwrap();
        let mut want = der.clone();
        want.push(0xEE);
        assert_eq!(out.as_ref(), &want[..]);
        // A chunked BMPString becomes one.
        let bmp = [0x3E, 0x80, 0x1E, 0x02, 0, b'a', 0x1E, 0x02, 0, b'b', 0, 0];
        assert_eq!(
            to_der(&bmp, "t", Shortfall::Malformed).unwrap().as_ref(),
            &bmp_string("ab")[..]
        );
        // Every cut is an error, never a panic; a missing end-of-contents too.
        for cut in 1..ber.len() - 3 {
            assert!(
                to_der(&ber[..cut], "t", Shortfall::Truncated).is_err(),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            to_der(&[0x30, 0x80, 0x05, 0x00], "t", Shortfall::Truncated),
            Err(KeystoreError::Truncated(_))
        ));
        // Mixed chunk types, indefinite primitives and deep nesting are refused.
        assert!(to_der(&[0x24, 0x80, 0x0C, 0x00, 0, 0], "t", Shortfall::Malformed).is_err());
        assert!(to_der(&[0x04, 0x80, 0, 0], "t", Shortfall::Malformed).is_err());
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend([0x30, 0x80]);
        }
        deep.extend([0u8; 200]);
        assert!(matches!(
            to_der(&deep, "t", Shortfall::Malformed),
            Err(KeystoreError::Unsupported(_))
        ));
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
