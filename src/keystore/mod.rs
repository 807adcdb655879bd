//! Java keystores (JKS, JCEKS, PKCS12) as Java reads and writes them.
//!
//! The codecs keep every entry they did not add byte for byte: private keys and secret keys
//! are carried as opaque bytes and never decrypted. This module is the one face the rest of
//! the tool sees: detect the format by content, parse, list entries, append trusted
//! certificates, serialize. Format code never prints.

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
}

/// Which format the bytes are, by their first bytes.
pub fn detect(data: &[u8]) -> Result<StoreType, KeystoreError> {
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
