//! azure-cacerts: keeps a Java keystore's trust anchors in step with the certificate
//! authorities Microsoft publishes for Azure and Entra ID.
//!
//! Layers (docs/design.md): `cli` turns arguments into one call of `ops` and renders its
//! typed result; `ops` runs the operations (open, diff, the import transaction, refresh);
//! below them the concerns: `keystore` (JKS/JCEKS/PKCS12 codecs), `cert` (X.509),
//! `catalog` (the CA list and downloads), `plan` (matching), `write` and `lock` (safe
//! replacement), `locate` (which file), `check` and `doctor` (diagnostics). Only `cli`
//! prints.

#![forbid(unsafe_code)]

pub mod anchors;
pub mod catalog;
pub mod cert;
pub mod check;
pub mod cli;
pub mod custom;
pub mod doctor;
pub mod fsio;
pub mod keystore;
pub mod locate;
pub mod lock;
pub mod ops;
pub mod osstore;
pub mod plan;
pub mod proxy;
pub mod scan;
pub mod suggest;
pub mod write;
