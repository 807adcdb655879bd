//! Password-based encryption of PKCS#12 contents: PBES2 (PBKDF2 + AES-CBC, JDK 16+ and the
//! 8u301/11.0.12 backports) and the PKCS#12 PBE schemes of RFC 7292 Appendix C
//! (PBE-SHA1-RC2-40 cert bags and PBE-SHA1-3DES keys of the legacy format, and the
//! PBE-SHA1-RC4-128/40 of OpenSSL's legacy mode, which Java reads too), plus the PKCS#12
//! KDF the MAC shares with them.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use pkcs12::kdf::Pkcs12KeyType;
use pkcs5::pbes2::{EncryptionScheme, Kdf, Parameters, Pbkdf2Params, Pbkdf2Prf, Salt};

use rc4::StreamCipher;

use super::super::{JavaLoadProblem, KeystoreError};
use super::asn1::{self, Reader, Tlv};
use super::oids;

/// Iteration counts above this are refused rather than run: a hostile file could otherwise
/// pin a CPU for minutes (2^31 PBKDF2 rounds). Java's own limit is 5,000,000; real files use
/// 1,024 to 100,000.
pub const MAX_ITERATIONS: u64 = 10_000_000;

thread_local! {
    /// Runs of a password-based KDF (PBKDF2 or the PKCS#12 KDF) on this thread. The dominant
    /// cost of reading and writing: benches and tests read it to show that a write costs a
    /// fixed number of runs, not one per entry. Per thread, so that tests running in
    /// parallel in one process do not count each other's runs.
    static KDF_RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

pub fn kdf_runs() -> usize {
    KDF_RUNS.with(|c| c.get())
}

fn count_kdf() {
    KDF_RUNS.with(|c| c.set(c.get() + 1));
}

/// The byte forms of one password. PBES2 hashes the UTF-8 bytes; the PKCS#12 KDF hashes
/// the BMPString with a 00 00 terminator (RFC 7292 B.1).
#[derive(Clone, PartialEq, Eq)]
pub struct PwForm {
    pub bmp: Vec<u8>,
    pub utf8: Vec<u8>,
}

impl std::fmt::Debug for PwForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PwForm(..)")
    }
}

/// The forms to try for `password`, in Java's order. Java retries an empty password as a
/// single NUL char (`RetryWithZero`), which its KDF encodes as no bytes at all, and PBKDF2
/// as the one byte 00; files written by `store(out, null)` or other tools use either.
pub fn password_forms(password: &str) -> Vec<PwForm> {
    if password.is_empty() {
        return vec![
            PwForm {
                bmp: vec![0, 0],
                utf8: Vec::new(),
            },
            PwForm {
                bmp: Vec::new(),
                utf8: vec![0],
            },
        ];
    }
    let mut bmp: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    bmp.extend_from_slice(&[0, 0]);
    vec![PwForm {
        bmp,
        utf8: password.as_bytes().to_vec(),
    }]
}

/// Checks an iteration count read from the file before anything runs it.
pub fn checked_iterations(tlv: &Tlv<'_>, ctx: &str) -> Result<u32, KeystoreError> {
    let n = asn1::uint(tlv, ctx).map_err(|e| match e {
        KeystoreError::Unsupported(_) => KeystoreError::Unsupported(format!(
            "{ctx}: the iteration count is above the limit of {MAX_ITERATIONS}"
        )),
        other => other,
    })?;
    if n == 0 {
        return Err(asn1::malformed(ctx, "an iteration count of 0"));
    }
    if n > MAX_ITERATIONS {
        return Err(KeystoreError::Unsupported(format!(
            "{ctx}: iteration count {n} is above the limit of {MAX_ITERATIONS} (refused rather than run)"
        )));
    }
    u32::try_from(n).map_err(|_| asn1::malformed(ctx, "an iteration count out of range"))
}

/// The hash functions a PKCS#12 MAC (HmacPBESHA*) may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

impl HashAlg {
    pub fn from_digest_oid(oid: &[u8]) -> Option<HashAlg> {
        Some(match oid {
            o if o == oids::SHA1 => HashAlg::Sha1,
            o if o == oids::SHA224 => HashAlg::Sha224,
            o if o == oids::SHA256 => HashAlg::Sha256,
            o if o == oids::SHA384 => HashAlg::Sha384,
            o if o == oids::SHA512 => HashAlg::Sha512,
            o if o == oids::SHA512_224 => HashAlg::Sha512_224,
            o if o == oids::SHA512_256 => HashAlg::Sha512_256,
            _ => return None,
        })
    }

    pub fn digest_oid(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => oids::SHA1,
            HashAlg::Sha224 => oids::SHA224,
            HashAlg::Sha256 => oids::SHA256,
            HashAlg::Sha384 => oids::SHA384,
            HashAlg::Sha512 => oids::SHA512,
            HashAlg::Sha512_224 => oids::SHA512_224,
            HashAlg::Sha512_256 => oids::SHA512_256,
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 | HashAlg::Sha512_224 => 28,
            HashAlg::Sha256 | HashAlg::Sha512_256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha224 => "SHA-224",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
            HashAlg::Sha512_224 => "SHA-512/224",
            HashAlg::Sha512_256 => "SHA-512/256",
        }
    }
}

fn kdf_with<D>(pass: &[u8], salt: &[u8], id: Pkcs12KeyType, iterations: u32, len: usize) -> Vec<u8>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + sha2::digest::block_api::BlockSizeUser,
{
    count_kdf();
    // `iterations` is at most MAX_ITERATIONS, so it fits in the i32 the crate takes.
    let rounds = i32::try_from(iterations).unwrap_or(i32::MAX);
    pkcs12::kdf::derive_key::<D>(pass, salt, id, rounds, len)
}

/// The PKCS#12 KDF (RFC 7292 B.2) over `pass`, the BMPString bytes with their terminator.
pub fn pkcs12_kdf(
    hash: HashAlg,
    pass: &[u8],
    salt: &[u8],
    id: Pkcs12KeyType,
    iterations: u32,
    len: usize,
) -> Vec<u8> {
    match hash {
        HashAlg::Sha1 => kdf_with::<sha1::Sha1>(pass, salt, id, iterations, len),
        HashAlg::Sha224 => kdf_with::<sha2::Sha224>(pass, salt, id, iterations, len),
        HashAlg::Sha256 => kdf_with::<sha2::Sha256>(pass, salt, id, iterations, len),
        HashAlg::Sha384 => kdf_with::<sha2::Sha384>(pass, salt, id, iterations, len),
        HashAlg::Sha512 => kdf_with::<sha2::Sha512>(pass, salt, id, iterations, len),
        HashAlg::Sha512_224 => kdf_with::<sha2::Sha512_224>(pass, salt, id, iterations, len),
        HashAlg::Sha512_256 => kdf_with::<sha2::Sha512_256>(pass, salt, id, iterations, len),
    }
}

pub fn random_bytes(len: usize) -> Result<Vec<u8>, KeystoreError> {
    let mut out = vec![0u8; len];
    getrandom::fill(&mut out).map_err(|e| {
        KeystoreError::Unsupported(format!("no random bytes for a fresh salt or IV: {e}"))
    })?;
    Ok(out)
}

/// Why decryption failed: a bad padding is what a wrong password looks like.
#[derive(Debug)]
pub enum DecryptError {
    WrongPasswordOrCorrupt,
    Other(KeystoreError),
}

// ---------------------------------------------------------------------------------------
// Algorithm identifiers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    /// Java's PBEWithHmacSHA1AndAES_*; needs pkcs5's `sha1-insecure` feature to run.
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Prf {
    fn oid(self) -> &'static [u8] {
        match self {
            Prf::Sha1 => oids::HMAC_WITH_SHA1,
            Prf::Sha224 => oids::HMAC_WITH_SHA224,
            Prf::Sha256 => oids::HMAC_WITH_SHA256,
            Prf::Sha384 => oids::HMAC_WITH_SHA384,
            Prf::Sha512 => oids::HMAC_WITH_SHA512,
        }
    }

    fn to_pkcs5(self) -> Pbkdf2Prf {
        match self {
            Prf::Sha1 => Pbkdf2Prf::HmacWithSha1,
            Prf::Sha224 => Pbkdf2Prf::HmacWithSha224,
            Prf::Sha256 => Pbkdf2Prf::HmacWithSha256,
            Prf::Sha384 => Pbkdf2Prf::HmacWithSha384,
            Prf::Sha512 => Pbkdf2Prf::HmacWithSha512,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Prf::Sha1 => "HmacSHA1",
            Prf::Sha224 => "HmacSHA224",
            Prf::Sha256 => "HmacSHA256",
            Prf::Sha384 => "HmacSHA384",
            Prf::Sha512 => "HmacSHA512",
        }
    }
}

/// The encoding of PBKDF2's prf field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrfField {
    /// Absent: the DEFAULT, HmacSHA1.
    Absent,
    /// The OID alone.
    Oid,
    /// The OID and a NULL parameter (what Java and OpenSSL write).
    OidNull,
}

/// PBES2 with PBKDF2 and AES-CBC: what Java's PBEWithHmacSHA*AndAES_* write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbes2 {
    pub prf: Prf,
    /// How the prf field was written; kept so that new content looks like the old.
    pub prf_field: PrfField,
    /// The optional keyLength field, written again when the original had it.
    pub key_length: Option<u16>,
    pub iterations: u32,
    pub salt: Vec<u8>,
    /// 16, 24 or 32: AES-128, -192 or -256.
    pub aes_key_len: usize,
    pub iv: [u8; 16],
}

/// The PKCS#12 PBE schemes Java reads (RFC 7292 Appendix C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyCipher {
    Rc2_40,
    Rc2_128,
    DesEde3,
    /// RC4 stream ciphers (no IV, no padding): Java's PBEWithSHA1AndRC4_128 / _40.
    Rc4_128,
    Rc4_40,
}

impl LegacyCipher {
    fn oid(self) -> &'static [u8] {
        match self {
            LegacyCipher::Rc2_40 => oids::PBE_SHA1_RC2_40,
            LegacyCipher::Rc2_128 => oids::PBE_SHA1_RC2_128,
            LegacyCipher::DesEde3 => oids::PBE_SHA1_3DES,
            LegacyCipher::Rc4_128 => oids::PBE_SHA1_RC4_128,
            LegacyCipher::Rc4_40 => oids::PBE_SHA1_RC4_40,
        }
    }

    fn key_len(self) -> usize {
        match self {
            LegacyCipher::Rc2_40 | LegacyCipher::Rc4_40 => 5,
            LegacyCipher::Rc2_128 | LegacyCipher::Rc4_128 => 16,
            LegacyCipher::DesEde3 => 24,
        }
    }

    fn is_stream(self) -> bool {
        matches!(self, LegacyCipher::Rc4_128 | LegacyCipher::Rc4_40)
    }

    fn name(self) -> &'static str {
        match self {
            LegacyCipher::Rc2_40 => "PBE-SHA1-RC2-40",
            LegacyCipher::Rc2_128 => "PBE-SHA1-RC2-128",
            LegacyCipher::DesEde3 => "PBE-SHA1-3DES",
            LegacyCipher::Rc4_128 => "PBE-SHA1-RC4-128",
            LegacyCipher::Rc4_40 => "PBE-SHA1-RC4-40",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs12Pbe {
    pub cipher: LegacyCipher,
    pub salt: Vec<u8>,
    pub iterations: u32,
}

impl Pkcs12Pbe {
    /// RFC 7292 appendix B: the cipher key and the 8-byte CBC IV (none for RC4), both from
    /// the BMP password.
    fn key_and_iv(&self, pw: &PwForm) -> (Vec<u8>, Vec<u8>) {
        let derive = |kind, len| {
            pkcs12_kdf(
                HashAlg::Sha1,
                &pw.bmp,
                &self.salt,
                kind,
                self.iterations,
                len,
            )
        };
        let key = derive(Pkcs12KeyType::EncryptionKey, self.cipher.key_len());
        if self.cipher.is_stream() {
            return (key, Vec::new());
        }
        (key, derive(Pkcs12KeyType::Iv, 8))
    }
}

/// The contentEncryptionAlgorithm of an EncryptedData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncAlg {
    Pbes2(Pbes2),
    Pkcs12(Pkcs12Pbe),
}

const CTX: &str = "contentEncryptionAlgorithm";

impl EncAlg {
    /// Parses an AlgorithmIdentifier TLV. Unknown schemes are Unsupported; the iteration
    /// count is bounded here, before any key derivation.
    pub fn parse(alg_id: &Tlv<'_>) -> Result<EncAlg, KeystoreError> {
        let mut r = Reader::new(alg_id.value, CTX);
        let oid = r.read(asn1::OID, "the algorithm OID")?;
        let params = r
            .read_any()
            .map_err(|_| asn1::malformed(CTX, "the algorithm has no parameters"))?;
        r.finish("the algorithm parameters")?;
        let legacy = match oid.value {
            o if o == oids::PBES2 => return parse_pbes2(&params).map(EncAlg::Pbes2),
            o if o == oids::PBE_SHA1_RC2_40 => LegacyCipher::Rc2_40,
            o if o == oids::PBE_SHA1_RC2_128 => LegacyCipher::Rc2_128,
            o if o == oids::PBE_SHA1_3DES => LegacyCipher::DesEde3,
            o if o == oids::PBE_SHA1_RC4_128 => LegacyCipher::Rc4_128,
            o if o == oids::PBE_SHA1_RC4_40 => LegacyCipher::Rc4_40,
            o if o == oids::PBE_SHA1_2DES => {
                return Err(KeystoreError::Unsupported(format!(
                    "certificates encrypted with {} (two-key triple DES), which Java does not read either",
                    oids::describe(o)
                )))
            }
            o => {
                return Err(KeystoreError::Unsupported(format!(
                    "certificates encrypted with {}, which is not a password-based scheme Java reads",
                    oids::describe(o)
                )))
            }
        };
        if params.tag != asn1::SEQUENCE {
            return Err(asn1::malformed(
                CTX,
                "PKCS#12 PBE parameters are not a SEQUENCE",
            ));
        }
        let mut p = Reader::new(params.value, CTX);
        let salt = p.read(asn1::OCTET_STRING, "the PBE salt")?.value.to_vec();
        let iterations =
            checked_iterations(&p.read(asn1::INTEGER, "the PBE iteration count")?, CTX)?;
        p.finish("the PBE parameters")?;
        Ok(EncAlg::Pkcs12(Pkcs12Pbe {
            cipher: legacy,
            salt,
            iterations,
        }))
    }

    pub fn iterations(&self) -> u32 {
        match self {
            EncAlg::Pbes2(p) => p.iterations,
            EncAlg::Pkcs12(p) => p.iterations,
        }
    }

    /// A short description for messages and tests, e.g. "PBES2 (PBKDF2-HmacSHA256,
    /// AES-256-CBC, 10000 iterations)".
    pub fn describe(&self) -> String {
        match self {
            EncAlg::Pbes2(p) => format!(
                "PBES2 (PBKDF2-{}, AES-{}-CBC, {} iterations)",
                p.prf.name(),
                p.aes_key_len * 8,
                p.iterations
            ),
            EncAlg::Pkcs12(p) => format!("{} ({} iterations)", p.cipher.name(), p.iterations),
        }
    }

    /// The same scheme and parameters with a fresh salt (same length) and IV, for new
    /// content: reusing a salt/IV pair under one password would leak plaintext relations.
    pub fn fresh(&self) -> Result<EncAlg, KeystoreError> {
        Ok(match self {
            EncAlg::Pbes2(p) => {
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&random_bytes(16)?);
                EncAlg::Pbes2(Pbes2 {
                    salt: random_bytes(p.salt.len())?,
                    iv,
                    ..p.clone()
                })
            }
            EncAlg::Pkcs12(p) => EncAlg::Pkcs12(Pkcs12Pbe {
                salt: random_bytes(p.salt.len())?,
                ..p.clone()
            }),
        })
    }

    /// The AlgorithmIdentifier, laid out as Java writes it.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            EncAlg::Pbes2(p) => {
                let aes_oid = match p.aes_key_len {
                    16 => oids::AES128_CBC,
                    24 => oids::AES192_CBC,
                    _ => oids::AES256_CBC,
                };
                let salt = asn1::octet_string(&p.salt);
                let iter = asn1::uint_der(u64::from(p.iterations));
                let key_len = p
                    .key_length
                    .map(|k| asn1::uint_der(u64::from(k)))
                    .unwrap_or_default();
                let prf = match p.prf_field {
                    PrfField::Absent => Vec::new(),
                    PrfField::Oid => asn1::seq(&[&asn1::oid(p.prf.oid())]),
                    PrfField::OidNull => asn1::seq(&[&asn1::oid(p.prf.oid()), &[asn1::NULL, 0]]),
                };
                let pbkdf2_params = asn1::seq(&[&salt, &iter, &key_len, &prf]);
                let kdf = asn1::seq(&[&asn1::oid(oids::PBKDF2), &pbkdf2_params]);
                let enc = asn1::seq(&[&asn1::oid(aes_oid), &asn1::octet_string(&p.iv)]);
                asn1::seq(&[&asn1::oid(oids::PBES2), &asn1::seq(&[&kdf, &enc])])
            }
            EncAlg::Pkcs12(p) => {
                let params = asn1::seq(&[
                    &asn1::octet_string(&p.salt),
                    &asn1::uint_der(u64::from(p.iterations)),
                ]);
                asn1::seq(&[&asn1::oid(p.cipher.oid()), &params])
            }
        }
    }

    pub fn decrypt(&self, pw: &PwForm, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        match self {
            EncAlg::Pbes2(p) => {
                let params = p.to_pkcs5().map_err(DecryptError::Other)?;
                count_kdf();
                params.decrypt(&pw.utf8, ciphertext).map_err(|e| match e {
                    pkcs5::Error::DecryptFailed => DecryptError::WrongPasswordOrCorrupt,
                    other => DecryptError::Other(p.pkcs5_error(other)),
                })
            }
            EncAlg::Pkcs12(p) => {
                let (key, iv) = p.key_and_iv(pw);
                legacy_decrypt(p.cipher, &key, &iv, ciphertext)
            }
        }
    }

    pub fn encrypt(&self, pw: &PwForm, plaintext: &[u8]) -> Result<Vec<u8>, KeystoreError> {
        match self {
            EncAlg::Pbes2(p) => {
                let params = p.to_pkcs5()?;
                count_kdf();
                params
                    .encrypt(&pw.utf8, plaintext)
                    .map_err(|e| p.pkcs5_error(e))
            }
            EncAlg::Pkcs12(p) => {
                let (key, iv) = p.key_and_iv(pw);
                legacy_encrypt(p.cipher, &key, &iv, plaintext)
            }
        }
    }
}

impl Pbes2 {
    fn pkcs5_error(&self, e: pkcs5::Error) -> KeystoreError {
        match e {
            pkcs5::Error::UnsupportedAlgorithm { .. } => KeystoreError::Unsupported(format!(
                "PBES2 with PBKDF2-{} is not built in (pkcs5's sha1-insecure feature)",
                self.prf.name()
            )),
            other => KeystoreError::Unsupported(format!("PBES2: {other}")),
        }
    }

    fn to_pkcs5(&self) -> Result<Parameters, KeystoreError> {
        let salt = Salt::new(&self.salt).map_err(|_| {
            KeystoreError::Unsupported(format!("a PBKDF2 salt of {} bytes", self.salt.len()))
        })?;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.iv);
        let encryption = match self.aes_key_len {
            16 => EncryptionScheme::Aes128Cbc { iv },
            24 => EncryptionScheme::Aes192Cbc { iv },
            _ => EncryptionScheme::Aes256Cbc { iv },
        };
        Ok(Parameters {
            kdf: Kdf::Pbkdf2(Pbkdf2Params {
                salt,
                iteration_count: self.iterations,
                key_length: self.key_length,
                prf: self.prf.to_pkcs5(),
            }),
            encryption,
        })
    }
}

fn parse_pbes2(params: &Tlv<'_>) -> Result<Pbes2, KeystoreError> {
    const P: &str = "PBES2 parameters";
    if params.tag != asn1::SEQUENCE {
        return Err(asn1::malformed(P, "not a SEQUENCE"));
    }
    let mut r = Reader::new(params.value, P);
    let kdf = r.read(asn1::SEQUENCE, "keyDerivationFunc")?;
    let enc = r.read(asn1::SEQUENCE, "encryptionScheme")?;
    r.finish("encryptionScheme")?;

    let mut k = Reader::new(kdf.value, P);
    let kdf_oid = k.read(asn1::OID, "the KDF OID")?;
    if kdf_oid.value != oids::PBKDF2 {
        return Err(KeystoreError::Unsupported(format!(
            "PBES2 with the key derivation function {} (only PBKDF2 is supported, as in Java)",
            oids::describe(kdf_oid.value)
        )));
    }
    let kp = k.read(asn1::SEQUENCE, "PBKDF2 parameters")?;
    k.finish("PBKDF2 parameters")?;
    let mut kp = Reader::new(kp.value, P);
    let salt_tlv = kp.read_any()?;
    if salt_tlv.tag != asn1::OCTET_STRING {
        return Err(KeystoreError::Unsupported(
            "a PBKDF2 salt that is not an OCTET STRING (otherSource)".into(),
        ));
    }
    let salt = salt_tlv.value.to_vec();
    if salt.len() > Salt::MAX_LEN {
        return Err(KeystoreError::Unsupported(format!(
            "a PBKDF2 salt of {} bytes",
            salt.len()
        )));
    }
    let iterations = checked_iterations(&kp.read(asn1::INTEGER, "the PBKDF2 iteration count")?, P)?;
    let key_length = match kp.read_optional(asn1::INTEGER, "the PBKDF2 key length")? {
        Some(t) => Some(
            u16::try_from(asn1::uint(&t, P)?)
                .map_err(|_| asn1::malformed(P, "a PBKDF2 key length out of range"))?,
        ),
        None => None,
    };
    let (prf, prf_field) = match kp.read_optional(asn1::SEQUENCE, "the PBKDF2 PRF")? {
        None => (Prf::Sha1, PrfField::Absent),
        Some(t) => {
            let mut pr = Reader::new(t.value, P);
            let oid = pr.read(asn1::OID, "the PRF OID")?;
            let null = pr
                .read_optional(asn1::NULL, "the PRF parameters")?
                .is_some();
            pr.finish("the PRF")?;
            let prf = match oid.value {
                o if o == oids::HMAC_WITH_SHA1 => Prf::Sha1,
                o if o == oids::HMAC_WITH_SHA224 => Prf::Sha224,
                o if o == oids::HMAC_WITH_SHA256 => Prf::Sha256,
                o if o == oids::HMAC_WITH_SHA384 => Prf::Sha384,
                o if o == oids::HMAC_WITH_SHA512 => Prf::Sha512,
                o => {
                    return Err(KeystoreError::Unsupported(format!(
                        "PBKDF2 with the unknown PRF {}",
                        oids::describe(o)
                    )))
                }
            };
            (
                prf,
                if null {
                    PrfField::OidNull
                } else {
                    PrfField::Oid
                },
            )
        }
    };
    kp.finish("the PBKDF2 parameters")?;

    let mut e = Reader::new(enc.value, P);
    let cipher_oid = e.read(asn1::OID, "the cipher OID")?;
    let aes_key_len = match cipher_oid.value {
        o if o == oids::AES128_CBC => 16,
        // Read (and reported by the caller: Java's PBES2Parameters refuses it).
        o if o == oids::AES192_CBC => 24,
        o if o == oids::AES256_CBC => 32,
        // Java's PBES2Parameters accepts nothing but AES-128/256-CBC, so whatever else this
        // is, Java cannot load the file.
        o => {
            return Err(KeystoreError::JavaCannotLoad(
                JavaLoadProblem::Pbes2Cipher {
                    cipher: oids::name(o)
                        .map(str::to_string)
                        .unwrap_or_else(|| oids::describe(o)),
                    content: "the certificates".into(),
                },
            ))
        }
    };
    let iv_tlv = e.read(asn1::OCTET_STRING, "the AES IV")?;
    e.finish("the AES IV")?;
    let iv: [u8; 16] = iv_tlv
        .value
        .try_into()
        .map_err(|_| asn1::malformed(P, format!("an AES IV of {} bytes", iv_tlv.value.len())))?;
    if let Some(k) = key_length {
        if usize::from(k) != aes_key_len {
            return Err(asn1::malformed(
                P,
                format!("keyLength {k} does not fit AES-{}", aes_key_len * 8),
            ));
        }
    }
    Ok(Pbes2 {
        prf,
        prf_field,
        key_length,
        iterations,
        salt,
        aes_key_len,
        iv,
    })
}

fn legacy_decrypt(
    cipher: LegacyCipher,
    key: &[u8],
    iv: &[u8],
    ct: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    if cipher.is_stream() {
        // No padding to check: a wrong password shows when the result does not parse.
        return rc4_apply(key, ct).map_err(DecryptError::Other);
    }
    // Not `is_multiple_of`: that needs Rust 1.87 and the crate's MSRV is 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    if ct.is_empty() || ct.len() % 8 != 0 {
        return Err(DecryptError::WrongPasswordOrCorrupt);
    }
    let bad_key = |_| {
        DecryptError::Other(KeystoreError::Malformed(
            "a derived key or IV of the wrong size".into(),
        ))
    };
    let out = match cipher {
        // Handled above (a stream cipher has no blocks).
        LegacyCipher::Rc4_128 | LegacyCipher::Rc4_40 => {
            return rc4_apply(key, ct).map_err(DecryptError::Other)
        }
        LegacyCipher::Rc2_40 | LegacyCipher::Rc2_128 => {
            let c = rc2::Rc2::new_with_eff_key_len(key, key.len() * 8);
            cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(c, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec::<Pkcs7>(ct)
        }
        LegacyCipher::DesEde3 => {
            let c = des::TdesEde3::new_from_slice(key).map_err(bad_key)?;
            cbc::Decryptor::<des::TdesEde3>::inner_iv_slice_init(c, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec::<Pkcs7>(ct)
        }
    };
    out.map_err(|_| DecryptError::WrongPasswordOrCorrupt)
}

fn legacy_encrypt(
    cipher: LegacyCipher,
    key: &[u8],
    iv: &[u8],
    pt: &[u8],
) -> Result<Vec<u8>, KeystoreError> {
    let bad_key = |_| KeystoreError::Malformed("a derived key or IV of the wrong size".into());
    Ok(match cipher {
        LegacyCipher::Rc4_128 | LegacyCipher::Rc4_40 => rc4_apply(key, pt)?,
        LegacyCipher::Rc2_40 | LegacyCipher::Rc2_128 => {
            let c = rc2::Rc2::new_with_eff_key_len(key, key.len() * 8);
            cbc::Encryptor::<rc2::Rc2>::inner_iv_slice_init(c, iv)
                .map_err(bad_key)?
                .encrypt_padded_vec::<Pkcs7>(pt)
        }
        LegacyCipher::DesEde3 => {
            let c = des::TdesEde3::new_from_slice(key).map_err(bad_key)?;
            cbc::Encryptor::<des::TdesEde3>::inner_iv_slice_init(c, iv)
                .map_err(bad_key)?
                .encrypt_padded_vec::<Pkcs7>(pt)
        }
    })
}

/// RC4 encrypts and decrypts alike: the data XOR the key stream.
fn rc4_apply(key: &[u8], data: &[u8]) -> Result<Vec<u8>, KeystoreError> {
    let mut c = rc4::Rc4::new_from_slice(key)
        .map_err(|_| KeystoreError::Malformed("a derived RC4 key of the wrong size".into()))?;
    let mut out = data.to_vec();
    c.apply_keystream(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_password_has_two_forms() {
        let f = password_forms("");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].bmp, vec![0, 0]);
        assert!(f[0].utf8.is_empty());
        assert!(f[1].bmp.is_empty());
        assert_eq!(f[1].utf8, vec![0]);
        let f = password_forms("é€😀");
        assert_eq!(f[0].utf8, "é€😀".as_bytes());
        assert_eq!(
            f[0].bmp,
            [0x00, 0xE9, 0x20, 0xAC, 0xD8, 0x3D, 0xDE, 0x00, 0x00, 0x00]
        );
        let f = password_forms("ab");
        assert_eq!(
            f,
            vec![PwForm {
                bmp: vec![0, b'a', 0, b'b', 0, 0],
                utf8: b"ab".to_vec()
            }]
        );
    }

    /// RFC 7292 has no vectors; these are OpenSSL's PKCS12_key_gen_uni test data (password
    /// "smeg"), re-checked with `openssl kdf ... -kdfopt hexpass:0073006D006500670000 PKCS12KDF`.
    #[test]
    fn pkcs12_kdf_known_answer() {
        let pass = password_forms("smeg").remove(0).bmp;
        let salt = [0x0A, 0x58, 0xCF, 0x64, 0x53, 0x0D, 0x82, 0x3F];
        let key = pkcs12_kdf(
            HashAlg::Sha1,
            &pass,
            &salt,
            Pkcs12KeyType::EncryptionKey,
            1,
            24,
        );
        assert_eq!(
            key,
            [
                0x8A, 0xAA, 0xE6, 0x29, 0x7B, 0x6C, 0xB0, 0x46, 0x42, 0xAB, 0x5B, 0x07, 0x78, 0x51,
                0x28, 0x4E, 0xB7, 0x12, 0x8F, 0x1A, 0x2A, 0x7F, 0xBC, 0xA3
            ]
        );
        let iv = pkcs12_kdf(HashAlg::Sha1, &pass, &salt, Pkcs12KeyType::Iv, 1, 8);
        assert_eq!(iv, [0x79, 0x99, 0x3D, 0xFE, 0x04, 0x8D, 0x3B, 0x76]);
        let mac_key = pkcs12_kdf(HashAlg::Sha256, &pass, &salt, Pkcs12KeyType::Mac, 1000, 32);
        assert_eq!(
            mac_key,
            [
                0x35, 0xAC, 0x16, 0xA4, 0x54, 0xD6, 0x08, 0xFB, 0x10, 0xC8, 0xD7, 0xC6, 0x33, 0x8C,
                0xA8, 0x58, 0x18, 0x58, 0x7A, 0xED, 0x0F, 0xF7, 0x71, 0xFD, 0x26, 0x59, 0x57, 0xE4,
                0x12, 0xC2, 0xC0, 0x3C
            ]
        );
    }

    fn round_trip(alg: &EncAlg) {
        let pw = &password_forms("changeit")[0];
        let fresh = alg.fresh().unwrap();
        let parsed = EncAlg::parse(&Reader::new(&fresh.encode(), "t").read_any().unwrap()).unwrap();
        assert_eq!(parsed, fresh);
        for len in [0usize, 1, 7, 8, 15, 16, 17, 1000] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ct = fresh.encrypt(pw, &pt).unwrap();
            assert_eq!(fresh.decrypt(pw, &ct).unwrap(), pt);
            let other = &password_forms("wrong")[0];
            // A wrong password must fail or at least not give the plaintext back (an empty
            // plaintext under a stream cipher is the one exception: nothing to garble).
            if let Ok(p) = fresh.decrypt(other, &ct) {
                assert!(p != pt || pt.is_empty());
            }
        }
    }

    #[test]
    fn encrypt_decrypt_round_trips() {
        round_trip(&EncAlg::Pbes2(Pbes2 {
            prf: Prf::Sha256,
            prf_field: PrfField::OidNull,
            key_length: Some(32),
            iterations: 100,
            salt: vec![1; 20],
            aes_key_len: 32,
            iv: [2; 16],
        }));
        for cipher in [
            LegacyCipher::Rc2_40,
            LegacyCipher::Rc2_128,
            LegacyCipher::DesEde3,
            LegacyCipher::Rc4_128,
            LegacyCipher::Rc4_40,
        ] {
            round_trip(&EncAlg::Pkcs12(Pkcs12Pbe {
                cipher,
                salt: vec![3; 20],
                iterations: 100,
            }));
        }
    }

    #[test]
    fn pbes2_with_the_default_sha1_prf_is_parsed_and_reported() {
        let alg = EncAlg::Pbes2(Pbes2 {
            prf: Prf::Sha1,
            prf_field: PrfField::Absent,
            key_length: None,
            iterations: 10,
            salt: vec![1; 8],
            aes_key_len: 16,
            iv: [2; 16],
        });
        let enc = alg.encode();
        let parsed = EncAlg::parse(&Reader::new(&enc, "t").read_any().unwrap()).unwrap();
        assert_eq!(parsed, alg);
        let pw = &password_forms("changeit")[0];
        // Runs only when pkcs5's sha1-insecure feature is on; otherwise a clear refusal.
        match alg.encrypt(pw, b"x") {
            Ok(ct) => assert_eq!(alg.decrypt(pw, &ct).unwrap(), b"x"),
            Err(KeystoreError::Unsupported(m)) => assert!(m.contains("HmacSHA1"), "{m}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn iteration_limits() {
        let params = asn1::seq(&[&asn1::octet_string(&[3; 8]), &asn1::uint_der(1 << 31)]);
        let enc = asn1::seq(&[&asn1::oid(oids::PBE_SHA1_RC2_40), &params]);
        let t = Reader::new(&enc, "t").read_any().unwrap();
        assert!(matches!(
            EncAlg::parse(&t),
            Err(KeystoreError::Unsupported(_))
        ));
        let params = asn1::seq(&[&asn1::octet_string(&[3; 8]), &asn1::uint_der(0)]);
        let enc = asn1::seq(&[&asn1::oid(oids::PBE_SHA1_RC2_40), &params]);
        let t = Reader::new(&enc, "t").read_any().unwrap();
        assert!(matches!(
            EncAlg::parse(&t),
            Err(KeystoreError::Malformed(_))
        ));
    }
}
