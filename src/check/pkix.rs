//! Java's trust decision for a TLS server chain, re-enacted from the JDK's sources
//! (docs/check.md): `PKIXValidator.engineValidate` decides
//! between validating the chain as sent and building a path; `PKIXCertPathValidator` with
//! `AdaptableX509CertSelector` picks anchors by subject and AKI (the path builder,
//! `SunCertPathBuilder`/`ForwardBuilder`, by subject alone, in `PKIXCertComparator`'s order,
//! backtracking, and giving up a step on successive self-issued certificates); the checkers verify
//! signatures, dates, CA flags, path lengths, key usages and critical extensions;
//! `verifyTrustAnchor` insists on a CA anchor; `EndEntityChecker` on a TLS server leaf.
//!
//! Name constraints and certificate policies are [`crate::check::constraints`] and
//! [`crate::check::policy`], called from the checks of a complete path. The algorithm
//! constraints are those of one JDK release (`check::algorithms`).
//!
//! Not re-enacted (documented in docs/check.md): revocation, and the hostname, which
//! `checkServerTrusted` does not look at either.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::algorithms::JavaRules;
use crate::anchors::{self, AnchorMatch};
pub use crate::anchors::{Anchor, AnchorSet};
use crate::cert::{hex_upper, ymd};
use crate::cert::{verify_signature, Certificate, SigCheck};
use crate::check::{constraints, policy};

/// JSSE refuses longer server chains (jdk.tls.maxCertificateChainLength).
pub const MAX_CHAIN: usize = 10;
/// PKIXBuilderParameters' default maxPathLength: non-self-issued intermediates on a built path.
const MAX_BUILT_INTERMEDIATES: usize = 5;
/// Signature checks one verdict may spend: a hostile chain of look-alike CAs must not make the
/// path search explode.
const BUDGET: u32 = 4000;

/// How a certificate on the path was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// Sent by the server and verified on the way to the anchor.
    Presented,
    /// The keystore holds the very certificate the server sent.
    AnchorExact,
    /// The server sent another certificate with this subject and key (a re-issue or a
    /// cross-signature); Java accepts the keystore's as the same anchor.
    AnchorSameNameAndKey,
    /// The server did not send it: the keystore's certificate issued the top of the chain.
    Anchor,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub cert: Certificate,
    pub how: How,
    /// The keystore alias of an anchor.
    pub alias: Option<String>,
    /// 1-based position in the chain as the server sent it.
    pub position: Option<usize>,
}

/// Why Java would not trust a chain: stable kebab-case identifiers for scripts
/// (`reason_code` in the JSON, docs/check.md), and what the fix advice is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    NoIssuer,
    EmptyChain,
    WeakAlgorithm,
    PathLength,
    NotCa,
    NoAnchors,
    ChainTooLong,
    AkiKeyMismatch,
    UnsupportedAlgorithm,
    TooComplex,
    ServerUsage,
    NotYetValid,
    KeyUsage,
    CriticalExtension,
    AnchorValidity,
    AnchorNotCa,
    AkiSerialMismatch,
    Malformed,
    Signature,
    Expired,
    SuccessiveSelfIssued,
    NameConstraints,
    PolicyConstraints,
    V1Intermediate,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::NoIssuer => "no-issuer",
            ProblemCode::EmptyChain => "empty-chain",
            ProblemCode::WeakAlgorithm => "weak-algorithm",
            ProblemCode::PathLength => "path-length",
            ProblemCode::NotCa => "not-ca",
            ProblemCode::NoAnchors => "no-anchors",
            ProblemCode::ChainTooLong => "chain-too-long",
            ProblemCode::AkiKeyMismatch => "aki-key-mismatch",
            ProblemCode::UnsupportedAlgorithm => "unsupported-algorithm",
            ProblemCode::TooComplex => "too-complex",
            ProblemCode::ServerUsage => "server-usage",
            ProblemCode::NotYetValid => "not-yet-valid",
            ProblemCode::KeyUsage => "key-usage",
            ProblemCode::CriticalExtension => "critical-extension",
            ProblemCode::AnchorValidity => "anchor-validity",
            ProblemCode::AnchorNotCa => "anchor-not-ca",
            ProblemCode::AkiSerialMismatch => "aki-serial-mismatch",
            ProblemCode::Malformed => "malformed",
            ProblemCode::Signature => "signature",
            ProblemCode::Expired => "expired",
            ProblemCode::SuccessiveSelfIssued => "successive-self-issued",
            ProblemCode::NameConstraints => "name-constraints",
            ProblemCode::PolicyConstraints => "policy-constraints",
            ProblemCode::V1Intermediate => "v1-intermediate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub trusted: bool,
    /// Trusted: leaf first, the anchor last. Not trusted: the furthest path tried (may be
    /// just the leaf, or empty when nothing parsed).
    pub path: Vec<Step>,
    pub problem: Option<Problem>,
}

/// Parses the presented chain and decides as Java would with `store` (plus `extra`, used to
/// ask "would this CA fix it?") at time `now`, with the algorithm rules of `rules`.
pub fn judge(
    presented: &[Vec<u8>],
    store: &AnchorSet,
    extra: Option<&Anchor>,
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Verdict {
    match parse_chain(presented) {
        Ok(chain) => judge_chain(&chain, store, extra, now, rules),
        Err(refused) => refused,
    }
}

/// [`judge`] on a chain parsed once ([`parse_chain`]): `check` asks it again for every
/// catalog CA it tries as a fix.
pub fn judge_chain(
    chain: &[Certificate],
    store: &AnchorSet,
    extra: Option<&Anchor>,
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Verdict {
    let anchors: Vec<&Anchor> = store.anchors().iter().chain(extra).collect();
    judge_parsed(chain, &anchors, now, rules)
}

/// The presented certificates parsed, or the verdict on a chain that cannot be: empty, or a
/// certificate that does not parse (Java's CertificateFactory refuses it before any path).
pub fn parse_chain(presented: &[Vec<u8>]) -> Result<Vec<Certificate>, Verdict> {
    if presented.is_empty() {
        return Err(refuse(
            Vec::new(),
            ProblemCode::EmptyChain,
            "the server presented no certificate".into(),
        ));
    }
    let mut chain = Vec::with_capacity(presented.len());
    for (i, der) in presented.iter().enumerate() {
        match Certificate::parse(der) {
            Ok(f) => chain.push(f),
            Err(why) => {
                return Err(refuse(
                    Vec::new(),
                    ProblemCode::Malformed,
                    format!("certificate {} of the chain cannot be parsed: {why}", i + 1),
                ))
            }
        }
    }
    Ok(chain)
}

fn refuse(path: Vec<Step>, code: ProblemCode, message: String) -> Verdict {
    Verdict {
        trusted: false,
        path,
        problem: Some(Problem { code, message }),
    }
}

fn judge_parsed(
    chain: &[Certificate],
    anchors: &[&Anchor],
    now: OffsetDateTime,
    rules: &JavaRules,
) -> Verdict {
    // Everything below may take the leaf as chain[0].
    if chain.is_empty() {
        return refuse(
            Vec::new(),
            ProblemCode::EmptyChain,
            "the server presented no certificate".into(),
        );
    }
    let leaf_step = || {
        vec![Step {
            cert: chain[0].clone(),
            how: How::Presented,
            alias: None,
            position: Some(1),
        }]
    };
    if chain.len() > MAX_CHAIN {
        return refuse(
            leaf_step(),
            ProblemCode::ChainTooLong,
            format!(
                "the server presented {} certificates; Java refuses more than {MAX_CHAIN} (jdk.tls.maxCertificateChainLength)",
                chain.len()
            ),
        );
    }
    if anchors.is_empty() {
        return refuse(
            leaf_step(),
            ProblemCode::NoAnchors,
            "the keystore holds no trusted certificate, so Java trusts nothing (\"the trustAnchors parameter must be non-empty\")".into(),
        );
    }
    let ctx = Ctx {
        chain,
        anchors,
        now,
        rules,
        sigs: RefCell::new(HashMap::new()),
        spent: Cell::new(0),
        best: RefCell::new(None),
        stopped: Cell::new(false),
    };
    ctx.decide()
}

/// Why a selector refused a candidate issuer.
enum Miss {
    KeyId { want: String, have: String },
    Serial { want: String, have: String },
    Period,
}

/// Who signed: an anchor or a certificate of the chain (indexes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Signer {
    Anchor(usize),
    Chain(usize),
}

// How close a failed attempt came; the explanation given is the closest one's.
const RANK_DEAD_END: u8 = 1;
const RANK_INTERMEDIATE: u8 = 2;
const RANK_SELECTOR: u8 = 3;
const RANK_ANCHOR_KEY: u8 = 4;
const RANK_PATH: u8 = 5;

#[derive(Debug, Clone)]
struct Fail {
    rank: u8,
    path: Vec<usize>,
    problem: Problem,
}

struct Success {
    path: Vec<usize>,
    anchor: usize,
}

struct Ctx<'a> {
    chain: &'a [Certificate],
    anchors: &'a [&'a Anchor],
    now: OffsetDateTime,
    rules: &'a JavaRules,
    sigs: RefCell<HashMap<(usize, Signer), SigCheck>>,
    spent: Cell<u32>,
    best: RefCell<Option<Fail>>,
    /// Set when a built path failed the checks Java runs after building: it builds once.
    stopped: Cell<bool>,
}

impl<'a> Ctx<'a> {
    fn decide(&self) -> Verdict {
        let chain = self.chain;
        // PKIXValidator.engineValidate: walk the chain as sent while it is in order; a
        // certificate that is itself trusted (same DER, or same subject and key) ends it.
        for i in 0..chain.len() {
            if i > 0 && chain[i].subject_key != chain[i - 1].issuer_key {
                return self.finish(self.build());
            }
            if i == 0 {
                // The leaf itself in the keystore (the very certificate, not a look-alike):
                // Java returns at once, and nothing about the leaf is checked.
                if let Some(a) = self
                    .anchors
                    .iter()
                    .find(|a| anchors::matches(&a.cert, &chain[0]) == Some(AnchorMatch::Exact))
                {
                    return Verdict {
                        trusted: true,
                        path: vec![Step {
                            cert: a.cert.clone(),
                            how: How::AnchorExact,
                            alias: Some(a.alias.clone()),
                            position: Some(1),
                        }],
                        problem: None,
                    };
                }
                // A fault of the server certificate itself fails every path Java could take
                // (the validator's checkers and the builder's target selector alike), and no
                // keystore change repairs it: it is named first.
                if let Some(p) = leaf_fault(&chain[0], self.now, self.rules) {
                    return refuse(
                        vec![Step {
                            cert: chain[0].clone(),
                            how: How::Presented,
                            alias: None,
                            position: Some(1),
                        }],
                        p.code,
                        p.message,
                    );
                }
            } else if self.trusted_as_is(&chain[i]) {
                return self.finish(self.validate((0..i).collect(), Some(i)));
            }
        }
        let last = &chain[chain.len() - 1];
        if self
            .anchors
            .iter()
            .any(|a| a.cert.subject_key == last.issuer_key)
        {
            return self.finish(self.validate((0..chain.len()).collect(), None));
        }
        self.finish(self.build())
    }

    /// The same certificate, or one with its subject and key, is in the keystore.
    fn trusted_as_is(&self, c: &Certificate) -> bool {
        self.anchors
            .iter()
            .any(|a| anchors::matches(&a.cert, c).is_some())
    }

    fn finish(&self, outcome: Option<Success>) -> Verdict {
        match outcome {
            Some(ok) => Verdict {
                trusted: true,
                path: self.steps(&ok.path, Some(ok.anchor)),
                problem: None,
            },
            None => {
                let best = self.best.borrow().clone();
                match best {
                    Some(f) => refuse(self.steps(&f.path, None), f.problem.code, f.problem.message),
                    None => refuse(
                        self.steps(&[0], None),
                        ProblemCode::NoIssuer,
                        self.no_issuer_message(&self.chain[0]),
                    ),
                }
            }
        }
    }

    fn steps(&self, path: &[usize], anchor: Option<usize>) -> Vec<Step> {
        let mut steps: Vec<Step> = path
            .iter()
            .map(|&i| Step {
                cert: self.chain[i].clone(),
                how: How::Presented,
                alias: None,
                position: Some(i + 1),
            })
            .collect();
        if let Some(a) = anchor {
            let anchor = self.anchors[a];
            let exact = self.chain.iter().position(|c| c.der == anchor.cert.der);
            let same = self
                .chain
                .iter()
                .position(|c| anchor.cert.same_name_and_key(c));
            let (how, position) = match (exact, same) {
                (Some(p), _) => (How::AnchorExact, Some(p + 1)),
                (None, Some(p)) => (How::AnchorSameNameAndKey, Some(p + 1)),
                (None, None) => (How::Anchor, None),
            };
            steps.push(Step {
                cert: anchor.cert.clone(),
                how,
                alias: Some(anchor.alias.clone()),
                position,
            });
        }
        steps
    }

    fn record(&self, rank: u8, path: &[usize], code: ProblemCode, message: String) {
        let mut best = self.best.borrow_mut();
        let better = match &*best {
            None => true,
            Some(b) => (rank, path.len()) > (b.rank, b.path.len()),
        };
        if better {
            *best = Some(Fail {
                rank,
                path: path.to_vec(),
                problem: Problem { code, message },
            });
        }
    }

    fn signer_facts(&self, s: Signer) -> &Certificate {
        match s {
            Signer::Anchor(a) => &self.anchors[a].cert,
            Signer::Chain(c) => &self.chain[c],
        }
    }

    fn signer_name(&self, s: Signer) -> String {
        match s {
            Signer::Anchor(a) => format!(
                "anchor {} ({})",
                self.anchors[a].alias, self.anchors[a].cert.subject
            ),
            Signer::Chain(c) => self.chain[c].subject.clone(),
        }
    }

    /// False once the budget is spent (the caller stops searching).
    fn spend(&self) -> bool {
        let n = self.spent.get().saturating_add(1);
        self.spent.set(n);
        n <= BUDGET
    }

    fn sig(&self, child: usize, signer: Signer) -> SigCheck {
        if let Some(r) = self.sigs.borrow().get(&(child, signer)) {
            return *r;
        }
        let r = verify_signature(&self.chain[child], self.signer_facts(signer));
        self.sigs.borrow_mut().insert((child, signer), r);
        r
    }

    fn sig_problem(&self, child: usize, signer: Signer, r: SigCheck) -> (ProblemCode, String) {
        let c = &self.chain[child];
        match r {
            SigCheck::Unsupported => (
                ProblemCode::UnsupportedAlgorithm,
                format!(
                    "signature of {} (algorithm {}) cannot be verified with the key of {} by azure-cacerts; Java may accept it",
                    c.subject,
                    c.sig_alg,
                    self.signer_name(signer)
                ),
            ),
            _ => {
                let s = self.signer_facts(signer);
                let hint = match (c.aki.as_ref().and_then(|k| k.key_id.as_ref()), &s.ski) {
                    (Some(want), Some(have)) if want != have => format!(
                        " (another key: its key identifier is {}, {} names {})",
                        hex_upper(have),
                        c.subject,
                        hex_upper(want)
                    ),
                    _ => String::new(),
                };
                (
                    ProblemCode::Signature,
                    format!(
                        "signature of {} does not verify with the key of {}{hint}",
                        c.subject,
                        self.signer_name(signer)
                    ),
                )
            }
        }
    }

    fn no_issuer_message(&self, c: &Certificate) -> String {
        if c.self_issued && c.is_ca {
            return format!(
                "the chain ends with the root {}, which is not a trust anchor of this keystore (no trusted certificate has its subject and key)",
                c.subject
            );
        }
        let carried = self
            .chain
            .iter()
            .any(|p| p.subject_key == c.issuer_key && p.der != c.der);
        if carried {
            format!(
                "no trusted certificate has the subject and key of the issuer of {} (issuer {}), and the chain's own {} leads to no trust anchor",
                c.subject, c.issuer, c.issuer
            )
        } else {
            format!(
                "no trusted certificate has the subject and key of the issuer of {} (issuer {}), and the chain does not carry a usable one",
                c.subject, c.issuer
            )
        }
    }

    /// AdaptableX509CertSelector: may `cand` be the issuer of `child`? The validator's
    /// selector (`period` false) goes by the child's AKI; the builder's (`period` true) only
    /// requires a v1/v2 candidate to be valid over the child's validity.
    fn selector_miss(&self, child: &Certificate, cand: &Certificate, period: bool) -> Option<Miss> {
        // The builder's selector (ForwardBuilder) has no AKI criteria, only the validator's.
        if let (Some(aki), false) = (&child.aki, period) {
            if let (Some(want), Some(have)) = (&aki.key_id, &cand.ski) {
                if want != have {
                    return Some(Miss::KeyId {
                        want: hex_upper(want),
                        have: hex_upper(have),
                    });
                }
            }
            if let Some(want) = &aki.serial {
                if cand.version > 2 && *want != cand.serial {
                    return Some(Miss::Serial {
                        want: hex_upper(want),
                        have: hex_upper(&cand.serial),
                    });
                }
            }
        }
        if period
            && cand.version < 3
            && !(valid_at(cand, child.not_before) && valid_at(cand, child.not_after))
        {
            return Some(Miss::Period);
        }
        None
    }

    /// Explains why anchors with the right subject were not even tried.
    fn record_selector_misses(&self, path: &[usize], child: usize, period: bool) {
        let c = &self.chain[child];
        for a in self.anchors.iter() {
            if a.cert.subject_key != c.issuer_key {
                continue;
            }
            let (code, message) = match self.selector_miss(c, &a.cert, period) {
                None => continue,
                Some(Miss::KeyId { want, have }) if c.self_issued => (
                    ProblemCode::AkiKeyMismatch,
                    format!(
                        "the chain ends with its own root {}, and anchor {} has that subject but another key (key identifier {have}, not {want}); Java validates the chain as sent and looks no further",
                        c.subject, a.alias
                    ),
                ),
                Some(Miss::KeyId { want, have }) => (
                    ProblemCode::AkiKeyMismatch,
                    format!(
                        "no trusted certificate has the subject and key of the issuer of {}: anchor {} has that subject but another key (key identifier {have}; the AKI of {} names {want})",
                        c.subject, a.alias, c.subject
                    ),
                ),
                Some(Miss::Serial { want, have }) => (
                    ProblemCode::AkiSerialMismatch,
                    format!(
                        "AKI serial does not match anchor {}: {} names its issuer's certificate by serial {want}, and {} ({}) has serial {have}",
                        a.alias, c.subject, a.alias, a.cert.subject
                    ),
                ),
                Some(Miss::Period) => (
                    ProblemCode::AnchorValidity,
                    format!(
                        "anchor {} is a v{} certificate that is not valid for all of {}'s validity, so Java's path builder skips it",
                        a.alias, a.cert.version, c.subject
                    ),
                ),
            };
            self.record(RANK_SELECTOR, path, code, message);
        }
    }

    /// PKIXCertPathValidator on a fixed path (leaf first): every anchor that the selector
    /// admits is tried; the first that validates wins.
    fn validate(&self, path: Vec<usize>, cut: Option<usize>) -> Option<Success> {
        let top = *path.last()?;
        let mut candidates: Vec<usize> = (0..self.anchors.len())
            .filter(|&a| {
                let f = &self.anchors[a].cert;
                f.subject_key == self.chain[top].issuer_key
                    && self.selector_miss(&self.chain[top], f, false).is_none()
            })
            .collect();
        if candidates.is_empty() {
            self.record_selector_misses(&path, top, false);
            self.record(
                RANK_DEAD_END,
                &path,
                ProblemCode::NoIssuer,
                self.no_issuer_message(&self.chain[top]),
            );
            return None;
        }
        // Which anchor Java tries first is a HashSet's order; prefer the one the server sent,
        // then CA certificates, so that the verdict does not hang on that order.
        let sent = cut.map(|i| &self.chain[i]);
        candidates.sort_by_key(|&a| {
            let f = &self.anchors[a].cert;
            (
                sent.is_none_or(|s| s.der != f.der),
                sent.is_none_or(|s| !s.same_name_and_key(f)),
                anchor_not_ca(f).is_some(),
            )
        });
        for a in candidates {
            if self.path_ok(&path, a) {
                return self.accept(&path, a);
            }
        }
        None
    }

    /// ConstraintsChecker's name constraints, which the validator and the builder's final
    /// verification both run (src/check/constraints.rs).
    fn names_ok(&self, path: &[usize]) -> bool {
        let certs: Vec<&Certificate> = path.iter().map(|&i| &self.chain[i]).collect();
        match constraints::check(&certs) {
            None => true,
            Some(v) => {
                self.record(RANK_PATH, path, ProblemCode::NameConstraints, v.message);
                false
            }
        }
    }

    /// After a path validated with anchor `a`: verifyTrustAnchor, then the end-entity checks.
    fn accept(&self, path: &[usize], a: usize) -> Option<Success> {
        self.stopped.set(true);
        let anchor = self.anchors[a];
        if let Some(why) = anchor_not_ca(&anchor.cert) {
            self.record(
                RANK_PATH + 1,
                path,
                ProblemCode::AnchorNotCa,
                format!(
                    "trust anchor {} ({}) {why}; Java accepts a non-CA anchor only as the server certificate itself",
                    anchor.alias, anchor.cert.subject
                ),
            );
            return None;
        }
        if let Some(why) = server_usage_problem(&self.chain[0]) {
            self.record(
                RANK_PATH + 1,
                path,
                ProblemCode::ServerUsage,
                format!("server certificate {}: {why}", self.chain[0].subject),
            );
            return None;
        }
        Some(Success {
            path: path.to_vec(),
            anchor: a,
        })
    }

    /// The PKIX checkers over `path` (leaf first) with anchor `a`, top certificate first.
    /// Records the failure and returns false, or returns true.
    fn path_ok(&self, path: &[usize], a: usize) -> bool {
        let anchor = &self.anchors[a].cert;
        // Java's AlgorithmChecker does not judge the anchor's own signature, but the key it
        // verifies the first certificate with.
        if let Some(why) = self.rules.refuse_key(anchor) {
            self.record(
                RANK_ANCHOR_KEY,
                path,
                ProblemCode::WeakAlgorithm,
                format!("anchor {}: {why}", self.anchors[a].alias),
            );
            return false;
        }
        let to_jdk_ca = self.rules.is_jdk_ca(anchor);
        let n = path.len();
        let mut signer = Signer::Anchor(a);
        let mut max_path_len: u64 = n as u64;
        for k in (0..n).rev() {
            let idx = path[k];
            let c = &self.chain[idx];
            let from_top = n - k; // Java's 1-based index, the top certificate being 1
            let is_target = k == 0;
            if !self.spend() {
                self.too_complex(path);
                return false;
            }
            // AlgorithmChecker comes before BasicChecker (the signature).
            if let Some(why) = self.rules.refuse(c, to_jdk_ca) {
                self.record(
                    RANK_PATH,
                    path,
                    ProblemCode::WeakAlgorithm,
                    format!("certificate {}: {why}", c.subject),
                );
                return false;
            }
            let r = self.sig(idx, signer);
            if r == SigCheck::Invalid && from_top == 1 && c.self_issued {
                self.record(
                    RANK_ANCHOR_KEY,
                    path,
                    ProblemCode::Signature,
                    format!(
                        "the chain ends with its own root {}, and anchor {} has that name but another key; Java validates the chain as sent, and that root's signature does not verify with the anchor's key",
                        c.subject, self.anchors[a].alias
                    ),
                );
                return false;
            }
            if r != SigCheck::Valid {
                let (code, msg) = self.sig_problem(idx, signer, r);
                let rank = if from_top == 1 {
                    RANK_ANCHOR_KEY
                } else {
                    RANK_PATH
                };
                self.record(rank, path, code, msg);
                return false;
            }
            if let Some((code, message)) = self.dates_problem(c) {
                self.record(RANK_PATH, path, code, message);
                return false;
            }
            if !is_target {
                // ConstraintsChecker: v1/v2 intermediates only when self-issued right below
                // the anchor (key rollover).
                let limit: Option<u64> = if c.version < 3 {
                    (from_top == 1 && c.self_issued).then_some(u64::MAX)
                } else {
                    c.ca_path_len.map(|l| {
                        if l == u32::MAX {
                            u64::MAX
                        } else {
                            u64::from(l)
                        }
                    })
                };
                let Some(limit) = limit else {
                    let (code, message) = not_a_ca(c, || {
                        format!(
                            "certificate {} issues {} but is not a CA certificate (basicConstraints)",
                            c.subject,
                            self.chain[path[k - 1]].subject
                        )
                    });
                    self.record(RANK_PATH, path, code, message);
                    return false;
                };
                if !c.self_issued {
                    if max_path_len == 0 {
                        self.record(
                            RANK_PATH,
                            path,
                            ProblemCode::PathLength,
                            format!(
                                "certificate {} exceeds a pathLenConstraint above it",
                                c.subject
                            ),
                        );
                        return false;
                    }
                    max_path_len -= 1;
                }
                max_path_len = max_path_len.min(limit);
                if let Some((_, false)) = c.key_usage {
                    self.record(
                        RANK_PATH,
                        path,
                        ProblemCode::KeyUsage,
                        format!(
                            "certificate {} issues certificates but its KeyUsage lacks keyCertSign",
                            c.subject
                        ),
                    );
                    return false;
                }
            }
            if !c.unknown_critical.is_empty() {
                self.record(
                    RANK_PATH,
                    path,
                    ProblemCode::CriticalExtension,
                    format!(
                        "certificate {} has critical extensions Java does not recognise: {}",
                        c.subject,
                        c.unknown_critical.join(", ")
                    ),
                );
                return false;
            }
            signer = Signer::Chain(idx);
        }
        self.names_ok(path) && self.policies_ok(path)
    }

    /// PolicyChecker, which the validator and the builder's final verification both run
    /// (src/check/policy.rs).
    fn policies_ok(&self, path: &[usize]) -> bool {
        let certs: Vec<&Certificate> = path.iter().map(|&i| &self.chain[i]).collect();
        match policy::check(&certs) {
            None => true,
            Some(r) => {
                let code = if r.too_complex {
                    ProblemCode::TooComplex
                } else {
                    ProblemCode::PolicyConstraints
                };
                self.record(RANK_PATH, path, code, r.message);
                false
            }
        }
    }

    fn dates_problem(&self, c: &Certificate) -> Option<(ProblemCode, String)> {
        if self.now > c.not_after {
            Some((
                ProblemCode::Expired,
                format!("certificate {} expired on {}", c.subject, ymd(c.not_after)),
            ))
        } else if self.now < c.not_before {
            Some((
                ProblemCode::NotYetValid,
                format!(
                    "certificate {} is not valid before {}",
                    c.subject,
                    ymd(c.not_before)
                ),
            ))
        } else {
            None
        }
    }

    fn too_complex(&self, path: &[usize]) {
        self.record(
            RANK_PATH + 2,
            path,
            ProblemCode::TooComplex,
            format!("the chain offers too many candidate paths; gave up after {BUDGET} signature checks"),
        );
    }

    /// SunCertPathBuilder, forward from the leaf, depth first, over the anchors and the
    /// certificates the server sent.
    fn build(&self) -> Option<Success> {
        let mut path = vec![0];
        self.extend(&mut path)
    }

    fn extend(&self, path: &mut Vec<usize>) -> Option<Success> {
        let cur = *path.last()?;
        let c = &self.chain[cur];
        if self.spent.get() > BUDGET || self.stopped.get() {
            return None;
        }
        // ForwardBuilder.getMatchingCerts: the anchors and the sent certificates with the
        // subject of c's issuer. One that repeats the subject and key of a certificate already
        // on the path is dropped ("cert with repeated subject, public key, and
        // subjectAltNames"), anchors included.
        let repeated = |f: &Certificate| path.iter().any(|&i| self.chain[i].same_name_and_key(f));
        let mut any_issuer = false;
        let mut anchors: Vec<usize> = (0..self.anchors.len())
            .filter(|&a| self.anchors[a].cert.subject_key == c.issuer_key)
            .collect();
        any_issuer |= !anchors.is_empty();
        // ForwardBuilder adds the matching anchors in the order of its HashSet of trusted
        // certificates, keyed by the hash of their encodings.
        let anchor_cap = hash_set_capacity(self.anchors.len());
        anchors.sort_by_key(|&a| java_bucket(&self.anchors[a].cert.der, anchor_cap));
        anchors.retain(|&a| {
            let f = &self.anchors[a].cert;
            self.selector_miss(c, f, true).is_none() && !repeated(f)
        });
        self.record_selector_misses(path, cur, true);
        let intermediates = path
            .iter()
            .filter(|&&i| i != 0 && !self.chain[i].self_issued)
            .count();
        let mut sent: Vec<usize> = Vec::new();
        for j in 0..self.chain.len() {
            let p = &self.chain[j];
            if p.subject_key != c.issuer_key {
                continue;
            }
            any_issuer = true;
            // An anchor sent again is the same element of Java's candidate set: the anchor.
            if repeated(p) || self.anchors.iter().any(|a| a.cert.der == p.der) {
                continue;
            }
            if self.selector_miss(c, p, true).is_some() {
                continue;
            }
            // The builder's selector takes only CAs that are valid now.
            if p.ca_path_len.is_none() {
                let (code, message) = not_a_ca(p, || {
                    format!(
                        "certificate {} has the name of {}'s issuer but is not a CA certificate (basicConstraints)",
                        p.subject, c.subject
                    )
                });
                self.record(RANK_INTERMEDIATE, path, code, message);
                continue;
            }
            if let Some((code, message)) = self.dates_problem(p) {
                self.record(RANK_PATH, path, code, message);
                continue;
            }
            if !p.self_issued && intermediates >= MAX_BUILT_INTERMEDIATES {
                self.record(
                    RANK_INTERMEDIATE,
                    path,
                    ProblemCode::PathLength,
                    format!(
                        "a path through {} would have more than {MAX_BUILT_INTERMEDIATES} intermediates",
                        p.subject
                    ),
                );
                continue;
            }
            sent.push(j);
        }
        // CollectionCertStore answers with a HashSet of the matching certificates.
        let sent_cap = hash_set_capacity(sent.len());
        sent.sort_by_key(|&j| java_bucket(&self.chain[j].der, sent_cap));
        // PKIXCertComparator: a candidate whose key identifier is the AKI of c first, then one
        // whose issuer is an anchor's subject; among equals (the comparator then answers -1)
        // the TreeSet puts the one added later first, and the anchors are added before the
        // sent certificates. So when two candidates tie, Java's choice hangs on the hashes
        // of their encodings, not on the order the server sent them: it is re-enacted.
        let mut candidates: Vec<(Signer, usize)> = anchors
            .into_iter()
            .map(Signer::Anchor)
            .chain(sent.into_iter().map(Signer::Chain))
            .enumerate()
            .map(|(order, s)| (s, order))
            .collect();
        let want = c.aki.as_ref().and_then(|k| k.key_id.as_ref());
        candidates.sort_by_key(|&(s, order)| {
            let f = self.signer_facts(s);
            let skid = want.is_some() && f.ski.as_ref() == want;
            let under_anchor = self
                .anchors
                .iter()
                .any(|a| a.cert.subject_key == f.issuer_key);
            (!skid, !under_anchor, std::cmp::Reverse(order))
        });
        for (s, _) in candidates {
            if !self.spend() {
                self.too_complex(path);
                return None;
            }
            match s {
                // isPathCompleted, then the final verification of the whole path (signatures
                // included); a failure there only moves on to the next candidate.
                Signer::Anchor(a) => {
                    if self.path_ok(path, a) {
                        // Java stops at the first path it builds, whatever verifyTrustAnchor
                        // says.
                        return self.accept(path, a);
                    }
                }
                Signer::Chain(j) => {
                    let p = &self.chain[j];
                    // ForwardBuilder.verifyCert: critical extensions and keyCertSign now, the
                    // signature only when the path is complete.
                    if !p.unknown_critical.is_empty() {
                        self.record(
                            RANK_INTERMEDIATE,
                            path,
                            ProblemCode::CriticalExtension,
                            format!(
                                "certificate {} has critical extensions Java does not recognise: {}",
                                p.subject,
                                p.unknown_critical.join(", ")
                            ),
                        );
                        continue;
                    }
                    if let Some((_, false)) = p.key_usage {
                        self.record(
                            RANK_INTERMEDIATE,
                            path,
                            ProblemCode::KeyUsage,
                            format!(
                                "certificate {} issues certificates but its KeyUsage lacks keyCertSign",
                                p.subject
                            ),
                        );
                        continue;
                    }
                    // SunCertPathBuilder: when the last certificate on the path and this
                    // candidate are both self-issued, the search at this level ends ("Successive
                    // certs are self-issued"): the candidates after it are not tried.
                    if c.self_issued && p.self_issued {
                        self.record(
                            RANK_PATH,
                            path,
                            ProblemCode::SuccessiveSelfIssued,
                            format!(
                                "the chain carries two self-issued certificates of {} (key-rollover links, serials {} and {}); Java's path builder refuses to put them in a row and gives up on the other candidates",
                                p.subject,
                                hex_upper(&c.serial),
                                hex_upper(&p.serial)
                            ),
                        );
                        return None;
                    }
                    path.push(j);
                    let found = self.extend(path);
                    path.pop();
                    if found.is_some() || self.stopped.get() {
                        return found;
                    }
                }
            }
        }
        if !any_issuer {
            self.record(
                RANK_DEAD_END,
                path,
                ProblemCode::NoIssuer,
                self.no_issuer_message(c),
            );
        }
        None
    }
}

/// What makes Java refuse a server certificate whatever the keystore holds (short of holding
/// that very certificate): its dates, an algorithm its constraints forbid (the
/// AlgorithmChecker runs before the signature is even looked at, so an MD5 signature is
/// refused, never "maybe accepted"), or a usage that is not a TLS server's.
/// (SHA-1 is refused only on a path to a root the JDK ships, which another path may avoid:
/// no fault of the certificate itself.)
pub fn leaf_fault(leaf: &Certificate, now: OffsetDateTime, rules: &JavaRules) -> Option<Problem> {
    let (code, message) = if now > leaf.not_after {
        (
            ProblemCode::Expired,
            format!(
                "the server certificate {} expired on {}",
                leaf.subject,
                ymd(leaf.not_after)
            ),
        )
    } else if now < leaf.not_before {
        (
            ProblemCode::NotYetValid,
            format!(
                "the server certificate {} is not valid before {}",
                leaf.subject,
                ymd(leaf.not_before)
            ),
        )
    } else if let Some(why) = rules.refuse(leaf, false) {
        (
            ProblemCode::WeakAlgorithm,
            format!("the server certificate {}: {why}", leaf.subject),
        )
    } else if let Some(why) = server_usage_problem(leaf) {
        (
            ProblemCode::ServerUsage,
            format!("server certificate {}: {why}", leaf.subject),
        )
    } else {
        return None;
    };
    Some(Problem { code, message })
}

/// A v1/v2 certificate issuing on the path: Java takes it as a CA only as a trust anchor, or
/// self-issued right below one (ConstraintsChecker; the builder wants basicConstraints).
/// Why an issuer without basicConstraints cA may not issue: a v1/v2 certificate (which has no
/// extensions at all) is Java's `v1-intermediate`, a v3 one `not-ca` with `message`.
fn not_a_ca(c: &Certificate, message: impl FnOnce() -> String) -> (ProblemCode, String) {
    if c.version < 3 {
        (
            ProblemCode::V1Intermediate,
            format!(
                "certificate {} is a version {} certificate (no basicConstraints), which Java accepts as a CA only as a trust anchor or self-issued right below one",
                c.subject, c.version
            ),
        )
    } else {
        (ProblemCode::NotCa, message())
    }
}

/// `Arrays.hashCode(byte[])` of a certificate's encoding: `Certificate.hashCode()`.
fn java_hash(der: &[u8]) -> i32 {
    der.iter().fold(1i32, |h, &b| {
        h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
    })
}

/// The table size of a `java.util.HashSet` after `n` additions (16, doubled past 3/4 full).
fn hash_set_capacity(n: usize) -> u32 {
    let mut cap: u32 = 16;
    while n > (cap as usize) * 3 / 4 && cap < 1 << 30 {
        cap *= 2;
    }
    cap
}

/// The bucket a `HashMap` of `cap` buckets puts `der` in: iteration goes by bucket (and by
/// insertion within one, which the stable sort keeps).
fn java_bucket(der: &[u8], cap: u32) -> u32 {
    let h = java_hash(der) as u32;
    (h ^ (h >> 16)) & (cap - 1)
}

fn valid_at(c: &Certificate, t: OffsetDateTime) -> bool {
    c.not_before <= t && t <= c.not_after
}

/// PKIXValidator.verifyTrustAnchor: v1/v2 anchors pass; v3 needs cA and, with a KeyUsage,
/// keyCertSign.
pub fn anchor_not_ca(f: &Certificate) -> Option<&'static str> {
    if f.version < 3 {
        return None;
    }
    if f.ca_path_len.is_none() {
        return Some("is not a CA certificate (basicConstraints cA is not set)");
    }
    if let Some((_, false)) = f.key_usage {
        return Some("has a KeyUsage without keyCertSign");
    }
    None
}

/// EndEntityChecker for a TLS server with an (EC)DHE or TLS 1.3 key exchange.
fn server_usage_problem(leaf: &Certificate) -> Option<&'static str> {
    if let Some((false, _)) = leaf.key_usage {
        return Some("its KeyUsage does not allow digital signatures");
    }
    if leaf.eku_server == Some(false) {
        return Some("its extended key usage does not permit TLS server authentication");
    }
    if leaf.ns_ssl_server == Some(false) {
        return Some("its Netscape cert type does not permit use as an SSL server");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_file(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs/pem")
            .join(name);
        let bytes = std::fs::read(path).expect("built-in PEM");
        crate::check::read_chain(&bytes)
            .expect("PEM parses")
            .remove(0)
    }

    fn store_of(ders: &[Vec<u8>]) -> AnchorSet {
        let mut set = AnchorSet::default();
        for (i, d) in ders.iter().enumerate() {
            set.push(Anchor {
                alias: format!("a{i}"),
                kind: crate::keystore::EntryKind::TrustedCert,
                cert: Certificate::parse(d).expect("anchor parses"),
            });
        }
        set
    }

    #[test]
    fn mangled_certificates_never_panic() {
        let leaf = pem_file("microsoft-azure-rsa-tls-issuing-ca-03.pem");
        let root = pem_file("microsoft-rsa-root-certificate-authority-2017.pem");
        let store = store_of(std::slice::from_ref(&root));
        let now = OffsetDateTime::now_utc();
        assert!(
            judge(
                std::slice::from_ref(&leaf),
                &store,
                None,
                now,
                &JavaRules::default()
            )
            .trusted
        );
        for cut in (0..leaf.len()).step_by(7) {
            let v = judge(
                &[leaf[..cut].to_vec(), root.clone()],
                &store,
                None,
                now,
                &JavaRules::default(),
            );
            assert!(!v.trusted);
        }
        for i in (0..leaf.len()).step_by(13) {
            let mut bad = leaf.clone();
            bad[i] ^= 0x55;
            // Whatever the flip hits, the answer is a verdict, not a panic.
            let _ = judge(&[bad], &store, None, now, &JavaRules::default());
        }
        assert_eq!(
            judge(&[], &store, None, now, &JavaRules::default())
                .problem
                .map(|p| p.code),
            Some(ProblemCode::EmptyChain)
        );
        assert_eq!(
            judge(
                &[leaf],
                &AnchorSet::default(),
                None,
                now,
                &JavaRules::default()
            )
            .problem
            .map(|p| p.code),
            Some(ProblemCode::NoAnchors)
        );
    }

    #[test]
    fn too_long_a_chain_is_refused_like_jsse() {
        let leaf = pem_file("microsoft-azure-rsa-tls-issuing-ca-03.pem");
        let root = pem_file("microsoft-rsa-root-certificate-authority-2017.pem");
        let store = store_of(&[root]);
        let chain = vec![leaf; MAX_CHAIN + 1];
        let v = judge(
            &chain,
            &store,
            None,
            OffsetDateTime::now_utc(),
            &JavaRules::default(),
        );
        assert_eq!(v.problem.map(|p| p.code), Some(ProblemCode::ChainTooLong));
    }

    /// Cross-signed CAs out of order, every one issued by every other: the search ends,
    /// quickly, with a verdict.
    #[test]
    fn a_maze_of_cross_signed_cas_terminates() {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca = |i: usize| {
            let mut p = CertificateParams::default();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name
                .push(DnType::CommonName, format!("Maze CA {i}"));
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p
        };
        let keys: Vec<KeyPair> = (0..3).map(|_| KeyPair::generate().expect("key")).collect();
        let mut chain = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            for (j, signer) in keys.iter().enumerate() {
                let issuer_params = ca(j);
                let issuer = Issuer::from_params(&issuer_params, signer);
                chain.push(ca(i).signed_by(k, &issuer).expect("ca").der().to_vec());
            }
        }
        let mut leaf_p = CertificateParams::new(vec!["maze.test".to_string()]).expect("leaf");
        leaf_p.distinguished_name = rcgen::DistinguishedName::new();
        leaf_p
            .distinguished_name
            .push(DnType::CommonName, "maze.test");
        let first = ca(0);
        let leaf = leaf_p
            .signed_by(&keys[0], &Issuer::from_params(&first, &keys[0]))
            .expect("leaf");
        chain.insert(0, leaf.der().to_vec());
        // An anchor named like a CA of the maze but with a key of its own.
        let stranger = KeyPair::generate().expect("key");
        let anchor = ca(2).self_signed(&stranger).expect("anchor");
        let store = store_of(&[anchor.der().to_vec()]);
        let started = std::time::Instant::now();
        let v = judge(
            &chain,
            &store,
            None,
            OffsetDateTime::now_utc(),
            &JavaRules::default(),
        );
        assert!(!v.trusted);
        assert!(v.problem.is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
