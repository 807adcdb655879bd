//! A generated matrix of chains and truststores (renewals, cross-signs with several paths,
//! reordered, duplicated and extra certificates, missing intermediates, expiry, long chains,
//! key rollovers with successive self-issued certificates, candidate order, and real catalog
//! chains), judged by `check --chain` and by ONE real JVM (tests/java/TrustCheck.java) over all
//! of them, case by case. For a case we refuse with a catalog fix, the fix is applied to a copy
//! of the keystore and the JVM must then trust the chain.

use crate::check_tls::{ca_params, keystore, leaf_params, pem, write_case, PASS};
use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{CertificateParams, Issuer, KeyPair};
use serde_json::Value;
use sha1::{Digest, Sha1};
use time::{Duration as Span, OffsetDateTime};

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) anchors: Vec<(String, Vec<u8>)>,
    pub(crate) chain: Vec<Vec<u8>>,
}

pub(crate) struct Ca {
    pub(crate) params: CertificateParams,
    pub(crate) key: KeyPair,
}

impl Ca {
    pub(crate) fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

pub(crate) fn ca(cn: &str, serial: u64, key: KeyPair, from_days: i64, to_days: i64) -> Ca {
    let now = OffsetDateTime::now_utc();
    Ca {
        params: ca_params(
            cn,
            serial,
            now + Span::days(from_days),
            now + Span::days(to_days),
        ),
        key,
    }
}

pub(crate) fn key() -> KeyPair {
    KeyPair::generate().expect("key")
}

fn builtin(slug: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certs/pem")
        .join(format!("{slug}.pem"));
    azure_cacerts::check::read_chain(&std::fs::read(p).expect("built-in pem"))
        .expect("pem")
        .remove(0)
}

/// The cases, and every CA certificate made or used for them (what an administrator could
/// import).
fn cases() -> (Vec<Case>, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    let mut add = |name: &str, anchors: Vec<(&str, &Vec<u8>)>, chain: Vec<&Vec<u8>>| {
        out.push(Case {
            name: name.to_string(),
            anchors: anchors
                .into_iter()
                .map(|(a, d)| (a.to_string(), d.clone()))
                .collect(),
            chain: chain.into_iter().cloned().collect(),
        })
    };

    // A root, a renewal of it (same key), a stranger with its name, a second root.
    let root = ca("Matrix Root", 1, key(), -400, 3650);
    let root_der = root
        .params
        .self_signed(&root.key)
        .expect("root")
        .der()
        .to_vec();
    let renewed = ca("Matrix Root", 2, root.key.serialize_der_key(), -10, 7300);
    let renewed_der = renewed
        .params
        .self_signed(&renewed.key)
        .expect("renewed")
        .der()
        .to_vec();
    let stranger = ca("Matrix Root", 3, key(), -10, 3650);
    let stranger_der = stranger
        .params
        .self_signed(&stranger.key)
        .expect("s")
        .der()
        .to_vec();
    let root2 = ca("Matrix Root Two", 4, key(), -400, 3650);
    let root2_der = root2
        .params
        .self_signed(&root2.key)
        .expect("r2")
        .der()
        .to_vec();

    // An intermediate under the root, and its cross-signature under the second root.
    let inter = ca("Matrix Intermediate", 10, key(), -100, 1000);
    let inter_der = inter
        .params
        .signed_by(&inter.key, &root.issuer())
        .expect("inter")
        .der()
        .to_vec();
    let inter_x_der = inter
        .params
        .signed_by(&inter.key, &root2.issuer())
        .expect("xsign")
        .der()
        .to_vec();
    let inter_expired = ca(
        "Matrix Intermediate",
        11,
        inter.key.serialize_der_key(),
        -900,
        -1,
    );
    let inter_expired_der = inter_expired
        .params
        .signed_by(&inter_expired.key, &root.issuer())
        .expect("expired inter")
        .der()
        .to_vec();
    let leaf_key = key();
    let leaf = leaf_params("matrix.test", 100)
        .signed_by(&leaf_key, &inter.issuer())
        .expect("leaf")
        .der()
        .to_vec();
    let mut expired_p = leaf_params("expired.matrix.test", 101);
    expired_p.not_before = OffsetDateTime::now_utc() - Span::days(400);
    expired_p.not_after = OffsetDateTime::now_utc() - Span::days(2);
    let leaf_expired = expired_p
        .signed_by(&leaf_key, &inter.issuer())
        .expect("expired leaf")
        .der()
        .to_vec();
    let unrelated = leaf_params("other.matrix.test", 102)
        .signed_by(&leaf_key, &root2.issuer())
        .expect("unrelated")
        .der()
        .to_vec();

    add("plain", vec![("root", &root_der)], vec![&leaf, &inter_der]);
    add(
        "root-sent",
        vec![("root", &root_der)],
        vec![&leaf, &inter_der, &root_der],
    );
    add(
        "reordered",
        vec![("root", &root_der)],
        vec![&leaf, &root_der, &inter_der],
    );
    add(
        "duplicated",
        vec![("root", &root_der)],
        vec![&leaf, &inter_der, &inter_der],
    );
    add(
        "extra-unrelated",
        vec![("root", &root_der)],
        vec![&leaf, &unrelated, &inter_der],
    );
    add(
        "missing-intermediate",
        vec![("root", &root_der)],
        vec![&leaf],
    );
    add(
        "expired-leaf",
        vec![("root", &root_der)],
        vec![&leaf_expired, &inter_der],
    );
    add(
        "expired-intermediate",
        vec![("root", &root_der)],
        vec![&leaf, &inter_expired_der],
    );
    add(
        "expired-and-valid-intermediate",
        vec![("root", &root_der)],
        vec![&leaf, &inter_expired_der, &inter_der],
    );
    add(
        "valid-and-expired-intermediate",
        vec![("root", &root_der)],
        vec![&leaf, &inter_der, &inter_expired_der],
    );
    add(
        "renewed-root-in-store",
        vec![("root", &renewed_der)],
        vec![&leaf, &inter_der],
    );
    add(
        "renewed-root-in-store-old-sent",
        vec![("root", &renewed_der)],
        vec![&leaf, &inter_der, &root_der],
    );
    add(
        "stranger-root",
        vec![("root", &stranger_der)],
        vec![&leaf, &inter_der],
    );
    add(
        "stale-root-appended",
        vec![("root", &root_der)],
        vec![&leaf, &inter_der, &stranger_der],
    );
    add(
        "stale-root-appended-out-of-order",
        vec![("root", &root_der)],
        vec![&leaf, &stranger_der, &inter_der],
    );
    // Cross-signs: two copies of the intermediate (same name and key) under two roots.
    for (store_name, store) in [
        ("root", vec![("root", &root_der)]),
        ("root2", vec![("root2", &root2_der)]),
        ("both", vec![("root", &root_der), ("root2", &root2_der)]),
        ("stranger", vec![("root", &stranger_der)]),
        (
            "stranger-and-root2",
            vec![("root", &stranger_der), ("root2", &root2_der)],
        ),
    ] {
        for (order, chain) in [
            ("inter", vec![&leaf, &inter_der]),
            ("xsign", vec![&leaf, &inter_x_der]),
            ("inter-xsign", vec![&leaf, &inter_der, &inter_x_der]),
            ("xsign-inter", vec![&leaf, &inter_x_der, &inter_der]),
            (
                "xsign-root2-inter",
                vec![&leaf, &inter_x_der, &root2_der, &inter_der],
            ),
            (
                "inter-root-xsign",
                vec![&leaf, &inter_der, &root_der, &inter_x_der],
            ),
        ] {
            add(&format!("cross-{store_name}-{order}"), store.clone(), chain);
        }
    }
    // The intermediate itself in the keystore.
    add(
        "intermediate-anchor",
        vec![("inter", &inter_der)],
        vec![&leaf, &inter_x_der],
    );

    let mut long_ders: Vec<Vec<u8>> = Vec::new();
    // Long chains: n intermediates under the root.
    for n in [4usize, 5, 6] {
        let mut cas: Vec<Ca> = Vec::new();
        let ders_out = &mut long_ders;
        let mut ders: Vec<Vec<u8>> = Vec::new();
        for i in 0..n {
            let c = ca(
                &format!("Matrix Long {n} CA {i}"),
                200 + i as u64,
                key(),
                -50,
                500,
            );
            let der = match cas.last() {
                None => c.params.signed_by(&c.key, &root.issuer()),
                Some(up) => c.params.signed_by(&c.key, &up.issuer()),
            }
            .expect("long ca")
            .der()
            .to_vec();
            cas.push(c);
            ders.push(der);
        }
        let leaf_long = leaf_params("long.matrix.test", 300 + n as u64)
            .signed_by(&leaf_key, &cas[n - 1].issuer())
            .expect("long leaf")
            .der()
            .to_vec();
        ders_out.extend(ders.iter().cloned());
        let mut in_order: Vec<&Vec<u8>> = vec![&leaf_long];
        in_order.extend(ders.iter().rev());
        add(
            &format!("long-{n}-in-order"),
            vec![("root", &root_der)],
            in_order,
        );
        let mut shuffled: Vec<&Vec<u8>> = vec![&leaf_long];
        shuffled.extend(ders.iter());
        add(
            &format!("long-{n}-reversed"),
            vec![("root", &root_der)],
            shuffled,
        );
    }

    // Key rollover of an internal CA: old key, new key, both link certificates.
    let old = ca("Matrix Rollover CA", 400, key(), -800, 3000);
    let new = ca("Matrix Rollover CA", 401, key(), -30, 4000);
    let old_root = old
        .params
        .self_signed(&old.key)
        .expect("old")
        .der()
        .to_vec();
    let new_root = new
        .params
        .self_signed(&new.key)
        .expect("new")
        .der()
        .to_vec();
    let new_by_old = new
        .params
        .signed_by(&new.key, &old.issuer())
        .expect("new by old")
        .der()
        .to_vec();
    let old_by_new = old
        .params
        .signed_by(&old.key, &new.issuer())
        .expect("old by new")
        .der()
        .to_vec();
    let leaf_new = leaf_params("rollover.matrix.test", 402)
        .signed_by(&leaf_key, &new.issuer())
        .expect("rollover leaf")
        .der()
        .to_vec();
    let leaf_old = leaf_params("rollover-old.matrix.test", 403)
        .signed_by(&leaf_key, &old.issuer())
        .expect("rollover leaf old")
        .der()
        .to_vec();
    for (store_name, store) in [
        ("old", vec![("old", &old_root)]),
        ("new", vec![("new", &new_root)]),
        ("both", vec![("old", &old_root), ("new", &new_root)]),
    ] {
        for (order, chain) in [
            ("leaf", vec![&leaf_new]),
            ("new-by-old", vec![&leaf_new, &new_by_old]),
            ("old-by-new", vec![&leaf_new, &old_by_new]),
            ("both", vec![&leaf_new, &new_by_old, &old_by_new]),
            ("both-swapped", vec![&leaf_new, &old_by_new, &new_by_old]),
            (
                "new-root-then-link",
                vec![&leaf_new, &new_root, &new_by_old],
            ),
            // An unrelated certificate second: Java builds a path instead of validating.
            ("built-new-by-old", vec![&leaf_new, &unrelated, &new_by_old]),
            ("built-old-by-new", vec![&leaf_new, &unrelated, &old_by_new]),
            (
                "built-both",
                vec![&leaf_new, &unrelated, &new_by_old, &old_by_new],
            ),
            (
                "built-both-swapped",
                vec![&leaf_new, &unrelated, &old_by_new, &new_by_old],
            ),
            (
                "built-both-roots",
                vec![
                    &leaf_new,
                    &unrelated,
                    &old_by_new,
                    &new_by_old,
                    &new_root,
                    &old_root,
                ],
            ),
            ("leaf-old", vec![&leaf_old]),
            ("leaf-old-both", vec![&leaf_old, &old_by_new, &new_by_old]),
            (
                "leaf-old-built-both",
                vec![&leaf_old, &unrelated, &new_by_old, &old_by_new],
            ),
            (
                "leaf-old-built-both-swapped",
                vec![&leaf_old, &unrelated, &old_by_new, &new_by_old],
            ),
        ] {
            add(
                &format!("rollover-{store_name}-{order}"),
                store.clone(),
                chain,
            );
        }
    }

    // Candidate order: the same intermediate under two anchors, one of which is no CA.
    let mut notca = ca("Matrix Root", 5, root.key.serialize_der_key(), -400, 3650);
    notca.params.is_ca = rcgen::IsCa::ExplicitNoCa;
    notca.params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let notca_der = notca
        .params
        .self_signed(&notca.key)
        .expect("notca")
        .der()
        .to_vec();
    for (order, chain) in [
        ("inter-xsign", vec![&leaf, &inter_der, &inter_x_der]),
        ("xsign-inter", vec![&leaf, &inter_x_der, &inter_der]),
        (
            "extra-inter-xsign",
            vec![&leaf, &unrelated, &inter_der, &inter_x_der],
        ),
        (
            "extra-xsign-inter",
            vec![&leaf, &unrelated, &inter_x_der, &inter_der],
        ),
    ] {
        add(
            &format!("order-notca-root-and-root2-{order}"),
            vec![("root", &notca_der), ("root2", &root2_der)],
            chain.clone(),
        );
        add(
            &format!("order-root2-and-notca-root-{order}"),
            vec![("root2", &root2_der), ("root", &notca_der)],
            chain,
        );
    }

    // Key identifiers: an intermediate whose SKI is not what its leaf's AKI names.
    let mut ski_p = ca("Matrix Odd SKI CA", 20, key(), -100, 1000);
    ski_p.params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![1; 20]);
    let ski_der = ski_p
        .params
        .signed_by(&ski_p.key, &root.issuer())
        .expect("odd ski")
        .der()
        .to_vec();
    let mut aki_params = ski_p.params.clone();
    aki_params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![2; 20]);
    let leaf_aki = leaf_params("aki.matrix.test", 104)
        .signed_by(&leaf_key, &Issuer::from_params(&aki_params, &ski_p.key))
        .expect("aki leaf")
        .der()
        .to_vec();
    // The CA's certificate that does carry the key identifier the leaf names (what the
    // advice asks for).
    let ski_right_der = aki_params
        .signed_by(&ski_p.key, &root.issuer())
        .expect("right ski")
        .der()
        .to_vec();
    add(
        "aki-ski-mismatch-root",
        vec![("root", &root_der)],
        vec![&leaf_aki, &ski_der],
    );
    add(
        "aki-ski-mismatch-anchor",
        vec![("odd", &ski_der)],
        vec![&leaf_aki, &ski_der],
    );
    add(
        "aki-ski-mismatch-anchor-leaf-only",
        vec![("odd", &ski_der)],
        vec![&leaf_aki],
    );
    add(
        "aki-ski-mismatch-anchor-built",
        vec![("odd", &ski_der)],
        vec![&leaf_aki, &unrelated, &ski_der],
    );

    // Key and signature algorithms: a root of each kind over a P-256 intermediate.
    let mut alg_ders: Vec<Vec<u8>> = Vec::new();
    for (tag, alg) in [
        ("rsa-sha256", &rcgen::PKCS_RSA_SHA256),
        ("rsa-sha512", &rcgen::PKCS_RSA_SHA512),
        ("p384", &rcgen::PKCS_ECDSA_P384_SHA384),
        ("p521", &rcgen::PKCS_ECDSA_P521_SHA512),
        ("ed25519", &rcgen::PKCS_ED25519),
    ] {
        let Ok(k) = KeyPair::generate_for(alg) else {
            eprintln!("rcgen cannot make a {tag} key here: case left out");
            continue;
        };
        let r = ca(&format!("Matrix {tag} Root"), 30, k, -100, 3000);
        let r_der = r
            .params
            .self_signed(&r.key)
            .expect("alg root")
            .der()
            .to_vec();
        let i = ca(&format!("Matrix {tag} Intermediate"), 31, key(), -100, 1000);
        let i_der = i
            .params
            .signed_by(&i.key, &r.issuer())
            .expect("alg inter")
            .der()
            .to_vec();
        let l = leaf_params("alg.matrix.test", 105)
            .signed_by(&leaf_key, &i.issuer())
            .expect("alg leaf")
            .der()
            .to_vec();
        // The root's key signs a leaf directly too.
        let l_direct = leaf_params("alg-direct.matrix.test", 106)
            .signed_by(&leaf_key, &r.issuer())
            .expect("alg direct leaf")
            .der()
            .to_vec();
        add(
            &format!("alg-{tag}"),
            vec![("root", &r_der)],
            vec![&l, &i_der],
        );
        add(
            &format!("alg-{tag}-direct"),
            vec![("root", &r_der)],
            vec![&l_direct],
        );
        add(
            &format!("alg-{tag}-built"),
            vec![("root", &r_der)],
            vec![&l, &unrelated, &i_der],
        );
        alg_ders.push(r_der);
        alg_ders.push(i_der);
    }

    // A self-signed server certificate renewed with the same key; the keystore trusts the
    // old one.
    let server_key = key();
    let mut old_server_p = leaf_params("selfsigned.matrix.test", 500);
    old_server_p.not_before = OffsetDateTime::now_utc() - Span::days(400);
    old_server_p.not_after = OffsetDateTime::now_utc() - Span::days(5);
    let old_server = old_server_p
        .self_signed(&server_key)
        .expect("old server")
        .der()
        .to_vec();
    let new_server = leaf_params("selfsigned.matrix.test", 501)
        .self_signed(&server_key)
        .expect("new server")
        .der()
        .to_vec();
    add(
        "self-signed-renewed",
        vec![("server", &old_server)],
        vec![&new_server],
    );
    add(
        "self-signed-same",
        vec![("server", &new_server)],
        vec![&new_server],
    );

    // Real catalog chains: an Azure issuing CA as the target, expired xsign or not.
    let ca03 = builtin("microsoft-azure-rsa-tls-issuing-ca-03");
    let ca03x = builtin("microsoft-azure-rsa-tls-issuing-ca-03-xsign");
    let rsa2017 = builtin("microsoft-rsa-root-certificate-authority-2017");
    let g2 = builtin("digicert-global-root-g2");
    add("azure-ca03-g2-only", vec![("g2", &g2)], vec![&ca03]);
    add("azure-ca03-2017", vec![("rsa2017", &rsa2017)], vec![&ca03]);
    add(
        "azure-ca03-xsign-2017",
        vec![("rsa2017", &rsa2017)],
        vec![&ca03x],
    );
    add("azure-ca03-xsign-g2", vec![("g2", &g2)], vec![&ca03x]);
    add(
        "azure-ca03-xsign-and-root-g2",
        vec![("g2", &g2)],
        vec![&ca03x, &rsa2017],
    );
    let mut universe = vec![
        root_der,
        renewed_der,
        stranger_der,
        root2_der,
        inter_der,
        inter_x_der,
        inter_expired_der,
        old_root,
        new_root,
        new_by_old,
        old_by_new,
        ca03,
        ca03x,
        rsa2017,
        g2,
    ];
    universe.extend(long_ders);
    universe.extend(alg_ders);
    universe.push(notca_der);
    universe.push(ski_der);
    universe.push(ski_right_der);
    (out, universe)
}

trait KeyCopy {
    fn serialize_der_key(&self) -> KeyPair;
}

impl KeyCopy for KeyPair {
    /// The same key again (rcgen's KeyPair is not Clone).
    fn serialize_der_key(&self) -> KeyPair {
        KeyPair::try_from(self.serialize_der().as_slice()).expect("key copy")
    }
}

fn catalog_pems() -> HashMap<String, Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/pem");
    let mut by_sha1 = HashMap::new();
    for e in std::fs::read_dir(dir).expect("certs/pem") {
        let p = e.expect("entry").path();
        if let Ok(bytes) = std::fs::read(&p) {
            if let Ok(mut certs) = azure_cacerts::check::read_chain(&bytes) {
                let der = certs.remove(0);
                let hex: String = Sha1::digest(&der)
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                by_sha1.insert(hex, der);
            }
        }
    }
    by_sha1
}

struct DirPath(PathBuf);

impl DirPath {
    fn path(&self) -> &Path {
        &self.0
    }
}

pub(crate) fn java_verdicts(java: &Path, args: &[String]) -> HashMap<String, String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/TrustCheck.java");
    let out = Command::new(java)
        .arg(&source)
        .args(args)
        .output()
        .expect("java runs");
    let text = common::stdout(&out);
    assert!(out.status.success(), "{text}\n{}", common::stderr(&out));
    text.lines()
        .filter_map(|l| {
            let (file, rest) = l.split_once(".pem ")?;
            Some((format!("{file}.pem"), rest.to_string()))
        })
        .collect()
}

#[test]
fn generated_chains_match_java() {
    let (cases, universe) = cases();
    run_matrix("generated matrix", &cases, &universe);
}

/// Judges every case with `check --chain` and with one JVM per installed JDK, compares the
/// verdicts case by case, and acts on the advice of every refused case (see the module
/// comment). `universe` is every CA certificate an administrator could import. Panics on a
/// disagreement or on wrong advice.
pub(crate) fn run_matrix(label: &str, cases: &[Case], universe: &[Vec<u8>]) {
    let Some(keytool) = common::keytools().into_iter().next() else {
        eprintln!("no JDK here: the {label} is skipped");
        return;
    };
    let java = common::java_beside(&keytool);
    let holder = tempfile::tempdir().unwrap();
    // CHECK_MATRIX_KEEP=DIR keeps the keystores and chains there, for a look with Java's
    // -Djava.security.debug=certpath.
    let dir: PathBuf = match std::env::var_os("CHECK_MATRIX_KEEP") {
        Some(keep) => {
            std::fs::create_dir_all(&keep).unwrap();
            PathBuf::from(keep)
        }
        None => holder.path().to_path_buf(),
    };
    let dir = DirPath(dir);
    let mut java_args = Vec::new();
    let mut ours: Vec<(PathBuf, PathBuf, Value)> = Vec::new();
    for case in cases {
        let (ks, chain_pem) = write_case(dir.path(), &case.name, &case.anchors, &case.chain);
        java_args.extend([
            ks.display().to_string(),
            PASS.to_string(),
            chain_pem.display().to_string(),
        ]);
        let out = common::bin()
            .args(["check", "-k"])
            .arg(&ks)
            .arg("--storepass")
            .arg(PASS)
            .arg("--chain")
            .arg(&chain_pem)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let r = doc["results"][0].clone();
        assert!(
            r["trusted"].is_boolean(),
            "{}: {doc} {}",
            case.name,
            common::stderr(&out)
        );
        ours.push((ks, chain_pem, r));
    }
    let java_says = java_verdicts(&java, &java_args);
    // Every other JDK here (17 and 25 on the reference machine) must say the same.
    let mut other_jdks = Vec::new();
    for kt in common::keytools().into_iter().skip(1) {
        let other = common::java_beside(&kt);
        other_jdks.push((
            other.display().to_string(),
            java_verdicts(&other, &java_args),
        ));
    }

    // The printed catalog fixes, applied to copies of the keystores.
    let catalog = catalog_pems();
    let mut fix_args = Vec::new();
    let mut fixed_cases = Vec::new();
    for (case, (_, chain_pem, r)) in cases.iter().zip(&ours) {
        let Some(fixes) = r["fix_cas"].as_array().filter(|f| !f.is_empty()) else {
            continue;
        };
        let mut anchors: Vec<(String, Vec<u8>)> = case.anchors.clone();
        for f in fixes {
            let sha1 = f["sha1"].as_str().unwrap_or_default();
            let der = catalog
                .get(sha1)
                .unwrap_or_else(|| panic!("{}: fix {f} is no built-in PEM", case.name));
            anchors.push((format!("fix-{}", anchors.len()), der.clone()));
        }
        let ks = dir.path().join(format!("{}-fixed.jks", case.name));
        let refs: Vec<(&str, &[u8])> = anchors
            .iter()
            .map(|(a, d)| (a.as_str(), d.as_slice()))
            .collect();
        keystore(&ks, &refs);
        let copy = dir.path().join(format!("{}-fixed.pem", case.name));
        std::fs::copy(chain_pem, &copy).unwrap();
        fix_args.extend([
            ks.display().to_string(),
            PASS.to_string(),
            copy.display().to_string(),
        ]);
        fixed_cases.push((case.name.clone(), copy));
    }
    let fixed_says = if fix_args.is_empty() {
        HashMap::new()
    } else {
        java_verdicts(&java, &fix_args)
    };

    // The text advice, acted on: "no keystore change helps" must hold even after importing
    // every CA certificate there is; "import the certificate of X" must work with one of the
    // certificates named X; "stop sending that stale root" must work without it.
    let universe_parsed: Vec<azure_cacerts::cert::Certificate> = universe
        .iter()
        .map(|d| azure_cacerts::cert::Certificate::parse(d).expect("universe parses"))
        .collect();
    let mut advice_args = Vec::new();
    // (case, kind, files whose verdicts decide, whether one TRUSTED is wanted)
    let mut advice: Vec<(String, &'static str, Vec<String>, bool)> = Vec::new();
    for (case, (_, _, r)) in cases.iter().zip(&ours) {
        if r["trusted"].as_bool() == Some(true) {
            continue;
        }
        let fix = r["fix"].as_str().unwrap_or_default();
        let chain_ders: Vec<&[u8]> = case.chain.iter().map(Vec::as_slice).collect();
        let mut write = |tag: &str, anchors: &[(String, Vec<u8>)], chain: &[&[u8]]| {
            let ks = dir.path().join(format!("{}-{tag}.jks", case.name));
            let refs: Vec<(&str, &[u8])> = anchors
                .iter()
                .map(|(a, d)| (a.as_str(), d.as_slice()))
                .collect();
            keystore(&ks, &refs);
            let pem_path = dir.path().join(format!("{}-{tag}.pem", case.name));
            std::fs::write(&pem_path, pem(chain)).unwrap();
            advice_args.extend([
                ks.display().to_string(),
                PASS.to_string(),
                pem_path.display().to_string(),
            ]);
            pem_path.display().to_string()
        };
        if fix.contains("no keystore change helps") {
            let mut anchors = case.anchors.clone();
            for (i, d) in universe.iter().enumerate() {
                // Trusting the server certificate itself is no keystore change to advise.
                if Some(d) == case.chain.first() {
                    continue;
                }
                anchors.push((format!("any-{i}"), d.clone()));
            }
            let f = write("all-cas", &anchors, &chain_ders);
            advice.push((case.name.clone(), "no-keystore-change", vec![f], false));
        } else if fix.contains("which these constraints do not bind") {
            // "import the certificate of Y (keytool": one of the certificates named Y must do.
            let named = fix
                .split_once("import the certificate of ")
                .and_then(|(_, rest)| rest.split_once(" (keytool"))
                .map(|(y, _)| y.to_string())
                .unwrap_or_default();
            let mut files = Vec::new();
            for (i, c) in universe_parsed.iter().enumerate() {
                if c.subject == named {
                    let mut anchors = case.anchors.clone();
                    anchors.push(("imported".into(), universe[i].clone()));
                    files.push(write(&format!("unbound-{i}"), &anchors, &chain_ders));
                }
            }
            advice.push((case.name.clone(), "import-unbound-path", files, true));
        } else if fix.contains("version 1 certificate itself") {
            // Import each v1 CA certificate the server sent: one of them must do.
            let mut files = Vec::new();
            for (i, d) in case.chain.iter().enumerate().skip(1) {
                let v1 = azure_cacerts::cert::Certificate::parse(d).is_ok_and(|c| c.version < 3);
                if v1 {
                    let mut anchors = case.anchors.clone();
                    anchors.push(("v1".into(), d.clone()));
                    files.push(write(&format!("v1-{i}"), &anchors, &chain_ders));
                }
            }
            advice.push((case.name.clone(), "import-v1-ca", files, true));
        } else if fix.contains("no other keystore change helps") {
            // Only trusting a CA the server presents as an anchor would set its constraints
            // aside: importing every other CA certificate there is must not help.
            let presented: Vec<azure_cacerts::cert::Certificate> = case
                .chain
                .iter()
                .filter_map(|d| azure_cacerts::cert::Certificate::parse(d).ok())
                .collect();
            let mut anchors = case.anchors.clone();
            for (i, c) in universe_parsed.iter().enumerate() {
                if presented.iter().any(|p| p.same_name_and_key(c)) {
                    continue;
                }
                anchors.push((format!("any-{i}"), universe[i].clone()));
            }
            let f = write("all-other-cas", &anchors, &chain_ders);
            advice.push((
                case.name.clone(),
                "no-other-keystore-change",
                vec![f],
                false,
            ));
        } else if fix.contains("but the chain's own") {
            // Import the presented certificate the fix names by its SHA-256: Java must then
            // trust the chain.
            let sha = fix
                .split_once("SHA-256 ")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(h, _)| h.to_string())
                .unwrap_or_default();
            let mut files = Vec::new();
            for d in &case.chain {
                let c = azure_cacerts::cert::Certificate::parse(d).expect("chain parses");
                if c.sha256 == sha {
                    let mut anchors = case.anchors.clone();
                    anchors.push(("sent".into(), d.clone()));
                    files.push(write("sent-anchor", &anchors, &chain_ders));
                }
            }
            assert_eq!(
                files.len(),
                1,
                "{}: the fix names no sent certificate: {fix}",
                case.name
            );
            advice.push((case.name.clone(), "import-sent-ca", files, true));
        } else if fix.contains("(keytool -importcert)") {
            let issuer = r["path"]
                .as_array()
                .and_then(|p| p.last())
                .and_then(|s| s["issuer"].as_str())
                .unwrap_or_default()
                .to_string();
            let mut files = Vec::new();
            for (i, c) in universe_parsed.iter().enumerate() {
                if c.subject == issuer {
                    let mut anchors = case.anchors.clone();
                    anchors.push(("imported".into(), universe[i].clone()));
                    files.push(write(&format!("import-{i}"), &anchors, &chain_ders));
                }
            }
            advice.push((case.name.clone(), "import", files, true));
        } else if fix.contains("stop sending that stale root") {
            let stale = r["path"]
                .as_array()
                .and_then(|p| p.last())
                .and_then(|s| s["sha256"].as_str())
                .unwrap_or_default()
                .to_string();
            let trimmed: Vec<&[u8]> = chain_ders
                .iter()
                .copied()
                .filter(|d| !azure_cacerts::cert::sha256_hex(d).eq_ignore_ascii_case(&stale))
                .collect();
            let f = write("no-stale-root", &case.anchors, &trimmed);
            advice.push((case.name.clone(), "drop-stale-root", vec![f], true));
        } else if fix.contains("import the server certificate") {
            let anchors: Vec<(String, Vec<u8>)> = vec![("server".into(), case.chain[0].clone())];
            let f = write("server-cert", &anchors, &chain_ders);
            advice.push((
                case.name.clone(),
                "import-server-certificate",
                vec![f],
                true,
            ));
        } else if fix.contains("send its chain in order") {
            let ordered = in_order(&case.chain);
            let refs: Vec<&[u8]> = ordered.iter().map(Vec::as_slice).collect();
            let f = write("in-order", &case.anchors, &refs);
            advice.push((case.name.clone(), "in-order", vec![f], true));
        }
    }
    // "a v3 certificate of X with the same key would also do": import the v3 certificates
    // there are with the name and key of the keystore's v1 anchors.
    for (case, (_, _, r)) in cases.iter().zip(&ours) {
        let fix = r["fix"].as_str().unwrap_or_default();
        if r["trusted"].as_bool() == Some(true) || !fix.contains("a v3 certificate of") {
            continue;
        }
        let v1_anchors: Vec<azure_cacerts::cert::Certificate> = case
            .anchors
            .iter()
            .filter_map(|(_, d)| azure_cacerts::cert::Certificate::parse(d).ok())
            .filter(|c| c.version < 3)
            .collect();
        let mut anchors = case.anchors.clone();
        for (i, c) in universe_parsed.iter().enumerate() {
            if c.version == 3 && v1_anchors.iter().any(|a| a.same_name_and_key(c)) {
                anchors.push((format!("v3-{i}"), universe[i].clone()));
            }
        }
        let ks = dir.path().join(format!("{}-v3-copy.jks", case.name));
        let refs: Vec<(&str, &[u8])> = anchors
            .iter()
            .map(|(a, d)| (a.as_str(), d.as_slice()))
            .collect();
        keystore(&ks, &refs);
        let pem_path = dir.path().join(format!("{}-v3-copy.pem", case.name));
        let chain_ders: Vec<&[u8]> = case.chain.iter().map(Vec::as_slice).collect();
        std::fs::write(&pem_path, pem(&chain_ders)).unwrap();
        advice_args.extend([
            ks.display().to_string(),
            PASS.to_string(),
            pem_path.display().to_string(),
        ]);
        advice.push((
            case.name.clone(),
            "import-v3-copy",
            vec![pem_path.display().to_string()],
            true,
        ));
    }
    let advice_says = if advice_args.is_empty() {
        HashMap::new()
    } else {
        java_verdicts(&java, &advice_args)
    };
    let mut bad_advice = Vec::new();
    for (name, kind, files, want_trusted) in &advice {
        let trusted_somewhere = files
            .iter()
            .any(|f| advice_says.get(f).is_some_and(|l| l.starts_with("TRUSTED")));
        eprintln!("{name}: advice {kind} acted on: java trusts it {trusted_somewhere}");
        if trusted_somewhere != *want_trusted {
            bad_advice.push(format!("{name} ({kind})"));
        }
    }

    let mut agree = 0;
    let mut disagree = Vec::new();
    let mut undecided = Vec::new();
    let mut jdks_differ: Vec<String> = Vec::new();
    for (case, (_, chain_pem, r)) in cases.iter().zip(&ours) {
        let java_line = java_says
            .get(&chain_pem.display().to_string())
            .unwrap_or_else(|| panic!("no Java line for {}", case.name));
        let java_trusted = java_line.starts_with("TRUSTED");
        for (jdk, says) in &other_jdks {
            let line = says
                .get(&chain_pem.display().to_string())
                .cloned()
                .unwrap_or_default();
            if line.starts_with("TRUSTED") != java_trusted {
                jdks_differ.push(format!("{} ({jdk}: {line})", case.name));
            }
        }
        let trusted = r["trusted"].as_bool() == Some(true);
        eprintln!(
            "{}: java {} | ours {} {}",
            case.name,
            java_line,
            r["reason_code"].as_str().unwrap_or("trusted"),
            r["fix"].as_str().unwrap_or("")
        );
        if trusted == java_trusted {
            agree += 1;
        } else if r["reason_code"] == "unsupported-algorithm" {
            // We say we cannot decide, and why: a documented gap, not a wrong verdict.
            undecided.push(case.name.clone());
        } else {
            disagree.push(case.name.clone());
        }
    }
    for (jdk, says) in &other_jdks {
        let agree_here = cases
            .iter()
            .zip(&ours)
            .filter(|(_, (_, chain_pem, r))| {
                let line = says
                    .get(&chain_pem.display().to_string())
                    .cloned()
                    .unwrap_or_default();
                line.starts_with("TRUSTED") == (r["trusted"].as_bool() == Some(true))
            })
            .count();
        eprintln!(
            "{label} on {jdk}: {} cases, {agree_here} agree, {} disagree",
            cases.len(),
            cases.len() - agree_here
        );
    }
    let mut bad_fixes = Vec::new();
    for (name, copy) in &fixed_cases {
        let line = fixed_says
            .get(&copy.display().to_string())
            .cloned()
            .unwrap_or_default();
        eprintln!("{name} with the printed fix applied: java {line}");
        if !line.starts_with("TRUSTED") {
            bad_fixes.push(name.clone());
        }
    }
    eprintln!(
        "{label} on {}: {} cases, {agree} agree with Java, {} disagree {disagree:?}, {} undecided (unsupported-algorithm) {undecided:?}; {} catalog fixes applied, {} did not make Java trust the chain {bad_fixes:?}",
        java.display(),
        cases.len(),
        disagree.len(),
        undecided.len(),
        fixed_cases.len(),
        bad_fixes.len()
    );
    eprintln!(
        "{} further JDK(s) compared: they differ from the first in {} cases {jdks_differ:?}",
        other_jdks.len(),
        jdks_differ.len()
    );
    assert!(disagree.is_empty(), "disagreements with Java: {disagree:?}");
    eprintln!(
        "advice acted on in {} failing cases, wrong in {} {bad_advice:?}",
        advice.len(),
        bad_advice.len()
    );
    assert!(
        bad_fixes.is_empty(),
        "fixes that do not help: {bad_fixes:?}"
    );
    assert!(
        bad_advice.is_empty(),
        "advice that is wrong: {bad_advice:?}"
    );
}

/// The chain as a server should send it: the leaf, then each certificate's issuer among the
/// others (the one whose key verifies it), as far as that goes.
fn in_order(chain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    use azure_cacerts::cert::{verify_signature, Certificate, SigCheck};
    let parsed: Vec<Certificate> = chain
        .iter()
        .map(|d| Certificate::parse(d).expect("parses"))
        .collect();
    let mut used = vec![0usize];
    loop {
        let cur = &parsed[*used.last().expect("leaf")];
        if cur.self_issued && used.len() > 1 {
            break;
        }
        let next = (0..parsed.len()).find(|&j| {
            !used.contains(&j)
                && parsed[j].subject_key == cur.issuer_key
                && verify_signature(cur, &parsed[j]) == SigCheck::Valid
        });
        match next {
            Some(j) => used.push(j),
            None => break,
        }
    }
    used.into_iter().map(|i| chain[i].clone()).collect()
}
