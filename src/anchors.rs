//! The trust anchors of a keystore, as Java's default TrustManagerFactory takes them, and the
//! one rule for "does the keystore already trust this certificate". Used by `diff`/`import`
//! (plan) and by `check` (the PKIX emulation), so the two cannot disagree.
//!
//! Which entries: `sun.security.validator.TrustStoreUtil.getTrustedCerts` takes the
//! certificate of every trusted-certificate entry and the first certificate of the chain of
//! every private-key entry; secret keys carry none. The match: `PKIXValidator` treats a
//! certificate as trusted when the keystore holds the same certificate, or one with an equal
//! subject (`X500Principal.equals`, the canonical form) and the same public key: a CA that was
//! re-issued (a new signature algorithm or validity) is the same anchor. (For the server's own
//! certificate, the first of a chain, Java takes the exact copy only; `check::pkix` applies
//! that. Catalog CAs are never first in a chain, so for them both matches count.)

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::cert::{CertError, Certificate, Identity};
use crate::keystore::{EntryKind, Keystore};

/// A certificate Java would use as a trust anchor.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub alias: String,
    pub kind: EntryKind,
    pub cert: Certificate,
}

/// How a certificate matched an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorMatch {
    /// The keystore holds the very same certificate (same DER).
    Exact,
    /// Another certificate with an equal subject and the same key.
    SameNameAndKey,
}

/// The rule itself: does `anchor` make Java trust `cert` as it is? [`AnchorSet::find`] is this
/// rule behind an index.
pub fn matches(anchor: &Certificate, cert: &Certificate) -> Option<AnchorMatch> {
    if anchor.der == cert.der {
        Some(AnchorMatch::Exact)
    } else if anchor.same_name_and_key(cert) {
        Some(AnchorMatch::SameNameAndKey)
    } else {
        None
    }
}

/// An anchor found by [`AnchorSet::find`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<'a> {
    pub alias: &'a str,
    pub how: AnchorMatch,
}

/// One anchor-bearing entry, read only as far as the match needs.
#[derive(Debug, Clone)]
struct Entry {
    alias: String,
    kind: EntryKind,
    der: Vec<u8>,
    /// Where the subject and the key are in `der` (from [`Identity::of`]); None when the
    /// walk failed, so the entry can match nothing.
    subject: Option<std::ops::Range<usize>>,
    spki: Option<std::ops::Range<usize>>,
    /// Whether the whole certificate parses: Java loads no keystore with one that does not,
    /// so such an entry is nobody's anchor. Asked only of entries that match something.
    parses: OnceLock<bool>,
}

impl Entry {
    fn new(alias: String, kind: EntryKind, der: Vec<u8>) -> Entry {
        let span = |part: &[u8], whole: &[u8]| {
            let start = part.as_ptr() as usize - whole.as_ptr() as usize;
            start..start + part.len()
        };
        let (subject, spki) = match Identity::of(&der) {
            Ok(id) => (Some(span(id.subject, &der)), Some(span(id.spki, &der))),
            Err(_) => (None, None),
        };
        Entry {
            alias,
            kind,
            der,
            subject,
            spki,
            parses: OnceLock::new(),
        }
    }

    fn parses(&self) -> bool {
        *self
            .parses
            .get_or_init(|| Certificate::parse(&self.der).is_ok())
    }
}

/// The parsed anchors, for the callers that read them all (`check`, `doctor`).
#[derive(Debug, Clone, Default)]
struct Parsed {
    anchors: Vec<Anchor>,
    ignored: Vec<(String, CertError)>,
}

/// The anchors of a keystore. Matching ([`AnchorSet::find`]) reads each entry only as far as
/// its subject and key; the full [`Certificate`]s are parsed on the first call that needs them
/// ([`AnchorSet::anchors`]), once.
#[derive(Debug, Clone, Default)]
pub struct AnchorSet {
    /// In keystore order.
    entries: Vec<Entry>,
    /// SubjectPublicKeyInfo DER -> entries with that key, in keystore order. Both matches need
    /// the same key (the same DER has it too), so one index serves both.
    by_spki: HashMap<Vec<u8>, Vec<usize>>,
    parsed: OnceLock<Parsed>,
}

impl AnchorSet {
    /// Reads each anchor certificate of the keystore as far as its subject and key.
    pub fn from_keystore(keystore: &Keystore) -> AnchorSet {
        let mut set = AnchorSet::default();
        for e in keystore.entries() {
            if e.kind == EntryKind::SecretKey {
                continue;
            }
            let Some(der) = e.certs.first() else { continue };
            set.push_entry(Entry::new(e.alias.clone(), e.kind, der.clone()));
        }
        set
    }

    fn push_entry(&mut self, entry: Entry) {
        let i = self.entries.len();
        if let Some(r) = &entry.spki {
            self.by_spki
                .entry(entry.der[r.clone()].to_vec())
                .or_default()
                .push(i);
        }
        self.entries.push(entry);
    }

    /// Adds an anchor (check asks "would this CA fix it?" with a copy plus one).
    pub fn push(&mut self, anchor: Anchor) {
        self.parsed();
        let entry = Entry::new(anchor.alias.clone(), anchor.kind, anchor.cert.der.clone());
        let _ = entry.parses.set(true);
        self.push_entry(entry);
        if let Some(p) = self.parsed.get_mut() {
            p.anchors.push(anchor);
        }
    }

    /// The anchor that makes Java trust the certificate `der` as it is, if any. The first
    /// entry wins (the one keytool -list shows first for duplicates), an exact copy before a
    /// certificate with the same name and key.
    pub fn find(&self, der: &[u8]) -> Option<Held<'_>> {
        let id = Identity::of(der).ok()?;
        let candidates = self.by_spki.get(id.spki)?;
        let entries = || candidates.iter().map(|&i| &self.entries[i]);
        if let Some(e) = entries().find(|e| e.der == der && e.parses()) {
            return Some(Held {
                alias: &e.alias,
                how: AnchorMatch::Exact,
            });
        }
        // Equal DER of the names is an equal name; only a different encoding needs the
        // canonical form (X500Principal.equals), computed once for `der`.
        let mut ours = None;
        entries()
            .find(|e| {
                let Some(range) = e.subject.clone() else {
                    return false;
                };
                let subject = &e.der[range];
                let same = subject == id.subject || {
                    let theirs = Identity { subject, ..id }.subject_key();
                    theirs.is_some() && theirs == *ours.get_or_insert_with(|| id.subject_key())
                };
                same && e.parses()
            })
            .map(|e| Held {
                alias: &e.alias,
                how: AnchorMatch::SameNameAndKey,
            })
    }

    fn parsed(&self) -> &Parsed {
        self.parsed.get_or_init(|| {
            let mut p = Parsed::default();
            for e in &self.entries {
                match Certificate::parse(&e.der) {
                    Ok(cert) => p.anchors.push(Anchor {
                        alias: e.alias.clone(),
                        kind: e.kind,
                        cert,
                    }),
                    Err(why) => p.ignored.push((e.alias.clone(), why)),
                }
            }
            p
        })
    }

    /// The anchors in keystore order.
    pub fn anchors(&self) -> &[Anchor] {
        &self.parsed().anchors
    }

    /// Entries left out because their certificate does not parse: (alias, why). Java would
    /// not load such a keystore at all.
    pub fn ignored(&self) -> &[(String, CertError)] {
        &self.parsed().ignored
    }

    pub fn len(&self) -> usize {
        self.anchors().len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs/pem")
            .join(name);
        let bytes = std::fs::read(path).expect("built-in PEM");
        crate::check::read_chain(&bytes).expect("PEM").remove(0)
    }

    #[test]
    fn the_index_answers_as_the_rule() {
        // Two copies of DigiCert Global Root G2 would be exact; the catalog's cross-signed
        // and self-signed Microsoft roots share name and key.
        let names = [
            "digicert-global-root-g2.pem",
            "microsoft-rsa-root-certificate-authority-2017.pem",
            "microsoft-ecc-root-certificate-authority-2017.pem",
            "baltimore-cybertrust-root.pem",
        ];
        let mut set = AnchorSet::default();
        for (i, n) in names.iter().take(2).enumerate() {
            set.push(Anchor {
                alias: format!("a{i}"),
                kind: EntryKind::TrustedCert,
                cert: Certificate::parse(&pem(n)).unwrap(),
            });
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/pem");
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let cert = Certificate::parse(&crate::check::read_chain(&bytes).unwrap()[0]).unwrap();
            let scan = set
                .anchors()
                .iter()
                .find_map(|a| matches(&a.cert, &cert).map(|m| (a.alias.clone(), m)));
            let indexed = set.find(&cert.der).map(|h| (h.alias.to_string(), h.how));
            assert_eq!(scan, indexed, "{}", cert.subject);
        }
    }
}
