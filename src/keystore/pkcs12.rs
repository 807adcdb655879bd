//! PKCS#12 keystores as Java's `PKCS12KeyStore` reads and writes them.
//!
//! Reading follows Java's `engineLoad`: a CertBag is a trusted-certificate entry only when it
//! carries Oracle's trustedKeyUsage attribute; key entries get their chain from the other
//! CertBags (first by localKeyId, then issuer to subject); private keys are never
//! decrypted. Without a password, like Java, the MAC is not checked and encrypted
//! certificates are skipped.
//!
//! Writing is surgical: every existing ContentInfo is kept byte for byte, new trusted
//! certificates go into ONE appended ContentInfo protected like the existing certificates
//! (or not at all, for a password-less store), and the MAC is recomputed with its original
//! digest and iteration count. Only a removal re-encodes the one ContentInfo it touches.
//!
//! BER files (Mozilla, Netscape and Bouncy Castle exports: indefinite lengths, chunked
//! OCTET STRINGs) are read through their DER form ([`asn1::to_der`]), which changes no
//! content, so the MAC over the AuthenticatedSafe still checks. An unchanged file is written
//! back as it was; a changed one is DER throughout: each ContentInfo is kept in its DER form
//! (a BER SafeContents rebuilt from its bags, each bag's content unchanged; a chunked
//! encryptedContent made primitive, the ciphertext unchanged, never re-encrypted).

mod asn1;
mod mac;
mod oids;
mod pbe;

use std::collections::{HashMap, HashSet};

use self::asn1::{Reader, Tlv};
use self::mac::MacParams;
use self::pbe::{DecryptError, EncAlg, PwForm};
use super::{Entry, EntryKind, JavaLoadProblem, KeystoreError};

pub use self::pbe::{kdf_runs, MAX_ITERATIONS};

/// The most key-derivation iterations one parse may ask for in total (MAC plus every
/// EncryptedData). Each count alone is capped at [`MAX_ITERATIONS`]; this stops a file
/// from chaining many capped ones. Real stores need a few hundred thousand.
pub const MAX_TOTAL_ITERATIONS: u64 = 60_000_000;

/// Key chains longer than this are cut; real ones have a handful of certificates.
const MAX_CHAIN: usize = 64;
/// Bytes of chain certificates copied into entries beyond twice the bags' own size.
const CHAIN_COPY_BUDGET: usize = 64 << 20;

/// How the certificates of one ContentInfo are protected, as seen by [`Pkcs12Store::contents`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentProtection {
    /// Plain `Data`: readable without a password.
    Data,
    /// `EncryptedData`, with a description of its algorithm, e.g.
    /// "PBES2 (PBKDF2-HmacSHA256, AES-256-CBC, 10000 iterations)".
    Encrypted { algorithm: String, iterations: u32 },
    /// `EncryptedData` that was not read (no password given).
    EncryptedUnread,
}

/// The MAC of a store, as seen by [`Pkcs12Store::mac_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacInfo {
    /// "SHA-1", "SHA-256", ...
    pub digest: &'static str,
    pub iterations: u32,
    pub salt_len: usize,
}

#[derive(Debug, Clone)]
enum BagKind {
    ShroudedKey,
    Secret,
    Cert {
        der: Vec<u8>,
        issuer: Vec<u8>,
        subject: Vec<u8>,
        trusted: bool,
    },
    /// keyBag, crlBag, nested safeContents, unknown: kept as they are; Java makes no
    /// entry of them either.
    Other,
}

#[derive(Debug, Clone)]
struct Bag {
    /// The SafeBag's encoding, written back unchanged.
    raw: Vec<u8>,
    kind: BagKind,
    friendly_name: Option<String>,
    local_key_id: Option<Vec<u8>>,
}

impl Bag {
    fn is_trusted_cert(&self) -> bool {
        matches!(self.kind, BagKind::Cert { trusted: true, .. })
    }
}

#[derive(Debug, Clone)]
enum SlotKind {
    Data,
    /// `alg` is None only when the store was read without a password (then nothing about
    /// the EncryptedData is needed). `form` is which password form decrypted it;
    /// `ciphertext` is held only until then.
    Encrypted {
        alg: Option<EncAlg>,
        form: Option<usize>,
        ciphertext: Vec<u8>,
    },
}

/// One ContentInfo of the AuthenticatedSafe.
#[derive(Debug, Clone)]
struct Slot {
    raw: Vec<u8>,
    kind: SlotKind,
    /// None when encrypted and not read.
    bags: Option<Vec<Bag>>,
    /// A bag was removed: re-encode this ContentInfo on write.
    dirty: bool,
}

/// The password the store was opened with; kept to refuse writing with another one (the
/// existing encrypted content would no longer open). Never printed.
#[derive(Clone, PartialEq, Eq)]
struct StorePassword(String);

impl std::fmt::Debug for StorePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorePassword(***)")
    }
}

#[derive(Clone)]
pub struct Pkcs12Store {
    original: Vec<u8>,
    version_raw: Vec<u8>,
    slots: Vec<Slot>,
    has_mac: bool,
    /// None when the store has no MAC, or was read without a password.
    mac: Option<MacParams>,
    /// Which password form the MAC matched.
    mac_form: Option<usize>,
    password: Option<StorePassword>,
    verified: bool,
    /// Trusted CertBags added since parsing, written as one new ContentInfo.
    pending: Vec<Bag>,
    /// Why Java's loader fails on this file, when it could be read here all the same.
    java_problem: Option<JavaLoadProblem>,
    entries: Vec<Entry>,
    /// Every alias in use, lower-cased: entry aliases and all friendlyNames (chain
    /// certificates' too), which new aliases must not repeat.
    taken: HashSet<String>,
}

impl std::fmt::Debug for Pkcs12Store {
    // The derived form would dump every byte of the file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs12Store")
            .field("bytes", &self.original.len())
            .field("contents", &self.contents())
            .field("mac", &self.mac_info())
            .field("passwordless", &self.is_passwordless())
            .field("verified", &self.verified)
            .field("entries", &self.entries.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Pkcs12Store {
    /// Parses a PFX. See the module documentation for what `password` = None means.
    pub fn parse(data: &[u8], password: Option<&str>) -> Result<Pkcs12Store, KeystoreError> {
        // BER (Mozilla, Netscape, Bouncy Castle: indefinite lengths, chunked strings) is read
        // as its DER form; contents are unchanged, so the MAC still checks.
        let der = asn1::to_der(data, "PFX", asn1::Shortfall::Truncated)?;
        let mut top = Reader::top_level(&der, "PFX");
        let pfx = top.read(asn1::SEQUENCE, "the PFX")?;
        if !top.is_empty() {
            return Err(KeystoreError::Malformed(format!(
                "{} bytes after the end of the PKCS#12 structure",
                top.remaining()
            )));
        }
        let mut r = Reader::new(pfx.value, "PFX");
        let version = r.read(asn1::INTEGER, "the PFX version")?;
        if asn1::uint(&version, "PFX version").ok() != Some(3) {
            return Err(KeystoreError::Unsupported(format!(
                "PKCS#12 version {:02X?} (only version 3 exists)",
                version.value
            )));
        }
        let auth = r.read(asn1::SEQUENCE, "authSafe")?;
        let mac_tlv = r.read_optional(asn1::SEQUENCE, "macData")?;
        r.finish("macData")?;

        let auth_safe = auth_safe_content(&auth)?;
        let slots = parse_auth_safe(&auth_safe, password.is_some())?;

        let mut store = Pkcs12Store {
            original: data.to_vec(),
            version_raw: version.raw.to_vec(),
            slots,
            has_mac: mac_tlv.is_some(),
            mac: None,
            mac_form: None,
            password: None,
            verified: false,
            pending: Vec::new(),
            java_problem: None,
            entries: Vec::new(),
            taken: HashSet::new(),
        };

        store.java_problem = store
            .slots
            .iter()
            .enumerate()
            .find_map(|(i, s)| match &s.kind {
                SlotKind::Encrypted {
                    alg: Some(EncAlg::Pbes2(p)),
                    ..
                } if p.aes_key_len == 24 => Some(JavaLoadProblem::Pbes2Cipher {
                    cipher: "AES-192-CBC".into(),
                    content: format!("the certificates (ContentInfo #{i})"),
                }),
                _ => None,
            });
        match password {
            // Like Java with no password: no MAC check, EncryptedData skipped, so the
            // MacData is not even looked at.
            None => store.verified = store.is_passwordless(),
            Some(pw) => store.open_with(pw, mac_tlv.as_ref(), &auth_safe)?,
        }
        store.refresh_entries();
        Ok(store)
    }

    fn open_with(
        &mut self,
        pw: &str,
        mac_tlv: Option<&Tlv<'_>>,
        auth_safe: &[u8],
    ) -> Result<(), KeystoreError> {
        if self.is_passwordless() {
            // Nothing is protected: any password opens it, as with keytool.
            self.verified = true;
            return Ok(());
        }
        let forms = pbe::password_forms(pw);
        let mac = mac_tlv.map(MacParams::parse).transpose()?;
        self.check_work(mac.as_ref(), forms.len())?;
        if let Some(m) = &mac {
            let form = m
                .verify(&forms, auth_safe)
                .ok_or_else(|| KeystoreError::WrongPassword("MAC mismatch".into()))?;
            self.mac_form = Some(form);
            self.verified = true;
        }
        self.mac = mac;
        for (index, slot) in self.slots.iter_mut().enumerate() {
            decrypt_slot(slot, index, &forms, self.verified)?;
        }
        self.password = Some(StorePassword(pw.to_owned()));
        Ok(())
    }

    /// Refuses a file whose MAC and EncryptedData iteration counts add up to an absurd
    /// amount of work, before any of it is done.
    fn check_work(&self, mac: Option<&MacParams>, forms: usize) -> Result<(), KeystoreError> {
        let forms = forms as u64;
        let mut total = mac.map_or(0, |m| u64::from(m.iterations) * forms);
        for slot in &self.slots {
            if let SlotKind::Encrypted { alg: Some(alg), .. } = &slot.kind {
                // The PKCS#12 PBE derives a key and an IV: two runs.
                let runs = if matches!(alg, EncAlg::Pkcs12(_)) {
                    2
                } else {
                    1
                };
                total = total.saturating_add(u64::from(alg.iterations()) * runs * forms);
            }
        }
        if total > MAX_TOTAL_ITERATIONS {
            return Err(KeystoreError::Unsupported(format!(
                "the file asks for {total} key-derivation iterations in total (limit {MAX_TOTAL_ITERATIONS}); refused rather than run"
            )));
        }
        Ok(())
    }

    /// True when the store has neither a MAC nor encrypted content (Java's
    /// `PKCS12KeyStore.isPasswordless`): the JDK 18+ cacerts. It stays so when written.
    pub fn is_passwordless(&self) -> bool {
        !self.has_mac
            && !self
                .slots
                .iter()
                .any(|s| matches!(s.kind, SlotKind::Encrypted { .. }))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_verified(&self) -> bool {
        self.verified
    }

    /// True when the file has a MacData (whether or not it was checked).
    pub fn has_mac(&self) -> bool {
        self.has_mac
    }

    /// Why Java cannot load this file although it could be read here (see
    /// [`crate::keystore::Keystore::java_load_problem`]).
    pub fn java_load_problem(&self) -> Option<&JavaLoadProblem> {
        self.java_problem.as_ref()
    }

    /// The protection of each ContentInfo, in file order (new content not yet written is
    /// not included).
    pub fn contents(&self) -> Vec<ContentProtection> {
        self.slots
            .iter()
            .map(|s| match &s.kind {
                SlotKind::Data => ContentProtection::Data,
                SlotKind::Encrypted {
                    alg: Some(alg),
                    form: Some(_),
                    ..
                } => ContentProtection::Encrypted {
                    algorithm: alg.describe(),
                    iterations: alg.iterations(),
                },
                SlotKind::Encrypted { .. } => ContentProtection::EncryptedUnread,
            })
            .collect()
    }

    /// The MAC's digest and iteration count, when the store has one and was opened with
    /// its password.
    pub fn mac_info(&self) -> Option<MacInfo> {
        self.mac.as_ref().map(|m| MacInfo {
            digest: m.hash.name(),
            iterations: m.iterations,
            salt_len: m.salt.len(),
        })
    }

    /// True when `to_bytes` would not return the original bytes.
    pub fn is_modified(&self) -> bool {
        !self.pending.is_empty() || self.slots.iter().any(|s| s.dirty)
    }

    fn require_writable(&self) -> Result<(), KeystoreError> {
        if self.is_passwordless() || self.password.is_some() {
            Ok(())
        } else {
            Err(KeystoreError::PasswordRequired(
                "this PKCS12 keystore is password-protected and was read without its password"
                    .into(),
            ))
        }
    }

    fn live_bags(&self) -> impl Iterator<Item = &Bag> {
        self.slots
            .iter()
            .filter_map(|s| s.bags.as_ref())
            .flatten()
            .chain(self.pending.iter())
    }

    /// Adds a trusted certificate under `alias` folded to lower case, as a CertBag with
    /// friendlyName and Oracle's trustedKeyUsage {anyExtendedKeyUsage}, like keytool.
    /// `_created_ms` is not stored: Java keeps no date for PKCS12 trusted certificates (it
    /// shows the load time), so there is nowhere to put it.
    pub fn add_trusted_cert(
        &mut self,
        alias: &str,
        der: &[u8],
        _created_ms: i64,
    ) -> Result<(), KeystoreError> {
        self.require_writable()?;
        let alias = alias.to_lowercase();
        if alias.is_empty() {
            return Err(KeystoreError::Unsupported("an empty alias".into()));
        }
        if self.taken.contains(&alias) {
            return Err(KeystoreError::AliasExists(alias));
        }
        let (issuer, subject) = cert_names(der).map_err(|e| {
            KeystoreError::Malformed(format!(
                "the certificate to add under {alias:?} is not X.509 DER: {e}"
            ))
        })?;
        let rebuild = self.extends_a_key_chain(&subject);
        let raw = trusted_cert_bag(&alias, der);
        self.pending.push(Bag {
            raw,
            kind: BagKind::Cert {
                der: der.to_vec(),
                issuer,
                subject,
                trusted: true,
            },
            friendly_name: Some(alias.clone()),
            local_key_id: None,
        });
        if rebuild {
            // Java follows issuer to subject over all certificates, trusted ones included,
            // so this CA lengthens a key's chain on the next load: rebuild as Java would.
            self.refresh_entries();
        } else {
            // A fresh alias after everything else: exactly what a rebuild would give,
            // without one per added certificate (a batch of 1,000 would be quadratic).
            self.taken.insert(alias.clone());
            self.entries.push(Entry {
                alias,
                kind: EntryKind::TrustedCert,
                created_ms: None,
                certs: vec![der.to_vec()],
            });
        }
        Ok(())
    }

    /// Removes the trusted certificate(s) listed under `alias` (ignoring case). Only the
    /// ContentInfo that held them is re-encoded (re-encrypted with the same algorithm and
    /// a fresh salt and IV when it was encrypted); key entries are refused.
    pub fn remove_entry(&mut self, alias: &str) -> Result<(), KeystoreError> {
        let alias = alias.to_lowercase();
        let entry = self
            .entries
            .iter()
            .find(|e| e.alias == alias)
            .ok_or_else(|| KeystoreError::NoSuchAlias(alias.clone()))?;
        if entry.kind != EntryKind::TrustedCert {
            return Err(KeystoreError::Unsupported(format!(
                "removing the {} entry {alias:?}: only trusted certificates are removed, keys are never touched",
                entry.kind.as_str()
            )));
        }
        self.require_writable()?;
        let matches = |b: &Bag| {
            b.is_trusted_cert()
                && b.friendly_name
                    .as_ref()
                    .is_some_and(|n| n.to_lowercase() == alias)
        };
        let mut removed = 0;
        let before = self.pending.len();
        self.pending.retain(|b| !matches(b));
        removed += before - self.pending.len();
        for slot in &mut self.slots {
            if let Some(bags) = &mut slot.bags {
                let before = bags.len();
                bags.retain(|b| !matches(b));
                if bags.len() != before {
                    removed += before - bags.len();
                    slot.dirty = true;
                }
            }
        }
        if removed == 0 {
            return Err(KeystoreError::Unsupported(format!(
                "the trusted certificate {alias:?} has no friendlyName, so it cannot be singled out"
            )));
        }
        self.refresh_entries();
        Ok(())
    }

    /// Whether a certificate with this subject would be the next link of some key's
    /// chain: the chain's last certificate is not self-issued and names it as issuer.
    fn extends_a_key_chain(&self, subject: &[u8]) -> bool {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::PrivateKey)
            .filter_map(|e| e.certs.last())
            .filter_map(|last| cert_names(last).ok())
            .any(|(issuer, own_subject)| issuer != own_subject && issuer == subject)
    }

    fn refresh_entries(&mut self) {
        self.entries = self.build_entries();
        let mut taken: HashSet<String> = self.entries.iter().map(|e| e.alias.clone()).collect();
        taken.extend(
            self.live_bags()
                .filter_map(|b| b.friendly_name.as_ref())
                .map(|n| n.to_lowercase()),
        );
        self.taken = taken;
    }

    /// Serializes the store. Unchanged, it is the original bytes. A protected store needs
    /// the password it was opened with (the MAC and any new encrypted content use it); a
    /// password-less one ignores `password` and stays password-less.
    pub fn to_bytes(&self, password: Option<&str>) -> Result<Vec<u8>, KeystoreError> {
        if !self.is_passwordless() {
            let pw = password.ok_or_else(|| {
                KeystoreError::PasswordRequired(
                    "writing a password-protected PKCS12 keystore recomputes its MAC with the store password".into(),
                )
            })?;
            match &self.password {
                None => {
                    return Err(KeystoreError::PasswordRequired(
                        "the keystore was read without its password; read it with the password before writing".into(),
                    ))
                }
                Some(opened) if opened.0 != pw => {
                    return Err(KeystoreError::WrongPassword(
                        "not the password the keystore was opened with; its encrypted content would no longer open".into(),
                    ))
                }
                Some(_) => {}
            }
        }
        if !self.is_modified() {
            return Ok(self.original.clone());
        }
        let mut items: Vec<Vec<u8>> = Vec::with_capacity(self.slots.len() + 1);
        for slot in &self.slots {
            items.push(if slot.dirty {
                self.reencode(slot)?
            } else {
                slot.raw.clone()
            });
        }
        if !self.pending.is_empty() {
            items.push(self.new_content_info()?);
        }
        let parts: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        let auth_safe = asn1::seq(&parts);
        let auth_ci = asn1::seq(&[
            &asn1::oid(oids::DATA),
            &asn1::tlv(asn1::CTX0, &[&asn1::octet_string(&auth_safe)]),
        ]);
        let mac = match &self.mac {
            Some(m) => m.renew(&self.pw_form(self.mac_form)?, &auth_safe)?,
            None if self.has_mac => {
                return Err(KeystoreError::PasswordRequired(
                    "the MAC was not checked, so it cannot be renewed".into(),
                ))
            }
            None => Vec::new(),
        };
        Ok(asn1::seq(&[&self.version_raw, &auth_ci, &mac]))
    }

    /// One of the byte forms of the opening password (see [`pbe::password_forms`]).
    fn pw_form(&self, index: Option<usize>) -> Result<PwForm, KeystoreError> {
        let pw = self
            .password
            .as_ref()
            .ok_or_else(|| KeystoreError::PasswordRequired("no store password".into()))?;
        pbe::password_forms(&pw.0)
            .into_iter()
            .nth(index.unwrap_or(0))
            .ok_or_else(|| {
                KeystoreError::PasswordRequired("no usable form of the store password".into())
            })
    }

    /// How new certificates are protected: like the first EncryptedData (the certificates
    /// keytool wrote), or plain Data when there is none.
    fn cert_protection(&self) -> Option<(&EncAlg, Option<usize>)> {
        self.slots.iter().find_map(|s| match &s.kind {
            SlotKind::Encrypted {
                alg: Some(alg),
                form,
                ..
            } => Some((alg, *form)),
            _ => None,
        })
    }

    fn new_content_info(&self) -> Result<Vec<u8>, KeystoreError> {
        let safe_contents = safe_contents(&self.pending);
        match self.cert_protection() {
            None => Ok(data_content_info(&safe_contents)),
            Some((alg, form)) => {
                encrypted_content_info(&alg.fresh()?, &self.pw_form(form)?, &safe_contents)
            }
        }
    }

    fn reencode(&self, slot: &Slot) -> Result<Vec<u8>, KeystoreError> {
        let bags = slot.bags.as_deref().unwrap_or_default();
        let safe_contents = safe_contents(bags);
        match &slot.kind {
            SlotKind::Data => Ok(data_content_info(&safe_contents)),
            SlotKind::Encrypted {
                alg: Some(alg),
                form,
                ..
            } => encrypted_content_info(&alg.fresh()?, &self.pw_form(*form)?, &safe_contents),
            SlotKind::Encrypted { alg: None, .. } => Err(KeystoreError::PasswordRequired(
                "encrypted content was not read".into(),
            )),
        }
    }

    /// The entries as Java's `engineLoad` builds them from the bags, in file order, new
    /// bags last.
    fn build_entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        // Which put produced each entry: a later bag with the same alias replaces an
        // entry in place (Java's LinkedHashMap.put), and a replaced key gets no chain.
        let mut owner: Vec<usize> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut puts = 0usize;
        let mut put = |entries: &mut Vec<Entry>, owner: &mut Vec<usize>, entry: Entry| -> usize {
            puts += 1;
            match index.get(&entry.alias) {
                Some(&i) => {
                    entries[i] = entry;
                    owner[i] = puts;
                }
                None => {
                    index.insert(entry.alias.clone(), entries.len());
                    entries.push(entry);
                    owner.push(puts);
                }
            }
            puts
        };
        let mut unfriendly = 0u32;
        let mut alias_of = |bag: &Bag| {
            bag.friendly_name.clone().unwrap_or_else(|| {
                unfriendly += 1;
                unfriendly.to_string()
            })
        };

        struct KeyRec {
            alias_lc: String,
            key_id: Vec<u8>,
            put: usize,
        }
        /// A certificate as a chain link: DER, issuer, subject.
        type Link<'a> = (&'a [u8], &'a [u8], &'a [u8]);
        struct CertRec<'a> {
            link: Link<'a>,
            key_id: Option<&'a [u8]>,
            alias_lc: Option<String>,
        }
        let mut keys: Vec<KeyRec> = Vec::new();
        let mut chain_certs: Vec<CertRec<'_>> = Vec::new();
        // The first certificate with a subject wins, as in Java's certsMap.
        let mut by_subject: HashMap<&[u8], Link<'_>> = HashMap::new();
        let mut private_keys = 0usize;
        let mut input_bytes = 0usize;

        let groups = self
            .slots
            .iter()
            .filter_map(|s| s.bags.as_deref())
            .chain(std::iter::once(self.pending.as_slice()));
        for bags in groups {
            for (i, bag) in bags.iter().enumerate() {
                input_bytes += bag.raw.len();
                match &bag.kind {
                    BagKind::ShroudedKey => {
                        private_keys += 1;
                        // Java's workaround for a lone key without localKeyId.
                        let key_id = match &bag.local_key_id {
                            Some(k) => k.clone(),
                            None if private_keys == 1 => b"01".to_vec(),
                            None => continue,
                        };
                        let alias_lc = alias_of(bag).to_lowercase();
                        let entry = Entry {
                            alias: alias_lc.clone(),
                            kind: EntryKind::PrivateKey,
                            created_ms: time_from_key_id(&key_id),
                            certs: Vec::new(),
                        };
                        let put = put(&mut entries, &mut owner, entry);
                        keys.push(KeyRec {
                            alias_lc,
                            key_id,
                            put,
                        });
                    }
                    BagKind::Secret => {
                        let alias = alias_of(bag);
                        let created_ms = bag.local_key_id.as_deref().and_then(time_from_key_id);
                        let entry = Entry {
                            alias: alias.to_lowercase(),
                            kind: EntryKind::SecretKey,
                            created_ms,
                            certs: Vec::new(),
                        };
                        put(&mut entries, &mut owner, entry);
                    }
                    BagKind::Cert {
                        der,
                        issuer,
                        subject,
                        trusted,
                    } => {
                        let link: Link<'_> = (der, issuer, subject);
                        let key_id: Option<&[u8]> = match &bag.local_key_id {
                            Some(k) => Some(k),
                            None if private_keys == 1 && i == 0 => Some(b"01"),
                            None => None,
                        };
                        if *trusted {
                            let alias = alias_of(bag);
                            let entry = Entry {
                                alias: alias.to_lowercase(),
                                kind: EntryKind::TrustedCert,
                                created_ms: bag.local_key_id.as_deref().and_then(time_from_key_id),
                                certs: vec![der.clone()],
                            };
                            put(&mut entries, &mut owner, entry);
                        } else {
                            chain_certs.push(CertRec {
                                link,
                                key_id,
                                alias_lc: bag.friendly_name.as_ref().map(|a| a.to_lowercase()),
                            });
                        }
                        by_subject.entry(subject.as_slice()).or_insert(link);
                    }
                    BagKind::Other => {}
                }
            }
        }
        if keys.is_empty() {
            return entries;
        }

        // Java's findMatchedCertificate scans every certificate for every key; these
        // indexes give the same answers without that product, which a hostile file could
        // make large. Java's order: the first certificate matching localKeyId and alias,
        // else the last matching localKeyId, else the last matching the alias.
        let mut full: HashMap<(&[u8], &str), usize> = HashMap::new();
        let mut by_id: HashMap<&[u8], usize> = HashMap::new();
        let mut by_alias: HashMap<&str, Vec<usize>> = HashMap::new();
        for (n, c) in chain_certs.iter().enumerate() {
            if let Some(k) = c.key_id {
                by_id.insert(k, n);
                if let Some(a) = &c.alias_lc {
                    full.entry((k, a.as_str())).or_insert(n);
                }
            }
            if let Some(a) = &c.alias_lc {
                by_alias.entry(a.as_str()).or_default().push(n);
            }
        }
        let current: HashMap<usize, usize> =
            owner.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        // Chains are copied into the entries; bound the copies so that many keys sharing
        // a long chain cannot multiply a hostile file's size (no real store comes close).
        let mut budget = CHAIN_COPY_BUDGET.saturating_add(input_bytes.saturating_mul(2));

        for key in &keys {
            let Some(&i) = current.get(&key.put) else {
                continue;
            };
            let id = key.key_id.as_slice();
            let start = full
                .get(&(id, key.alias_lc.as_str()))
                .or_else(|| by_id.get(id))
                .copied()
                .or_else(|| {
                    // Only certificates whose localKeyId differs count here; when one with
                    // the same id had the alias, `full` matched already.
                    by_alias
                        .get(key.alias_lc.as_str())?
                        .iter()
                        .rev()
                        .find(|&&n| chain_certs.get(n).is_some_and(|c| c.key_id != Some(id)))
                        .copied()
                });
            let mut chain: Vec<Vec<u8>> = Vec::new();
            let mut seen: HashSet<&[u8]> = HashSet::new();
            let mut next = start.and_then(|n| chain_certs.get(n)).map(|c| c.link);
            while let Some((der, issuer, subject)) = next {
                if chain.len() >= MAX_CHAIN || der.len() > budget || !seen.insert(der) {
                    break;
                }
                budget -= der.len();
                chain.push(der.to_vec());
                if issuer == subject {
                    break;
                }
                next = by_subject.get(issuer).copied();
            }
            if let Some(e) = entries.get_mut(i) {
                e.certs = chain;
            }
        }
        entries
    }
}

/// The date Java stores in a key entry's localKeyId: the ASCII text "Time <epoch ms>".
fn time_from_key_id(key_id: &[u8]) -> Option<i64> {
    std::str::from_utf8(key_id)
        .ok()?
        .strip_prefix("Time ")?
        .parse()
        .ok()
}

/// The AuthenticatedSafe bytes inside the outer ContentInfo (Data; signedData, the
/// public-key integrity mode, is not something keytool writes).
fn auth_safe_content(auth: &Tlv<'_>) -> Result<Vec<u8>, KeystoreError> {
    let mut a = Reader::new(auth.value, "authSafe");
    let ct = a.read(asn1::OID, "the authSafe content type")?;
    if ct.value == oids::SIGNED_DATA {
        return Err(KeystoreError::Unsupported(
            "a PKCS#12 file in public-key integrity mode (signedData); Java keystores use a password MAC".into(),
        ));
    }
    if ct.value != oids::DATA {
        return Err(KeystoreError::Malformed(format!(
            "the authSafe content type is {}, not data",
            oids::describe(ct.value)
        )));
    }
    let explicit = a.read(asn1::CTX0, "the authSafe content")?;
    a.finish("the authSafe content")?;
    let mut e = Reader::new(explicit.value, "authSafe");
    let os = e.read_any()?;
    e.finish("the authSafe OCTET STRING")?;
    if os.tag & !0x20 != asn1::OCTET_STRING {
        return Err(asn1::malformed(
            "authSafe",
            "the content is not an OCTET STRING",
        ));
    }
    Ok(asn1::octets(&os, "authSafe")?.into_owned())
}

fn parse_auth_safe(auth_safe: &[u8], with_password: bool) -> Result<Vec<Slot>, KeystoreError> {
    let auth_safe = asn1::to_der(auth_safe, "AuthenticatedSafe", asn1::Shortfall::Malformed)?;
    let mut r = Reader::new(&auth_safe, "AuthenticatedSafe");
    let seq = r.read(asn1::SEQUENCE, "the AuthenticatedSafe")?;
    r.finish("the AuthenticatedSafe")?;
    let mut items = Reader::new(seq.value, "AuthenticatedSafe");
    let mut slots = Vec::new();
    while !items.is_empty() {
        let ci = items.read(asn1::SEQUENCE, "a ContentInfo")?;
        slots.push(parse_content_info(&ci, slots.len(), with_password)?);
    }
    Ok(slots)
}

fn parse_content_info(
    ci: &Tlv<'_>,
    index: usize,
    with_password: bool,
) -> Result<Slot, KeystoreError> {
    const C: &str = "ContentInfo";
    let mut c = Reader::new(ci.value, C);
    let ct = c.read(asn1::OID, "the content type")?;
    let content = c.read(asn1::CTX0, "the content")?;
    c.finish("the content")?;
    let mut inner = Reader::new(content.value, C);
    let body = inner.read_any()?;
    inner.finish("the content")?;
    match ct.value {
        o if o == oids::DATA => {
            if body.tag & !0x20 != asn1::OCTET_STRING {
                return Err(asn1::malformed(C, format!("Data content #{index} is not an OCTET STRING")));
            }
            let bytes = asn1::octets(&body, C)?;
            let bags = parse_safe_contents(&bytes)?;
            // A BER SafeContents is written back as the DER of its bags (each bag's content
            // unchanged), so that an appended file is DER throughout.
            let raw = if asn1::to_der(&bytes, "SafeContents", asn1::Shortfall::Malformed)?.as_ref() != bytes.as_ref() {
                data_content_info(&safe_contents(&bags))
            } else {
                ci.raw.to_vec()
            };
            Ok(Slot { raw, kind: SlotKind::Data, bags: Some(bags), dirty: false })
        }
        o if o == oids::ENCRYPTED_DATA => {
            if body.tag != asn1::SEQUENCE {
                return Err(asn1::malformed(C, format!("EncryptedData #{index} is not a SEQUENCE")));
            }
            // Without a password Java skips EncryptedData unread, so nothing in it can
            // make the load fail.
            let mut raw = ci.raw.to_vec();
            let (alg, ciphertext) = if with_password {
                let (alg, ciphertext, der) = encrypted_data_alg(&body).map_err(|e| match e {
                    KeystoreError::JavaCannotLoad(JavaLoadProblem::Pbes2Cipher { cipher, .. }) => {
                        KeystoreError::JavaCannotLoad(JavaLoadProblem::Pbes2Cipher {
                            cipher,
                            content: format!("the certificates (ContentInfo #{index})"),
                        })
                    }
                    other => other,
                })?;
                if let Some(ed) = der {
                    raw = asn1::seq(&[&asn1::oid(oids::ENCRYPTED_DATA), &asn1::tlv(asn1::CTX0, &[&ed])]);
                }
                (Some(alg), ciphertext)
            } else {
                (None, Vec::new())
            };
            let kind = SlotKind::Encrypted { alg, form: None, ciphertext };
            Ok(Slot { raw, kind, bags: None, dirty: false })
        }
        o if o == oids::ENVELOPED_DATA || o == oids::SIGNED_DATA => Err(KeystoreError::Unsupported(
            "PKCS#12 content protected with public keys (envelopedData/signedData); Java keystores use passwords".into(),
        )),
        o => Err(KeystoreError::Unsupported(format!("PKCS#12 content of type {}", oids::describe(o)))),
    }
}

/// The algorithm and ciphertext of an EncryptedData, and, when its encryptedContent was in
/// the constructed (BER) form, the EncryptedData re-encoded with it primitive (DER).
type EncryptedParts = (EncAlg, Vec<u8>, Option<Vec<u8>>);

fn encrypted_data_alg(ed: &Tlv<'_>) -> Result<EncryptedParts, KeystoreError> {
    const E: &str = "EncryptedData";
    let mut r = Reader::new(ed.value, E);
    let version = r.read(asn1::INTEGER, "the EncryptedData version")?;
    let eci = r.read(asn1::SEQUENCE, "EncryptedContentInfo")?;
    let unprotected = &ed.value[ed.value.len() - r.remaining()..];
    // unprotectedAttrs [1] may follow; it carries nothing Java uses.
    let mut e = Reader::new(eci.value, E);
    let ct = e.read(asn1::OID, "the encrypted content type")?;
    if ct.value != oids::DATA {
        return Err(asn1::malformed(
            E,
            format!("encrypted content of type {}", oids::describe(ct.value)),
        ));
    }
    let alg_tlv = e.read(asn1::SEQUENCE, "contentEncryptionAlgorithm")?;
    let alg = EncAlg::parse(&alg_tlv)?;
    let (ciphertext, constructed) = match e.peek_tag() {
        Some(asn1::CTX0_PRIM) => (
            e.read(asn1::CTX0_PRIM, "encryptedContent")?.value.to_vec(),
            false,
        ),
        // The constructed form (BER) holds OCTET STRING chunks.
        Some(asn1::CTX0) => (
            asn1::octets(&e.read(asn1::CTX0, "encryptedContent")?, E)?.into_owned(),
            true,
        ),
        _ => (Vec::new(), false),
    };
    e.finish("encryptedContent")?;
    let der = constructed.then(|| {
        let eci = asn1::seq(&[
            ct.raw,
            alg_tlv.raw,
            &asn1::tlv(asn1::CTX0_PRIM, &[&ciphertext]),
        ]);
        asn1::seq(&[version.raw, &eci, unprotected])
    });
    Ok((alg, ciphertext, der))
}

/// Decrypts an EncryptedData slot with the first password form that yields SafeContents.
fn decrypt_slot(
    slot: &mut Slot,
    index: usize,
    forms: &[PwForm],
    mac_verified: bool,
) -> Result<(), KeystoreError> {
    let SlotKind::Encrypted {
        alg: Some(alg),
        form,
        ciphertext,
    } = &mut slot.kind
    else {
        return Ok(());
    };
    let ciphertext = std::mem::take(ciphertext);
    let mut last_parse_error = None;
    for (i, pw) in forms.iter().enumerate() {
        match alg.decrypt(pw, &ciphertext) {
            Ok(plain) => match parse_safe_contents(&plain) {
                Ok(bags) => {
                    *form = Some(i);
                    slot.bags = Some(bags);
                    return Ok(());
                }
                Err(e) => last_parse_error = Some(e),
            },
            Err(DecryptError::WrongPasswordOrCorrupt) => {}
            Err(DecryptError::Other(e)) => return Err(e),
        }
    }
    match last_parse_error {
        // The MAC proved the password, so content that decrypts to garbage is corrupt.
        Some(e) if mac_verified => Err(e),
        _ => Err(KeystoreError::WrongPassword(format!(
            "the store password does not decrypt the certificates in ContentInfo #{index} ({})",
            alg.describe()
        ))),
    }
}

fn parse_safe_contents(bytes: &[u8]) -> Result<Vec<Bag>, KeystoreError> {
    const S: &str = "SafeContents";
    let bytes = asn1::to_der(bytes, S, asn1::Shortfall::Malformed)?;
    let mut r = Reader::new(&bytes, S);
    let seq = r.read(asn1::SEQUENCE, "SafeContents")?;
    r.finish("SafeContents")?;
    let mut items = Reader::new(seq.value, S);
    let mut bags = Vec::new();
    while !items.is_empty() {
        bags.push(parse_bag(&items.read(asn1::SEQUENCE, "a SafeBag")?)?);
    }
    Ok(bags)
}

fn parse_bag(tlv: &Tlv<'_>) -> Result<Bag, KeystoreError> {
    const B: &str = "SafeBag";
    let mut r = Reader::new(tlv.value, B);
    let id = r.read(asn1::OID, "the bag type")?;
    let value = r.read(asn1::CTX0, "the bag value")?;
    let attrs = r.read_optional(asn1::SET, "the bag attributes")?;
    r.finish("the bag attributes")?;

    let mut friendly_name = None;
    let mut local_key_id = None;
    let mut trusted = false;
    if let Some(attrs) = attrs {
        // Java writes this SET unsorted and reads it in any order; so do we.
        let mut a = Reader::new(attrs.value, B);
        while !a.is_empty() {
            let attr = a.read(asn1::SEQUENCE, "an attribute")?;
            let mut ar = Reader::new(attr.value, B);
            let oid = ar.read(asn1::OID, "the attribute type")?;
            let values = ar.read(asn1::SET, "the attribute values")?;
            ar.finish("the attribute values")?;
            let mut vr = Reader::new(values.value, B);
            // Windows writes "Microsoft Local Key set" with an empty value SET; Java keeps
            // such unknown attributes as they are, and so do we. An empty trustedKeyUsage is
            // still a trusted certificate to Java; an empty friendlyName or localKeyId makes
            // Java's loader fail (it reads their first value).
            if vr.is_empty() {
                match oid.value {
                    o if o == oids::FRIENDLY_NAME || o == oids::LOCAL_KEY_ID => {
                        return Err(KeystoreError::JavaCannotLoad(
                            JavaLoadProblem::EmptyAttribute {
                                attribute: oids::name(o).unwrap_or("friendlyName"),
                            },
                        ))
                    }
                    o if o == oids::ORACLE_TRUSTED_KEY_USAGE => trusted = true,
                    _ => {}
                }
                continue;
            }
            let first = vr.read_any()?;
            match oid.value {
                o if o == oids::FRIENDLY_NAME => {
                    if first.tag != asn1::BMP_STRING {
                        return Err(asn1::malformed(B, "a friendlyName that is not a BMPString"));
                    }
                    friendly_name = Some(asn1::decode_bmp(first.value, B)?);
                }
                o if o == oids::LOCAL_KEY_ID => {
                    if first.tag != asn1::OCTET_STRING {
                        return Err(asn1::malformed(
                            B,
                            "a localKeyId that is not an OCTET STRING",
                        ));
                    }
                    local_key_id = Some(first.value.to_vec());
                }
                o if o == oids::ORACLE_TRUSTED_KEY_USAGE => trusted = true,
                _ => {}
            }
        }
    }

    let mut v = Reader::new(value.value, B);
    let inner = v.read_any()?;
    v.finish("the bag value")?;
    let kind = match id.value {
        o if o == oids::SHROUDED_KEY_BAG => {
            if inner.tag != asn1::SEQUENCE {
                return Err(asn1::malformed(
                    B,
                    "a pkcs8ShroudedKeyBag that is not a SEQUENCE",
                ));
            }
            BagKind::ShroudedKey
        }
        o if o == oids::CERT_BAG => {
            if inner.tag != asn1::SEQUENCE {
                return Err(asn1::malformed(B, "a CertBag that is not a SEQUENCE"));
            }
            let mut c = Reader::new(inner.value, "CertBag");
            let cert_id = c.read(asn1::OID, "the certificate type")?;
            let cv = c.read(asn1::CTX0, "the certificate value")?;
            c.finish("the certificate value")?;
            if cert_id.value != oids::X509_CERTIFICATE {
                return Err(KeystoreError::Unsupported(format!(
                    "a CertBag holding a {} certificate (only X.509 exists in Java)",
                    oids::describe(cert_id.value)
                )));
            }
            let mut cr = Reader::new(cv.value, "CertBag");
            let os = cr.read(asn1::OCTET_STRING, "the certificate")?;
            cr.finish("the certificate")?;
            let der = os.value.to_vec();
            let (issuer, subject) = cert_names(&der)
                .map_err(|e| KeystoreError::Malformed(format!("a CertBag certificate: {e}")))?;
            BagKind::Cert {
                der,
                issuer,
                subject,
                trusted,
            }
        }
        o if o == oids::SECRET_BAG => {
            if inner.tag != asn1::SEQUENCE {
                return Err(asn1::malformed(B, "a SecretBag that is not a SEQUENCE"));
            }
            BagKind::Secret
        }
        _ => BagKind::Other,
    };
    Ok(Bag {
        raw: tlv.raw.to_vec(),
        kind,
        friendly_name,
        local_key_id,
    })
}

/// The issuer and subject Names (their DER) of an X.509 certificate, checking only the
/// outline of the structure: Java would refuse the whole store over a certificate it cannot
/// parse, and chains are built from these names.
fn cert_names(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let run = || -> Result<(Vec<u8>, Vec<u8>), KeystoreError> {
        let mut r = Reader::new(der, "Certificate");
        let cert = r.read(asn1::SEQUENCE, "Certificate")?;
        r.finish("the Certificate")?;
        let mut c = Reader::new(cert.value, "Certificate");
        let tbs = c.read(asn1::SEQUENCE, "tbsCertificate")?;
        c.read(asn1::SEQUENCE, "signatureAlgorithm")?;
        c.read(0x03, "signatureValue")?;
        c.finish("signatureValue")?;
        let mut t = Reader::new(tbs.value, "tbsCertificate");
        t.read_optional(asn1::CTX0, "version")?;
        t.read(asn1::INTEGER, "serialNumber")?;
        t.read(asn1::SEQUENCE, "signature")?;
        let issuer = t.read(asn1::SEQUENCE, "issuer")?;
        t.read(asn1::SEQUENCE, "validity")?;
        let subject = t.read(asn1::SEQUENCE, "subject")?;
        t.read(asn1::SEQUENCE, "subjectPublicKeyInfo")?;
        Ok((issuer.raw.to_vec(), subject.raw.to_vec()))
    };
    run().map_err(|e| match e {
        KeystoreError::Malformed(m)
        | KeystoreError::Truncated(m)
        | KeystoreError::Unsupported(m) => m,
        other => other.to_string(),
    })
}

/// A trusted CertBag as keytool writes it: friendlyName (BMPString) and Oracle's
/// trustedKeyUsage = {anyExtendedKeyUsage}; the attribute SET is DER-sorted, which Java
/// reads as well as its own order.
fn trusted_cert_bag(alias: &str, der: &[u8]) -> Vec<u8> {
    let cert_bag = asn1::seq(&[
        &asn1::oid(oids::X509_CERTIFICATE),
        &asn1::tlv(asn1::CTX0, &[&asn1::octet_string(der)]),
    ]);
    let friendly = asn1::seq(&[
        &asn1::oid(oids::FRIENDLY_NAME),
        &asn1::set_of(vec![asn1::bmp_string(alias)]),
    ]);
    let usage = asn1::seq(&[
        &asn1::oid(oids::ORACLE_TRUSTED_KEY_USAGE),
        &asn1::set_of(vec![asn1::oid(oids::ANY_EXTENDED_KEY_USAGE)]),
    ]);
    asn1::seq(&[
        &asn1::oid(oids::CERT_BAG),
        &asn1::tlv(asn1::CTX0, &[&cert_bag]),
        &asn1::set_of(vec![friendly, usage]),
    ])
}

fn safe_contents(bags: &[Bag]) -> Vec<u8> {
    let parts: Vec<&[u8]> = bags.iter().map(|b| b.raw.as_slice()).collect();
    asn1::seq(&parts)
}

fn data_content_info(safe_contents: &[u8]) -> Vec<u8> {
    asn1::seq(&[
        &asn1::oid(oids::DATA),
        &asn1::tlv(asn1::CTX0, &[&asn1::octet_string(safe_contents)]),
    ])
}

/// An EncryptedData ContentInfo as Java writes it (version 0, content type data).
fn encrypted_content_info(
    alg: &EncAlg,
    pw: &PwForm,
    safe_contents: &[u8],
) -> Result<Vec<u8>, KeystoreError> {
    let ciphertext = alg.encrypt(pw, safe_contents)?;
    let eci = asn1::seq(&[
        &asn1::oid(oids::DATA),
        &alg.encode(),
        &asn1::tlv(asn1::CTX0_PRIM, &[&ciphertext]),
    ]);
    let ed = asn1::seq(&[&asn1::uint_der(0), &eci]);
    Ok(asn1::seq(&[
        &asn1::oid(oids::ENCRYPTED_DATA),
        &asn1::tlv(asn1::CTX0, &[&ed]),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use asn1::{oid, seq, set_of, tlv};

    /// A certificate outline with the given issuer and subject CNs (enough for this codec,
    /// which reads only the names).
    fn cert(issuer: &str, subject: &str) -> Vec<u8> {
        let name = |cn: &str| {
            let atv = seq(&[&oid(&[0x55, 0x04, 0x03]), &tlv(0x0C, &[cn.as_bytes()])]);
            seq(&[&set_of(vec![atv])])
        };
        let alg = seq(&[&oid(&[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02])]);
        let tbs = seq(&[
            &tlv(asn1::CTX0, &[&asn1::uint_der(2)]),
            &asn1::uint_der(1),
            &alg,
            &name(issuer),
            &seq(&[]),
            &name(subject),
            &seq(&[]),
        ]);
        seq(&[&tbs, &alg, &tlv(0x03, &[&[0]])])
    }

    fn attrs(name: Option<&str>, key_id: Option<&str>, trusted: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if let Some(n) = name {
            v.push(seq(&[
                &oid(oids::FRIENDLY_NAME),
                &set_of(vec![asn1::bmp_string(n)]),
            ]));
        }
        if let Some(k) = key_id {
            v.push(seq(&[
                &oid(oids::LOCAL_KEY_ID),
                &set_of(vec![asn1::octet_string(k.as_bytes())]),
            ]));
        }
        if trusted {
            v.push(seq(&[
                &oid(oids::ORACLE_TRUSTED_KEY_USAGE),
                &set_of(vec![oid(oids::ANY_EXTENDED_KEY_USAGE)]),
            ]));
        }
        if v.is_empty() {
            Vec::new()
        } else {
            set_of(v)
        }
    }

    fn cert_bag(der: &[u8], attrs: Vec<u8>) -> Vec<u8> {
        let value = seq(&[
            &oid(oids::X509_CERTIFICATE),
            &tlv(asn1::CTX0, &[&asn1::octet_string(der)]),
        ]);
        seq(&[&oid(oids::CERT_BAG), &tlv(asn1::CTX0, &[&value]), &attrs])
    }

    fn key_bag(attrs: Vec<u8>) -> Vec<u8> {
        let epki = seq(&[&seq(&[&oid(oids::PBES2)]), &asn1::octet_string(&[1; 16])]);
        seq(&[
            &oid(oids::SHROUDED_KEY_BAG),
            &tlv(asn1::CTX0, &[&epki]),
            &attrs,
        ])
    }

    fn secret_bag(attrs: Vec<u8>) -> Vec<u8> {
        let value = seq(&[
            &oid(oids::PBES2),
            &tlv(asn1::CTX0, &[&asn1::octet_string(&[2; 8])]),
        ]);
        seq(&[&oid(oids::SECRET_BAG), &tlv(asn1::CTX0, &[&value]), &attrs])
    }

    /// A password-less PFX with one Data ContentInfo per group of bags.
    fn pfx(groups: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let cis: Vec<Vec<u8>> = groups
            .iter()
            .map(|bags| {
                let parts: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
                data_content_info(&seq(&parts))
            })
            .collect();
        let parts: Vec<&[u8]> = cis.iter().map(Vec::as_slice).collect();
        let auth_safe = seq(&parts);
        let auth = seq(&[
            &oid(oids::DATA),
            &tlv(asn1::CTX0, &[&asn1::octet_string(&auth_safe)]),
        ]);
        seq(&[&asn1::uint_der(3), &auth])
    }

    type Summary = (String, EntryKind, Vec<Vec<u8>>, Option<i64>);

    fn summary(s: &Pkcs12Store) -> Vec<Summary> {
        s.entries()
            .iter()
            .map(|e| (e.alias.clone(), e.kind, e.certs.clone(), e.created_ms))
            .collect()
    }

    #[test]
    fn entries_follow_javas_rules() {
        let leaf = cert("Inter", "Leaf");
        let inter = cert("Root", "Inter");
        let root = cert("Root", "Root");
        let trusted_1 = cert("T1", "T1");
        let trusted_2 = cert("T2", "T2");
        let orphan = cert("O", "O");
        let unnamed = cert("U", "U");
        let time = "Time 1795000000000";
        let file = pfx(&[
            vec![
                key_bag(attrs(Some("Key"), Some(time), false)),
                secret_bag(attrs(Some("S"), Some("Time 5"), false)),
            ],
            vec![
                cert_bag(&leaf, attrs(Some("Key"), Some(time), false)),
                cert_bag(&inter, attrs(Some("CN=Inter"), None, false)),
                cert_bag(&root, attrs(Some("CN=Root"), None, false)),
                cert_bag(&trusted_1, attrs(Some("Trusted A"), None, true)),
                cert_bag(&orphan, attrs(Some("orphan"), None, false)),
                cert_bag(&unnamed, attrs(None, None, true)),
                // Same alias ignoring case: replaces the first in place (last wins).
                cert_bag(&trusted_2, attrs(Some("trusted a"), None, true)),
            ],
        ]);
        let mut s = Pkcs12Store::parse(&file, None).unwrap();
        assert!(s.is_passwordless() && s.is_verified());
        assert_eq!(
            summary(&s),
            vec![
                (
                    "key".into(),
                    EntryKind::PrivateKey,
                    vec![leaf.clone(), inter, root],
                    Some(1_795_000_000_000)
                ),
                ("s".into(), EntryKind::SecretKey, vec![], Some(5)),
                (
                    "trusted a".into(),
                    EntryKind::TrustedCert,
                    vec![trusted_2.clone()],
                    None
                ),
                ("1".into(), EntryKind::TrustedCert, vec![unnamed], None),
            ]
        );
        // friendlyNames of certificates that are not entries are taken too.
        for taken in ["CN=ROOT", "Orphan", "KEY", "S", "1"] {
            assert!(matches!(
                s.add_trusted_cert(taken, &orphan, 0),
                Err(KeystoreError::AliasExists(_))
            ));
        }
        assert!(matches!(
            s.remove_entry("s"),
            Err(KeystoreError::Unsupported(_))
        ));
        // Both bags named "trusted a" go.
        s.remove_entry("Trusted A").unwrap();
        let re = Pkcs12Store::parse(&s.to_bytes(None).unwrap(), None).unwrap();
        let aliases: Vec<&str> = re.entries().iter().map(|e| e.alias.as_str()).collect();
        assert_eq!(aliases, ["key", "s", "1"]);
        assert_eq!(re.entries()[0].certs.len(), 3);
    }

    #[test]
    fn a_lone_key_without_local_key_id_gets_the_first_certificate() {
        let leaf = cert("Leaf", "Leaf");
        let file = pfx(&[
            vec![key_bag(attrs(Some("k"), None, false))],
            vec![cert_bag(&leaf, Vec::new())],
        ]);
        let s = Pkcs12Store::parse(&file, None).unwrap();
        assert_eq!(
            summary(&s),
            vec![("k".into(), EntryKind::PrivateKey, vec![leaf], None)]
        );
        // With two keys and no localKeyId, Java drops the keys.
        let file = pfx(&[vec![
            key_bag(attrs(Some("a"), None, false)),
            key_bag(attrs(Some("b"), None, false)),
        ]]);
        let s = Pkcs12Store::parse(&file, None).unwrap();
        assert_eq!(
            s.entries()
                .iter()
                .map(|e| e.alias.as_str())
                .collect::<Vec<_>>(),
            ["a"]
        );
    }

    #[test]
    fn chain_loops_stop() {
        let a = cert("B", "A");
        let b = cert("A", "B");
        let file = pfx(&[vec![
            key_bag(attrs(Some("k"), Some("id"), false)),
            cert_bag(&a, attrs(Some("k"), Some("id"), false)),
            cert_bag(&b, Vec::new()),
        ]]);
        let s = Pkcs12Store::parse(&file, None).unwrap();
        assert_eq!(s.entries()[0].certs, vec![a, b]);
    }

    #[test]
    fn adding_a_ca_extends_a_key_chain_as_java_would_on_reload() {
        let leaf = cert("Issuing CA", "Leaf");
        let ca = cert("Issuing CA", "Issuing CA");
        let file = pfx(&[vec![
            key_bag(attrs(Some("k"), Some("id"), false)),
            cert_bag(&leaf, attrs(Some("k"), Some("id"), false)),
        ]]);
        let mut s = Pkcs12Store::parse(&file, None).unwrap();
        assert_eq!(s.entries()[0].certs.len(), 1);
        s.add_trusted_cert("ca", &ca, 0).unwrap();
        assert_eq!(s.entries()[0].certs, vec![leaf, ca]);
        let re = Pkcs12Store::parse(&s.to_bytes(None).unwrap(), None).unwrap();
        assert_eq!(re.entries(), s.entries());
    }

    /// A MAC made with the empty password as Java's retry form (a NUL char, which the KDF
    /// encodes as no bytes at all) opens with "" and is renewed in the same form.
    #[test]
    fn an_empty_password_in_its_nul_form() {
        let plain = pfx(&[vec![cert_bag(
            &cert("A", "A"),
            attrs(Some("a"), None, true),
        )]]);
        // Re-assemble with a MAC over the same AuthenticatedSafe.
        let mut r = Reader::new(&plain, "t");
        let outer = r.read(asn1::SEQUENCE, "pfx").unwrap();
        let mut r = Reader::new(outer.value, "t");
        let version = r.read(asn1::INTEGER, "v").unwrap();
        let auth = r.read(asn1::SEQUENCE, "a").unwrap();
        let auth_safe = auth_safe_content(&auth).unwrap();
        let nul_form = pbe::password_forms("").remove(1);
        assert!(nul_form.bmp.is_empty());
        let template = MacParams {
            hash: pbe::HashAlg::Sha256,
            null_param: true,
            digest: Vec::new(),
            salt: Vec::new(),
            iterations: 100,
            iterations_default: false,
        };
        let mac = template.renew(&nul_form, &auth_safe).unwrap();
        let file = seq(&[version.raw, auth.raw, &mac]);

        let mut s = Pkcs12Store::parse(&file, Some("")).unwrap();
        assert!(s.is_verified() && !s.is_passwordless());
        assert_eq!(s.mac_form, Some(1));
        assert!(matches!(
            Pkcs12Store::parse(&file, Some("x")),
            Err(KeystoreError::WrongPassword(_))
        ));
        s.add_trusted_cert("b", &cert("B", "B"), 0).unwrap();
        let out = s.to_bytes(Some("")).unwrap();
        let re = Pkcs12Store::parse(&out, Some("")).unwrap();
        assert_eq!(re.mac_form, Some(1));
        assert_eq!(re.entries().len(), 2);
    }

    /// Many keys sharing a long chain: Java's scan would be keys x certificates, and
    /// copying every chain would multiply the file; both are bounded.
    #[test]
    fn many_keys_and_a_long_chain_stay_cheap() {
        let chain_len = 1000;
        let mut bags: Vec<Vec<u8>> = (0..5000)
            .map(|n| key_bag(attrs(Some(&format!("k{n}")), Some("id"), false)))
            .collect();
        for n in 0..chain_len {
            let der = cert(&format!("C{}", n + 1), &format!("C{n}"));
            let a = if n == 0 {
                attrs(None, Some("id"), false)
            } else {
                Vec::new()
            };
            bags.push(cert_bag(&der, a));
        }
        let file = pfx(&[bags]);
        let started = std::time::Instant::now();
        let s = Pkcs12Store::parse(&file, None).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(s.entries().len(), 5000);
        assert!(s.entries().iter().all(|e| e.certs.len() == MAX_CHAIN));
    }

    /// A protected PFX: the bags in one EncryptedData under `alg`, a SHA-256 MAC.
    fn protected_pfx(alg: &EncAlg, bags: &[Vec<u8>], pw: &str) -> Vec<u8> {
        protected_pfx_with(alg, bags, pw, |ci| ci)
    }

    /// [`protected_pfx`] with the EncryptedData ContentInfo transformed (the MAC follows).
    fn protected_pfx_with(
        alg: &EncAlg,
        bags: &[Vec<u8>],
        pw: &str,
        f: impl Fn(Vec<u8>) -> Vec<u8>,
    ) -> Vec<u8> {
        let form = &pbe::password_forms(pw)[0];
        let parts: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
        let ci = f(encrypted_content_info(alg, form, &seq(&parts)).unwrap());
        let auth_safe = seq(&[&ci]);
        let template = MacParams {
            hash: pbe::HashAlg::Sha256,
            null_param: true,
            digest: Vec::new(),
            salt: Vec::new(),
            iterations: 100,
            iterations_default: false,
        };
        let mac = template.renew(form, &auth_safe).unwrap();
        let auth = seq(&[
            &oid(oids::DATA),
            &tlv(asn1::CTX0, &[&asn1::octet_string(&auth_safe)]),
        ]);
        seq(&[&asn1::uint_der(3), &auth, &mac])
    }

    fn pbes2(aes_key_len: usize) -> EncAlg {
        EncAlg::Pbes2(pbe::Pbes2 {
            prf: pbe::Prf::Sha256,
            prf_field: pbe::PrfField::OidNull,
            key_length: None,
            iterations: 100,
            salt: vec![1; 16],
            aes_key_len,
            iv: [2; 16],
        })
    }

    fn indefinite(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let mut v = vec![tag, 0x80];
        for p in parts {
            v.extend_from_slice(p);
        }
        v.extend([0, 0]);
        v
    }

    /// A constructed OCTET STRING in two chunks, indefinite length.
    fn chunked(content: &[u8]) -> Vec<u8> {
        let mid = content.len() / 2;
        indefinite(
            0x24,
            &[
                &asn1::octet_string(&content[..mid]),
                &asn1::octet_string(&content[mid..]),
            ],
        )
    }

    /// Whether the DER reading of `data` is `data` itself.
    fn is_der(data: &[u8]) -> bool {
        matches!(
            asn1::to_der(data, "t", asn1::Shortfall::Malformed),
            Ok(std::borrow::Cow::Borrowed(_))
        )
    }

    /// A BER PFX (as Mozilla and Netscape export): read like its DER twin; appending
    /// writes DER throughout, with every bag's content kept.
    #[test]
    fn ber_is_read_and_appended_as_der() {
        let leaf = cert("Leaf", "Leaf");
        let ca = cert("CA", "CA");
        let key = key_bag(attrs(Some("k"), Some("id"), false));
        let leaf_bag = cert_bag(&leaf, attrs(Some("k"), Some("id"), false));
        let ca_bag = cert_bag(&ca, attrs(Some("ca"), None, true));
        let der = pfx(&[vec![key.clone(), leaf_bag.clone(), ca_bag.clone()]]);

        // One bag in BER too: its outer SEQUENCE indefinite, the same content inside.
        let ca_bag_ber = {
            let mut r = Reader::new(&ca_bag, "t");
            let t = r.read_any().unwrap();
            indefinite(0x30, &[t.value])
        };
        let safe_contents = indefinite(0x30, &[&key, &leaf_bag, &ca_bag_ber]);
        let data_ci = indefinite(
            0x30,
            &[
                &oid(oids::DATA),
                &indefinite(asn1::CTX0, &[&chunked(&safe_contents)]),
            ],
        );
        let auth_safe = indefinite(0x30, &[&data_ci]);
        let auth = indefinite(
            0x30,
            &[
                &oid(oids::DATA),
                &indefinite(asn1::CTX0, &[&chunked(&auth_safe)]),
            ],
        );
        let ber = indefinite(0x30, &[&asn1::uint_der(3), &auth]);
        assert!(!is_der(&ber));

        let twin = Pkcs12Store::parse(&der, None).unwrap();
        let mut s = Pkcs12Store::parse(&ber, None).unwrap();
        assert_eq!(s.entries(), twin.entries());
        assert_eq!(s.to_bytes(None).unwrap(), ber, "unchanged is the original");

        s.add_trusted_cert("new", &cert("N", "N"), 0).unwrap();
        let out = s.to_bytes(None).unwrap();
        // DER at every level: the PFX, the AuthenticatedSafe, each SafeContents.
        assert!(is_der(&out));
        let mut r = Reader::new(&out, "t");
        let pfx_tlv = r.read_any().unwrap();
        let mut r = Reader::new(pfx_tlv.value, "t");
        r.read_any().unwrap();
        let auth_tlv = r.read_any().unwrap();
        let auth_safe_out = auth_safe_content(&auth_tlv).unwrap();
        assert!(is_der(&auth_safe_out));
        let slots = parse_auth_safe(&auth_safe_out, false).unwrap();
        assert_eq!(slots.len(), 2);
        for slot in &slots {
            assert!(is_der(&slot.raw));
            let mut c = Reader::new(&slot.raw, "t");
            let ci = c.read_any().unwrap();
            let mut c = Reader::new(ci.value, "t");
            c.read_any().unwrap();
            let content = c.read_any().unwrap();
            let os = Reader::new(content.value, "t").read_any().unwrap();
            assert!(is_der(os.value));
        }
        // Every original bag, in its DER form, is in the output.
        for bag in [&key, &leaf_bag, &ca_bag] {
            assert!(out.windows(bag.len()).any(|w| w == &bag[..]));
        }
        let re = Pkcs12Store::parse(&out, None).unwrap();
        assert_eq!(re.entries(), s.entries());
    }

    /// An EncryptedData whose encryptedContent is in the constructed (BER) form: read, and
    /// written back with it primitive, the ciphertext unchanged.
    #[test]
    fn ber_encrypted_content_becomes_primitive() {
        let alg = pbes2(32);
        let bags = vec![cert_bag(&cert("A", "A"), attrs(Some("a"), None, true))];
        let to_ber = |ci: Vec<u8>| -> Vec<u8> {
            // ContentInfo { oid, [0] { EncryptedData { version, ECI { ct, alg, [0] ct } } } }
            let mut r = Reader::new(&ci, "t");
            let ci_t = r.read_any().unwrap();
            let mut r = Reader::new(ci_t.value, "t");
            let ct_oid = r.read_any().unwrap();
            let wrap = r.read_any().unwrap();
            let ed = Reader::new(wrap.value, "t").read_any().unwrap();
            let mut r = Reader::new(ed.value, "t");
            let version = r.read_any().unwrap();
            let eci = r.read_any().unwrap();
            let mut r = Reader::new(eci.value, "t");
            let (t, a, c) = (
                r.read_any().unwrap(),
                r.read_any().unwrap(),
                r.read_any().unwrap(),
            );
            let body = c.value;
            let mid = body.len() / 2;
            let chunks = indefinite(
                asn1::CTX0,
                &[
                    &asn1::octet_string(&body[..mid]),
                    &asn1::octet_string(&body[mid..]),
                ],
            );
            let eci = seq(&[t.raw, a.raw, &chunks]);
            seq(&[ct_oid.raw, &tlv(asn1::CTX0, &[&seq(&[version.raw, &eci])])])
        };
        let ber = protected_pfx_with(&alg, &bags, "pw", to_ber);
        let plain = protected_pfx(&alg, &bags, "pw");
        assert!(is_der(&plain));
        let mut s = Pkcs12Store::parse(&ber, Some("pw")).unwrap();
        assert_eq!(
            s.entries(),
            Pkcs12Store::parse(&plain, Some("pw")).unwrap().entries()
        );
        assert!(is_der(&s.slots[0].raw));
        s.add_trusted_cert("b", &cert("B", "B"), 0).unwrap();
        let out = s.to_bytes(Some("pw")).unwrap();
        let re = Pkcs12Store::parse(&out, Some("pw")).unwrap();
        assert_eq!(re.entries().len(), 2);
        assert!(re.slots.iter().all(|slot| is_der(&slot.raw)));
    }

    /// Windows' "Microsoft Local Key set" has no value: read as Java reads it, and kept.
    #[test]
    fn an_attribute_with_an_empty_value_set_is_kept() {
        let ca = cert("W", "W");
        let empty = seq(&[&oid(oids::MS_LOCAL_KEY_SET), &set_of(vec![])]);
        let name = seq(&[
            &oid(oids::FRIENDLY_NAME),
            &set_of(vec![asn1::bmp_string("w")]),
        ]);
        // An empty trustedKeyUsage still makes a trusted certificate, as in Java.
        let usage = seq(&[&oid(oids::ORACLE_TRUSTED_KEY_USAGE), &set_of(vec![])]);
        let bag = cert_bag(&ca, set_of(vec![empty.clone(), name, usage]));
        let file = pfx(&[vec![bag.clone()]]);
        let mut s = Pkcs12Store::parse(&file, None).unwrap();
        assert_eq!(
            summary(&s),
            vec![("w".into(), EntryKind::TrustedCert, vec![ca], None)]
        );
        s.add_trusted_cert("new", &cert("N", "N"), 0).unwrap();
        let out = s.to_bytes(None).unwrap();
        assert!(
            out.windows(bag.len()).any(|w| w == bag),
            "the bag is kept as it was"
        );

        // An empty friendlyName or localKeyId: Java's loader fails, and says so here.
        for attr in [oids::FRIENDLY_NAME, oids::LOCAL_KEY_ID] {
            let bad = cert_bag(
                &cert("X", "X"),
                set_of(vec![seq(&[&oid(attr), &set_of(vec![])])]),
            );
            match Pkcs12Store::parse(&pfx(&[vec![bad]]), None) {
                Err(KeystoreError::JavaCannotLoad(JavaLoadProblem::EmptyAttribute {
                    attribute,
                })) => {
                    assert_eq!(Some(attribute), oids::name(attr))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// PBES2 with AES-192: read, but Java cannot load it, so it is never written; other
    /// PBES2 ciphers (DES-EDE3-CBC, as Bouncy Castle writes) are refused, named.
    #[test]
    fn pbes2_ciphers_java_refuses() {
        let ca = cert("A", "A");
        let bags = vec![cert_bag(&ca, attrs(Some("a"), None, true))];
        let file = protected_pfx(&pbes2(24), &bags, "pw");
        let s = Pkcs12Store::parse(&file, Some("pw")).unwrap();
        assert_eq!(s.entries().len(), 1);
        let problem = s.java_load_problem().expect("AES-192 is flagged");
        assert!(problem.to_string().contains("AES-192-CBC"), "{problem}");
        // Without a password Java skips the EncryptedData, and loads the file.
        assert!(Pkcs12Store::parse(&file, None)
            .unwrap()
            .java_load_problem()
            .is_none());
        let mut ks = crate::keystore::Keystore::parse(&file, None, Some("pw")).unwrap();
        assert!(matches!(
            ks.add_trusted_cert("b", &cert("B", "B"), 0),
            Err(KeystoreError::JavaCannotLoad(_))
        ));
        assert!(matches!(
            ks.to_bytes(Some("pw")),
            Err(KeystoreError::JavaCannotLoad(_))
        ));

        // The same with AES-256 is fine.
        let ok = protected_pfx(&pbes2(32), &bags, "pw");
        assert!(Pkcs12Store::parse(&ok, Some("pw"))
            .unwrap()
            .java_load_problem()
            .is_none());

        // DES-EDE3-CBC in PBES2 (1.2.840.113549.3.7), as Bouncy Castle writes it.
        let des = asn1::oid(oids::DES_EDE3_CBC);
        let alg_tlv = {
            let params = seq(&[
                &seq(&[
                    &oid(oids::PBKDF2),
                    &seq(&[&asn1::octet_string(&[1; 16]), &asn1::uint_der(100)]),
                ]),
                &seq(&[&des, &asn1::octet_string(&[2; 8])]),
            ]);
            seq(&[&oid(oids::PBES2), &params])
        };
        let t = Reader::new(&alg_tlv, "t").read_any().unwrap();
        match EncAlg::parse(&t) {
            Err(KeystoreError::JavaCannotLoad(JavaLoadProblem::Pbes2Cipher { cipher, .. })) => {
                assert_eq!(cipher, "DES-EDE3-CBC")
            }
            other => panic!("{other:?}"),
        }
    }

    /// OpenSSL's legacy PBE-SHA1-RC4-128 certificates: read, and appended with the same.
    #[test]
    fn rc4_certificates_are_read_and_appended_alike() {
        let alg = EncAlg::Pkcs12(pbe::Pkcs12Pbe {
            cipher: pbe::LegacyCipher::Rc4_128,
            salt: vec![3; 8],
            iterations: 100,
        });
        let bags = vec![cert_bag(&cert("A", "A"), attrs(Some("a"), None, true))];
        let file = protected_pfx(&alg, &bags, "pw");
        let mut s = Pkcs12Store::parse(&file, Some("pw")).unwrap();
        assert_eq!(s.entries().len(), 1);
        assert!(matches!(
            Pkcs12Store::parse(&file, Some("wrong")),
            Err(KeystoreError::WrongPassword(_))
        ));
        s.add_trusted_cert("b", &cert("B", "B"), 0).unwrap();
        let re = Pkcs12Store::parse(&s.to_bytes(Some("pw")).unwrap(), Some("pw")).unwrap();
        assert_eq!(re.entries().len(), 2);
        let contents = re.contents();
        assert_eq!(contents.len(), 2);
        assert!(contents.iter().all(|c| matches!(
            c,
            ContentProtection::Encrypted { algorithm, .. } if algorithm.starts_with("PBE-SHA1-RC4-128")
        )));
    }

    #[test]
    fn debug_output_is_short_and_has_no_password() {
        let file = pfx(&[vec![]]);
        let s = Pkcs12Store::parse(&file, Some("secret-pw")).unwrap();
        let d = format!("{s:?}");
        assert!(!d.contains("secret-pw") && d.len() < 300, "{d}");
    }
}
