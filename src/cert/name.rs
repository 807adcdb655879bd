//! Distinguished names: compared as `X500Principal.equals` compares them, printed as Java
//! prints them.

use x509_parser::prelude::X509Name;

use super::hex_upper;

/// One attribute value of a name, as Java's canonical form compares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NameValue {
    /// PrintableString and UTF8String: compared case-insensitively with whitespace folded.
    Text(String),
    /// Any other type: compared by its DER bytes (tag and content).
    Raw(Vec<u8>),
}

/// A distinguished name compared the way `X500Principal.equals` does (the RFC 2253 canonical
/// form): equal DER is equal, and so are names that differ only in case, in surrounding or
/// repeated spaces, or in PrintableString versus UTF8String.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameKey(Vec<Vec<(Vec<u8>, NameValue)>>);

impl NameKey {
    pub fn of(name: &X509Name<'_>) -> NameKey {
        use x509_parser::der_parser::asn1_rs::Tag;
        let mut rdns = Vec::new();
        for rdn in name.iter() {
            let mut atvs: Vec<(Vec<u8>, NameValue)> = rdn
                .iter()
                .map(|atv| {
                    let value = atv.attr_value();
                    let text = match value.tag() {
                        Tag::PrintableString | Tag::Utf8String => {
                            std::str::from_utf8(value.data).ok().map(fold_text)
                        }
                        _ => None,
                    };
                    let v = match text {
                        Some(t) => NameValue::Text(t),
                        None => {
                            let mut raw = value.tag().0.to_be_bytes().to_vec();
                            raw.extend_from_slice(value.data);
                            NameValue::Raw(raw)
                        }
                    };
                    // The OID's DER: equal exactly when the dotted forms are, without formatting.
                    (atv.attr_type().as_bytes().to_vec(), v)
                })
                .collect();
            // A multi-valued RDN is a SET: its order carries no meaning.
            atvs.sort();
            rdns.push(atvs);
        }
        NameKey(rdns)
    }

    /// The empty name (no RDN).
    pub fn empty() -> NameKey {
        NameKey(Vec::new())
    }

    /// No RDN at all (an empty subject).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this name lies in the X.500 subtree rooted at `base`: `base`'s RDNs, compared
    /// as above, are its first ones (`X500Name.isWithinSubtree`, what directoryName name
    /// constraints go by).
    pub fn is_within(&self, base: &NameKey) -> bool {
        self.0.len() >= base.0.len() && self.0.iter().zip(&base.0).all(|(a, b)| a == b)
    }
}

/// A name the way Java prints an X500Principal: most specific first ("CN=..., O=..., C=US"),
/// a value with a separator in it quoted.
pub fn display_name(name: &X509Name<'_>) -> String {
    use x509_parser::der_parser::asn1_rs::Tag;
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type();
                    let key = x509_parser::objects::oid2abbrev(oid, registry)
                        .map(str::to_string)
                        .unwrap_or_else(|_| oid.to_id_string());
                    let v = atv.attr_value();
                    let text = match v.tag() {
                        Tag::BmpString => {
                            let units: Vec<u16> = v
                                .data
                                .chunks(2)
                                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                                .collect();
                            Some(String::from_utf16_lossy(&units))
                        }
                        Tag::PrintableString
                        | Tag::Utf8String
                        | Tag::Ia5String
                        | Tag::T61String
                        | Tag::VisibleString
                        | Tag::NumericString
                        | Tag::GeneralString => Some(String::from_utf8_lossy(v.data).into_owned()),
                        _ => None,
                    };
                    let value = match text {
                        Some(t) if t.contains([',', '+', '=', '"', '\\', '<', '>', ';']) => {
                            format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                        Some(t) => t,
                        None => format!("#{}", hex_upper(v.data)),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(", ")
}

fn fold_text(s: &str) -> String {
    let mut joined = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_folds_case_and_space() {
        assert_eq!(fold_text("  Microsoft   RSA Root "), "microsoft rsa root");
    }
}
