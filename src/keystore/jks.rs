//! JKS and JCEKS codec. STUB: being written.
use super::{Entry, KeystoreError, StoreType};

#[derive(Debug, Clone)]
pub struct JksStore {
    store_type: StoreType,
    entries: Vec<Entry>,
    verified: bool,
}

impl JksStore {
    pub fn parse(_data: &[u8], _password: Option<&str>) -> Result<JksStore, KeystoreError> {
        Err(KeystoreError::Unsupported("JKS codec not written yet".into()))
    }
    pub fn store_type(&self) -> StoreType {
        self.store_type
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    pub fn is_verified(&self) -> bool {
        self.verified
    }
    pub fn add_trusted_cert(&mut self, _alias: &str, _der: &[u8], _created_ms: i64) -> Result<(), KeystoreError> {
        Err(KeystoreError::Unsupported("JKS codec not written yet".into()))
    }
    pub fn remove_entry(&mut self, _alias: &str) -> Result<(), KeystoreError> {
        Err(KeystoreError::Unsupported("JKS codec not written yet".into()))
    }
    pub fn to_bytes(&self, _password: &str) -> Vec<u8> {
        Vec::new()
    }
}
