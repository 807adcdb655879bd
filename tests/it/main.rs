//! The integration tests, one binary (one link of reqwest, rustls and aws-lc-rs instead of one per file).
//! Every file they read is in tests/fixtures; only tests over an external corpus may use a folder beside the project.

mod common;
mod support;

mod admin_ux;
mod anchors_agree;
mod ansible_role;
mod catalog_cmd;
mod catalog_page;
mod check_chain;
mod check_matrix;
mod check_matrix_algorithms;
mod check_matrix_constraints;
mod check_tls;
mod custom_ca;
mod doc_examples;
mod docs_cli;
mod doctor_cli;
mod doctor_java;
mod doctor_logs;
mod external_keystores;
mod fetch_https_proxy;
mod fetch_online;
mod fetch_proxy;
#[cfg(unix)]
mod fs_safety;
mod import_cli;
mod intercept_proxy;
mod io_failures;
mod jks_codec;
mod jks_hostile;
mod jks_keytool;
mod list_cli;
mod pkcs12_cost;
mod pkcs12_hostile;
mod pkcs12_read;
mod pkcs12_write;
mod refresh_cli;
mod scan_cli;
mod xsign_twins;
