//! PKCS12 codec. STUB: being written.
use super::{Entry, KeystoreError};

#[derive(Debug, Clone)]
pub struct Pkcs12Store {
    entries: Vec<Entry>,
    verified: bool,
}

impl Pkcs12Store {
    pub fn parse(_data: &[u8], _password: Option<&str>) -> Result<Pkcs12Store, KeystoreError> {
        Err(KeystoreError::Unsupported("PKCS12 codec not written yet".into()))
    }
    pub fn is_passwordless(&self) -> bool {
        false
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    pub fn is_verified(&self) -> bool {
        self.verified
    }
    pub fn add_trusted_cert(&mut self, _alias: &str, _der: &[u8], _created_ms: i64) -> Result<(), KeystoreError> {
        Err(KeystoreError::Unsupported("PKCS12 codec not written yet".into()))
    }
    pub fn remove_entry(&mut self, _alias: &str) -> Result<(), KeystoreError> {
        Err(KeystoreError::Unsupported("PKCS12 codec not written yet".into()))
    }
    pub fn to_bytes(&self, _password: Option<&str>) -> Result<Vec<u8>, KeystoreError> {
        Err(KeystoreError::Unsupported("PKCS12 codec not written yet".into()))
    }
}
