//! Name constraints, certificate policies and v1 certificates: generated chains judged by
//! `check --chain` and by one JVM per installed JDK (check_matrix.rs's harness), case by
//! case, with the advice of every refused case acted on.

use crate::check_matrix::{key, run_matrix, Case};
use crate::check_tls::{ca_params, leaf_params};
use crate::support::der::{oid, read_tlv, tlv};

use rcgen::{
    CertificateParams, CidrSubnet, CustomExtension, DnType, GeneralSubtree, Issuer, KeyPair,
    NameConstraints, SanType, SigningKey,
};
use time::{Duration as Span, OffsetDateTime};

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

impl Ca {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

fn params(cn: &str, serial: u64) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    ca_params(cn, serial, now - Span::days(100), now + Span::days(1000))
}

fn root(cn: &str, serial: u64, edit: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut p = params(cn, serial);
    edit(&mut p);
    let key = key();
    let der = p.self_signed(&key).expect("root").der().to_vec();
    Ca {
        params: p,
        key,
        der,
    }
}

fn sub(cn: &str, serial: u64, up: &Ca, edit: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut p = params(cn, serial);
    edit(&mut p);
    let key = key();
    let der = p.signed_by(&key, &up.issuer()).expect("ca").der().to_vec();
    Ca {
        params: p,
        key,
        der,
    }
}

fn leaf(serial: u64, up: &Ca, edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p = leaf_params(&format!("leaf {serial}"), serial);
    edit(&mut p);
    p.signed_by(&key(), &up.issuer())
        .expect("leaf")
        .der()
        .to_vec()
}

fn dns(names: &[&str]) -> Vec<SanType> {
    names
        .iter()
        .map(|n| SanType::DnsName((*n).try_into().expect("ia5")))
        .collect()
}

fn nc(permitted: Vec<GeneralSubtree>, excluded: Vec<GeneralSubtree>) -> Option<NameConstraints> {
    Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: excluded,
    })
}

fn dn_subtree(o: &str) -> GeneralSubtree {
    let mut d = rcgen::DistinguishedName::new();
    d.push(DnType::OrganizationName, o);
    GeneralSubtree::DirectoryName(d)
}

// ------------------------------------------------------------------ DER for custom extensions

const ANY: &[u64] = &[2, 5, 29, 32, 0];
const P: &[u64] = &[1, 3, 6, 1, 4, 1, 55555, 1, 1];
const Q: &[u64] = &[1, 3, 6, 1, 4, 1, 55555, 1, 2];

/// certificatePolicies with these policies; `cps` adds a CPS qualifier to each.
fn policies(list: &[&[u64]], critical: bool, cps: bool) -> CustomExtension {
    let mut seq = Vec::new();
    for p in list {
        let mut info = oid(p);
        if cps {
            let qualifier = [
                oid(&[1, 3, 6, 1, 5, 5, 7, 2, 1]),
                tlv(0x16, b"https://cps.test/"),
            ]
            .concat();
            info.extend(tlv(0x30, &tlv(0x30, &qualifier)));
        }
        seq.extend(tlv(0x30, &info));
    }
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 32], tlv(0x30, &seq));
    e.set_criticality(critical);
    e
}

/// policyConstraints: requireExplicitPolicy [0], inhibitPolicyMapping [1].
fn policy_constraints(require: Option<u8>, inhibit_mapping: Option<u8>) -> CustomExtension {
    let mut body = Vec::new();
    if let Some(r) = require {
        body.extend(tlv(0x80, &[r]));
    }
    if let Some(i) = inhibit_mapping {
        body.extend(tlv(0x81, &[i]));
    }
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 36], tlv(0x30, &body));
    e.set_criticality(true);
    e
}

fn inhibit_any(skip: u8) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 54], tlv(0x02, &[skip]));
    e.set_criticality(true);
    e
}

fn mappings(pairs: &[(&[u64], &[u64])]) -> CustomExtension {
    let mut seq = Vec::new();
    for (from, to) in pairs {
        seq.extend(tlv(0x30, &[oid(from), oid(to)].concat()));
    }
    CustomExtension::from_oid_content(&[2, 5, 29, 33], tlv(0x30, &seq))
}

/// nameConstraints that permit only otherName UPNs (Java cannot compare them).
fn upn_constraints() -> CustomExtension {
    let upn = oid(&[1, 3, 6, 1, 4, 1, 311, 20, 2, 3]);
    let value = tlv(0xA0, &tlv(0x0C, b"@nc.test"));
    let other_name = tlv(0xA0, &[upn, value].concat());
    let subtree = tlv(0x30, &other_name);
    let permitted = tlv(0xA0, &subtree);
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 30], tlv(0x30, &permitted));
    e.set_criticality(true);
    e
}

// ------------------------------------------------------------------ v1 certificates

/// The same certificate as version 1: no version field and no extensions, signed again with
/// `signer` (the issuer's key, which rcgen already used).
fn as_v1(der: &[u8], signer: &KeyPair) -> Vec<u8> {
    let (_, cert_start, _) = read_tlv(der, 0);
    let (_, tbs_start, tbs_end) = read_tlv(der, cert_start);
    let (_, alg_start, alg_end) = read_tlv(der, tbs_end);
    let alg = &der[tbs_end..alg_end];
    let _ = alg_start;
    let mut fields = Vec::new();
    let mut at = tbs_start;
    while at < tbs_end {
        let (tag, _, end) = read_tlv(der, at);
        if tag != 0xA0 && tag != 0xA3 {
            fields.extend_from_slice(&der[at..end]);
        }
        at = end;
    }
    let tbs = tlv(0x30, &fields);
    let sig = signer.sign(&tbs).expect("sign");
    let mut bits = vec![0u8];
    bits.extend(sig);
    tlv(0x30, &[tbs, alg.to_vec(), tlv(0x03, &bits)].concat())
}

// ------------------------------------------------------------------ the cases

fn cases() -> (Vec<Case>, Vec<Vec<u8>>) {
    let mut out: Vec<Case> = Vec::new();
    let mut add = |name: &str, anchors: &[&Vec<u8>], chain: &[&Vec<u8>]| {
        out.push(Case {
            name: name.to_string(),
            anchors: anchors
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("anchor{i}"), (*d).clone()))
                .collect(),
            chain: chain.iter().map(|d| (*d).clone()).collect(),
        })
    };
    let mut universe: Vec<Vec<u8>> = Vec::new();

    let r = root("NC Root", 1, |_| {});
    universe.push(r.der.clone());
    // An unrelated certificate second makes Java build a path instead of validating.
    let stranger = root("NC Stranger", 2, |_| {});
    let unrelated = leaf(3, &stranger, |_| {});

    // --- name constraints in an intermediate
    let ca_dns = sub("NC DNS CA", 10, &r, |p| {
        p.name_constraints = nc(
            vec![GeneralSubtree::DnsName("nc.test".into())],
            vec![GeneralSubtree::DnsName("bad.nc.test".into())],
        )
    });
    universe.push(ca_dns.der.clone());
    let ok = leaf(11, &ca_dns, |p| p.subject_alt_names = dns(&["www.nc.test"]));
    let outside = leaf(12, &ca_dns, |p| {
        p.subject_alt_names = dns(&["www.other.test"])
    });
    let excluded = leaf(13, &ca_dns, |p| {
        p.subject_alt_names = dns(&["x.bad.nc.test"])
    });
    let suffix = leaf(14, &ca_dns, |p| p.subject_alt_names = dns(&["evilnc.test"]));
    let cn_only = leaf(15, &ca_dns, |p| {
        p.subject_alt_names = Vec::new();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, "www.other.test");
    });
    let cn_only_ok = leaf(16, &ca_dns, |p| {
        p.subject_alt_names = Vec::new();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, "api.nc.test");
    });
    add("nc-dns-permitted", &[&r.der], &[&ok, &ca_dns.der]);
    add("nc-dns-outside", &[&r.der], &[&outside, &ca_dns.der]);
    add("nc-dns-excluded", &[&r.der], &[&excluded, &ca_dns.der]);
    add(
        "nc-dns-suffix-not-label",
        &[&r.der],
        &[&suffix, &ca_dns.der],
    );
    add("nc-dns-cn-outside", &[&r.der], &[&cn_only, &ca_dns.der]);
    add("nc-dns-cn-inside", &[&r.der], &[&cn_only_ok, &ca_dns.der]);
    add(
        "nc-dns-outside-built",
        &[&r.der],
        &[&outside, &unrelated, &ca_dns.der],
    );
    add(
        "nc-dns-outside-reordered",
        &[&r.der],
        &[&outside, &r.der, &ca_dns.der],
    );
    add(
        "nc-dns-outside-root-sent",
        &[&r.der],
        &[&outside, &ca_dns.der, &r.der],
    );
    // The constraining CA itself in the keystore: Java ignores an anchor's constraints.
    add(
        "nc-dns-outside-ca-anchor",
        &[&ca_dns.der],
        &[&outside, &ca_dns.der],
    );

    // --- in the root (the anchor): never applied
    let r_nc = root("NC Constrained Root", 20, |p| {
        p.name_constraints = nc(vec![GeneralSubtree::DnsName("nc.test".into())], vec![])
    });
    universe.push(r_nc.der.clone());
    let plain = sub("NC Plain CA", 21, &r_nc, |_| {});
    universe.push(plain.der.clone());
    let under_root = leaf(22, &plain, |p| {
        p.subject_alt_names = dns(&["www.other.test"])
    });
    add("nc-root-outside", &[&r_nc.der], &[&under_root, &plain.der]);
    add(
        "nc-root-outside-root-sent",
        &[&r_nc.der],
        &[&under_root, &plain.der, &r_nc.der],
    );

    // --- directoryName
    let ca_dir_ok = sub("NC Dir CA", 30, &r, |p| {
        p.name_constraints = nc(vec![dn_subtree("azure-cacerts tests")], vec![])
    });
    let ca_dir_bad = sub("NC Dir Other CA", 31, &r, |p| {
        p.name_constraints = nc(vec![dn_subtree("Other Org")], vec![])
    });
    let ca_dir_ex = sub("NC Dir Excluding CA", 32, &r, |p| {
        p.name_constraints = nc(vec![], vec![dn_subtree("azure-cacerts tests")])
    });
    for (tag, ca) in [
        ("permitted", &ca_dir_ok),
        ("outside", &ca_dir_bad),
        ("excluded", &ca_dir_ex),
    ] {
        universe.push(ca.der.clone());
        let l = leaf(33, ca, |_| {});
        add(&format!("nc-dir-{tag}"), &[&r.der], &[&l, &ca.der]);
    }

    // --- iPAddress
    for (tag, permitted, excluded_ip) in [
        ("permitted", Some("127.0.0.0/8"), None),
        ("outside", Some("10.0.0.0/8"), None),
        ("excluded", None, Some("127.0.0.1/32")),
    ] {
        let ca = sub(&format!("NC IP {tag} CA"), 40, &r, |p| {
            let sub = |s: &str| GeneralSubtree::IpAddress(s.parse::<CidrSubnet>().expect("cidr"));
            p.name_constraints = nc(
                permitted.map(sub).into_iter().collect(),
                excluded_ip.map(sub).into_iter().collect(),
            )
        });
        universe.push(ca.der.clone());
        let l = leaf(41, &ca, |p| {
            p.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().expect("ip"))]
        });
        add(&format!("nc-ip-{tag}"), &[&r.der], &[&l, &ca.der]);
    }

    // --- rfc822Name, in the SAN and (with no SAN) in the subject's emailAddress
    let ca_mail = sub("NC Mail CA", 50, &r, |p| {
        p.name_constraints = nc(vec![GeneralSubtree::Rfc822Name("nc.test".into())], vec![])
    });
    universe.push(ca_mail.der.clone());
    let email = |addr: &str| SanType::Rfc822Name(addr.try_into().expect("ia5"));
    let mail_ok = leaf(51, &ca_mail, |p| {
        p.subject_alt_names = vec![email("admin@nc.test")]
    });
    let mail_bad = leaf(52, &ca_mail, |p| {
        p.subject_alt_names = vec![email("admin@other.test")]
    });
    let dn_mail = |addr: &'static str| {
        move |p: &mut CertificateParams| {
            p.subject_alt_names = Vec::new();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name.push(DnType::CommonName, "mail leaf");
            p.distinguished_name.push(
                DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                rcgen::DnValue::Ia5String(addr.try_into().expect("ia5")),
            );
        }
    };
    let dn_mail_ok = leaf(53, &ca_mail, dn_mail("admin@nc.test"));
    let dn_mail_bad = leaf(54, &ca_mail, dn_mail("admin@other.test"));
    add(
        "nc-email-san-permitted",
        &[&r.der],
        &[&mail_ok, &ca_mail.der],
    );
    add(
        "nc-email-san-outside",
        &[&r.der],
        &[&mail_bad, &ca_mail.der],
    );
    add(
        "nc-email-dn-permitted",
        &[&r.der],
        &[&dn_mail_ok, &ca_mail.der],
    );
    add(
        "nc-email-dn-outside",
        &[&r.der],
        &[&dn_mail_bad, &ca_mail.der],
    );

    // --- self-issued certificates are exempt, except the server certificate
    let self_issued = {
        let mut p = ca_dns.params.clone();
        p.serial_number = Some(60u64.into());
        p.subject_alt_names = dns(&["ca.other.test"]);
        p.name_constraints = None;
        let k = key();
        let der = p
            .signed_by(&k, &ca_dns.issuer())
            .expect("self-issued")
            .der()
            .to_vec();
        Ca {
            params: p,
            key: k,
            der,
        }
    };
    let not_self_issued = sub("NC Sub CA", 61, &ca_dns, |p| {
        p.subject_alt_names = dns(&["ca.other.test"])
    });
    universe.push(self_issued.der.clone());
    universe.push(not_self_issued.der.clone());
    let below_self = leaf(62, &self_issued, |p| {
        p.subject_alt_names = dns(&["www.nc.test"])
    });
    let below_sub = leaf(63, &not_self_issued, |p| {
        p.subject_alt_names = dns(&["www.nc.test"])
    });
    add(
        "nc-self-issued-exempt",
        &[&r.der],
        &[&below_self, &self_issued.der, &ca_dns.der],
    );
    add(
        "nc-not-self-issued",
        &[&r.der],
        &[&below_sub, &not_self_issued.der, &ca_dns.der],
    );

    // --- intersection along the path, and Java's merge quirk
    let narrower = sub("NC Narrower CA", 70, &ca_dns, |p| {
        p.name_constraints = nc(vec![GeneralSubtree::DnsName("www.nc.test".into())], vec![])
    });
    universe.push(narrower.der.clone());
    let in_both = leaf(71, &narrower, |p| {
        p.subject_alt_names = dns(&["a.www.nc.test"])
    });
    let only_upper = leaf(72, &narrower, |p| {
        p.subject_alt_names = dns(&["api.nc.test"])
    });
    add(
        "nc-intersect-inside-both",
        &[&r.der],
        &[&in_both, &narrower.der, &ca_dns.der],
    );
    add(
        "nc-intersect-upper-only",
        &[&r.der],
        &[&only_upper, &narrower.der, &ca_dns.der],
    );
    let two = sub("NC Two Domains CA", 73, &r, |p| {
        p.name_constraints = nc(
            vec![
                GeneralSubtree::DnsName("a.test".into()),
                GeneralSubtree::DnsName("b.test".into()),
            ],
            vec![],
        )
    });
    let one = sub("NC One Subdomain CA", 74, &two, |p| {
        p.name_constraints = nc(vec![GeneralSubtree::DnsName("x.a.test".into())], vec![])
    });
    universe.push(two.der.clone());
    universe.push(one.der.clone());
    let quirk = leaf(75, &one, |p| p.subject_alt_names = dns(&["y.x.a.test"]));
    add(
        "nc-intersect-quirk",
        &[&r.der],
        &[&quirk, &one.der, &two.der],
    );

    // --- a name type Java cannot compare: otherName
    let ca_upn = sub("NC UPN CA", 80, &r, |p| {
        p.custom_extensions = vec![upn_constraints()]
    });
    universe.push(ca_upn.der.clone());
    let upn_dns = leaf(81, &ca_upn, |p| p.subject_alt_names = dns(&["www.nc.test"]));
    let upn_leaf = leaf(82, &ca_upn, |p| {
        p.subject_alt_names = vec![SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            "admin@nc.test".into(),
        ))]
    });
    add("nc-othername-dns-leaf", &[&r.der], &[&upn_dns, &ca_upn.der]);
    add(
        "nc-othername-upn-leaf",
        &[&r.der],
        &[&upn_leaf, &ca_upn.der],
    );

    // --- two copies of one CA (same name and key): one constrained under the root, one
    // free under a second root. The builder moves on to the free one; as sent, Java
    // validates the constrained one only.
    let r2 = root("NC Root Two", 90, |_| {});
    universe.push(r2.der.clone());
    let twin_key = key();
    let mut twin_nc_p = params("NC Twin CA", 91);
    twin_nc_p.name_constraints = nc(vec![GeneralSubtree::DnsName("nc.test".into())], vec![]);
    let twin_nc = twin_nc_p
        .signed_by(&twin_key, &r.issuer())
        .expect("twin")
        .der()
        .to_vec();
    let twin_free_p = params("NC Twin CA", 92);
    let twin_free = twin_free_p
        .signed_by(&twin_key, &r2.issuer())
        .expect("twin")
        .der()
        .to_vec();
    universe.push(twin_nc.clone());
    universe.push(twin_free.clone());
    let twin_leaf = leaf_params("twin leaf", 93);
    let twin_leaf = {
        let mut p = twin_leaf;
        p.subject_alt_names = dns(&["www.other.test"]);
        p.signed_by(&key(), &Issuer::from_params(&twin_nc_p, &twin_key))
            .expect("leaf")
            .der()
            .to_vec()
    };
    let both = [&r.der, &r2.der];
    add("nc-twins-constrained-sent", &both, &[&twin_leaf, &twin_nc]);
    add("nc-twins-free-sent", &both, &[&twin_leaf, &twin_free]);
    add(
        "nc-twins-built",
        &both,
        &[&twin_leaf, &unrelated, &twin_nc, &twin_free],
    );
    add(
        "nc-twins-built-swapped",
        &both,
        &[&twin_leaf, &unrelated, &twin_free, &twin_nc],
    );
    add(
        "nc-twins-constrained-only-root",
        &[&r.der],
        &[&twin_leaf, &unrelated, &twin_nc, &twin_free],
    );

    // --- IPv6 and URI subtrees; a self-issued server certificate is checked
    let ca_v6 = sub("NC IPv6 CA", 94, &r, |p| {
        p.name_constraints = nc(
            vec![GeneralSubtree::IpAddress(
                "2001:db8::/32".parse::<CidrSubnet>().expect("cidr"),
            )],
            vec![],
        )
    });
    universe.push(ca_v6.der.clone());
    for (tag, ip) in [("permitted", "2001:db8::1"), ("outside", "2001:db9::1")] {
        let l = leaf(95, &ca_v6, |p| {
            p.subject_alt_names = vec![SanType::IpAddress(ip.parse().expect("ip"))]
        });
        add(&format!("nc-ipv6-{tag}"), &[&r.der], &[&l, &ca_v6.der]);
    }
    let ca_uri = sub("NC URI CA", 96, &r, |p| {
        let permitted = tlv(0xA0, &tlv(0x30, &tlv(0x86, b".nc.test")));
        let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 30], tlv(0x30, &permitted));
        e.set_criticality(true);
        p.custom_extensions = vec![e];
    });
    universe.push(ca_uri.der.clone());
    for (tag, uri) in [
        ("permitted", "https://www.nc.test/path"),
        ("outside", "https://www.other.test/"),
        ("domain-itself", "https://nc.test/"),
    ] {
        let l = leaf(97, &ca_uri, |p| {
            p.subject_alt_names = vec![SanType::URI(uri.try_into().expect("ia5"))]
        });
        add(&format!("nc-uri-{tag}"), &[&r.der], &[&l, &ca_uri.der]);
    }
    let self_issued_leaf = {
        let mut p = leaf_params("unused", 98);
        p.distinguished_name = ca_dns.params.distinguished_name.clone();
        p.subject_alt_names = dns(&["www.other.test"]);
        p.signed_by(&key(), &ca_dns.issuer())
            .expect("leaf")
            .der()
            .to_vec()
    };
    add(
        "nc-self-issued-leaf",
        &[&r.der],
        &[&self_issued_leaf, &ca_dns.der],
    );

    // --- certificate policies
    let pol_ca = |cn: &str, serial: u64, up: &Ca, exts: Vec<CustomExtension>| {
        sub(cn, serial, up, |p| p.custom_extensions = exts)
    };
    let with_pol = |list: &'static [&'static [u64]]| {
        move |p: &mut CertificateParams| p.custom_extensions = vec![policies(list, false, false)]
    };
    let req0_p = pol_ca(
        "Policy Require P CA",
        100,
        &r,
        vec![
            policy_constraints(Some(0), None),
            policies(&[P], false, false),
        ],
    );
    let req0_any = pol_ca(
        "Policy Require Any CA",
        101,
        &r,
        vec![
            policy_constraints(Some(0), None),
            policies(&[ANY], false, false),
        ],
    );
    let req0_none = pol_ca(
        "Policy Require None CA",
        102,
        &r,
        vec![policy_constraints(Some(0), None)],
    );
    let req0_inhibit_any = pol_ca(
        "Policy Inhibit Any CA",
        103,
        &r,
        vec![
            policy_constraints(Some(0), None),
            inhibit_any(0),
            policies(&[ANY], false, false),
        ],
    );
    let req1 = pol_ca(
        "Policy Require One CA",
        104,
        &r,
        vec![
            policy_constraints(Some(1), None),
            policies(&[P], false, false),
        ],
    );
    let req2 = pol_ca(
        "Policy Require Two CA",
        105,
        &r,
        vec![
            policy_constraints(Some(2), None),
            policies(&[P], false, false),
        ],
    );
    let no_req = pol_ca(
        "Policy Free CA",
        106,
        &r,
        vec![policies(&[P], false, false)],
    );
    let critical_cps = pol_ca(
        "Policy Critical CPS CA",
        107,
        &r,
        vec![policies(&[P], true, true)],
    );
    let noncritical_cps = pol_ca("Policy CPS CA", 108, &r, vec![policies(&[P], false, true)]);
    for c in [
        &req0_p,
        &req0_any,
        &req0_none,
        &req0_inhibit_any,
        &req1,
        &req2,
        &no_req,
        &critical_cps,
        &noncritical_cps,
    ] {
        universe.push(c.der.clone());
    }
    let leaf_p = |ca: &Ca, s: u64| leaf(s, ca, with_pol(&[P]));
    let leaf_q = |ca: &Ca, s: u64| leaf(s, ca, with_pol(&[Q]));
    let leaf_any = |ca: &Ca, s: u64| leaf(s, ca, with_pol(&[ANY]));
    let leaf_none = |ca: &Ca, s: u64| leaf(s, ca, |_| {});
    add(
        "pol-require-leaf-p",
        &[&r.der],
        &[&leaf_p(&req0_p, 110), &req0_p.der],
    );
    add(
        "pol-require-leaf-q",
        &[&r.der],
        &[&leaf_q(&req0_p, 111), &req0_p.der],
    );
    add(
        "pol-require-leaf-none",
        &[&r.der],
        &[&leaf_none(&req0_p, 112), &req0_p.der],
    );
    add(
        "pol-require-leaf-none-built",
        &[&r.der],
        &[&leaf_none(&req0_p, 113), &unrelated, &req0_p.der],
    );
    add(
        "pol-require-ca-any-leaf-p",
        &[&r.der],
        &[&leaf_p(&req0_any, 114), &req0_any.der],
    );
    add(
        "pol-require-ca-none-leaf-p",
        &[&r.der],
        &[&leaf_p(&req0_none, 115), &req0_none.der],
    );
    add(
        "pol-inhibit-any-leaf-p",
        &[&r.der],
        &[&leaf_p(&req0_inhibit_any, 116), &req0_inhibit_any.der],
    );
    add(
        "pol-inhibit-any-leaf-any",
        &[&r.der],
        &[&leaf_any(&req0_inhibit_any, 117), &req0_inhibit_any.der],
    );
    add(
        "pol-require-1-leaf-none",
        &[&r.der],
        &[&leaf_none(&req1, 118), &req1.der],
    );
    add(
        "pol-require-2-leaf-none",
        &[&r.der],
        &[&leaf_none(&req2, 119), &req2.der],
    );
    add(
        "pol-free-leaf-q",
        &[&r.der],
        &[&leaf_q(&no_req, 120), &no_req.der],
    );
    add(
        "pol-critical-qualifiers",
        &[&r.der],
        &[&leaf_p(&critical_cps, 121), &critical_cps.der],
    );
    add(
        "pol-noncritical-qualifiers",
        &[&r.der],
        &[&leaf_p(&noncritical_cps, 122), &noncritical_cps.der],
    );
    // Mapping P to Q below a CA that inhibits mapping, and below one that does not.
    for (tag, inhibit) in [("inhibited", Some(0u8)), ("allowed", None)] {
        let top = pol_ca(
            &format!("Policy Mapping {tag} Top CA"),
            130,
            &r,
            vec![
                policy_constraints(Some(0), inhibit),
                policies(&[P], false, false),
            ],
        );
        let mapper = pol_ca(
            &format!("Policy Mapping {tag} CA"),
            131,
            &top,
            vec![policies(&[P], false, false), mappings(&[(P, Q)])],
        );
        universe.push(top.der.clone());
        universe.push(mapper.der.clone());
        add(
            &format!("pol-mapping-{tag}-leaf-q"),
            &[&r.der],
            &[&leaf_q(&mapper, 132), &mapper.der, &top.der],
        );
    }

    // requireExplicitPolicy counts certificates that are not self-issued.
    for (tag, self_issued_gap) in [("gap", false), ("self-issued-gap", true)] {
        let top = pol_ca(
            &format!("Policy Require Two {tag} CA"),
            140,
            &r,
            vec![
                policy_constraints(Some(2), None),
                policies(&[P], false, false),
            ],
        );
        let gap = if self_issued_gap {
            let mut p = top.params.clone();
            p.serial_number = Some(141u64.into());
            p.custom_extensions = Vec::new();
            let k = key();
            let der = p.signed_by(&k, &top.issuer()).expect("gap").der().to_vec();
            Ca {
                params: p,
                key: k,
                der,
            }
        } else {
            sub(&format!("Policy Gap {tag} CA"), 141, &top, |_| {})
        };
        universe.push(top.der.clone());
        universe.push(gap.der.clone());
        add(
            &format!("pol-require-2-{tag}"),
            &[&r.der],
            &[&leaf_p(&gap, 142), &gap.der, &top.der],
        );
    }
    // inhibitAnyPolicy 1: anyPolicy still counts in the next CA, not in the server certificate.
    let skip1 = pol_ca(
        "Policy Inhibit Any One CA",
        150,
        &r,
        vec![
            policy_constraints(Some(0), None),
            inhibit_any(1),
            policies(&[ANY], false, false),
        ],
    );
    let any_below = pol_ca(
        "Policy Any Below CA",
        151,
        &skip1,
        vec![policies(&[ANY], false, false)],
    );
    universe.push(skip1.der.clone());
    universe.push(any_below.der.clone());
    add(
        "pol-inhibit-any-1-leaf-any",
        &[&r.der],
        &[&leaf_any(&any_below, 152), &any_below.der, &skip1.der],
    );
    add(
        "pol-inhibit-any-1-leaf-p",
        &[&r.der],
        &[&leaf_p(&any_below, 153), &any_below.der, &skip1.der],
    );
    // Two copies of one CA: one requires a policy the server certificate lacks, the other
    // (under the second root) does not. The builder backtracks to the free one.
    let pol_twin_key = key();
    let mut pol_req_p = params("Policy Twin CA", 160);
    pol_req_p.custom_extensions = vec![
        policy_constraints(Some(0), None),
        policies(&[P], false, false),
    ];
    let pol_req = pol_req_p
        .signed_by(&pol_twin_key, &r.issuer())
        .expect("twin")
        .der()
        .to_vec();
    let pol_free = params("Policy Twin CA", 161)
        .signed_by(&pol_twin_key, &r2.issuer())
        .expect("twin")
        .der()
        .to_vec();
    universe.push(pol_req.clone());
    universe.push(pol_free.clone());
    let pol_twin_leaf = leaf_params("policy twin leaf", 162)
        .signed_by(&key(), &Issuer::from_params(&pol_req_p, &pol_twin_key))
        .expect("leaf")
        .der()
        .to_vec();
    add(
        "pol-twins-required-sent",
        &both,
        &[&pol_twin_leaf, &pol_req],
    );
    add(
        "pol-twins-built",
        &both,
        &[&pol_twin_leaf, &unrelated, &pol_req, &pol_free],
    );
    add(
        "pol-twins-built-swapped",
        &both,
        &[&pol_twin_leaf, &unrelated, &pol_free, &pol_req],
    );

    // --- v1 certificates
    let v1_root = {
        let mut c = root("V1 Root", 200, |_| {});
        c.der = as_v1(&c.der, &c.key);
        c
    };
    // The same root as v3 (same name and key).
    let v3_copy = {
        let mut p = v1_root.params.clone();
        p.serial_number = Some(201u64.into());
        p.self_signed(&v1_root.key).expect("v3 copy").der().to_vec()
    };
    universe.push(v1_root.der.clone());
    universe.push(v3_copy.clone());
    let under_v1 = sub("V1 Child CA", 202, &v1_root, |_| {});
    universe.push(under_v1.der.clone());
    let below_v1 = leaf(203, &under_v1, |_| {});
    add(
        "v1-root-anchor",
        &[&v1_root.der],
        &[&below_v1, &under_v1.der],
    );
    add(
        "v1-root-anchor-built",
        &[&v1_root.der],
        &[&below_v1, &unrelated, &under_v1.der],
    );
    add(
        "v1-root-sent",
        &[&v1_root.der],
        &[&below_v1, &under_v1.der, &v1_root.der],
    );
    add(
        "v3-copy-anchor",
        &[&v3_copy],
        &[&below_v1, &under_v1.der, &v1_root.der],
    );
    // A v1 root whose validity ends before the intermediate's: the builder skips it, the
    // validator does not look.
    let short_v1 = {
        let now = OffsetDateTime::now_utc();
        let mut c = root("V1 Short Root", 210, |p| {
            p.not_before = now - Span::days(400);
            p.not_after = now + Span::days(100);
        });
        c.der = as_v1(&c.der, &c.key);
        c
    };
    let short_v3 = {
        let mut p = short_v1.params.clone();
        p.serial_number = Some(211u64.into());
        p.not_after = OffsetDateTime::now_utc() + Span::days(4000);
        p.self_signed(&short_v1.key)
            .expect("v3 copy")
            .der()
            .to_vec()
    };
    universe.push(short_v1.der.clone());
    universe.push(short_v3.clone());
    let under_short = sub("V1 Short Child CA", 212, &short_v1, |_| {});
    universe.push(under_short.der.clone());
    let below_short = leaf(213, &under_short, |_| {});
    add(
        "v1-short-root-in-order",
        &[&short_v1.der],
        &[&below_short, &under_short.der],
    );
    add(
        "v1-short-root-built",
        &[&short_v1.der],
        &[&below_short, &unrelated, &under_short.der],
    );
    add(
        "v1-short-root-v3-copy-built",
        &[&short_v3],
        &[&below_short, &unrelated, &under_short.der],
    );
    // A v1 intermediate: Java takes it only self-issued right below the anchor.
    let v1_inter = {
        let mut c = sub("V1 Intermediate", 220, &r, |_| {});
        c.der = as_v1(&c.der, &r.key);
        c
    };
    universe.push(v1_inter.der.clone());
    let below_v1_inter = leaf(221, &v1_inter, |_| {});
    add(
        "v1-intermediate",
        &[&r.der],
        &[&below_v1_inter, &v1_inter.der],
    );
    add(
        "v1-intermediate-built",
        &[&r.der],
        &[&below_v1_inter, &unrelated, &v1_inter.der],
    );
    let v1_self = {
        let mut p = r.params.clone();
        p.serial_number = Some(222u64.into());
        let k = key();
        let der = p
            .signed_by(&k, &r.issuer())
            .expect("self-issued")
            .der()
            .to_vec();
        Ca {
            der: as_v1(&der, &r.key),
            params: p,
            key: k,
        }
    };
    universe.push(v1_self.der.clone());
    let below_v1_self = leaf(223, &v1_self, |_| {});
    add(
        "v1-self-issued-below-anchor",
        &[&r.der],
        &[&below_v1_self, &v1_self.der],
    );
    (out, universe)
}

#[test]
fn constraints_and_v1_chains_match_java() {
    let (cases, universe) = cases();
    run_matrix("constraints matrix", &cases, &universe);
}

/// What the reasons say, with no JVM needed: the CA that imposes a constraint, the name it
/// refuses, and a fix that sends nobody to import a CA that cannot help.
#[test]
fn reasons_name_the_constraint_and_the_name() {
    use crate::check_tls::{write_case, PASS};
    let (cases, _) = cases();
    let dir = tempfile::tempdir().unwrap();
    let judge = |name: &str| -> serde_json::Value {
        let case = cases.iter().find(|c| c.name == name).expect("case");
        let (ks, chain) = write_case(dir.path(), name, &case.anchors, &case.chain);
        let out = crate::common::bin()
            .args(["check", "-k"])
            .arg(&ks)
            .args(["--storepass", PASS, "--format", "json", "--chain"])
            .arg(&chain)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        doc["results"][0].clone()
    };
    let r = judge("nc-dns-outside");
    assert_eq!(r["reason_code"], "name-constraints");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("CN=NC DNS CA") && reason.contains("DNS name www.other.test"),
        "{reason}"
    );
    let fix = r["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("no other keystore change helps"), "{fix}");
    assert!(r["fix_cas"].as_array().is_none_or(|f| f.is_empty()));

    let r = judge("nc-twins-constrained-only-root");
    let fix = r["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("import the certificate of O=azure-cacerts tests, CN=NC Root Two")
            || fix.contains("import the certificate of CN=NC Root Two"),
        "{fix}"
    );

    let r = judge("pol-require-leaf-none");
    assert_eq!(r["reason_code"], "policy-constraints");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("CN=Policy Require P CA"), "{reason}");

    let r = judge("v1-intermediate");
    assert_eq!(r["reason_code"], "v1-intermediate");
    let r = judge("nc-othername-upn-leaf");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("otherName"), "{reason}");
}
