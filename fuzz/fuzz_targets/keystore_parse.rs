//! Every keystore format through the facade: parsing arbitrary bytes must return Ok or a
//! KeystoreError, never panic, hang or allocate by a size read from the input.
#![no_main]

use azure_cacerts::keystore::{Keystore, StoreType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Keystore::parse(data, None, None);
    if let Ok(ks) = Keystore::parse(data, None, Some("changeit")) {
        // What was accepted with its password must serialize, and a JKS/JCEKS must come
        // back byte for byte (it keeps every entry's bytes and recomputes only the digest).
        if let Ok(out) = ks.to_bytes(Some("changeit")) {
            if matches!(ks.store_type(), StoreType::Jks | StoreType::Jceks) {
                assert_eq!(out, data, "a JKS/JCEKS did not round-trip");
            }
        }
    }
});
