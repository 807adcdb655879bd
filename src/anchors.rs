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

use crate::cert::{CertError, Certificate, NameKey};
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

#[derive(Debug, Clone, Default)]
pub struct AnchorSet {
    /// In keystore order.
    anchors: Vec<Anchor>,
    /// Entries whose certificate does not parse: (alias, why).
    ignored: Vec<(String, CertError)>,
    by_sha256: HashMap<String, usize>,
    by_name_and_key: HashMap<(NameKey, Vec<u8>), usize>,
}

impl AnchorSet {
    /// Parses each anchor certificate of the keystore once.
    pub fn from_keystore(keystore: &Keystore) -> AnchorSet {
        let mut set = AnchorSet::default();
        for e in keystore.entries() {
            if e.kind == EntryKind::SecretKey {
                continue;
            }
            let Some(der) = e.certs.first() else { continue };
            match Certificate::parse(der) {
                Ok(cert) => set.push(Anchor {
                    alias: e.alias.clone(),
                    kind: e.kind,
                    cert,
                }),
                Err(why) => set.ignored.push((e.alias.clone(), why)),
            }
        }
        set
    }

    /// Adds an anchor (check asks "would this CA fix it?" with a copy plus one).
    pub fn push(&mut self, anchor: Anchor) {
        let i = self.anchors.len();
        // The first entry wins: it is the one keytool -list shows first for duplicates.
        self.by_sha256
            .entry(anchor.cert.sha256.clone())
            .or_insert(i);
        self.by_name_and_key
            .entry((anchor.cert.subject_key.clone(), anchor.cert.spki.clone()))
            .or_insert(i);
        self.anchors.push(anchor);
    }

    /// The anchor that makes Java trust `cert` as it is, if any.
    pub fn find(&self, cert: &Certificate) -> Option<(&Anchor, AnchorMatch)> {
        if let Some(&i) = self.by_sha256.get(&cert.sha256) {
            return Some((&self.anchors[i], AnchorMatch::Exact));
        }
        self.by_name_and_key
            .get(&(cert.subject_key.clone(), cert.spki.clone()))
            .map(|&i| (&self.anchors[i], AnchorMatch::SameNameAndKey))
    }

    /// The anchors in keystore order.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// Entries left out because their certificate does not parse: (alias, why). Java would
    /// not load such a keystore at all.
    pub fn ignored(&self) -> &[(String, CertError)] {
        &self.ignored
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
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
            let indexed = set.find(&cert).map(|(a, m)| (a.alias.clone(), m));
            assert_eq!(scan, indexed, "{}", cert.subject);
        }
    }
}
