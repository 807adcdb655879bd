//! Java keystores (JKS, JCEKS, PKCS12) as Java reads and writes them.
//!
//! The codecs keep every entry they did not add byte for byte: private keys and secret keys
//! are carried as opaque bytes and never decrypted. This module is the one face the rest of
//! the tool sees: detect the format by content, parse, list entries, append trusted
//! certificates, serialize. Format code never prints.

mod bouncycastle;
pub mod jks;
pub mod pkcs12;

use serde::Serialize;
use thiserror::Error;

/// The keystore formats, detected by content, never by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreType {
    Jks,
    Jceks,
    Pkcs12,
}

impl StoreType {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Jks => "jks",
            StoreType::Jceks => "jceks",
            StoreType::Pkcs12 => "pkcs12",
        }
    }
}

impl std::fmt::Display for StoreType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    TrustedCert,
    PrivateKey,
    SecretKey,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::TrustedCert => "trusted-cert",
            EntryKind::PrivateKey => "private-key",
            EntryKind::SecretKey => "secret-key",
        }
    }
}

/// One entry as Java's `KeyStore` would present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The alias as Java lists it: for JKS/JCEKS exactly as stored (decoded from modified
    /// UTF-8); for PKCS12 the friendlyName folded to lower case (Java's map key).
    pub alias: String,
    pub kind: EntryKind,
    /// Creation date in milliseconds since the Unix epoch, when the format records one.
    pub created_ms: Option<i64>,
    /// DER certificates: exactly one for a trusted certificate, the chain (leaf first) for a
    /// private key (empty when the chain could not be read), none for a secret key.
    pub certs: Vec<Vec<u8>>,
}

/// The Bouncy Castle keystore formats, which Java's own providers cannot read (keytool says
/// "Unrecognized keystore format").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BouncyCastleFormat {
    /// BKS version 1 (Bouncy Castle before 1.47).
    BksV1,
    /// BKS version 2.
    Bks,
    /// UBER: BKS encrypted as a whole (Twofish).
    Uber,
    /// BCFKS, the FIPS keystore: ASN.1, but not PKCS#12.
    Bcfks,
}

impl BouncyCastleFormat {
    /// The name keytool's `-storetype` takes with the Bouncy Castle provider.
    pub fn as_str(self) -> &'static str {
        match self {
            BouncyCastleFormat::BksV1 => "BKS-V1",
            BouncyCastleFormat::Bks => "BKS",
            BouncyCastleFormat::Uber => "UBER",
            BouncyCastleFormat::Bcfks => "BCFKS",
        }
    }
}

impl std::fmt::Display for BouncyCastleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why Java's `KeyStore.load` (and so keytool, and every Java program) fails on a file,
/// found while reading it. Some files with such a problem can still be listed (see
/// [`Keystore::java_load_problem`]); none is ever written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JavaLoadProblem {
    /// A JCEKS secret-key entry whose serialized object is not the sealed key Java's loader
    /// accepts (keytool: "Invalid secret key format").
    SealedKey {
        alias: String,
        /// What the object is instead, e.g. "a javax.crypto.SealedObject".
        found: String,
    },
    /// PKCS#12 content encrypted with PBES2 and a cipher other than AES-128-CBC or
    /// AES-256-CBC, the only ones Java's PBES2 parameters accept (keytool: "expecting the
    /// object identifier for AES cipher").
    Pbes2Cipher {
        /// The cipher's name, e.g. "AES-192-CBC" or "DES-EDE3-CBC".
        cipher: String,
        /// Which content uses it, e.g. "the certificates (ContentInfo #1)".
        content: String,
    },
    /// A PKCS#12 MAC of the PBMAC1 kind (RFC 9579), which JDK 17 and 25 cannot verify
    /// (keytool: "Algorithm HmacPBE1.2.840.113549.1.5.14 not available").
    Pbmac1,
    /// A PKCS#12 friendlyName or localKeyId attribute with an empty value set, on which
    /// Java's loader fails.
    EmptyAttribute { attribute: &'static str },
}

impl std::fmt::Display for JavaLoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JavaLoadProblem::SealedKey { alias, found } => write!(
                f,
                "the secret key entry {alias:?} is {found}, not the sealed key JCEKS stores (com.sun.crypto.provider.SealedObjectForKeyProtector); keytool fails with \"Invalid secret key format\""
            ),
            JavaLoadProblem::Pbes2Cipher { cipher, content } => write!(
                f,
                "{content} are encrypted with PBES2 and {cipher}; Java's PKCS12 reads PBES2 only with AES-128-CBC or AES-256-CBC (keytool: \"expecting the object identifier for AES cipher\")"
            ),
            JavaLoadProblem::Pbmac1 => f.write_str(
                "its integrity MAC is PBMAC1 (RFC 9579), which JDK 17 and 25 cannot verify either (keytool: \"Algorithm HmacPBE1.2.840.113549.1.5.14 not available\")",
            ),
            JavaLoadProblem::EmptyAttribute { attribute } => write!(
                f,
                "a bag has a {attribute} attribute without a value, on which Java's PKCS12 loader fails"
            ),
        }
    }
}

/// What can go wrong inside a keystore file. The caller adds the file name.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeystoreError {
    #[error("the file is truncated ({0})")]
    Truncated(String),
    #[error("not a Java keystore: {0}")]
    NotAKeystore(String),
    #[error("the keystore is corrupt: {0}")]
    Malformed(String),
    #[error("wrong password or tampered keystore ({0})")]
    WrongPassword(String),
    #[error("a password is needed: {0}")]
    PasswordRequired(String),
    #[error("unsupported keystore content: {0}")]
    Unsupported(String),
    #[error("alias {0:?} is already taken")]
    AliasExists(String),
    #[error("no entry with alias {0:?}")]
    NoSuchAlias(String),
    #[error("the store type is {found}, not {expected}")]
    TypeMismatch {
        expected: StoreType,
        found: StoreType,
    },
    /// Java itself cannot load the file: nothing is written to it, as the result would be
    /// just as unusable to Java.
    #[error("Java cannot load this keystore: {0}")]
    JavaCannotLoad(JavaLoadProblem),
    /// A Bouncy Castle keystore: not damaged, but not a format Java reads without the
    /// Bouncy Castle provider.
    #[error("a Bouncy Castle {format} keystore, which Java reads only with the Bouncy Castle provider (keytool: \"Unrecognized keystore format\")")]
    BouncyCastle { format: BouncyCastleFormat },
}

/// Which format the bytes are, by their first bytes.
pub fn detect(data: &[u8]) -> Result<StoreType, KeystoreError> {
    if let Some(format) = bouncycastle::sniff(data) {
        return Err(KeystoreError::BouncyCastle { format });
    }
    match data {
        [0xFE, 0xED, 0xFE, 0xED, ..] => Ok(StoreType::Jks),
        [0xCE, 0xCE, 0xCE, 0xCE, ..] => Ok(StoreType::Jceks),
        [0x30, ..] => Ok(StoreType::Pkcs12),
        [] => Err(KeystoreError::NotAKeystore("the file is empty".into())),
        _ if data.len() < 4 && (data[0] == 0xFE || data[0] == 0xCE) => {
            Err(KeystoreError::Truncated("shorter than the 4-byte magic".into()))
        }
        _ => Err(KeystoreError::NotAKeystore(format!(
            "it starts with {:02X?}, which is neither JKS (FEEDFEED), JCEKS (CECECECE) nor PKCS12 (an ASN.1 SEQUENCE)",
            &data[..data.len().min(4)]
        ))),
    }
}

#[derive(Debug, Clone)]
enum Inner {
    Jks(jks::JksStore),
    Pkcs12(pkcs12::Pkcs12Store),
}

/// A parsed keystore of any supported format.
#[derive(Debug, Clone)]
pub struct Keystore {
    inner: Inner,
}

impl Keystore {
    /// Parses `data`. With `password` = None a JKS/JCEKS is read without checking its
    /// integrity digest (as keytool does when no password is typed) and a protected PKCS12
    /// shows only what Java shows without a password. `expected` refuses another format.
    pub fn parse(
        data: &[u8],
        expected: Option<StoreType>,
        password: Option<&str>,
    ) -> Result<Keystore, KeystoreError> {
        let found = detect(data)?;
        if let Some(expected) = expected {
            if expected != found {
                return Err(KeystoreError::TypeMismatch { expected, found });
            }
        }
        let inner = match found {
            StoreType::Jks | StoreType::Jceks => Inner::Jks(jks::JksStore::parse(data, password)?),
            StoreType::Pkcs12 => Inner::Pkcs12(pkcs12::Pkcs12Store::parse(data, password)?),
        };
        Ok(Keystore { inner })
    }

    pub fn store_type(&self) -> StoreType {
        match &self.inner {
            Inner::Jks(s) => s.store_type(),
            Inner::Pkcs12(_) => StoreType::Pkcs12,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.inner {
            Inner::Jks(s) => s.entries(),
            Inner::Pkcs12(s) => s.entries(),
        }
    }

    /// False only for a password-less PKCS12 (the JDK 18+ cacerts).
    pub fn is_password_protected(&self) -> bool {
        match &self.inner {
            Inner::Jks(_) => true,
            Inner::Pkcs12(s) => !s.is_passwordless(),
        }
    }

    /// True when the integrity digest or MAC was checked against the password, or when the
    /// format has nothing to check (password-less PKCS12).
    pub fn is_verified(&self) -> bool {
        match &self.inner {
            Inner::Jks(s) => s.is_verified(),
            Inner::Pkcs12(s) => s.is_verified(),
        }
    }

    /// Why Java cannot load this file, when it is one Java cannot load but we could still
    /// read (e.g. PBES2 with AES-192-CBC). Such a keystore can be listed, never written:
    /// [`Keystore::add_trusted_cert`] and [`Keystore::to_bytes`] refuse it with
    /// [`KeystoreError::JavaCannotLoad`].
    pub fn java_load_problem(&self) -> Option<&JavaLoadProblem> {
        match &self.inner {
            Inner::Jks(_) => None,
            Inner::Pkcs12(s) => s.java_load_problem(),
        }
    }

    /// Aliases whose earlier entries Java never shows: a JKS/JCEKS file may hold several
    /// entries under one alias, and Java's loader keeps only the last (so do
    /// [`Keystore::entries`]). One alias per shadowed entry, in file order. The shadowed
    /// entries are kept in the file when it is written, byte for byte.
    pub fn shadowed_aliases(&self) -> Vec<&str> {
        match &self.inner {
            Inner::Jks(s) => s.shadowed_aliases(),
            Inner::Pkcs12(_) => Vec::new(),
        }
    }

    /// True when some alias equals `alias` ignoring case (Java folds aliases to lower case).
    pub fn contains_alias(&self, alias: &str) -> bool {
        let wanted = alias.to_lowercase();
        self.entries()
            .iter()
            .any(|e| e.alias.to_lowercase() == wanted)
    }

    /// Appends a trusted-certificate entry under `alias` folded to lower case. Refuses an
    /// alias that is already taken (ignoring case); never touches existing entries.
    /// `created_ms` is recorded by JKS/JCEKS; PKCS12 stores no date for trusted entries.
    pub fn add_trusted_cert(
        &mut self,
        alias: &str,
        der: &[u8],
        created_ms: i64,
    ) -> Result<(), KeystoreError> {
        if let Some(p) = self.java_load_problem() {
            return Err(KeystoreError::JavaCannotLoad(p.clone()));
        }
        match &mut self.inner {
            Inner::Jks(s) => s.add_trusted_cert(alias, der, created_ms),
            Inner::Pkcs12(s) => s.add_trusted_cert(alias, der, created_ms),
        }
    }

    /// Removes every entry whose alias equals `alias` ignoring case.
    pub fn remove_entry(&mut self, alias: &str) -> Result<(), KeystoreError> {
        match &mut self.inner {
            Inner::Jks(s) => s.remove_entry(alias),
            Inner::Pkcs12(s) => s.remove_entry(alias),
        }
    }

    /// Serializes with the same format and protection as the input. JKS/JCEKS and a protected
    /// PKCS12 need the store password (for PKCS12 the one it was opened with, or its
    /// encrypted content would no longer open); a password-less PKCS12 ignores it.
    pub fn to_bytes(&self, password: Option<&str>) -> Result<Vec<u8>, KeystoreError> {
        if let Some(p) = self.java_load_problem() {
            return Err(KeystoreError::JavaCannotLoad(p.clone()));
        }
        match &self.inner {
            // A fresh digest on a file whose old digest was never checked would bless
            // whatever tampering it carries.
            Inner::Jks(s) if !s.is_verified() => Err(KeystoreError::PasswordRequired(
                "the keystore was read without checking its integrity; open it with its store password before writing".into(),
            )),
            Inner::Jks(s) => match password {
                Some(pw) => Ok(s.to_bytes(pw)),
                None => Err(KeystoreError::PasswordRequired(
                    "writing a JKS/JCEKS keystore recomputes its integrity digest with the store password".into(),
                )),
            },
            Inner::Pkcs12(s) => s.to_bytes(password),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WrongPassword means a password was given and does not match; with none given
    /// (None), parsing never says "wrong password", and writing says a password is needed.
    #[test]
    fn no_password_is_never_a_wrong_password() {
        let mut jks = vec![0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 0];
        jks.extend([0u8; 20]); // a digest no password gives
        assert!(matches!(
            Keystore::parse(&jks, None, Some("changeit")),
            Err(KeystoreError::WrongPassword(_))
        ));
        let ks = Keystore::parse(&jks, None, None).unwrap();
        assert!(!ks.is_verified());
        for pw in [None, Some("changeit")] {
            assert!(matches!(
                ks.to_bytes(pw),
                Err(KeystoreError::PasswordRequired(_))
            ));
        }
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(
            detect(&[0xFE, 0xED, 0xFE, 0xED, 0]).unwrap(),
            StoreType::Jks
        );
        assert_eq!(detect(&[0xCE, 0xCE, 0xCE, 0xCE]).unwrap(), StoreType::Jceks);
        assert_eq!(detect(&[0x30, 0x82]).unwrap(), StoreType::Pkcs12);
        assert!(matches!(detect(&[]), Err(KeystoreError::NotAKeystore(_))));
        assert!(matches!(
            detect(b"PK\x03\x04"),
            Err(KeystoreError::NotAKeystore(_))
        ));
        assert!(matches!(
            detect(&[0xFE, 0xED]),
            Err(KeystoreError::Truncated(_))
        ));
    }
}
