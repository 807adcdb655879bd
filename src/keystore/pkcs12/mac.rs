//! The PFX MacData: HMAC over the AuthenticatedSafe with a key from the PKCS#12 KDF
//! (Java's HmacPBESHA1 / HmacPBESHA256 ...).

use hmac::{KeyInit, Mac};
use pkcs12::kdf::Pkcs12KeyType;

use super::super::{JavaLoadProblem, KeystoreError};
use super::asn1::{self, Reader, Tlv};
use super::oids;
use super::pbe::{self, HashAlg, PwForm};

const CTX: &str = "MacData";

/// The parameters of a MacData, enough to check it and to write a new one like it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacParams {
    pub hash: HashAlg,
    /// Whether the digestAlgorithm carried a NULL parameter (Java writes one).
    pub null_param: bool,
    pub digest: Vec<u8>,
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// The iterations field was absent (DEFAULT 1); a new MacData omits it too.
    pub iterations_default: bool,
}

impl MacParams {
    pub fn parse(tlv: &Tlv<'_>) -> Result<MacParams, KeystoreError> {
        let mut r = Reader::new(tlv.value, CTX);
        let digest_info = r.read(asn1::SEQUENCE, "DigestInfo")?;
        let salt = r.read(asn1::OCTET_STRING, "macSalt")?.value.to_vec();
        let iter_tlv = r.read_optional(asn1::INTEGER, "the MAC iteration count")?;
        r.finish("MacData")?;

        let mut d = Reader::new(digest_info.value, CTX);
        let alg = d.read(asn1::SEQUENCE, "digestAlgorithm")?;
        let digest = d.read(asn1::OCTET_STRING, "the MAC value")?.value.to_vec();
        d.finish("DigestInfo")?;
        let mut a = Reader::new(alg.value, CTX);
        let oid = a.read(asn1::OID, "the MAC digest OID")?;
        // Judged before anything else, as Java does: PBMAC1 files carry a dummy iteration
        // count (RFC 9579 sets it to 1, forged ones to 0) and their own parameters.
        if oid.value == oids::PBMAC1 {
            return Err(KeystoreError::JavaCannotLoad(JavaLoadProblem::Pbmac1));
        }
        let null_param = a
            .read_optional(asn1::NULL, "the digest parameters")?
            .is_some();
        let hash = HashAlg::from_digest_oid(oid.value).ok_or_else(|| {
            KeystoreError::Unsupported(format!(
                "a MAC with the digest {}",
                oids::describe(oid.value)
            ))
        })?;
        let (iterations, iterations_default) = match iter_tlv {
            Some(t) => (pbe::checked_iterations(&t, CTX)?, false),
            None => (1, true),
        };
        Ok(MacParams {
            hash,
            null_param,
            digest,
            salt,
            iterations,
            iterations_default,
        })
    }

    /// Index of the password form whose MAC matches, if any.
    pub fn verify(&self, forms: &[PwForm], auth_safe: &[u8]) -> Option<usize> {
        forms.iter().position(|f| {
            let mac = compute(self.hash, f, &self.salt, self.iterations, auth_safe);
            constant_time_eq(&mac, &self.digest)
        })
    }

    /// A new MacData over `auth_safe`: the same digest and iteration count, a fresh 20-byte
    /// salt (what Java uses).
    pub fn renew(&self, form: &PwForm, auth_safe: &[u8]) -> Result<Vec<u8>, KeystoreError> {
        let salt = pbe::random_bytes(20)?;
        let mac = compute(self.hash, form, &salt, self.iterations, auth_safe);
        let null: &[u8] = if self.null_param {
            &[asn1::NULL, 0]
        } else {
            &[]
        };
        let alg = asn1::seq(&[&asn1::oid(self.hash.digest_oid()), null]);
        let digest_info = asn1::seq(&[&alg, &asn1::octet_string(&mac)]);
        let iterations = if self.iterations_default {
            Vec::new()
        } else {
            asn1::uint_der(u64::from(self.iterations))
        };
        Ok(asn1::seq(&[
            &digest_info,
            &asn1::octet_string(&salt),
            &iterations,
        ]))
    }
}

fn hmac_with<D>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    D: sha2::Digest + sha2::digest::block_api::BlockSizeUser,
{
    // HMAC takes keys of any length; the error arm cannot happen.
    match hmac::SimpleHmac::<D>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

pub fn compute(hash: HashAlg, form: &PwForm, salt: &[u8], iterations: u32, data: &[u8]) -> Vec<u8> {
    let key = pbe::pkcs12_kdf(
        hash,
        &form.bmp,
        salt,
        Pkcs12KeyType::Mac,
        iterations,
        hash.output_len(),
    );
    match hash {
        HashAlg::Sha1 => hmac_with::<sha1::Sha1>(&key, data),
        HashAlg::Sha224 => hmac_with::<sha2::Sha224>(&key, data),
        HashAlg::Sha256 => hmac_with::<sha2::Sha256>(&key, data),
        HashAlg::Sha384 => hmac_with::<sha2::Sha384>(&key, data),
        HashAlg::Sha512 => hmac_with::<sha2::Sha512>(&key, data),
        HashAlg::Sha512_224 => hmac_with::<sha2::Sha512_224>(&key, data),
        HashAlg::Sha512_256 => hmac_with::<sha2::Sha512_256>(&key, data),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renew_then_verify() {
        let forms = pbe::password_forms("changeit");
        let template = MacParams {
            hash: HashAlg::Sha256,
            null_param: true,
            digest: vec![],
            salt: vec![],
            iterations: 100,
            iterations_default: false,
        };
        let data = b"authenticated safe";
        let enc = template.renew(&forms[0], data).unwrap();
        let parsed = MacParams::parse(&Reader::new(&enc, "t").read_any().unwrap()).unwrap();
        assert_eq!(parsed.hash, HashAlg::Sha256);
        assert_eq!(parsed.iterations, 100);
        assert_eq!(parsed.salt.len(), 20);
        assert_eq!(parsed.verify(&forms, data), Some(0));
        assert_eq!(parsed.verify(&pbe::password_forms("other"), data), None);
        assert_eq!(parsed.verify(&forms, b"tampered"), None);
    }

    /// PBMAC1 is named as what JDK 17/25 cannot verify, whatever its iteration field says.
    #[test]
    fn pbmac1_is_a_java_load_problem() {
        for iterations in [1u64, 0] {
            let alg = asn1::seq(&[&asn1::oid(oids::PBMAC1), &asn1::seq(&[])]);
            let di = asn1::seq(&[&alg, &asn1::octet_string(&[0; 32])]);
            let enc = asn1::seq(&[
                &di,
                &asn1::octet_string(&[1; 8]),
                &asn1::uint_der(iterations),
            ]);
            let t = Reader::new(&enc, "t").read_any().unwrap();
            let e = MacParams::parse(&t).unwrap_err();
            assert_eq!(e, KeystoreError::JavaCannotLoad(JavaLoadProblem::Pbmac1));
            assert!(e.to_string().contains("JDK 17 and 25"), "{e}");
        }
    }

    #[test]
    fn refuses_huge_iteration_counts_before_running() {
        let alg = asn1::seq(&[&asn1::oid(oids::SHA1), &[asn1::NULL, 0]]);
        let di = asn1::seq(&[&alg, &asn1::octet_string(&[0; 20])]);
        let enc = asn1::seq(&[&di, &asn1::octet_string(&[1; 20]), &asn1::uint_der(1 << 31)]);
        let t = Reader::new(&enc, "t").read_any().unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            MacParams::parse(&t),
            Err(KeystoreError::Unsupported(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
