//! The cost of a write is a fixed number of key derivations, however many certificates are
//! added. The KDF counter is per thread, so tests running in parallel do not disturb it.

use crate::common;

use azure_cacerts::keystore::pkcs12::{kdf_runs, Pkcs12Store};

#[test]
fn reads_and_writes_cost_a_fixed_number_of_kdf_runs() {
    let cacerts = std::fs::read(common::sample("cacerts-debian-nopass-jdk25.p12")).unwrap();
    let certs: Vec<Vec<u8>> = Pkcs12Store::parse(&cacerts, None)
        .unwrap()
        .entries()
        .iter()
        .map(|e| e.certs[0].clone())
        .collect();

    // (sample, KDF runs of a write, of a read of the written file)
    // PBES2: one PBKDF2 for the new EncryptedData, one PKCS#12 KDF for the MAC. Reading
    // back: the MAC plus one PBKDF2 per EncryptedData (the original and the new one).
    // Legacy PBE derives a key and an IV: two runs per EncryptedData.
    for (file, write_runs, read_runs) in [
        ("pkcs12-default-jdk25.p12", 2, 3),
        ("pkcs12-legacy-jdk17.p12", 3, 5),
        ("pkcs12-nopass-jdk25.p12", 0, 0),
        ("cacerts-debian-nopass-jdk25.p12", 0, 0),
    ] {
        let data = std::fs::read(common::sample(file)).unwrap();
        let store = Pkcs12Store::parse(&data, Some("changeit")).unwrap();
        for n in [1usize, 144] {
            let mut s = store.clone();
            for (i, der) in certs.iter().take(n).enumerate() {
                s.add_trusted_cert(&format!("cost-{i}"), der, 0).unwrap();
            }
            let before = kdf_runs();
            let out = s.to_bytes(Some("changeit")).unwrap();
            assert_eq!(
                kdf_runs() - before,
                write_runs,
                "{file}: writing {n} new certificates"
            );
            let before = kdf_runs();
            let re = Pkcs12Store::parse(&out, Some("changeit")).unwrap();
            assert_eq!(
                kdf_runs() - before,
                read_runs,
                "{file}: reading back {n} new certificates"
            );
            assert_eq!(re.entries().len(), store.entries().len() + n);
        }
    }
}
