//! Every key and signature algorithm Java verifies in a certificate path, and the ones its
//! algorithm constraints refuse: chains whose root, intermediate or leaf uses RSA (512 to 2048
//! bits, PKCS#1 with MD5, SHA-1 and SHA-2, PSS with several salt lengths), ECDSA P-384 with
//! SHA-1/224/512, Ed448 and DSA, judged by `check --chain` and by one JVM per installed JDK
//! (tests/java/TrustCheck.java), case by case.
//!
//! rcgen makes the certificates (names, dates, extensions, key identifiers); the helper below
//! then swaps in the subject key of the wanted kind and re-signs the TBSCertificate with the
//! issuer's key and algorithm, with RustCrypto's keys (seeded: the same keys every run).

use crate::check_matrix::{ca, java_verdicts, key, Ca};
use crate::check_tls::{keystore, leaf_params, pem, write_case, PASS};
use crate::common;
use crate::support::der::{content, int, items, oid_dotted as oid, seq, tlv};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

// ---------------------------------------------------------------- algorithms and keys

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dig {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Dig {
    fn hash(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Dig::Md5 => md5::Md5::digest(data).to_vec(),
            Dig::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Dig::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Dig::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Dig::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Dig::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn oid(self) -> &'static str {
        match self {
            Dig::Md5 => "1.2.840.113549.2.5",
            Dig::Sha1 => "1.3.14.3.2.26",
            Dig::Sha224 => "2.16.840.1.101.3.4.2.4",
            Dig::Sha256 => "2.16.840.1.101.3.4.2.1",
            Dig::Sha384 => "2.16.840.1.101.3.4.2.2",
            Dig::Sha512 => "2.16.840.1.101.3.4.2.3",
        }
    }
}

/// A signature algorithm the issuer's key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Pkcs1(Dig),
    /// Hash (MGF1 over the same hash) and salt length.
    Pss(Dig, usize),
    /// Hash, MGF1 hash, salt length.
    PssMgf(Dig, Dig, usize),
    Ecdsa(Dig),
    Ed448,
    Dsa(Dig),
}

impl Alg {
    /// The AlgorithmIdentifier DER, as Java's own providers write it.
    fn identifier(self) -> Vec<u8> {
        let null = [0x05u8, 0x00];
        match self {
            Alg::Pkcs1(d) => {
                let o = match d {
                    Dig::Md5 => "1.2.840.113549.1.1.4",
                    Dig::Sha1 => "1.2.840.113549.1.1.5",
                    Dig::Sha224 => "1.2.840.113549.1.1.14",
                    Dig::Sha256 => "1.2.840.113549.1.1.11",
                    Dig::Sha384 => "1.2.840.113549.1.1.12",
                    Dig::Sha512 => "1.2.840.113549.1.1.13",
                };
                seq(&[&oid(o), &null])
            }
            Alg::Pss(d, salt) => Alg::PssMgf(d, d, salt).identifier(),
            Alg::PssMgf(d, m, salt) => {
                let hash = seq(&[&oid(d.oid()), &null]);
                let mgf_hash = seq(&[&oid(m.oid()), &null]);
                let mgf = seq(&[&oid("1.2.840.113549.1.1.8"), &mgf_hash]);
                let params = seq(&[
                    &tlv(0xA0, &hash),
                    &tlv(0xA1, &mgf),
                    &tlv(0xA2, &int(salt as u64)),
                ]);
                seq(&[&oid("1.2.840.113549.1.1.10"), &params])
            }
            Alg::Ecdsa(d) => {
                let o = match d {
                    Dig::Sha1 => "1.2.840.10045.4.1",
                    Dig::Sha224 => "1.2.840.10045.4.3.1",
                    Dig::Sha256 => "1.2.840.10045.4.3.2",
                    Dig::Sha384 => "1.2.840.10045.4.3.3",
                    Dig::Sha512 => "1.2.840.10045.4.3.4",
                    Dig::Md5 => unreachable!("no ECDSA with MD5"),
                };
                seq(&[&oid(o)])
            }
            Alg::Ed448 => seq(&[&oid("1.3.101.113")]),
            Alg::Dsa(d) => {
                let o = match d {
                    Dig::Sha1 => "1.2.840.10040.4.3",
                    Dig::Sha224 => "2.16.840.1.101.3.4.3.1",
                    Dig::Sha256 => "2.16.840.1.101.3.4.3.2",
                    _ => unreachable!("no such DSA algorithm"),
                };
                seq(&[&oid(o)])
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Rsa(usize),
    /// L (bits of p) and N (bits of q).
    Dsa(u32, u32),
    Ed448,
    P256,
    P384,
}

enum TestKey {
    Rsa(rsa::PrivateKey),
    Dsa(dsa::SigningKey),
    Ed448(ed448_goldilocks::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ec256(p256::ecdsa::SigningKey),
    /// An rcgen P-256 key (ECDSA-SHA256 only).
    P256(rcgen::KeyPair),
}

impl TestKey {
    fn generate(kind: Kind, rng: &mut StdRng) -> TestKey {
        match kind {
            Kind::Rsa(bits) => {
                TestKey::Rsa(rsa::PrivateKey::new_unchecked(rng, bits).expect("rsa key"))
            }
            Kind::Dsa(l, n) => {
                #[allow(deprecated)]
                let size = match (l, n) {
                    (1024, 160) => dsa::KeySize::DSA_1024_160,
                    (2048, 224) => dsa::KeySize::DSA_2048_224,
                    (2048, 256) => dsa::KeySize::DSA_2048_256,
                    _ => panic!("DSA size {l}/{n}"),
                };
                let c = dsa::Components::try_generate_from_rng_with_key_size(rng, size)
                    .expect("dsa parameters");
                TestKey::Dsa(
                    dsa::SigningKey::try_generate_from_rng_with_components(rng, c)
                        .expect("dsa key"),
                )
            }
            Kind::Ed448 => {
                use ed448_goldilocks::elliptic_curve::Generate;
                TestKey::Ed448(ed448_goldilocks::SigningKey::generate_from_rng(rng))
            }
            Kind::P384 => {
                use p384::elliptic_curve::Generate;
                TestKey::P384(p384::ecdsa::SigningKey::generate_from_rng(rng))
            }
            Kind::P256 => {
                use p256::elliptic_curve::Generate;
                TestKey::Ec256(p256::ecdsa::SigningKey::generate_from_rng(rng))
            }
        }
    }

    /// SubjectPublicKeyInfo DER.
    fn spki(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePublicKey;
        match self {
            TestKey::Rsa(k) => k
                .to_public_key()
                .to_public_key_der()
                .expect("rsa spki")
                .into_vec(),
            TestKey::Dsa(k) => k
                .verifying_key()
                .to_public_key_der()
                .expect("dsa spki")
                .into_vec(),
            TestKey::Ed448(k) => {
                let mut bits = vec![0u8];
                bits.extend_from_slice(&k.verifying_key().to_bytes());
                seq(&[&seq(&[&oid("1.3.101.113")]), &tlv(0x03, &bits)])
            }
            TestKey::P384(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                let mut bits = vec![0u8];
                bits.extend_from_slice(point.as_bytes());
                seq(&[
                    &seq(&[&oid("1.2.840.10045.2.1"), &oid("1.3.132.0.34")]),
                    &tlv(0x03, &bits),
                ])
            }
            TestKey::Ec256(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                let mut bits = vec![0u8];
                bits.extend_from_slice(point.as_bytes());
                seq(&[
                    &seq(&[&oid("1.2.840.10045.2.1"), &oid("1.2.840.10045.3.1.7")]),
                    &tlv(0x03, &bits),
                ])
            }
            TestKey::P256(k) => {
                use rcgen::PublicKeyData;
                k.subject_public_key_info()
            }
        }
    }

    fn sign(&self, alg: Alg, tbs: &[u8], rng: &mut StdRng) -> Vec<u8> {
        match (self, alg) {
            (TestKey::Rsa(k), Alg::Pkcs1(d)) => {
                let padding = match d {
                    Dig::Md5 => rsa::Pkcs1v15Sign::new::<md5::Md5>(),
                    Dig::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    Dig::Sha224 => rsa::Pkcs1v15Sign::new::<sha2::Sha224>(),
                    Dig::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    Dig::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    Dig::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                k.sign(padding, &d.hash(tbs)).expect("pkcs1 signature")
            }
            (TestKey::Rsa(k), Alg::Pss(d, salt)) => {
                let h = d.hash(tbs);
                match d {
                    Dig::Sha1 => {
                        k.sign_with_rng(rng, rsa::Pss::<sha1::Sha1>::new_with_salt(salt), &h)
                    }
                    Dig::Sha224 => {
                        k.sign_with_rng(rng, rsa::Pss::<sha2::Sha224>::new_with_salt(salt), &h)
                    }
                    Dig::Sha256 => {
                        k.sign_with_rng(rng, rsa::Pss::<sha2::Sha256>::new_with_salt(salt), &h)
                    }
                    Dig::Sha384 => {
                        k.sign_with_rng(rng, rsa::Pss::<sha2::Sha384>::new_with_salt(salt), &h)
                    }
                    Dig::Sha512 => {
                        k.sign_with_rng(rng, rsa::Pss::<sha2::Sha512>::new_with_salt(salt), &h)
                    }
                    Dig::Md5 => unreachable!("no PSS with MD5"),
                }
                .expect("pss signature")
            }
            (TestKey::Rsa(k), Alg::PssMgf(d, m, salt)) => {
                pss_sign_other_mgf(k, d, m, salt, tbs, rng)
            }
            (TestKey::Dsa(k), Alg::Dsa(d)) => {
                use dsa::signature::hazmat::PrehashSigner;
                use rsa::pkcs8::der::Encode;
                let s: dsa::Signature = k.sign_prehash(&d.hash(tbs)).expect("dsa signature");
                s.to_der().expect("dsa signature der")
            }
            (TestKey::Ec256(k), Alg::Ecdsa(d)) => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                let h = d.hash(tbs);
                let mut pre = vec![0u8; 32usize.saturating_sub(h.len())];
                pre.extend(h);
                let s: p256::ecdsa::Signature = k.sign_prehash(&pre).expect("ecdsa signature");
                s.to_der().as_bytes().to_vec()
            }
            (TestKey::P256(k), Alg::Ecdsa(Dig::Sha256)) => {
                use rcgen::SigningKey;
                k.sign(tbs).expect("p256 signature")
            }
            (TestKey::Ed448(k), Alg::Ed448) => k.sign_raw(tbs).to_bytes().to_vec(),
            (TestKey::P384(k), Alg::Ecdsa(d)) => {
                use p384::ecdsa::signature::hazmat::PrehashSigner;
                // A digest shorter than the order, left-padded: the same integer, which
                // RustCrypto's signer accepts.
                let h = d.hash(tbs);
                let mut pre = vec![0u8; 48usize.saturating_sub(h.len())];
                pre.extend(h);
                let s: p384::ecdsa::Signature = k.sign_prehash(&pre).expect("ecdsa signature");
                s.to_der().as_bytes().to_vec()
            }
            (_, alg) => panic!("this key cannot sign with {alg:?}"),
        }
    }
}

/// RSASSA-PSS signing (RFC 8017 9.1.1 EMSA-PSS-ENCODE, then RSASP1) with an MGF1 hash other
/// than the message hash, which the `rsa` crate's signer does not offer.
fn pss_sign_other_mgf(
    key: &rsa::PrivateKey,
    hash: Dig,
    mgf: Dig,
    salt_len: usize,
    tbs: &[u8],
    rng: &mut StdRng,
) -> Vec<u8> {
    use rand::Rng;
    use rsa::traits::PublicKeyParts;
    let mgf1 = |seed: &[u8], len: usize| {
        let mut out = Vec::new();
        let mut counter: u32 = 0;
        while out.len() < len {
            let mut block = seed.to_vec();
            block.extend_from_slice(&counter.to_be_bytes());
            out.extend(mgf.hash(&block));
            counter += 1;
        }
        out.truncate(len);
        out
    };
    let em_bits = key.n().bit_width() as usize - 1;
    let em_len = em_bits.div_ceil(8);
    let m_hash = hash.hash(tbs);
    let h_len = m_hash.len();
    let mut salt = vec![0u8; salt_len];
    rng.fill_bytes(&mut salt);
    let mut m_prime = vec![0u8; 8];
    m_prime.extend(&m_hash);
    m_prime.extend(&salt);
    let h = hash.hash(&m_prime);
    let db_len = em_len - h_len - 1;
    let mut db = vec![0u8; db_len - salt_len - 1];
    db.push(0x01);
    db.extend(&salt);
    let mask = mgf1(&h, db_len);
    let mut em: Vec<u8> = db.iter().zip(mask).map(|(a, b)| a ^ b).collect();
    em[0] &= 0xFF >> (8 * em_len - em_bits);
    em.extend(&h);
    em.push(0xBC);
    let m = rsa::BoxedUint::from_be_slice(&em, key.n_bits_precision()).expect("em");
    let s = rsa::hazmat::rsa_decrypt_and_check::<StdRng>(key, None, &m).expect("rsasp1");
    let bytes = s.to_be_bytes();
    bytes[bytes.len() - key.size()..].to_vec()
}

/// rcgen's certificate `der` with its subject key replaced by `subject` (when given),
/// re-signed with `alg` by `issuer`: the TBSCertificate's signature field, the outer
/// signatureAlgorithm and the signature all say `alg`.
fn resign(
    der: &[u8],
    subject: Option<&TestKey>,
    alg: Alg,
    issuer: &TestKey,
    rng: &mut StdRng,
) -> Vec<u8> {
    let outer = items(content(der));
    let tbs_items = items(content(outer[0]));
    // [0] version first in a v3 certificate, then serial, signature, issuer, validity,
    // subject, subjectPublicKeyInfo.
    let base = usize::from(tbs_items[0][0] == 0xA0);
    let alg_id = alg.identifier();
    let spki = subject.map(TestKey::spki);
    let mut body = Vec::new();
    for (i, item) in tbs_items.iter().enumerate() {
        if i == base + 1 {
            body.extend_from_slice(&alg_id);
        } else if i == base + 5 && spki.is_some() {
            body.extend_from_slice(spki.as_deref().unwrap_or_default());
        } else {
            body.extend_from_slice(item);
        }
    }
    let tbs = tlv(0x30, &body);
    let mut bits = vec![0u8];
    bits.extend(issuer.sign(alg, &tbs, rng));
    seq(&[&tbs, &alg_id, &tlv(0x03, &bits)])
}

// ---------------------------------------------------------------- the cases

/// An algorithm under test: the kind of key that signs with it, and the algorithm.
struct Spec {
    tag: &'static str,
    kind: Kind,
    alg: Alg,
}

fn specs() -> Vec<Spec> {
    use Alg::*;
    use Dig::*;
    let s = |tag, kind, alg| Spec { tag, kind, alg };
    vec![
        s("rsa512-sha256", Kind::Rsa(512), Pkcs1(Sha256)),
        s("rsa1024-sha1", Kind::Rsa(1024), Pkcs1(Sha1)),
        s("rsa1024-sha224", Kind::Rsa(1024), Pkcs1(Sha224)),
        s("rsa1024-sha256", Kind::Rsa(1024), Pkcs1(Sha256)),
        s("rsa1024-sha384", Kind::Rsa(1024), Pkcs1(Sha384)),
        s("rsa1024-sha512", Kind::Rsa(1024), Pkcs1(Sha512)),
        s("rsa1536-sha384", Kind::Rsa(1536), Pkcs1(Sha384)),
        s("rsa2048-md5", Kind::Rsa(2048), Pkcs1(Md5)),
        s("rsa2048-sha1", Kind::Rsa(2048), Pkcs1(Sha1)),
        s("rsa2048-sha224", Kind::Rsa(2048), Pkcs1(Sha224)),
        s("rsa2048-sha384", Kind::Rsa(2048), Pkcs1(Sha384)),
        s("pss-sha256-salt32", Kind::Rsa(2048), Pss(Sha256, 32)),
        s("pss-sha256-salt0", Kind::Rsa(2048), Pss(Sha256, 0)),
        s("pss-sha256-salt20", Kind::Rsa(2048), Pss(Sha256, 20)),
        s("pss-sha256-salt64", Kind::Rsa(2048), Pss(Sha256, 64)),
        s("pss-sha384-salt0", Kind::Rsa(2048), Pss(Sha384, 0)),
        s("pss-sha384-salt48", Kind::Rsa(2048), Pss(Sha384, 48)),
        s("pss-sha512-salt64", Kind::Rsa(2048), Pss(Sha512, 64)),
        s("pss-sha512-salt32", Kind::Rsa(2048), Pss(Sha512, 32)),
        s("pss-sha1-salt20", Kind::Rsa(2048), Pss(Sha1, 20)),
        s("pss1024-sha256-salt32", Kind::Rsa(1024), Pss(Sha256, 32)),
        s(
            "pss-sha256-mgf1sha1-salt32",
            Kind::Rsa(2048),
            PssMgf(Sha256, Sha1, 32),
        ),
        s(
            "pss-sha512-mgf1sha256-salt20",
            Kind::Rsa(2048),
            PssMgf(Sha512, Sha256, 20),
        ),
        s("p256-sha224", Kind::P256, Ecdsa(Sha224)),
        s("p256-sha1", Kind::P256, Ecdsa(Sha1)),
        s("p384-sha1", Kind::P384, Ecdsa(Sha1)),
        s("p384-sha224", Kind::P384, Ecdsa(Sha224)),
        s("p384-sha256", Kind::P384, Ecdsa(Sha256)),
        s("p384-sha512", Kind::P384, Ecdsa(Sha512)),
        s("ed448", Kind::Ed448, Ed448),
        s("dsa1024-sha1", Kind::Dsa(1024, 160), Dsa(Sha1)),
        s("dsa1024-sha256", Kind::Dsa(1024, 160), Dsa(Sha256)),
        s("dsa2048-sha224", Kind::Dsa(2048, 224), Dsa(Sha224)),
        s("dsa2048-sha256", Kind::Dsa(2048, 256), Dsa(Sha256)),
        s("dsa2048-sha1", Kind::Dsa(2048, 256), Dsa(Sha1)),
    ]
}

pub(crate) struct AlgCase {
    pub(crate) name: String,
    pub(crate) anchors: Vec<(String, Vec<u8>)>,
    pub(crate) chain: Vec<Vec<u8>>,
}

/// For each algorithm: the root signs with it (its own key of that kind), the intermediate
/// does, and the intermediate signs a leaf that has such a key too; each chain sent in order
/// and, with an unrelated certificate between, as one Java must build a path for.
pub(crate) fn algorithm_cases() -> Vec<AlgCase> {
    let mut rng = StdRng::seed_from_u64(14);
    // One key per kind and role, generated once (DSA parameters take a while).
    let mut keys: HashMap<(Kind, u8), TestKey> = HashMap::new();
    let mut out = Vec::new();
    // A plain P-256 root over everything the algorithm under test does not sign, and a
    // stranger certificate for the built-path variants.
    let base_root: Ca = ca("Alg Matrix P-256 Root", 1, key(), -100, 3000);
    let base_root_der = base_root
        .params
        .self_signed(&base_root.key)
        .expect("base root")
        .der()
        .to_vec();
    let base_signer = TestKey::P256(
        rcgen::KeyPair::try_from(base_root.key.serialize_der().as_slice()).expect("key copy"),
    );
    let other = ca("Alg Matrix Other Root", 2, key(), -100, 3000);
    let unrelated = leaf_params("other.alg.test", 3)
        .signed_by(&key(), &other.issuer())
        .expect("unrelated")
        .der()
        .to_vec();
    for (n, spec) in specs().into_iter().enumerate() {
        for role in 0..3u8 {
            keys.entry((spec.kind, role))
                .or_insert_with(|| TestKey::generate(spec.kind, &mut rng));
        }
        let serial = 100 + 10 * n as u64;
        let root = ca(
            &format!("Alg Matrix {} Root", spec.tag),
            serial,
            key(),
            -100,
            3000,
        );
        let inter = ca(
            &format!("Alg Matrix {} Intermediate", spec.tag),
            serial + 1,
            key(),
            -100,
            1000,
        );
        let k_root = &keys[&(spec.kind, 0)];
        let k_inter = &keys[&(spec.kind, 1)];
        let k_leaf = &keys[&(spec.kind, 2)];

        // 1. The root signs with the algorithm: a root of that kind, self-signed with it,
        //    over an intermediate it signs, a P-256 leaf below.
        let root_der = resign(
            root.params.self_signed(&root.key).expect("root").der(),
            Some(k_root),
            spec.alg,
            k_root,
            &mut rng,
        );
        let inter_der = inter
            .params
            .signed_by(&inter.key, &root.issuer())
            .expect("inter");
        let inter_der = resign(inter_der.der(), None, spec.alg, k_root, &mut rng);
        let leaf_der = leaf_params("alg.matrix.test", serial + 2)
            .signed_by(&key(), &inter.issuer())
            .expect("leaf")
            .der()
            .to_vec();
        let mut add = |suffix: &str, anchor: &Vec<u8>, chain: Vec<&Vec<u8>>| {
            out.push(AlgCase {
                name: format!("{}-{suffix}", spec.tag),
                anchors: vec![("root".into(), anchor.clone())],
                chain: chain.into_iter().cloned().collect(),
            })
        };
        add("root", &root_der, vec![&leaf_der, &inter_der]);
        add(
            "root-built",
            &root_der,
            vec![&leaf_der, &unrelated, &inter_der],
        );

        // 2. The intermediate signs with it: an intermediate of that kind under the P-256
        //    root (which signs it with ECDSA-SHA256), signing a P-256 leaf.
        let inter2 = ca(
            &format!("Alg Matrix {} Issuing CA", spec.tag),
            serial + 3,
            key(),
            -100,
            1000,
        );
        let inter2_der = inter2
            .params
            .signed_by(&inter2.key, &base_root.issuer())
            .expect("inter2");
        let inter2_der = resign(
            inter2_der.der(),
            Some(k_inter),
            Alg::Ecdsa(Dig::Sha256),
            &base_signer,
            &mut rng,
        );
        let leaf2_der = leaf_params("alg.matrix.test", serial + 4)
            .signed_by(&key(), &inter2.issuer())
            .expect("leaf2");
        let leaf2_der = resign(leaf2_der.der(), None, spec.alg, k_inter, &mut rng);
        add(
            "intermediate",
            &base_root_der,
            vec![&leaf2_der, &inter2_der],
        );
        add(
            "intermediate-built",
            &base_root_der,
            vec![&leaf2_der, &unrelated, &inter2_der],
        );

        // 3. The leaf has a key of that kind too.
        let leaf3_der = leaf_params("alg.matrix.test", serial + 5)
            .signed_by(&key(), &inter2.issuer())
            .expect("leaf3");
        let leaf3_der = resign(leaf3_der.der(), Some(k_leaf), spec.alg, k_inter, &mut rng);
        add("leaf", &base_root_der, vec![&leaf3_der, &inter2_der]);

        // 4. A forgery: the leaf signed with the algorithm by another key of the same kind
        //    than the intermediate's. Java refuses it; so must we, and not as undecidable.
        let forged = leaf_params("alg.matrix.test", serial + 6)
            .signed_by(&key(), &inter2.issuer())
            .expect("forged");
        let forged = resign(forged.der(), None, spec.alg, k_leaf, &mut rng);
        add("forged", &base_root_der, vec![&forged, &inter2_der]);
    }
    out
}

/// The rule set `check` is to apply for the JDK a keytool belongs to: its `release` file's
/// JAVA_VERSION, 21 and later sharing one set.
fn java_rules(keytool: &Path) -> &'static str {
    let release = keytool
        .parent()
        .and_then(Path::parent)
        .map(|home| home.join("release"));
    let text = release
        .and_then(|r| std::fs::read_to_string(r).ok())
        .unwrap_or_default();
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default();
    let major: u32 = version
        .trim_start_matches("1.")
        .split(['.', '_', '-', '+'])
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(17);
    match major {
        0..=16 if major <= 8 => "8",
        0..=20 => "17",
        _ => "21",
    }
}

#[test]
fn every_algorithm_matches_java() {
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("no JDK here: the algorithm matrix is skipped");
        return;
    }
    let holder = tempfile::tempdir().unwrap();
    let dir: PathBuf = match std::env::var_os("CHECK_MATRIX_KEEP") {
        Some(keep) => {
            std::fs::create_dir_all(&keep).unwrap();
            PathBuf::from(keep)
        }
        None => holder.path().to_path_buf(),
    };
    let cases = algorithm_cases();
    let mut java_args = Vec::new();
    let mut files = Vec::new();
    for case in &cases {
        let (ks, chain_pem) = write_case(&dir, &case.name, &case.anchors, &case.chain);
        java_args.extend([
            ks.display().to_string(),
            PASS.to_string(),
            chain_pem.display().to_string(),
        ]);
        files.push((ks, chain_pem));
    }
    let mut failures = Vec::new();
    for keytool in &keytools {
        let java = common::java_beside(keytool);
        let rules = java_rules(keytool);
        let java_says = java_verdicts(&java, &java_args);
        let (mut agree, mut disagree, mut undecided) = (0, Vec::new(), Vec::new());
        for (case, (ks, chain_pem)) in cases.iter().zip(&files) {
            let out = common::bin()
                .args(["check", "-k"])
                .arg(ks)
                .arg("--storepass")
                .arg(PASS)
                .arg("--chain")
                .arg(chain_pem)
                .args(["--java-version", rules, "--format", "json"])
                .output()
                .unwrap();
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            let r = &doc["results"][0];
            assert!(
                r["trusted"].is_boolean(),
                "{}: {doc} {}",
                case.name,
                common::stderr(&out)
            );
            let java_line = java_says
                .get(&chain_pem.display().to_string())
                .unwrap_or_else(|| panic!("no Java line for {}", case.name));
            let java_trusted = java_line.starts_with("TRUSTED");
            let trusted = r["trusted"].as_bool() == Some(true);
            eprintln!(
                "{} [{rules}]: java {java_line} | ours {}: {}",
                case.name,
                r["reason_code"].as_str().unwrap_or("trusted"),
                r["reason"].as_str().unwrap_or("")
            );
            if trusted == java_trusted {
                agree += 1;
            } else if r["reason_code"] == "unsupported-algorithm" {
                undecided.push(case.name.clone());
            } else {
                disagree.push(case.name.clone());
            }
            // Whatever Java says, we never blame a signature that Java verifies, and a forgery
            // of an algorithm Java allows is a bad signature, not an undecidable one.
            if java_trusted && r["reason_code"] == "signature" {
                failures.push(format!(
                    "{} [{rules}]: a good signature called bad",
                    case.name
                ));
            }
            if case.name.ends_with("-forged")
                && java_line.contains("Signature")
                && r["reason_code"] != "signature"
            {
                failures.push(format!("{} [{rules}]: a forgery not called one", case.name));
            }
        }
        eprintln!(
            "algorithm matrix, {} (rules of JDK {rules}): {} cases, {agree} agree, {} disagree {disagree:?}, {} undecided {undecided:?}",
            java.display(),
            cases.len(),
            disagree.len(),
            undecided.len()
        );
        failures.extend(disagree.into_iter().map(|d| format!("{d} [{rules}]")));
    }
    assert!(failures.is_empty(), "disagreements with Java: {failures:?}");
}

/// Runs a JSSE server with `server_key` (PKCS#8) and `chain` (tests/java/TlsPair.java), a JSSE
/// client of it, and `check --host` against it with the rules of the JDK; returns what the
/// client said and check's result.
fn handshake_with_jsse(
    keytool: &Path,
    dir: &Path,
    server_key: &[u8],
    chain: &[&[u8]],
    ks: &Path,
) -> (String, Value) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let rules = java_rules(keytool);
    let chain_file = dir.join("chain.pem");
    std::fs::write(&chain_file, pem(chain)).unwrap();
    let key_file = dir.join("server.pk8");
    std::fs::write(&key_file, server_key).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TlsPair.java");
    let mut java = Command::new(common::java_beside(keytool))
        .arg(&source)
        .arg(&key_file)
        .arg(&chain_file)
        .arg(ks)
        .arg(PASS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("java runs");
    let mut lines = BufReader::new(java.stdout.take().expect("stdout")).lines();
    let port_line = lines.next().and_then(Result::ok).unwrap_or_default();
    let port = port_line
        .strip_prefix("PORT ")
        .unwrap_or_default()
        .to_string();
    let client = lines.next().and_then(Result::ok).unwrap_or_default();
    let out = common::bin()
        .args(["check", "-k"])
        .arg(ks)
        .arg("--storepass")
        .arg(PASS)
        .args(["--host", &format!("127.0.0.1:{port}")])
        .args([
            "--java-version",
            rules,
            "--timeout",
            "20",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    drop(java.stdin.take());
    let _ = java.wait();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (client, doc["results"][0].clone())
}

fn rsa_pkcs8(key: &TestKey) -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey;
    let TestKey::Rsa(k) = key else {
        unreachable!("an RSA key")
    };
    k.to_pkcs8_der().expect("pkcs8").as_bytes().to_vec()
}

/// A real handshake with a server whose key is RSA-1024: JSSE (the server and a client of it,
/// tests/java/TlsPair.java) completes it and trusts the chain, so `check --host` must complete
/// it too, say trusted, and warn of no failed handshake. And a server whose handshake
/// signature is wrong (its private key is not its certificate's): Java fails, and `check`
/// says so.
#[test]
fn handshake_warnings_match_java() {
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("no JDK here: the handshakes are not tried");
        return;
    }
    let mut rng = StdRng::seed_from_u64(1024);
    let root: Ca = ca("Alg Handshake Root", 1, key(), -100, 3000);
    let root_der = root
        .params
        .self_signed(&root.key)
        .expect("root")
        .der()
        .to_vec();
    let signer = TestKey::P256(
        rcgen::KeyPair::try_from(root.key.serialize_der().as_slice()).expect("key copy"),
    );
    let leaf_with = |key: &TestKey, serial: u64, rng: &mut StdRng| {
        let leaf = leaf_params("handshake.alg.test", serial)
            .signed_by(&crate::check_matrix::key(), &root.issuer())
            .expect("leaf");
        resign(leaf.der(), Some(key), Alg::Ecdsa(Dig::Sha256), &signer, rng)
    };
    let rsa1024 = TestKey::generate(Kind::Rsa(1024), &mut rng);
    let rsa2048 = TestKey::generate(Kind::Rsa(2048), &mut rng);
    let other2048 = TestKey::generate(Kind::Rsa(2048), &mut rng);
    let small_leaf = leaf_with(&rsa1024, 2, &mut rng);
    let wrong_leaf = leaf_with(&rsa2048, 3, &mut rng);
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("trust.jks");
    keystore(&ks, &[("root", &root_der)]);
    for keytool in &keytools {
        let rules = java_rules(keytool);
        let (client, r) = handshake_with_jsse(
            keytool,
            dir.path(),
            &rsa_pkcs8(&rsa1024),
            &[&small_leaf],
            &ks,
        );
        eprintln!(
            "RSA-1024 server [{rules}]: java {client} | ours trusted={} tls={} warnings={}",
            r["trusted"], r["tls_version"], r["warnings"]
        );
        assert!(
            client.starts_with("CLIENT TRUSTED"),
            "JSSE itself: {client}"
        );
        assert_eq!(r["trusted"], true, "{r}");
        assert_eq!(r["tls_version"], "TLSv1_3", "{r}");
        assert_eq!(r["warnings"], serde_json::json!([]), "{r}");

        let (client, r) = handshake_with_jsse(
            keytool,
            dir.path(),
            &rsa_pkcs8(&other2048),
            &[&wrong_leaf],
            &ks,
        );
        eprintln!(
            "wrong-key server [{rules}]: java {client} | ours warnings={}",
            r["warnings"]
        );
        assert!(
            client.starts_with("CLIENT REJECTED"),
            "JSSE itself: {client}"
        );
        let warning = r["warnings"][0].as_str().unwrap_or_default();
        assert!(
            warning.contains("does not verify") && warning.contains("Java would not complete it"),
            "{r}"
        );
    }
}
struct DirPath(PathBuf);

impl DirPath {
    fn path(&self) -> &Path {
        &self.0
    }
}

/// A copy of the JDK whose own cacerts is `cacerts` (its `java.home` is the copy): what
/// Java's `jdkCA` constraint reads. Only `bin/java` and `lib/server/libjvm.so` are copied
/// (the JVM finds its home from them); everything else is a link to the real JDK, except
/// `lib/security/cacerts`, whose link is removed before the file is written, so the JDK's
/// own cacerts (and Debian's /etc/ssl/certs/java/cacerts behind it) is never touched.
#[cfg(unix)]
fn jdk_copy_with_cacerts(keytool: &Path, dir: &Path, cacerts: &[(&str, &[u8])]) -> Option<PathBuf> {
    let home = keytool.parent()?.parent()?;
    let copy = dir.join("jdk");
    let linked = std::process::Command::new("cp")
        .arg("-as")
        .arg(format!("{}/.", home.display()))
        .arg(&copy)
        .status()
        .ok()?;
    if !linked.success() {
        return None;
    }
    for file in ["bin/java", "lib/server/libjvm.so"] {
        let target = copy.join(file);
        std::fs::remove_file(&target).ok()?;
        std::fs::copy(home.join(file), &target).ok()?;
    }
    let own = copy.join("lib/security/cacerts");
    std::fs::remove_file(&own).ok()?;
    assert!(
        std::fs::symlink_metadata(&own).is_err(),
        "{} must be gone before it is written",
        own.display()
    );
    keystore(&own, cacerts);
    Some(copy)
}

/// `SHA1 jdkCA & usage TLSServer`: a SHA-1 signed intermediate on a path to a root the JDK
/// ships is refused, to any other root accepted. Java's jdkCA reads the JDK's own cacerts, so
/// a copy of the JDK whose cacerts holds the test root plays "a root the JDK ships"; `check`
/// learns the same from `--java-home`.
#[cfg(unix)]
#[test]
fn sha1_to_a_jdk_root_matches_java() {
    let keytools = common::keytools();
    if keytools.is_empty() {
        eprintln!("no JDK here: the jdkCA rule is not compared");
        return;
    }
    let mut rng = StdRng::seed_from_u64(1);
    let root_key = TestKey::generate(Kind::Rsa(2048), &mut rng);
    let root = ca("Alg jdkCA Root", 1, key(), -100, 3000);
    let root_der = resign(
        root.params.self_signed(&root.key).expect("root").der(),
        Some(&root_key),
        Alg::Pkcs1(Dig::Sha256),
        &root_key,
        &mut rng,
    );
    let inter = ca("Alg jdkCA SHA-1 Intermediate", 2, key(), -100, 1000);
    let inter_der = inter
        .params
        .signed_by(&inter.key, &root.issuer())
        .expect("inter");
    let inter_der = resign(
        inter_der.der(),
        None,
        Alg::Pkcs1(Dig::Sha1),
        &root_key,
        &mut rng,
    );
    let leaf = leaf_params("jdkca.alg.test", 3)
        .signed_by(&key(), &inter.issuer())
        .expect("leaf")
        .der()
        .to_vec();
    let holder = tempfile::tempdir().unwrap();
    let dir = DirPath(match std::env::var_os("CHECK_MATRIX_KEEP") {
        Some(keep) => PathBuf::from(keep),
        None => holder.path().to_path_buf(),
    });
    let ks = dir.path().join("trust.jks");
    keystore(&ks, &[("root", &root_der)]);
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, pem(&[&leaf, &inter_der])).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TrustCheck.java");
    let java_says = |java: &Path| -> String {
        let out = std::process::Command::new(java)
            .arg(&source)
            .arg(&ks)
            .arg(PASS)
            .arg(&chain)
            .output()
            .expect("java runs");
        common::stdout(&out)
    };
    let ours = |extra: &[&std::ffi::OsStr]| -> Value {
        let out = common::bin()
            .args(["check", "-k"])
            .arg(&ks)
            .arg("--storepass")
            .arg(PASS)
            .arg("--chain")
            .arg(&chain)
            .args(extra)
            .args(["--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    for (n, keytool) in keytools.iter().enumerate() {
        let rules = java_rules(keytool);
        let sub = dir.path().join(format!("jdk-{n}"));
        std::fs::create_dir_all(&sub).unwrap();
        // A JDK build labels the roots it ships "NAME [jdk]": only those are jdkCA.
        let Some(copy) = jdk_copy_with_cacerts(keytool, &sub, &[("root [jdk]", &root_der)]) else {
            eprintln!(
                "{}: cannot copy this JDK here: jdkCA not compared",
                keytool.display()
            );
            continue;
        };
        let shipped = java_says(&copy.join("bin/java"));
        let plain = java_says(&common::java_beside(keytool));
        let with_home = ours(&["--java-home".as_ref(), copy.as_os_str()]);
        let without = ours(&["--java-version".as_ref(), rules.as_ref()]);
        eprintln!(
            "jdkCA [{rules}]: java with the root shipped: {shipped} | ours {}: {}",
            with_home["results"][0]["reason_code"], with_home["results"][0]["reason"]
        );
        eprintln!(
            "jdkCA [{rules}]: java with the real JDK: {plain} | ours trusted={}",
            without["results"][0]["trusted"]
        );
        assert!(shipped.contains("REJECTED"), "{shipped}");
        assert!(plain.contains("TRUSTED"), "{plain}");
        assert_eq!(with_home["java_rules"], rules, "{with_home}");
        assert_eq!(with_home["jdk_ca_rule"], true, "{with_home}");
        assert_eq!(with_home["results"][0]["reason_code"], "weak-algorithm");
        assert!(with_home["results"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("(SHA1 jdkCA & usage TLSServer)"));
        assert_eq!(without["jdk_ca_rule"], false, "{without}");
        assert_eq!(without["results"][0]["trusted"], true, "{without}");

        // The same root in a distribution's cacerts (no " [jdk" label, as Debian's): not
        // jdkCA, and Java trusts the chain.
        let sub = dir.path().join(format!("jdk-{n}-unlabelled"));
        std::fs::create_dir_all(&sub).unwrap();
        let Some(copy) = jdk_copy_with_cacerts(keytool, &sub, &[("debian:root.pem", &root_der)])
        else {
            continue;
        };
        let unlabelled = java_says(&copy.join("bin/java"));
        let ours_unlabelled = ours(&["--java-home".as_ref(), copy.as_os_str()]);
        eprintln!(
            "jdkCA [{rules}]: java with the root unlabelled: {unlabelled} | ours trusted={}",
            ours_unlabelled["results"][0]["trusted"]
        );
        assert!(unlabelled.contains("TRUSTED"), "{unlabelled}");
        assert_eq!(ours_unlabelled["jdk_ca_rule"], true, "{ours_unlabelled}");
        assert_eq!(
            ours_unlabelled["results"][0]["trusted"], true,
            "{ours_unlabelled}"
        );
    }
}
