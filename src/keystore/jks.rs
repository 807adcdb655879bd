//! JKS (`sun.security.provider.JavaKeyStore`) and JCEKS (`com.sun.crypto.provider.JceKeyStore`)
//! as Java reads and writes them (docs/design.md, "Format notes").
//!
//! ```text
//! u32 magic (FEEDFEED | CECECECE), u32 version (1 | 2), u32 count,
//! count × { u32 tag, UTF alias, i64 date ms, body by tag },
//! 20 bytes SHA-1(password UTF-16BE ‖ "Mighty Aphrodite" ‖ every preceding byte)
//! ```
//!
//! Each entry is kept as the exact bytes it was read from and written back unchanged: the
//! private keys (tag 1) and secret keys (tag 3) are protected with the key password, which
//! this tool never needs and never has, so they must not be re-encoded. Writing rebuilds only
//! the header count and the trailing digest.
//!
//! Entries are listed as Java's loader presents them:
//! - Several entries may carry the same alias; Java puts each into a `Hashtable` as it
//!   reads it, so only the last is ever seen. [`JksStore::entries`] lists that one only, and
//!   [`JksStore::shadowed_aliases`] names the hidden ones. They are still written back, byte
//!   for byte (the header counts them): dropping them would lose data silently, and keeping
//!   them changes nothing Java sees, because the same entry stays the last of its alias.
//! - A JKS key entry without a certificate chain is a `SecretKeyEntry` to Java (its
//!   `entryInstanceOf` asks for a certificate), so it is listed as a secret key.
//! - A JCEKS secret key must be the serialized sealed key Java's loader accepts; anything
//!   else makes Java fail ("Invalid secret key format"), and is refused here with
//!   [`KeystoreError::JavaCannotLoad`].

mod javaser;
mod mutf8;

use std::collections::{HashMap, HashSet};

use sha1::{Digest, Sha1};

use super::{Entry, EntryKind, JavaLoadProblem, KeystoreError, StoreType};

const MAGIC_JKS: [u8; 4] = [0xFE, 0xED, 0xFE, 0xED];
const MAGIC_JCEKS: [u8; 4] = [0xCE, 0xCE, 0xCE, 0xCE];

const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
const TAG_SECRET_KEY: u32 = 3;

const HEADER_LEN: usize = 12;
const DIGEST_LEN: usize = 20;
/// Java appends this to the password before hashing the keystore (`getPreKeyedHash`).
const WHITENER: &[u8] = b"Mighty Aphrodite";
/// The smallest possible entry: a version-1 trusted cert with an empty alias and an empty
/// certificate (4-byte tag, 2-byte alias length, 8-byte date, 4-byte certificate length).
const MIN_ENTRY_LEN: usize = 18;
/// The type string Java writes (`Certificate.getType()`).
const CERT_TYPE: &str = "X.509";

/// Where an entry's bytes live: a span of the parsed file, or bytes built by `add_trusted_cert`.
#[derive(Debug, Clone)]
enum Raw {
    Span(usize, usize),
    Owned(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct JksStore {
    store_type: StoreType,
    version: u32,
    /// The file as read; `Raw::Span`s point into it.
    source: Vec<u8>,
    /// Every entry of the file, shadowed ones included, in file order: the bytes it is
    /// written back as.
    raws: Vec<Raw>,
    /// Parallel to `raws`: each entry as read.
    all: Vec<Entry>,
    /// The entries Java shows (for each alias, the last entry that has it) when some alias is
    /// shadowed; None in the usual case, where they are `all` and a copy would only cost.
    visible: Option<Vec<Entry>>,
    /// Aliases of the entries in `all` that a later entry hides, in file order.
    shadowed: Vec<String>,
    verified: bool,
    /// Lower-cased aliases, built on the first `add_trusted_cert`: checking each addition
    /// against every alias would make adding n entries O(n²).
    folded: Option<HashSet<String>>,
}

/// SHA-1 over the password as Java's `char`s (UTF-16BE), the whitener and `body`.
fn integrity_digest(password: &str, body: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h = Sha1::new();
    for unit in password.encode_utf16() {
        h.update(unit.to_be_bytes());
    }
    h.update(WHITENER);
    h.update(body);
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&h.finalize());
    out
}

/// A bounds-checked big-endian reader over the whole file, so offsets in errors are file offsets.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], KeystoreError> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        match rest.get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(KeystoreError::Truncated(format!(
                "{what} at offset {:#x} needs {n} bytes, only {} remain",
                self.pos,
                rest.len()
            ))),
        }
    }

    fn u16(&mut self, what: &str) -> Result<u16, KeystoreError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, KeystoreError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &str) -> Result<i64, KeystoreError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// A Java `int` count or length: refuses negative values and, for lengths, anything
    /// longer than what is left, before a single byte is sliced or allocated.
    fn count(&mut self, what: &str) -> Result<usize, KeystoreError> {
        let at = self.pos;
        let v = self.u32(what)?;
        if v > i32::MAX as u32 {
            return Err(KeystoreError::Malformed(format!(
                "{what} at offset {at:#x} is {} (negative as a Java int)",
                v as i32
            )));
        }
        usize::try_from(v)
            .map_err(|_| KeystoreError::Malformed(format!("{what} at offset {at:#x} is too large")))
    }

    fn length(&mut self, what: &str) -> Result<usize, KeystoreError> {
        let at = self.pos;
        let n = self.count(what)?;
        if n > self.remaining() {
            return Err(KeystoreError::Truncated(format!(
                "{what} at offset {at:#x} says {n} bytes, but only {} remain in the file",
                self.remaining()
            )));
        }
        Ok(n)
    }

    /// `DataInputStream.readUTF`: u16 byte length, then modified UTF-8.
    fn utf(&mut self, what: &str) -> Result<String, KeystoreError> {
        let at = self.pos;
        let n = self.u16(what)?;
        let bytes = self.take(usize::from(n), what)?;
        mutf8::decode(bytes).map_err(|e| {
            KeystoreError::Malformed(format!(
                "{what} at offset {at:#x} is not modified UTF-8 (byte {} of it: {})",
                e.offset, e.reason
            ))
        })
    }
}

/// Prefixes the message of an error with where it happened, keeping its kind.
fn in_context(e: KeystoreError, ctx: &str) -> KeystoreError {
    use KeystoreError as E;
    match e {
        E::Truncated(m) => E::Truncated(format!("{ctx}: {m}")),
        E::NotAKeystore(m) => E::NotAKeystore(format!("{ctx}: {m}")),
        E::Malformed(m) => E::Malformed(format!("{ctx}: {m}")),
        E::WrongPassword(m) => E::WrongPassword(format!("{ctx}: {m}")),
        E::PasswordRequired(m) => E::PasswordRequired(format!("{ctx}: {m}")),
        E::Unsupported(m) => E::Unsupported(format!("{ctx}: {m}")),
        // Self-contained (the alias is in it): a position would only clutter the reason.
        other => other,
    }
}

/// Reads the certificate type string of a version-2 file. Java resolves it with
/// `CertificateFactory.getInstance`, which knows only X.509 (under both spellings, any case).
fn cert_type(r: &mut Reader<'_>) -> Result<(), KeystoreError> {
    let t = r.utf("the certificate type")?;
    if t.eq_ignore_ascii_case("X.509") || t.eq_ignore_ascii_case("X509") {
        Ok(())
    } else {
        Err(KeystoreError::Unsupported(format!(
            "certificate type {t:?} (only X.509 certificates are read)"
        )))
    }
}

/// An entry's kind, creation date and certificates: all but its alias.
type EntryBody = (EntryKind, Option<i64>, Vec<Vec<u8>>);

fn parse_entry(
    r: &mut Reader<'_>,
    store_type: StoreType,
    version: u32,
) -> Result<Entry, KeystoreError> {
    let tag_at = r.pos;
    let tag = r.u32("the entry tag")?;
    // Refused before the alias is read, as Java does: after an unknown tag nothing that
    // follows can be trusted to be an alias.
    match tag {
        TAG_PRIVATE_KEY | TAG_TRUSTED_CERT => {}
        TAG_SECRET_KEY if store_type == StoreType::Jceks => {}
        TAG_SECRET_KEY => {
            return Err(KeystoreError::Unsupported(format!(
                "a secret-key entry (tag 3) at offset {tag_at:#x} in a JKS file: only JCEKS stores hold secret keys"
            )))
        }
        other => {
            return Err(KeystoreError::Unsupported(format!(
                "unknown entry tag {other} at offset {tag_at:#x} (Java knows 1 = private key, 2 = trusted certificate, 3 = secret key)"
            )))
        }
    }
    let alias = r.utf("the alias")?;
    // Error messages end up on one terminal line: a 65535-byte alias is cut short there.
    // Formatted only for an error: for every entry of a large store it was a tenth of a parse.
    let ctx = |alias: &str| match alias.char_indices().nth(64) {
        Some((cut, _)) => format!("alias {:?}…", &alias[..cut]),
        None => format!("alias {alias:?}"),
    };
    let body = |r: &mut Reader<'_>| -> Result<EntryBody, KeystoreError> {
        let created_ms = Some(r.i64("the creation date")?);
        let mut certs = Vec::new();
        let kind = match tag {
            TAG_TRUSTED_CERT => {
                if version == 2 {
                    cert_type(r)?;
                }
                let n = r.length("the certificate length")?;
                certs.push(r.take(n, "the certificate")?.to_vec());
                EntryKind::TrustedCert
            }
            TAG_PRIVATE_KEY => {
                let n = r.length("the protected key length")?;
                r.take(n, "the protected key")?;
                let chain = r.count("the certificate chain length")?;
                // Pushed one by one: a chain length from the file is never trusted for a
                // capacity, and each certificate costs at least four input bytes.
                for _ in 0..chain {
                    if version == 2 {
                        cert_type(r)?;
                    }
                    let n = r.length("a chain certificate length")?;
                    certs.push(r.take(n, "a chain certificate")?.to_vec());
                }
                // JavaKeyStore leaves the chain null when it is empty, and
                // KeyStoreSpi.engineEntryInstanceOf calls a key entry without a
                // certificate a SecretKeyEntry (keytool lists it so). JceKeyStore keeps an
                // empty array instead, so a JCEKS key stays a private key.
                if certs.is_empty() && store_type == StoreType::Jks {
                    EntryKind::SecretKey
                } else {
                    EntryKind::PrivateKey
                }
            }
            // Only a JCEKS secret key is left (the tag was checked above).
            _ => {
                let skipped = javaser::skip_stream(r.data, r.pos)?;
                if let Some(found) = skipped.java_rejects {
                    return Err(KeystoreError::JavaCannotLoad(JavaLoadProblem::SealedKey {
                        alias: alias.clone(),
                        found,
                    }));
                }
                r.pos = skipped.end;
                EntryKind::SecretKey
            }
        };
        Ok((kind, created_ms, certs))
    };
    let (kind, created_ms, certs) = body(r).map_err(|e| in_context(e, &ctx(&alias)))?;
    Ok(Entry {
        alias,
        kind,
        created_ms,
        certs,
    })
}

impl JksStore {
    /// Parses a JKS or JCEKS file. With a password the integrity digest must match; with
    /// None it is not checked (as keytool does when no password is typed).
    pub fn parse(data: &[u8], password: Option<&str>) -> Result<JksStore, KeystoreError> {
        let mut r = Reader { data, pos: 0 };
        let magic = r.take(4, "the magic number")?;
        let store_type = if magic == MAGIC_JKS {
            StoreType::Jks
        } else if magic == MAGIC_JCEKS {
            StoreType::Jceks
        } else {
            return Err(KeystoreError::NotAKeystore(format!(
                "it starts with {magic:02X?}, neither JKS (FEEDFEED) nor JCEKS (CECECECE)"
            )));
        };
        let version = r.u32("the version")?;
        if version != 1 && version != 2 {
            return Err(KeystoreError::Unsupported(format!(
                "{} version {version} (Java reads versions 1 and 2)",
                store_type.as_str().to_uppercase()
            )));
        }
        let count = r.count("the entry count")?;
        // Cheap early refusal of absurd counts, with a clearer message than running out later.
        let room = r.remaining().saturating_sub(DIGEST_LEN) / MIN_ENTRY_LEN;
        if count > room {
            return Err(KeystoreError::Truncated(format!(
                "the header announces {count} entries, but the {} bytes that follow can hold at most {room}",
                r.remaining()
            )));
        }
        let mut raws = Vec::new();
        let mut entries = Vec::new();
        for i in 0..count {
            let start = r.pos;
            let entry = parse_entry(&mut r, store_type, version).map_err(|e| {
                in_context(
                    e,
                    &format!("entry {} of {count} at offset {start:#x}", i + 1),
                )
            })?;
            raws.push(Raw::Span(start, r.pos));
            entries.push(entry);
        }
        let body_end = r.pos;
        let stored = r.take(DIGEST_LEN, "the integrity digest")?;
        if r.remaining() > 0 {
            return Err(KeystoreError::Malformed(format!(
                "{} bytes follow the integrity digest (which ends at offset {:#x}): the entry count or an entry is wrong, or data was appended",
                r.remaining(),
                r.pos
            )));
        }
        let verified = match password {
            Some(pw) => {
                if integrity_digest(pw, data.get(..body_end).unwrap_or_default())[..] != *stored {
                    return Err(KeystoreError::WrongPassword(
                        "integrity digest mismatch".into(),
                    ));
                }
                true
            }
            None => false,
        };
        let mut store = JksStore {
            store_type,
            version,
            source: data.to_vec(),
            raws,
            all: entries,
            visible: None,
            shadowed: Vec::new(),
            verified,
            folded: None,
        };
        store.refresh_visible();
        Ok(store)
    }

    /// Rebuilds `entries` and `shadowed` from `all`: Java's `Hashtable.put` per entry read,
    /// keyed by the alias exactly as stored, so the last entry of an alias wins.
    fn refresh_visible(&mut self) {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, e) in self.all.iter().enumerate() {
            last.insert(e.alias.as_str(), i);
        }
        if last.len() == self.all.len() {
            self.visible = None;
            self.shadowed.clear();
            return;
        }
        let mut entries = Vec::with_capacity(last.len());
        let mut shadowed = Vec::new();
        for (i, e) in self.all.iter().enumerate() {
            if last.get(e.alias.as_str()) == Some(&i) {
                entries.push(e.clone());
            } else {
                shadowed.push(e.alias.clone());
            }
        }
        self.visible = Some(entries);
        self.shadowed = shadowed;
    }

    /// The aliases of entries that a later entry with the same alias hides from Java, one
    /// per hidden entry, in file order (empty for any file Java wrote itself).
    pub fn shadowed_aliases(&self) -> Vec<&str> {
        self.shadowed.iter().map(String::as_str).collect()
    }

    pub fn store_type(&self) -> StoreType {
        self.store_type
    }

    /// The file format version: 2 as Java writes it, 1 for old files (no certificate types).
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn entries(&self) -> &[Entry] {
        self.visible.as_deref().unwrap_or(&self.all)
    }

    pub fn is_verified(&self) -> bool {
        self.verified
    }

    /// Appends a trusted-certificate entry under `alias` in lower case: Java folds aliases on
    /// every lookup but loads them as stored, so an upper-case alias would be unreachable and
    /// breaks `keytool -list`. A version-1 file stays version 1 (no certificate type string).
    pub fn add_trusted_cert(
        &mut self,
        alias: &str,
        der: &[u8],
        created_ms: i64,
    ) -> Result<(), KeystoreError> {
        let alias = alias.to_lowercase();
        let all = &self.all;
        let folded = self
            .folded
            .get_or_insert_with(|| all.iter().map(|e| e.alias.to_lowercase()).collect());
        if folded.contains(&alias) {
            return Err(KeystoreError::AliasExists(alias));
        }
        let encoded = mutf8::encode(&alias);
        let alias_len = u16::try_from(encoded.len()).map_err(|_| {
            KeystoreError::Unsupported(format!(
                "alias {alias:?} is {} bytes in modified UTF-8; Java's limit is {}",
                encoded.len(),
                mutf8::MAX_LEN
            ))
        })?;
        let der_len = u32::try_from(der.len())
            .ok()
            .filter(|&n| n <= i32::MAX as u32)
            .ok_or_else(|| {
                KeystoreError::Unsupported(format!(
                    "a {}-byte certificate is too large for a JKS entry",
                    der.len()
                ))
            })?;
        if der.first() != Some(&0x30) {
            return Err(KeystoreError::Malformed(format!(
                "the certificate for alias {alias:?} is not DER (it does not start with a SEQUENCE)"
            )));
        }
        if self.all.len() >= i32::MAX as usize {
            return Err(KeystoreError::Unsupported(
                "the keystore already holds the most entries Java can count".into(),
            ));
        }
        let mut raw =
            Vec::with_capacity(4 + 2 + encoded.len() + 8 + 2 + CERT_TYPE.len() + 4 + der.len());
        raw.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
        raw.extend_from_slice(&alias_len.to_be_bytes());
        raw.extend_from_slice(&encoded);
        raw.extend_from_slice(&created_ms.to_be_bytes());
        if self.version >= 2 {
            raw.extend_from_slice(&(CERT_TYPE.len() as u16).to_be_bytes());
            raw.extend_from_slice(CERT_TYPE.as_bytes());
        }
        raw.extend_from_slice(&der_len.to_be_bytes());
        raw.extend_from_slice(der);
        self.raws.push(Raw::Owned(raw));
        if let Some(f) = self.folded.as_mut() {
            f.insert(alias.clone());
        }
        let entry = Entry {
            alias,
            kind: EntryKind::TrustedCert,
            created_ms: Some(created_ms),
            certs: vec![der.to_vec()],
        };
        // A new alias (checked above against every entry, shadowed ones too) is visible.
        if let Some(v) = self.visible.as_mut() {
            v.push(entry.clone());
        }
        self.all.push(entry);
        Ok(())
    }

    /// Removes every entry whose alias equals `alias` ignoring case (duplicates included).
    pub fn remove_entry(&mut self, alias: &str) -> Result<(), KeystoreError> {
        let wanted = alias.to_lowercase();
        let keep: Vec<bool> = self
            .all
            .iter()
            .map(|e| e.alias.to_lowercase() != wanted)
            .collect();
        if keep.iter().all(|&k| k) {
            return Err(KeystoreError::NoSuchAlias(alias.to_string()));
        }
        let mut k = keep.iter();
        self.all.retain(|_| k.next().copied().unwrap_or(true));
        let mut k = keep.iter();
        self.raws.retain(|_| k.next().copied().unwrap_or(true));
        if let Some(f) = self.folded.as_mut() {
            f.remove(&wanted);
        }
        self.refresh_visible();
        Ok(())
    }

    fn raw_bytes<'s>(&'s self, raw: &'s Raw) -> &'s [u8] {
        match raw {
            Raw::Span(a, b) => self.source.get(*a..*b).unwrap_or(&[]),
            Raw::Owned(v) => v,
        }
    }

    /// Serializes with the same magic and version, every entry as its original bytes, and a
    /// digest under `password` (which may differ from the one the file was read with).
    pub fn to_bytes(&self, password: &str) -> Vec<u8> {
        let body_len: usize = self.raws.iter().map(|r| self.raw_bytes(r).len()).sum();
        let mut out = Vec::with_capacity(HEADER_LEN + body_len + DIGEST_LEN);
        out.extend_from_slice(match self.store_type {
            StoreType::Jceks => &MAGIC_JCEKS,
            _ => &MAGIC_JKS,
        });
        out.extend_from_slice(&self.version.to_be_bytes());
        // Every entry is written, shadowed ones too; add_trusted_cert keeps the count
        // within i32.
        out.extend_from_slice(&(self.raws.len() as u32).to_be_bytes());
        for raw in &self.raws {
            out.extend_from_slice(self.raw_bytes(raw));
        }
        let digest = integrity_digest(password, &out);
        out.extend_from_slice(&digest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_store(magic: [u8; 4], version: u32, password: &str) -> Vec<u8> {
        let mut v = magic.to_vec();
        v.extend(version.to_be_bytes());
        v.extend(0u32.to_be_bytes());
        let d = integrity_digest(password, &v);
        v.extend(d);
        v
    }

    fn fake_cert() -> Vec<u8> {
        vec![0x30, 0x03, 0x02, 0x01, 0x01]
    }

    #[test]
    fn empty_store_round_trips_and_checks_the_password() {
        let data = empty_store(MAGIC_JKS, 2, "changeit");
        let ks = JksStore::parse(&data, Some("changeit")).unwrap();
        assert!(ks.is_verified());
        assert_eq!(ks.entries().len(), 0);
        assert_eq!(ks.to_bytes("changeit"), data);
        assert!(matches!(
            JksStore::parse(&data, Some("wrong")),
            Err(KeystoreError::WrongPassword(_))
        ));
        assert!(!JksStore::parse(&data, None).unwrap().is_verified());
    }

    #[test]
    fn non_ascii_password_is_utf16() {
        // "pä😀" as Java chars: 0070 00E4 D83D DE00.
        let mut h = Sha1::new();
        h.update([0x00, 0x70, 0x00, 0xE4, 0xD8, 0x3D, 0xDE, 0x00]);
        h.update(WHITENER);
        h.update(b"body");
        assert_eq!(integrity_digest("pä😀", b"body")[..], h.finalize()[..]);
    }

    #[test]
    fn add_then_reparse() {
        for (magic, version) in [(MAGIC_JKS, 1), (MAGIC_JKS, 2), (MAGIC_JCEKS, 2)] {
            let mut ks = JksStore::parse(&empty_store(magic, version, "pw"), Some("pw")).unwrap();
            ks.add_trusted_cert("My CA", &fake_cert(), 1_700_000_000_000)
                .unwrap();
            ks.add_trusted_cert("Ünïcødé😀\0", &fake_cert(), -1)
                .unwrap();
            assert!(matches!(
                ks.add_trusted_cert("MY ca", &fake_cert(), 0),
                Err(KeystoreError::AliasExists(_))
            ));
            let bytes = ks.to_bytes("pw");
            let back = JksStore::parse(&bytes, Some("pw")).unwrap();
            assert_eq!(back.version(), version);
            assert_eq!(back.entries(), ks.entries());
            assert_eq!(back.entries()[0].alias, "my ca");
            assert_eq!(back.entries()[1].alias, "ünïcødé😀\0");
            assert_eq!(back.entries()[1].created_ms, Some(-1));
            assert_eq!(back.to_bytes("pw"), bytes);
        }
    }

    #[test]
    fn remove_takes_every_case_variant() {
        let mut ks = JksStore::parse(&empty_store(MAGIC_JKS, 2, "pw"), Some("pw")).unwrap();
        ks.add_trusted_cert("a", &fake_cert(), 0).unwrap();
        ks.add_trusted_cert("b", &fake_cert(), 0).unwrap();
        assert!(matches!(
            ks.remove_entry("c"),
            Err(KeystoreError::NoSuchAlias(_))
        ));
        ks.remove_entry("A").unwrap();
        assert_eq!(ks.entries().len(), 1);
        let back = JksStore::parse(&ks.to_bytes("pw"), Some("pw")).unwrap();
        assert_eq!(back.entries()[0].alias, "b");
        // The alias index follows removals.
        ks.add_trusted_cert("A", &fake_cert(), 0).unwrap();
        assert!(matches!(
            ks.add_trusted_cert("a", &fake_cert(), 0),
            Err(KeystoreError::AliasExists(_))
        ));
        assert!(matches!(
            ks.add_trusted_cert("B", &fake_cert(), 0),
            Err(KeystoreError::AliasExists(_))
        ));
    }

    #[test]
    fn refuses_non_der_and_long_aliases() {
        let mut ks = JksStore::parse(&empty_store(MAGIC_JKS, 2, "pw"), Some("pw")).unwrap();
        assert!(ks.add_trusted_cert("x", b"", 0).is_err());
        assert!(ks
            .add_trusted_cert(&"a".repeat(65_536), &fake_cert(), 0)
            .is_err());
        assert!(ks
            .add_trusted_cert(&"a".repeat(65_535), &fake_cert(), 0)
            .is_ok());
        let back = JksStore::parse(&ks.to_bytes("pw"), Some("pw")).unwrap();
        assert_eq!(back.entries()[0].alias.len(), 65_535);
    }

    /// A store built from raw entries (tag, alias, body after the date), digest under "pw".
    fn store_of(magic: [u8; 4], entries: &[(u32, &str, Vec<u8>)]) -> Vec<u8> {
        let mut v = magic.to_vec();
        v.extend(2u32.to_be_bytes());
        v.extend((entries.len() as u32).to_be_bytes());
        for (tag, alias, body) in entries {
            v.extend(tag.to_be_bytes());
            v.extend((alias.len() as u16).to_be_bytes());
            v.extend(alias.as_bytes());
            v.extend(7i64.to_be_bytes());
            v.extend(body);
        }
        let d = integrity_digest("pw", &v);
        v.extend(d);
        v
    }

    fn trusted_body(cert: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 5];
        b.extend(b"X.509");
        b.extend((cert.len() as u32).to_be_bytes());
        b.extend(cert);
        b
    }

    fn key_body(chain: &[&[u8]]) -> Vec<u8> {
        let mut b = 3u32.to_be_bytes().to_vec();
        b.extend([0x30, 0x01, 0x00]);
        b.extend((chain.len() as u32).to_be_bytes());
        for c in chain {
            b.extend(trusted_body(c));
        }
        b
    }

    /// Java keeps the last of several entries with one alias; the hidden ones are named
    /// and written back, so Java's view of the written file is the same plus the addition.
    #[test]
    fn duplicate_aliases_show_the_last_and_keep_the_rest() {
        let (a, b) = (vec![0x30, 0x01, 0x0A], vec![0x30, 0x01, 0x0B]);
        let data = store_of(
            MAGIC_JKS,
            &[
                (TAG_TRUSTED_CERT, "dup", trusted_body(&a)),
                (TAG_TRUSTED_CERT, "other", trusted_body(&a)),
                (TAG_TRUSTED_CERT, "dup", trusted_body(&b)),
            ],
        );
        let mut ks = JksStore::parse(&data, Some("pw")).unwrap();
        let listed: Vec<(&str, &[u8])> = ks
            .entries()
            .iter()
            .map(|e| (e.alias.as_str(), e.certs[0].as_slice()))
            .collect();
        assert_eq!(listed, [("other", &a[..]), ("dup", &b[..])]);
        assert_eq!(ks.shadowed_aliases(), ["dup"]);
        assert_eq!(ks.to_bytes("pw"), data);
        assert!(matches!(
            ks.add_trusted_cert("DUP", &fake_cert(), 0),
            Err(KeystoreError::AliasExists(_))
        ));
        ks.add_trusted_cert("new", &fake_cert(), 0).unwrap();
        let out = ks.to_bytes("pw");
        // All four entries are in the file (the header counts them), three are visible.
        assert_eq!(out[8..12], 4u32.to_be_bytes());
        assert_eq!(
            out[12..data.len() - DIGEST_LEN],
            data[12..data.len() - DIGEST_LEN]
        );
        let back = JksStore::parse(&out, Some("pw")).unwrap();
        assert_eq!(back.entries().len(), 3);
        assert_eq!(back.entries(), ks.entries());
        assert_eq!(back.shadowed_aliases(), ["dup"]);
        // Removing the alias removes every entry that has it.
        ks.remove_entry("dup").unwrap();
        assert!(ks.shadowed_aliases().is_empty());
        assert_eq!(
            JksStore::parse(&ks.to_bytes("pw"), Some("pw"))
                .unwrap()
                .entries()
                .len(),
            2
        );
    }

    /// A JKS key without a chain is a SecretKeyEntry to Java; in JCEKS it stays a key.
    #[test]
    fn a_jks_key_without_a_chain_is_a_secret_key() {
        let cert = fake_cert();
        for (magic, kind) in [
            (MAGIC_JKS, EntryKind::SecretKey),
            (MAGIC_JCEKS, EntryKind::PrivateKey),
        ] {
            let data = store_of(
                magic,
                &[
                    (TAG_PRIVATE_KEY, "bare", key_body(&[])),
                    (TAG_PRIVATE_KEY, "chained", key_body(&[&cert])),
                ],
            );
            let ks = JksStore::parse(&data, Some("pw")).unwrap();
            assert_eq!(ks.entries()[0].kind, kind);
            assert!(ks.entries()[0].certs.is_empty());
            assert_eq!(ks.entries()[1].kind, EntryKind::PrivateKey);
            assert_eq!(ks.entries()[1].certs, std::slice::from_ref(&cert));
        }
    }

    /// A JCEKS secret key that is not Java's sealed key: Java cannot load the file.
    #[test]
    fn a_foreign_sealed_object_is_refused_as_java_refuses_it() {
        let mut stream = vec![0xAC, 0xED, 0x00, 0x05, 0x73, 0x72];
        stream
            .extend(b"\x00\x15org.pyjks.DummyObject\x65\x30\xf3\x80\x90\xcb\x36\x2c\x02\x00\x00xp");
        let data = store_of(MAGIC_JCEKS, &[(TAG_SECRET_KEY, "mykey", stream)]);
        for pw in [Some("pw"), None] {
            match JksStore::parse(&data, pw) {
                Err(KeystoreError::JavaCannotLoad(JavaLoadProblem::SealedKey { alias, found })) => {
                    assert_eq!(alias, "mykey");
                    assert!(found.contains("org.pyjks.DummyObject"), "{found}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn header_errors() {
        assert!(matches!(
            JksStore::parse(&[], None),
            Err(KeystoreError::Truncated(_))
        ));
        assert!(matches!(
            JksStore::parse(b"PK\x03\x04", None),
            Err(KeystoreError::NotAKeystore(_))
        ));
        let mut v3 = empty_store(MAGIC_JKS, 3, "pw");
        assert!(matches!(
            JksStore::parse(&v3, None),
            Err(KeystoreError::Unsupported(_))
        ));
        v3[7] = 2;
        v3[8] = 0x80;
        assert!(matches!(
            JksStore::parse(&v3, None),
            Err(KeystoreError::Malformed(_))
        ));
        v3[8] = 0x7F;
        assert!(matches!(
            JksStore::parse(&v3, None),
            Err(KeystoreError::Truncated(_))
        ));
    }
}
