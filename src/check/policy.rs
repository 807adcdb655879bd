//! Certificate policies (RFC 5280 4.2.1.4, 4.2.1.5, 4.2.1.11, 4.2.1.14) the way Java's
//! `PolicyChecker` processes them with the defaults `PKIXValidator` leaves in place: the
//! initial policy set is anyPolicy, no explicit policy is required, mapping and anyPolicy are
//! not inhibited, and policy qualifiers in a critical certificatePolicies are rejected. So a
//! chain fails only through its own certificates: a requireExplicitPolicy that comes due
//! while the valid policy tree is empty (no policies, policies that do not chain, anyPolicy
//! cut off by inhibitAnyPolicy, mappings deleted by inhibitPolicyMapping), a mapping to or
//! from anyPolicy, or qualifiers in a critical extension.
//!
//! Unlike name constraints, both the validator and the path builder's final verification run
//! this checker. The trust anchor is not on the path, so its own extensions do not count.

use std::collections::BTreeSet;

use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::cert::Certificate;

const ANY_POLICY: &str = "2.5.29.32.0";
/// Nodes one policy tree may grow to: certificates with many policies and mappings can make
/// it grow exponentially with the path's length (OpenSSL's CVE-2023-0464).
const MAX_NODES: usize = 20_000;

/// Why the policy check refused a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The tree grew past [`MAX_NODES`]: no verdict, rather than unbounded work.
    pub too_complex: bool,
    pub message: String,
}

fn refused(message: String) -> Option<Refusal> {
    Some(Refusal {
        too_complex: false,
        message,
    })
}

/// A node of the valid policy tree (`PolicyNodeImpl`).
#[derive(Debug, Clone)]
struct Node {
    parent: Option<usize>,
    depth: usize,
    valid: String,
    expected: BTreeSet<String>,
    /// The expected set is the one the node was made with (a mapping replaces it).
    original: bool,
    children: Vec<usize>,
}

/// The tree as an arena; removed nodes are unlinked from their parent.
struct Tree {
    nodes: Vec<Node>,
    /// A node was not added because the tree reached [`MAX_NODES`].
    overflow: bool,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                parent: None,
                depth: 0,
                valid: ANY_POLICY.into(),
                expected: BTreeSet::from([ANY_POLICY.to_string()]),
                original: true,
                children: Vec::new(),
            }],
            overflow: false,
        }
    }

    fn add(&mut self, parent: usize, valid: &str, expected: &str, original: bool) {
        let id = self.nodes.len();
        if id >= MAX_NODES {
            self.overflow = true;
            return;
        }
        let depth = self.nodes[parent].depth + 1;
        self.nodes.push(Node {
            parent: Some(parent),
            depth,
            valid: valid.to_string(),
            expected: BTreeSet::from([expected.to_string()]),
            original,
            children: Vec::new(),
        });
        self.nodes[parent].children.push(id);
    }

    fn at_depth(&self, depth: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![0usize];
        while let Some(n) = stack.pop() {
            if self.nodes[n].depth == depth {
                out.push(n);
            } else if self.nodes[n].depth < depth {
                stack.extend(self.nodes[n].children.iter().copied());
            }
        }
        out
    }

    /// `processParents`: children for `policy` under the nodes of the level above that
    /// expect it (or, with `match_any`, that expect anyPolicy). Whether any parent matched.
    fn process_parents(&mut self, depth: usize, policy: &str, match_any: bool) -> bool {
        let parents: Vec<usize> = self
            .at_depth(depth - 1)
            .into_iter()
            .filter(|&p| {
                policy == ANY_POLICY
                    || self.nodes[p]
                        .expected
                        .contains(if match_any { ANY_POLICY } else { policy })
            })
            .collect();
        for &p in &parents {
            if policy == ANY_POLICY {
                let expected: Vec<String> = self.nodes[p].expected.iter().cloned().collect();
                for e in expected {
                    let present = self.nodes[p]
                        .children
                        .iter()
                        .any(|&c| self.nodes[c].valid == e);
                    if !present {
                        self.add(p, &e, &e, true);
                    }
                }
            } else {
                self.add(p, policy, policy, true);
            }
        }
        !parents.is_empty()
    }

    /// `PolicyNodeImpl.prune`: drops childless nodes above `depth`.
    fn prune(&mut self, n: usize, depth: usize) {
        let children = self.nodes[n].children.clone();
        let mut kept = Vec::with_capacity(children.len());
        for c in children {
            self.prune(c, depth);
            if !(self.nodes[c].children.is_empty() && depth > self.nodes[n].depth + 1) {
                kept.push(c);
            }
        }
        self.nodes[n].children = kept;
    }

    fn delete(&mut self, n: usize) {
        if let Some(p) = self.nodes[n].parent {
            self.nodes[p].children.retain(|&c| c != n);
        }
    }

    fn empty(&self) -> bool {
        self.nodes[0].children.is_empty()
    }
}

/// The policy extensions of one certificate.
#[derive(Default)]
struct Facts {
    /// (critical, [(policy, has qualifiers)]) of certificatePolicies.
    policies: Option<(bool, Vec<(String, bool)>)>,
    mappings: Vec<(String, String)>,
    require_explicit: Option<u32>,
    inhibit_mapping: Option<u32>,
    inhibit_any: Option<u32>,
}

fn facts(cert: &Certificate) -> Facts {
    let mut f = Facts::default();
    let Ok((_, x)) = X509Certificate::from_der(&cert.der) else {
        return f;
    };
    for ext in x.tbs_certificate.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => {
                let list = p
                    .iter()
                    .map(|i| {
                        (
                            i.policy_id.to_id_string(),
                            i.policy_qualifiers.as_ref().is_some_and(|q| !q.is_empty()),
                        )
                    })
                    .collect();
                f.policies = Some((ext.critical, list));
            }
            ParsedExtension::PolicyMappings(m) => {
                f.mappings = m
                    .mappings
                    .iter()
                    .map(|m| {
                        (
                            m.issuer_domain_policy.to_id_string(),
                            m.subject_domain_policy.to_id_string(),
                        )
                    })
                    .collect();
            }
            ParsedExtension::PolicyConstraints(pc) => {
                f.require_explicit = pc.require_explicit_policy;
                f.inhibit_mapping = pc.inhibit_policy_mapping;
            }
            ParsedExtension::InhibitAnyPolicy(i) => f.inhibit_any = Some(i.skip_certs),
            _ => {}
        }
    }
    f
}

/// A countdown of RFC 5280 (explicit_policy, policy_mapping, inhibit_anyPolicy) and the
/// certificate that last set it.
#[derive(Clone)]
struct Counter {
    value: i64,
    set_by: Option<String>,
}

impl Counter {
    fn step(&mut self, c: &Certificate) {
        if self.value > 0 && !c.self_issued {
            self.value -= 1;
        }
    }

    fn lower(&mut self, to: Option<u32>, c: &Certificate) {
        if let Some(v) = to {
            if i64::from(v) < self.value {
                self.value = i64::from(v);
                self.set_by = Some(c.subject.clone());
            }
        }
    }
}

/// Why `PolicyChecker` refuses `path` (leaf first, the anchor not on it), if it does.
pub fn check(path: &[&Certificate]) -> Option<Refusal> {
    let n = path.len();
    let start = Counter {
        value: n as i64 + 1,
        set_by: None,
    };
    let (mut explicit, mut mapping, mut inhibit_any) = (start.clone(), start.clone(), start);
    let mut tree = Some(Tree::new());
    for (i, k) in (1..=n).zip((0..n).rev()) {
        let cert = path[k];
        let last = i == n;
        let f = facts(cert);
        match (&f.policies, &mut tree) {
            (Some((critical, list)), Some(t)) => {
                let mut any = false;
                for (policy, qualified) in list {
                    if policy == ANY_POLICY {
                        any = true;
                        continue;
                    }
                    if *qualified && *critical {
                        return refused(format!(
                            "certificate {} has policy qualifiers in a critical certificatePolicies extension, which Java rejects",
                            cert.subject
                        ));
                    }
                    if !t.process_parents(i, policy, false) {
                        t.process_parents(i, policy, true);
                    }
                }
                if any && (inhibit_any.value > 0 || (!last && cert.self_issued)) {
                    t.process_parents(i, ANY_POLICY, true);
                }
                t.prune(0, i);
                if t.empty() {
                    tree = None;
                }
            }
            (None, _) => tree = None,
            (Some(_), None) => {}
        }
        if let (Some(t), false) = (&mut tree, last) {
            let mut deleted = false;
            for (from, to) in &f.mappings {
                if from == ANY_POLICY || to == ANY_POLICY {
                    return refused(format!(
                        "certificate {} maps a policy to or from anyPolicy, which Java rejects",
                        cert.subject
                    ));
                }
                let valid: Vec<usize> = t
                    .at_depth(i)
                    .into_iter()
                    .filter(|&x| t.nodes[x].valid == *from)
                    .collect();
                if !valid.is_empty() {
                    for x in valid {
                        if mapping.value > 0 {
                            let node = &mut t.nodes[x];
                            if node.original {
                                node.expected.clear();
                                node.original = false;
                            }
                            node.expected.insert(to.clone());
                        } else {
                            t.delete(x);
                            deleted = true;
                        }
                    }
                } else if mapping.value > 0 {
                    let anys: Vec<usize> = t
                        .at_depth(i)
                        .into_iter()
                        .filter(|&x| t.nodes[x].valid == ANY_POLICY)
                        .collect();
                    for a in anys {
                        if let Some(p) = t.nodes[a].parent {
                            t.add(p, from, to, false);
                        }
                    }
                }
            }
            if deleted {
                t.prune(0, i);
                if t.empty() {
                    tree = None;
                }
            }
        }
        if tree.as_ref().is_some_and(|t| t.overflow) {
            return Some(Refusal {
                too_complex: true,
                message: format!(
                    "the certificate policies and mappings of the chain make a policy tree of more than {MAX_NODES} nodes by {}; azure-cacerts gives up rather than evaluate it",
                    cert.subject
                ),
            });
        }
        if last {
            explicit.step(cert);
            if f.require_explicit == Some(0) {
                explicit.value = 0;
                explicit.set_by = Some(cert.subject.clone());
            }
        }
        if explicit.value == 0 && tree.is_none() {
            let who = explicit
                .set_by
                .as_deref()
                .unwrap_or("a certificate of the path");
            return refused(format!(
                "{who} requires an explicit certificate policy (policyConstraints requireExplicitPolicy), and by {} the path has no valid policy left (no certificatePolicies, policies that do not chain{}{})",
                cert.subject,
                if inhibit_any.value < n as i64 + 1 {
                    ", anyPolicy inhibited"
                } else {
                    ""
                },
                if mapping.value < n as i64 + 1 {
                    ", policy mapping inhibited"
                } else {
                    ""
                }
            ));
        }
        if !last {
            explicit.step(cert);
            explicit.lower(f.require_explicit, cert);
            mapping.step(cert);
            mapping.lower(f.inhibit_mapping, cert);
            inhibit_any.step(cert);
            inhibit_any.lower(f.inhibit_any, cert);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CustomExtension, IsCa, Issuer, KeyPair};

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let b = (n as u32).to_be_bytes();
            let skip = b.iter().take_while(|&&x| x == 0).count();
            out.push(0x80 | (4 - skip) as u8);
            out.extend_from_slice(&b[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    /// 1.3.6.1.4.1.55555.9.i
    fn policy_oid(i: u8) -> Vec<u8> {
        tlv(0x06, &[0x2B, 6, 1, 4, 1, 0x83, 0xB2, 0x03, 9, i])
    }

    /// Certificates that list many policies and map every one to every other make the valid
    /// policy tree grow exponentially with the path: the check gives up, quickly.
    #[test]
    fn an_exploding_policy_tree_is_bounded() {
        let n = 12u8;
        let mut pols = Vec::new();
        let mut maps = Vec::new();
        for i in 0..n {
            pols.extend(tlv(0x30, &policy_oid(i)));
            for j in 0..n {
                if i != j {
                    maps.extend(tlv(0x30, &[policy_oid(i), policy_oid(j)].concat()));
                }
            }
        }
        let exts = || {
            vec![
                CustomExtension::from_oid_content(&[2, 5, 29, 32], tlv(0x30, &pols)),
                CustomExtension::from_oid_content(&[2, 5, 29, 33], tlv(0x30, &maps)),
            ]
        };
        let mut certs = Vec::new();
        let mut up: Option<(CertificateParams, KeyPair)> = None;
        for d in 0..8 {
            let mut p = CertificateParams::default();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name
                .push(rcgen::DnType::CommonName, format!("Policy Maze {d}"));
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.custom_extensions = exts();
            let k = KeyPair::generate().expect("key");
            let der = match &up {
                None => p.self_signed(&k),
                Some((up_p, up_k)) => p.signed_by(&k, &Issuer::from_params(up_p, up_k)),
            }
            .expect("cert")
            .der()
            .to_vec();
            certs.push(Certificate::parse(&der).expect("parses"));
            up = Some((p, k));
        }
        certs.reverse();
        let path: Vec<&Certificate> = certs.iter().collect();
        let started = std::time::Instant::now();
        let r = check(&path).expect("refused");
        assert!(r.too_complex, "{r:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
