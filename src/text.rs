//! Text as Japanese Windows stores and shows it: files that are UTF-8 or Shift_JIS (CP932),
//! and console code pages for output that is redirected.
//!
//! One decoder for every file a person or an installer wrote (PIMSYNC logs, start-up
//! scripts, configuration files), so that a path in a CP932 `startup.bat` reads the same as
//! the doctor reads a CP932 log.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// Decodes a text file: a UTF-16 byte-order mark means UTF-16 (PowerShell 5.1's `>` and
/// `Out-File` write UTF-16LE), valid UTF-8 is UTF-8 (a BOM is dropped), anything else is
/// Shift_JIS as Windows writes it (CP932, which is what encoding_rs's Shift_JIS is).
/// Never fails: bad bytes become U+FFFD. Returns the encoding that was used.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static Encoding) {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        if encoding != encoding_rs::UTF_8 {
            let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
            return (text, encoding);
        }
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let valid = Encoding::utf8_valid_up_to(bytes);
    // A file being written can end in half a character: that alone does not make it Shift_JIS.
    let utf8 = valid == bytes.len()
        || (bytes.len() - valid < 4
            && std::str::from_utf8(&bytes[valid..]).is_err_and(|e| e.error_len().is_none()));
    let encoding = if utf8 {
        encoding_rs::UTF_8
    } else {
        encoding_rs::SHIFT_JIS
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text, encoding)
}

/// The encoding of a Windows code page (what `chcp` shows), for the code pages encoding_rs
/// can write. None for the others (the DOS code pages 437, 850, ... of Western consoles)
/// and for 65001, which is UTF-8 and needs no conversion.
pub fn code_page_encoding(code_page: u32) -> Option<&'static Encoding> {
    use encoding_rs as e;
    Some(match code_page {
        932 => e::SHIFT_JIS,
        936 => e::GBK,
        949 => e::EUC_KR,
        950 => e::BIG5,
        866 => e::IBM866,
        874 => e::WINDOWS_874,
        1250 => e::WINDOWS_1250,
        1251 => e::WINDOWS_1251,
        1252 => e::WINDOWS_1252,
        1253 => e::WINDOWS_1253,
        1254 => e::WINDOWS_1254,
        1255 => e::WINDOWS_1255,
        1256 => e::WINDOWS_1256,
        1257 => e::WINDOWS_1257,
        1258 => e::WINDOWS_1258,
        20866 => e::KOI8_R,
        21866 => e::KOI8_U,
        20932 => e::EUC_JP,
        54936 => e::GB18030,
        _ => return None,
    })
}

/// `text` in `encoding`; a character the encoding lacks becomes `?`, as Windows' own
/// conversion (WideCharToMultiByte) does, rather than an HTML character reference.
pub fn encode_lossy(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut rest = text;
    loop {
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 4 + 16);
        out.reserve(room);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = &rest[read..];
        match result {
            encoding_rs::EncoderResult::InputEmpty => return out,
            encoding_rs::EncoderResult::OutputFull => {}
            encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_shift_jis_without_failing() {
        let (t, e) = decode("起動".as_bytes());
        assert_eq!((t.as_ref(), e), ("起動", encoding_rs::UTF_8));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("起動");
        let (t, e) = decode(&sjis);
        assert_eq!((t.as_ref(), e), ("起動", encoding_rs::SHIFT_JIS));
        let (_, e) = decode(b"abc\xFF\xFE\x80");
        assert_eq!(e, encoding_rs::SHIFT_JIS);
        // Half a UTF-8 character at the end of a file being written.
        let mut cut = "起動".as_bytes().to_vec();
        cut.pop();
        assert_eq!(decode(&cut).1, encoding_rs::UTF_8);
        assert_eq!(decode(b"\xEF\xBB\xBFabc").0, "abc");
    }

    #[test]
    fn cp932_only_characters_decode() {
        // NEC and IBM extensions that plain Shift_JIS lacks: ① (0x8740), ～ (0x8160 as
        // FULLWIDTH TILDE in CP932), ∑ (0x8794).
        let (t, e) = decode(b"\x87\x40\x81\x60\x87\x94");
        assert_eq!((t.as_ref(), e), ("①～∑", encoding_rs::SHIFT_JIS));
    }

    #[test]
    fn utf16_with_a_bom_decodes() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("信頼ストア".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            decode(&le),
            (Cow::from("信頼ストア"), encoding_rs::UTF_16LE)
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend("a=b".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(&be), (Cow::from("a=b"), encoding_rs::UTF_16BE));
    }

    #[test]
    fn encodes_for_a_code_page_with_question_marks_for_the_rest() {
        let cp932 = code_page_encoding(932).unwrap();
        let bytes = encode_lossy("信頼ストア C:\\x é😀", cp932);
        let (back, _, _) = cp932.decode(&bytes);
        assert_eq!(back, "信頼ストア C:\\x ??");
        assert_eq!(encode_lossy("plain ASCII\n", cp932), b"plain ASCII\n");
        assert!(code_page_encoding(437).is_none());
        assert!(code_page_encoding(65001).is_none());
        // Long input goes through in pieces.
        let long = "ア".repeat(10_000);
        assert_eq!(encode_lossy(&long, cp932).len(), 20_000);
    }
}
