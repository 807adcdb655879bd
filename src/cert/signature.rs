//! Whether an issuer's key verifies a certificate's signature, for every signature algorithm
//! Java's providers verify in a certificate path: RSA PKCS#1 v1.5 and RSA-PSS (any salt
//! length), ECDSA on P-256, P-384 and P-521, Ed25519, Ed448 and DSA, each with SHA-1 or a
//! SHA-2 hash.
//!
//! aws-lc-rs (already linked for rustls) verifies every combination it has; RustCrypto's
//! pure-Rust crates verify the rest (Cargo.toml says which and why). An algorithm neither can
//! verify is [`SigCheck::Unsupported`]: `check` then says it cannot decide, never that the
//! signature is bad. Whether Java *allows* an algorithm (MD5, small keys) is a separate
//! question, answered before this one by `check::algorithms`.

use aws_lc_rs::signature as aws;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::certificate::bit_length;
use super::Certificate;

/// Whether `signer`'s key verifies `child`'s signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigCheck {
    Valid,
    Invalid,
    /// An algorithm (or key) that azure-cacerts cannot verify.
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &str) -> Option<Hash> {
        Some(match oid {
            "1.3.14.3.2.26" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.4" => Hash::Sha224,
            "2.16.840.1.101.3.4.2.1" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" => Hash::Sha512,
            _ => return None,
        })
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha224 => 28,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha224 => Sha224::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// A signature algorithm as the certificate's AlgorithmIdentifier names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Pkcs1(Hash),
    Pss { hash: Hash, mgf: Hash, salt: usize },
    Ecdsa(Hash),
    Ed25519,
    Ed448,
    Dsa(Hash),
}

/// None: an algorithm Java has no verifier for either, or one azure-cacerts does not know.
fn scheme(alg: &AlgorithmIdentifier<'_>) -> Option<Result<Scheme, SigCheck>> {
    let s = match alg.algorithm.to_id_string().as_str() {
        // sha1WithRSAEncryption, and the old OIW OID Java maps to SHA1withRSA too.
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => Scheme::Pkcs1(Hash::Sha1),
        "1.2.840.113549.1.1.14" => Scheme::Pkcs1(Hash::Sha224),
        "1.2.840.113549.1.1.11" => Scheme::Pkcs1(Hash::Sha256),
        "1.2.840.113549.1.1.12" => Scheme::Pkcs1(Hash::Sha384),
        "1.2.840.113549.1.1.13" => Scheme::Pkcs1(Hash::Sha512),
        "1.2.840.113549.1.1.10" => return Some(pss_scheme(alg)),
        "1.2.840.10045.4.1" => Scheme::Ecdsa(Hash::Sha1),
        "1.2.840.10045.4.3.1" => Scheme::Ecdsa(Hash::Sha224),
        "1.2.840.10045.4.3.2" => Scheme::Ecdsa(Hash::Sha256),
        "1.2.840.10045.4.3.3" => Scheme::Ecdsa(Hash::Sha384),
        "1.2.840.10045.4.3.4" => Scheme::Ecdsa(Hash::Sha512),
        "1.3.101.112" => Scheme::Ed25519,
        "1.3.101.113" => Scheme::Ed448,
        "1.2.840.10040.4.3" => Scheme::Dsa(Hash::Sha1),
        "2.16.840.1.101.3.4.3.1" => Scheme::Dsa(Hash::Sha224),
        "2.16.840.1.101.3.4.3.2" => Scheme::Dsa(Hash::Sha256),
        _ => return None,
    };
    Some(Ok(s))
}

/// RSASSA-PSS-params (RFC 4055), with its defaults: SHA-1, MGF1 with SHA-1, a 20-byte salt.
fn pss_scheme(alg: &AlgorithmIdentifier<'_>) -> Result<Scheme, SigCheck> {
    let Some(params) = alg.parameters.as_ref() else {
        // Java's RSASSA-PSS needs its parameters in the certificate.
        return Err(SigCheck::Invalid);
    };
    let params = RsaSsaPssParams::try_from(params).map_err(|_| SigCheck::Invalid)?;
    // RFC 4055 allows only trailerField 1; Java's PSSParameterSpec refuses any other.
    if params.trailer_field() != 1 {
        return Err(SigCheck::Invalid);
    }
    let hash =
        Hash::from_oid(&params.hash_algorithm_oid().to_id_string()).ok_or(SigCheck::Unsupported)?;
    let mgf = params.mask_gen_algorithm().map_err(|_| SigCheck::Invalid)?;
    if mgf.mgf.to_id_string() != "1.2.840.113549.1.1.8" {
        // Java knows MGF1 only.
        return Err(SigCheck::Invalid);
    }
    let mgf = Hash::from_oid(&mgf.hash.to_id_string()).ok_or(SigCheck::Unsupported)?;
    let salt = usize::try_from(params.salt_length()).map_err(|_| SigCheck::Invalid)?;
    Ok(Scheme::Pss { hash, mgf, salt })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

/// The signer's key, as far as choosing a verifier needs it.
enum Key<'a> {
    /// The RSAPublicKey DER, its modulus bits, and whether the SPKI restricts it to PSS.
    Rsa {
        der: &'a [u8],
        bits: usize,
        pss_only: bool,
    },
    Ec(Curve, &'a [u8]),
    Ed25519(&'a [u8]),
    Ed448(&'a [u8]),
    /// The whole SubjectPublicKeyInfo (DSA keeps its domain parameters there).
    Dsa(&'a [u8]),
}

fn key<'a>(spki: &'a SubjectPublicKeyInfo<'a>) -> Option<Key<'a>> {
    let bits = spki.subject_public_key.data.as_ref();
    Some(match spki.algorithm.algorithm.to_id_string().as_str() {
        alg @ ("1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10") => {
            let modulus = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(k)) => bit_length(k.modulus),
                _ => return None,
            };
            Key::Rsa {
                der: bits,
                bits: modulus,
                pss_only: alg == "1.2.840.113549.1.1.10",
            }
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let curve = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => Curve::P256,
                Some("1.3.132.0.34") => Curve::P384,
                Some("1.3.132.0.35") => Curve::P521,
                _ => return None,
            };
            Key::Ec(curve, bits)
        }
        "1.3.101.112" => Key::Ed25519(bits),
        "1.3.101.113" => Key::Ed448(bits),
        "1.2.840.10040.4.1" => Key::Dsa(spki.raw),
        _ => return None,
    })
}

pub fn verify_signature(child: &Certificate, signer: &Certificate) -> SigCheck {
    let Ok((_, c)) = X509Certificate::from_der(&child.der) else {
        return SigCheck::Invalid;
    };
    let Ok((_, s)) = X509Certificate::from_der(&signer.der) else {
        return SigCheck::Invalid;
    };
    verify(
        &c.signature_algorithm,
        s.public_key(),
        c.tbs_certificate.as_ref(),
        &c.signature_value.data,
    )
}

/// A TLS handshake signature (PKCS#1 v1.5, or PSS with a salt of the hash's length as TLS
/// uses it) made with the RSA key of the certificate `cert_der`, hashed with SHA-`hash_bits`:
/// for the keys of 1024 to 2047 bits that Java's TLS accepts and rustls' verifiers refuse.
pub fn verify_small_rsa_handshake(
    cert_der: &[u8],
    pss: bool,
    hash_bits: u16,
    message: &[u8],
    sig: &[u8],
) -> SigCheck {
    let Ok((_, c)) = X509Certificate::from_der(cert_der) else {
        return SigCheck::Invalid;
    };
    let Some(Key::Rsa {
        der,
        bits,
        pss_only,
    }) = key(c.public_key())
    else {
        return SigCheck::Unsupported;
    };
    if !(1024..2048).contains(&bits) || (pss_only && !pss) {
        return SigCheck::Unsupported;
    }
    let hash = match hash_bits {
        256 => Hash::Sha256,
        384 => Hash::Sha384,
        512 => Hash::Sha512,
        _ => return SigCheck::Unsupported,
    };
    let scheme = if pss {
        Scheme::Pss {
            hash,
            mgf: hash,
            salt: hash.len(),
        }
    } else {
        Scheme::Pkcs1(hash)
    };
    rustcrypto_rsa(der, scheme, message, sig)
}

fn verify(
    alg: &AlgorithmIdentifier<'_>,
    spki: &SubjectPublicKeyInfo<'_>,
    message: &[u8],
    sig: &[u8],
) -> SigCheck {
    let scheme = match scheme(alg) {
        Some(Ok(s)) => s,
        Some(Err(r)) => return r,
        None => return SigCheck::Unsupported,
    };
    let Some(key) = key(spki) else {
        return SigCheck::Unsupported;
    };
    match (scheme, key) {
        (Scheme::Pkcs1(_), Key::Rsa { pss_only: true, .. }) => SigCheck::Invalid,
        (Scheme::Pkcs1(hash), Key::Rsa { der, bits, .. }) => match aws_pkcs1(hash, bits) {
            Some(alg) => aws_verify(alg, der, message, sig),
            None => rustcrypto_rsa(der, scheme, message, sig),
        },
        (Scheme::Pss { hash, mgf, salt }, Key::Rsa { der, bits, .. }) => {
            match aws_pss(hash, mgf, salt, bits) {
                Some(alg) => aws_verify(alg, der, message, sig),
                None => rustcrypto_rsa(der, scheme, message, sig),
            }
        }
        (Scheme::Ecdsa(hash), Key::Ec(curve, point)) => match aws_ecdsa(curve, hash) {
            Some(alg) => aws_verify(alg, point, message, sig),
            None if curve == Curve::P384 => p384_verify(point, hash, message, sig),
            None if curve == Curve::P256 => p256_verify(point, hash, message, sig),
            None => SigCheck::Unsupported,
        },
        (Scheme::Ed25519, Key::Ed25519(k)) => aws_verify(&aws::ED25519, k, message, sig),
        (Scheme::Ed448, Key::Ed448(k)) => ed448_verify(k, message, sig),
        (Scheme::Dsa(hash), Key::Dsa(spki)) => dsa_verify(spki, hash, message, sig),
        // A key of another kind than the algorithm: Java's Signature.initVerify refuses it.
        _ => SigCheck::Invalid,
    }
}

fn aws_verify(
    alg: &'static dyn aws::VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    sig: &[u8],
) -> SigCheck {
    match aws::UnparsedPublicKey::new(alg, key).verify(message, sig) {
        Ok(()) => SigCheck::Valid,
        Err(_) => SigCheck::Invalid,
    }
}

fn aws_pkcs1(hash: Hash, bits: usize) -> Option<&'static dyn aws::VerificationAlgorithm> {
    if !(1024..=8192).contains(&bits) {
        return None;
    }
    Some(match hash {
        Hash::Sha1 => &aws::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => &aws::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        Hash::Sha384 if bits >= 2048 => &aws::RSA_PKCS1_2048_8192_SHA384,
        Hash::Sha512 => &aws::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        _ => return None,
    })
}

/// aws-lc-rs verifies PSS only with MGF1 over the same hash and a salt of the hash's length.
fn aws_pss(
    hash: Hash,
    mgf: Hash,
    salt: usize,
    bits: usize,
) -> Option<&'static dyn aws::VerificationAlgorithm> {
    if hash != mgf || salt != hash.len() || !(2048..=8192).contains(&bits) {
        return None;
    }
    Some(match hash {
        Hash::Sha256 => &aws::RSA_PSS_2048_8192_SHA256,
        Hash::Sha384 => &aws::RSA_PSS_2048_8192_SHA384,
        Hash::Sha512 => &aws::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn aws_ecdsa(curve: Curve, hash: Hash) -> Option<&'static dyn aws::VerificationAlgorithm> {
    Some(match (curve, hash) {
        (Curve::P256, Hash::Sha1) => &aws::ECDSA_P256_SHA1_ASN1,
        (Curve::P256, Hash::Sha256) => &aws::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, Hash::Sha384) => &aws::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, Hash::Sha512) => &aws::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, Hash::Sha256) => &aws::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, Hash::Sha384) => &aws::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, Hash::Sha512) => &aws::ECDSA_P384_SHA512_ASN1,
        (Curve::P521, Hash::Sha1) => &aws::ECDSA_P521_SHA1_ASN1,
        (Curve::P521, Hash::Sha224) => &aws::ECDSA_P521_SHA224_ASN1,
        (Curve::P521, Hash::Sha256) => &aws::ECDSA_P521_SHA256_ASN1,
        (Curve::P521, Hash::Sha384) => &aws::ECDSA_P521_SHA384_ASN1,
        (Curve::P521, Hash::Sha512) => &aws::ECDSA_P521_SHA512_ASN1,
        // P-256 and P-384 with SHA-224, P-384 with SHA-1: not in aws-lc-rs.
        _ => return None,
    })
}

/// PKCS#1 v1.5 and PSS where aws-lc-rs has no verifier: RSA keys of 1024 to 2047 bits with
/// SHA-384, SHA-224 at any size, PSS with another salt length or SHA-1/SHA-224.
fn rustcrypto_rsa(key_der: &[u8], scheme: Scheme, message: &[u8], sig: &[u8]) -> SigCheck {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::{Pkcs1v15Sign, Pss, PublicKey};
    // RsaPublicKey accepts 1024 to 8192 bits; Java refuses smaller keys before verifying.
    let Ok(key) = PublicKey::from_pkcs1_der(key_der) else {
        return SigCheck::Unsupported;
    };
    let ok = match scheme {
        Scheme::Pkcs1(hash) => {
            let hashed = hash.digest(message);
            let padding = match hash {
                Hash::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
                Hash::Sha224 => Pkcs1v15Sign::new::<Sha224>(),
                Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
                Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
                Hash::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(padding, &hashed, sig).is_ok()
        }
        // The `rsa` crate's PSS verifier runs MGF1 over the message hash; another MGF1 hash
        // (which Java's RSASSA-PSS takes from the parameters) is decoded here.
        Scheme::Pss { hash, mgf, salt } if hash != mgf => {
            pss_with_other_mgf(&key, hash, mgf, salt, message, sig)
        }
        Scheme::Pss { hash, salt, .. } => {
            let hashed = hash.digest(message);
            match hash {
                Hash::Sha1 => key.verify(Pss::<Sha1>::new_with_salt(salt), &hashed, sig),
                Hash::Sha224 => key.verify(Pss::<Sha224>::new_with_salt(salt), &hashed, sig),
                Hash::Sha256 => key.verify(Pss::<Sha256>::new_with_salt(salt), &hashed, sig),
                Hash::Sha384 => key.verify(Pss::<Sha384>::new_with_salt(salt), &hashed, sig),
                Hash::Sha512 => key.verify(Pss::<Sha512>::new_with_salt(salt), &hashed, sig),
            }
            .is_ok()
        }
        _ => return SigCheck::Unsupported,
    };
    if ok {
        SigCheck::Valid
    } else {
        SigCheck::Invalid
    }
}

/// MGF1 (RFC 8017 B.2.1) with `hash`: `len` bytes of mask from `seed`.
fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut block = seed.to_vec();
        block.extend_from_slice(&counter.to_be_bytes());
        out.extend(hash.digest(&block));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS verification (RFC 8017 8.1.2 and EMSA-PSS-VERIFY, 9.1.2) with an MGF1 hash
/// other than the message hash: RSAVP1 from the `rsa` crate, the encoding checked here.
fn pss_with_other_mgf(
    key: &rsa::PublicKey,
    hash: Hash,
    mgf: Hash,
    salt: usize,
    message: &[u8],
    sig: &[u8],
) -> bool {
    use rsa::traits::PublicKeyParts;
    use rsa::BoxedUint;
    if sig.len() != key.size() {
        return false;
    }
    let Ok(s) = BoxedUint::from_be_slice(sig, key.n_bits_precision()) else {
        return false;
    };
    if s >= *key.n().as_ref() {
        return false;
    }
    let Ok(m) = rsa::hazmat::rsa_encrypt(key, &s) else {
        return false;
    };
    let em_bits = (key.n().bit_width() as usize).saturating_sub(1);
    let em_len = em_bits.div_ceil(8);
    let full = m.to_be_bytes();
    let Some(skip) = full.len().checked_sub(em_len) else {
        return false;
    };
    if full[..skip].iter().any(|&b| b != 0) {
        return false;
    }
    let em = &full[skip..];
    let h_len = hash.len();
    let Some(db_len) = em_len.checked_sub(h_len + 1) else {
        return false;
    };
    if em_len < h_len + salt + 2 || em.last() != Some(&0xBC) {
        return false;
    }
    let (masked, rest) = em.split_at(db_len);
    let h = &rest[..h_len];
    let top_bits = 8 * em_len - em_bits;
    let top_mask = 0xFFu8.checked_shr(top_bits as u32).unwrap_or(0);
    if masked.first().is_some_and(|&b| b & !top_mask != 0) {
        return false;
    }
    let mut db: Vec<u8> = masked
        .iter()
        .zip(mgf1(mgf, h, db_len))
        .map(|(a, b)| a ^ b)
        .collect();
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    let pad = db_len - salt - 1;
    if db[..pad].iter().any(|&b| b != 0) || db[pad] != 0x01 {
        return false;
    }
    let mut m_prime = vec![0u8; 8];
    m_prime.extend(hash.digest(message));
    m_prime.extend_from_slice(&db[pad + 1..]);
    hash.digest(&m_prime) == h
}

/// RustCrypto's ECDSA on one curve, for the digests aws-lc-rs has no verifier for. The two
/// curve crates share their API but no trait that names it, hence a macro.
macro_rules! ecdsa_prehash_verify {
    ($curve:ident, $field_len:expr, $point:expr, $hash:expr, $message:expr, $sig:expr) => {{
        use $curve::ecdsa::signature::hazmat::PrehashVerifier;
        use $curve::ecdsa::{DerSignature, Signature, VerifyingKey};
        let verified = VerifyingKey::from_sec1_bytes($point).ok().and_then(|key| {
            let sig = Signature::try_from(DerSignature::from_bytes($sig).ok()?).ok()?;
            // ECDSA takes a digest shorter than the order as the integer it is: left-padded
            // with zeros to the field's length, it means the same number to any reading of it.
            let digest = $hash.digest($message);
            let mut prehash = vec![0u8; usize::saturating_sub($field_len, digest.len())];
            prehash.extend_from_slice(&digest);
            Some(key.verify_prehash(&prehash, &sig).is_ok())
        });
        if verified == Some(true) {
            SigCheck::Valid
        } else {
            SigCheck::Invalid
        }
    }};
}

/// ECDSA on P-384 with SHA-1 or SHA-224 (Java's SHA1withECDSA, SHA224withECDSA).
fn p384_verify(point: &[u8], hash: Hash, message: &[u8], sig: &[u8]) -> SigCheck {
    ecdsa_prehash_verify!(p384, 48, point, hash, message, sig)
}

/// ECDSA on P-256 with SHA-224 (Java's SHA224withECDSA).
fn p256_verify(point: &[u8], hash: Hash, message: &[u8], sig: &[u8]) -> SigCheck {
    ecdsa_prehash_verify!(p256, 32, point, hash, message, sig)
}

fn ed448_verify(key: &[u8], message: &[u8], sig: &[u8]) -> SigCheck {
    let Ok(bytes) = <[u8; 57]>::try_from(key) else {
        return SigCheck::Invalid;
    };
    let Ok(key) = ed448_goldilocks::VerifyingKey::from_bytes(&bytes) else {
        return SigCheck::Invalid;
    };
    let Ok(sig) = ed448_goldilocks::Signature::from_slice(sig) else {
        return SigCheck::Invalid;
    };
    match key.verify_raw(&sig, message) {
        Ok(()) => SigCheck::Valid,
        Err(_) => SigCheck::Invalid,
    }
}

/// SHA1withDSA, SHA224withDSA, SHA256withDSA, with the domain parameters of the signer's
/// SubjectPublicKeyInfo.
fn dsa_verify(spki: &[u8], hash: Hash, message: &[u8], sig: &[u8]) -> SigCheck {
    use dsa::pkcs8::der::Decode;
    use dsa::signature::hazmat::PrehashVerifier;
    let Ok(info) = dsa::pkcs8::SubjectPublicKeyInfoRef::from_der(spki) else {
        return SigCheck::Invalid;
    };
    // The sizes FIPS 186 allows (1024/160, 2048/224, 2048/256, 3072/256); parameters inherited
    // from the issuer (absent from the SPKI) are not supported.
    let Ok(key) = dsa::VerifyingKey::try_from(info) else {
        return SigCheck::Unsupported;
    };
    // A digest shorter than q (SHA1withDSA on a 2048-bit key) is used whole, as Java's DSA
    // verifies it too (its digest-strength check is for signing).
    let Ok(sig) = dsa::Signature::from_der(sig) else {
        return SigCheck::Invalid;
    };
    match key.verify_prehash(&hash.digest(message), &sig) {
        Ok(()) => SigCheck::Valid,
        Err(_) => SigCheck::Invalid,
    }
}
