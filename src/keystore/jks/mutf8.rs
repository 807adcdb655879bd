//! Java "modified UTF-8", as `DataOutputStream.writeUTF` writes and `DataInputStream.readUTF`
//! reads it: UTF-16 code units encoded one by one, U+0000 as `C0 80`, so a supplementary
//! character becomes two 3-byte surrogates (CESU-8) and `String::from_utf8` rejects it.

/// The largest byte length `writeUTF` accepts: its length prefix is a u16.
pub const MAX_LEN: usize = u16::MAX as usize;

/// Why bytes are not modified UTF-8, with the byte offset where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Decodes exactly as `DataInputStream.readUTF` does: it accepts what Java accepts (raw NUL
/// bytes and overlong forms included, since Java does) and rejects what Java rejects.
///
/// Java strings may hold unpaired surrogates, which a Rust `String` cannot; those become
/// U+FFFD. The keystore keeps every existing alias as its original bytes, so this only
/// affects how such an alias is shown, never what is written back.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    // Almost every alias is ASCII, which is the same in both encodings (a raw NUL included).
    if bytes.is_ascii() {
        return Ok(bytes.iter().map(|&b| char::from(b)).collect());
    }
    // Each unit consumes at least one byte, so this never exceeds the input size.
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b0) = bytes.get(i) {
        let cont = |k: usize| -> Result<u16, DecodeError> {
            match bytes.get(i + k) {
                Some(&b) if b & 0xC0 == 0x80 => Ok(u16::from(b & 0x3F)),
                Some(_) => Err(DecodeError {
                    offset: i + k,
                    reason: "a continuation byte is not of the form 10xxxxxx",
                }),
                None => Err(DecodeError {
                    offset: i,
                    reason: "a multi-byte sequence is cut off by the end of the string",
                }),
            }
        };
        match b0 >> 4 {
            0x0..=0x7 => {
                units.push(u16::from(b0));
                i += 1;
            }
            0xC | 0xD => {
                let b1 = cont(1)?;
                units.push((u16::from(b0 & 0x1F) << 6) | b1);
                i += 2;
            }
            0xE => {
                let b1 = cont(1)?;
                let b2 = cont(2)?;
                units.push((u16::from(b0 & 0x0F) << 12) | (b1 << 6) | b2);
                i += 3;
            }
            _ => {
                return Err(DecodeError {
                    offset: i,
                    reason: "the byte cannot start a modified UTF-8 sequence",
                });
            }
        }
    }
    Ok(String::from_utf16_lossy(&units))
}

/// The number of bytes `encode` produces.
pub fn encoded_len(s: &str) -> usize {
    s.encode_utf16().map(unit_len).sum()
}

fn unit_len(u: u16) -> usize {
    match u {
        0x0001..=0x007F => 1,
        0x0000 | 0x0080..=0x07FF => 2,
        _ => 3,
    }
}

/// Encodes as `writeUTF` does, without the length prefix. The caller checks `MAX_LEN`.
pub fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(s));
    for u in s.encode_utf16() {
        match unit_len(u) {
            1 => out.push(u as u8),
            2 => {
                out.push(0xC0 | (u >> 6) as u8);
                out.push(0x80 | (u & 0x3F) as u8);
            }
            _ => {
                out.push(0xE0 | (u >> 12) as u8);
                out.push(0x80 | ((u >> 6) & 0x3F) as u8);
                out.push(0x80 | (u & 0x3F) as u8);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keytool_unicode_alias() {
        // What keytool stored for -alias "Ünïcødé😀" (keystore-formats.md, section 1.1).
        let stored = [
            0xc3, 0xbc, 0x6e, 0xc3, 0xaf, 0x63, 0xc3, 0xb8, 0x64, 0xc3, 0xa9, 0xed, 0xa0, 0xbd,
            0xed, 0xb8, 0x80,
        ];
        assert_eq!(decode(&stored).unwrap(), "ünïcødé😀");
        assert_eq!(encode("ünïcødé😀"), stored);
        assert_eq!(encoded_len("ünïcødé😀"), stored.len());
        assert!(String::from_utf8(stored.to_vec()).is_err());
    }

    #[test]
    fn nul_is_two_bytes() {
        assert_eq!(encode("a\0b"), [b'a', 0xC0, 0x80, b'b']);
        assert_eq!(decode(&[b'a', 0xC0, 0x80, b'b']).unwrap(), "a\0b");
        // Java's reader also takes a raw NUL byte.
        assert_eq!(decode(&[0]).unwrap(), "\0");
    }

    #[test]
    fn round_trips_every_plane() {
        let s = "ascii \u{7F} \u{80} \u{7FF} \u{800} \u{FFFF} \u{10000} \u{10FFFF} 日本";
        assert_eq!(decode(&encode(s)).unwrap(), s);
    }

    #[test]
    fn rejects_what_java_rejects() {
        assert!(decode(&[0x80]).is_err());
        assert!(decode(&[0xF0, 0x9F, 0x98, 0x80]).is_err());
        assert!(decode(&[0xC3]).is_err());
        assert!(decode(&[0xE2, 0x82]).is_err());
        assert!(decode(&[0xC3, 0x41]).is_err());
    }

    #[test]
    fn lone_surrogate_is_shown_as_replacement() {
        assert_eq!(decode(&[0xED, 0xA0, 0xBD]).unwrap(), "\u{FFFD}");
    }
}
