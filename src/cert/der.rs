//! A small bounded reader of DER and BER elements, shared by the PKCS#7 walker and the
//! anchor matcher's [`Identity`](super::Identity): it hands out each element as the bytes the
//! input holds (nothing is re-encoded), checks every length against the bytes present before
//! slicing, and bounds nesting.

/// Constructed elements inside one another: a SignedData needs 5; BER strings a few more.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy)]
pub(super) struct Tlv<'a> {
    pub(super) tag: u8,
    /// The content (for an indefinite length: up to, not including, the end-of-contents).
    pub(super) value: &'a [u8],
    /// The whole element.
    pub(super) raw: &'a [u8],
}

/// One element at the start of `data`, and what follows it. DER and BER (indefinite
/// lengths) alike.
pub(super) fn read(data: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), String> {
    if depth > MAX_DEPTH {
        return Err("it is nested too deeply".into());
    }
    let tag = *data
        .first()
        .ok_or("it ends where an element was expected")?;
    if tag & 0x1F == 0x1F {
        return Err(format!(
            "tag 0x{tag:02X} uses the multi-byte form, which no certificate bundle needs"
        ));
    }
    let first = *data.get(1).ok_or("it ends inside an element's length")?;
    let (header, len) = match first {
        0x80 => {
            if tag & 0x20 == 0 {
                return Err("a primitive element has an indefinite length".into());
            }
            // Indefinite: the children run up to an end-of-contents (00 00).
            let mut inner = &data[2..];
            let mut used = 0usize;
            loop {
                if inner.len() >= 2 && inner[0] == 0 && inner[1] == 0 {
                    let value = &data[2..2 + used];
                    let raw = &data[..2 + used + 2];
                    return Ok((Tlv { tag, value, raw }, &data[raw.len()..]));
                }
                let (child, after) = read(inner, depth + 1)?;
                used += child.raw.len();
                inner = after;
            }
        }
        n if n < 0x80 => (2usize, usize::from(n)),
        n => {
            let count = usize::from(n & 0x7F);
            if count > 4 {
                return Err("an element's length does not fit in 4 bytes".into());
            }
            let bytes = data
                .get(2..2 + count)
                .ok_or("it ends inside an element's length")?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (2 + count, len)
        }
    };
    let end = header
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or("an element's length runs past the end of the file (is it cut?)")?;
    Ok((
        Tlv {
            tag,
            value: &data[header..end],
            raw: &data[..end],
        },
        &data[end..],
    ))
}
