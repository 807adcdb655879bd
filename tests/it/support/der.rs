//! Just enough DER for tests to build what no library writer would: hostile PKCS#12 files,
//! PKCS#7 bundles, certificate extensions rcgen has no type for, re-signed TBSCertificates.
//! Reading helpers assume well-formed input (the tests made it) and panic otherwise.

/// A DER length.
pub fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let b = n.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count();
    let mut out = vec![0x80 | (b.len() - skip) as u8];
    out.extend_from_slice(&b[skip..]);
    out
}

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len(content.len()));
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER in its shortest form.
pub fn int(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut c = Vec::new();
    if bytes[skip] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(&bytes[skip..]);
    tlv(0x02, &c)
}

/// An OBJECT IDENTIFIER from its arcs.
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut bytes = vec![(v & 0x7F) as u8];
        v >>= 7;
        while v > 0 {
            bytes.push(0x80 | (v & 0x7F) as u8);
            v >>= 7;
        }
        bytes.reverse();
        body.extend(bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    tlv(0x06, &body)
}

/// An OBJECT IDENTIFIER from its dotted form.
pub fn oid_dotted(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    oid(&arcs)
}

/// One TLV of `der` at `at`: (tag, start of its content, end).
pub fn read_tlv(der: &[u8], at: usize) -> (u8, usize, usize) {
    let tag = der[at];
    let first = usize::from(der[at + 1]);
    let (len, start) = if first < 0x80 {
        (first, at + 2)
    } else {
        let n = first & 0x7F;
        let len = der[at + 2..at + 2 + n]
            .iter()
            .fold(0usize, |l, &b| (l << 8) | usize::from(b));
        (len, at + 2 + n)
    };
    (tag, start, start + len)
}

/// The content of one whole TLV.
pub fn content(tlv: &[u8]) -> &[u8] {
    let (_, start, end) = read_tlv(tlv, 0);
    &tlv[start..end]
}

/// The TLVs (whole, header included) inside a constructed TLV's content.
pub fn items(content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < content.len() {
        let (_, _, end) = read_tlv(content, at);
        out.push(&content[at..end]);
        at = end;
    }
    out
}
