//! azure-cacerts: keeps a Java keystore's trust anchors in step with the certificate
//! authorities Microsoft publishes for Azure and Entra ID.
//!
//! Layers: `keystore` (JKS/JCEKS/PKCS12 codecs, no printing), `cert` (X.509 facts),
//! `catalog` (the CA list and downloads), `locate` (which file), and `cli` (arguments and
//! output only; it never parses bytes).

pub mod catalog;
pub mod cert;
pub mod check;
pub mod cli;
pub mod doctor;
pub mod error;
pub mod fsio;
pub mod keystore;
pub mod locate;
pub mod lock;
pub mod plan;
pub mod write;
