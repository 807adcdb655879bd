//! Name constraints (RFC 5280 4.2.1.10) the way Java enforces them: `ConstraintsChecker` with
//! `NameConstraintsExtension` and `GeneralSubtrees` (JDK 17 and 25).
//!
//! What Java does, and so what this does (docs/check.md):
//! - The validator and the path builder's final verification both run `ConstraintsChecker`
//!   over the path; a path that fails moves the builder on to its next candidate.
//! - The trust anchor's own nameConstraints are never applied: `PKIXValidator` makes its
//!   `TrustAnchor`s without them, and the checker starts with none.
//! - Top down, each certificate's names (subject DN, subjectAltNames, else the subject's
//!   emailAddress; the last CN as a DNS name or IP address when no name of that type is
//!   there) are checked against the constraints merged from the certificates above it;
//!   self-issued ones are exempt unless they are the server certificate. The merge re-enacts
//!   `NameConstraintsExtension.merge`, quirks included: `GeneralSubtrees.intersect` may
//!   exclude a whole name type, and where Java throws (it cannot compare otherName,
//!   x400Address or ediPartyName names, nor build the "widest subtree" of most types) the
//!   chain fails.

use std::net::IpAddr;

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::cert::{display_name, Certificate, NameKey};

/// A name of a certificate or the base of a subtree, in the forms Java compares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    Dns(String),
    Email(String),
    /// The DN as compared and as printed.
    Dir(NameKey, String),
    /// 4 or 16 bytes for an address; 8 or 32 for a constraint (address and mask).
    Ip(Vec<u8>),
    /// The host of a URI (a constraint's may start with a dot).
    Uri(String),
    /// otherName (0), x400Address (3), ediPartyName (5), registeredID (8), or garbage: the
    /// GeneralName tag and its bytes.
    Other(u8, Vec<u8>),
}

/// `GeneralNameInterface.constrains`: how `input` relates to `self`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    DiffType,
    Match,
    /// `input` lies inside `self`.
    Narrows,
    /// `input` contains `self`.
    Widens,
    SameType,
}

/// Java throws (an UnsupportedOperationException or a RuntimeException) and the chain fails.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Uncomparable(String);

impl Name {
    fn kind(&self) -> u8 {
        match self {
            Name::Email(_) => 1,
            Name::Dns(_) => 2,
            Name::Dir(..) => 4,
            Name::Uri(_) => 6,
            Name::Ip(_) => 7,
            Name::Other(k, _) => *k,
        }
    }

    fn describe(&self) -> String {
        match self {
            Name::Dns(d) => format!("DNS name {d}"),
            Name::Email(e) => format!("email address {e}"),
            Name::Dir(_, shown) => format!("directory name \"{shown}\""),
            Name::Ip(b) => match ip_text(b) {
                Some(t) => format!("IP address {t}"),
                None => format!("IP subtree {}", ip_subtree_text(b)),
            },
            Name::Uri(h) => format!("URI host {h}"),
            Name::Other(k, _) => format!("{} name", kind_name(*k)),
        }
    }

    /// The name alone, as a subtree's base is listed.
    fn bare(&self) -> String {
        match self {
            Name::Dns(v) | Name::Email(v) | Name::Uri(v) => v.clone(),
            Name::Dir(_, shown) => format!("\"{shown}\""),
            Name::Ip(b) => ip_text(b).unwrap_or_else(|| ip_subtree_text(b)),
            Name::Other(k, _) => kind_name(*k).to_string(),
        }
    }

    fn constrains(&self, input: &Name) -> Result<Rel, Uncomparable> {
        if self.kind() != input.kind() {
            return Ok(Rel::DiffType);
        }
        Ok(match (self, input) {
            (Name::Dns(this), Name::Dns(inp)) => dns_relation(this, inp),
            (Name::Email(this), Name::Email(inp)) => email_relation(this, inp),
            (Name::Dir(this, _), Name::Dir(inp, _)) => {
                if inp == this {
                    Rel::Match
                } else if inp.is_empty() {
                    Rel::Widens
                } else if this.is_empty() || inp.is_within(this) {
                    Rel::Narrows
                } else if this.is_within(inp) {
                    Rel::Widens
                } else {
                    Rel::SameType
                }
            }
            (Name::Ip(this), Name::Ip(inp)) => ip_relation(this, inp),
            (Name::Uri(this), Name::Uri(inp)) => uri_relation(this, inp),
            (Name::Other(8, this), Name::Other(8, inp)) if this == inp => Rel::Match,
            (Name::Other(k, _), _) => {
                return Err(Uncomparable(format!(
                    "Java cannot compare {} names with name constraints",
                    kind_name(*k)
                )))
            }
            _ => Rel::DiffType,
        })
    }
}

fn kind_name(k: u8) -> &'static str {
    match k {
        0 => "otherName",
        3 => "x400Address",
        5 => "ediPartyName",
        8 => "registeredID",
        _ => "unparsable",
    }
}

/// `DNSName.constrains`: suffix on a label boundary (a leading dot on either side counts as
/// the boundary), case-insensitively.
fn dns_relation(this: &str, inp: &str) -> Rel {
    let this = this.to_ascii_lowercase();
    let inp = inp.to_ascii_lowercase();
    let boundary = |longer: &str, shorter: &str| {
        let at = longer.len() - shorter.len();
        let before_is_dot = at > 0 && longer.as_bytes()[at - 1] == b'.';
        before_is_dot ^ shorter.starts_with('.')
    };
    if inp == this {
        Rel::Match
    } else if this.ends_with(&inp) {
        if boundary(&this, &inp) {
            Rel::Widens
        } else {
            Rel::SameType
        }
    } else if inp.ends_with(&this) {
        if boundary(&inp, &this) {
            Rel::Narrows
        } else {
            Rel::SameType
        }
    } else {
        Rel::SameType
    }
}

/// `RFC822Name.constrains`: a full address matches only itself; a host matches the addresses
/// at it; a leading dot matches the hosts below a domain.
fn email_relation(this: &str, inp: &str) -> Rel {
    let this = this.to_ascii_lowercase();
    let inp = inp.to_ascii_lowercase();
    let at_before = |longer: &str, shorter: &str| {
        let at = longer.len() - shorter.len();
        at > 0 && longer.as_bytes()[at - 1] == b'@'
    };
    if inp == this {
        Rel::Match
    } else if this.ends_with(&inp) {
        if inp.contains('@') {
            Rel::SameType
        } else if inp.starts_with('.') || at_before(&this, &inp) {
            Rel::Widens
        } else {
            Rel::SameType
        }
    } else if inp.ends_with(&this) {
        if this.contains('@') {
            Rel::SameType
        } else if this.starts_with('.') || at_before(&inp, &this) {
            Rel::Narrows
        } else {
            Rel::SameType
        }
    } else {
        Rel::SameType
    }
}

/// `IPAddressName.constrains`: addresses (4/16 bytes) and subtrees (address and mask, 8/32).
fn ip_relation(this: &[u8], other: &[u8]) -> Rel {
    if this == other {
        return Rel::Match;
    }
    match (this.len(), other.len()) {
        (4, 4) | (16, 16) => Rel::SameType,
        (8, 8) | (32, 32) => {
            let half = this.len() / 2;
            let (mut other_in_this, mut this_in_other) = (true, true);
            let (mut this_empty, mut other_empty) = (false, false);
            for i in 0..half {
                let (a, am) = (this[i], this[i + half]);
                let (o, om) = (other[i], other[i + half]);
                if a & am != a {
                    this_empty = true;
                }
                if o & om != o {
                    other_empty = true;
                }
                if !(am & om == am && a & am == o & am) {
                    other_in_this = false;
                }
                if !(om & am == om && o & om == a & om) {
                    this_in_other = false;
                }
            }
            if this_empty || other_empty {
                if this_empty && other_empty {
                    Rel::Match
                } else if this_empty {
                    Rel::Widens
                } else {
                    Rel::Narrows
                }
            } else if other_in_this {
                Rel::Narrows
            } else if this_in_other {
                Rel::Widens
            } else {
                Rel::SameType
            }
        }
        // This is an address, the other a subtree.
        (4, 8) | (16, 32) => {
            let half = other.len() / 2;
            if (0..half).all(|i| this[i] & other[i + half] == other[i]) {
                Rel::Widens
            } else {
                Rel::SameType
            }
        }
        (8, 4) | (32, 16) => {
            let half = this.len() / 2;
            if (0..half).all(|i| other[i] & this[i + half] == this[i]) {
                Rel::Narrows
            } else {
                Rel::SameType
            }
        }
        _ => Rel::SameType,
    }
}

/// `URIName.constrains`, by host: a leading dot names the hosts below a domain.
fn uri_relation(this: &str, other: &str) -> Rel {
    if this.eq_ignore_ascii_case(other) {
        return Rel::Match;
    }
    let (this_domain, other_domain) = (this.starts_with('.'), other.starts_with('.'));
    let plain = |h: &str| h.trim_start_matches('.').to_string();
    let (t, o) = (plain(this), plain(other));
    if t.parse::<IpAddr>().is_ok() || o.parse::<IpAddr>().is_ok() || t.is_empty() || o.is_empty() {
        return Rel::SameType;
    }
    // Java compares the hosts as DNS names without the leading dot.
    let mut rel = dns_relation(&t, &o);
    if !this_domain && !other_domain && matches!(rel, Rel::Widens | Rel::Narrows) {
        rel = Rel::SameType;
    }
    if this_domain != other_domain && rel == Rel::Match {
        rel = if this_domain {
            Rel::Widens
        } else {
            Rel::Narrows
        };
    }
    rel
}

fn ip_text(b: &[u8]) -> Option<String> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::from(a).to_string());
    }
    <[u8; 16]>::try_from(b)
        .ok()
        .map(|a| IpAddr::from(a).to_string())
}

fn ip_subtree_text(b: &[u8]) -> String {
    let half = b.len() / 2;
    let bits: u32 = b[half..].iter().map(|m| m.count_ones()).sum();
    format!("{}/{bits}", ip_text(&b[..half]).unwrap_or_default())
}

/// A subtree and the CA whose nameConstraints brought it in (for the message).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Subtree {
    base: Name,
    from: String,
}

/// `GeneralSubtrees`: a list with Java's minimize, union, intersect and reduce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Subtrees(Vec<Subtree>);

impl Subtrees {
    fn rel(&self, i: usize, other: &Name) -> Result<Rel, Uncomparable> {
        self.0[i].base.constrains(other)
    }

    /// Keeps only the widest subtree of each kind where one contains another.
    fn minimize(&mut self) -> Result<(), Uncomparable> {
        let mut i = 0;
        while i + 1 < self.0.len() {
            let mut remove_current = false;
            let mut j = i + 1;
            while j < self.0.len() {
                let later = self.0[j].base.clone();
                match self.rel(i, &later)? {
                    Rel::DiffType | Rel::SameType => j += 1,
                    Rel::Match | Rel::Widens => {
                        remove_current = true;
                        break;
                    }
                    Rel::Narrows => {
                        self.0.remove(j);
                    }
                }
            }
            if remove_current {
                self.0.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn union(&mut self, other: &Subtrees) -> Result<(), Uncomparable> {
        self.0.extend(other.0.iter().cloned());
        self.minimize()
    }

    /// Java's intersection of permitted subtrees: returns the subtrees it adds to the excluded
    /// ones (a whole name type, when an entry of this has a same-type entry in `other` but no
    /// overlapping one is left).
    fn intersect(&mut self, other: &mut Subtrees) -> Result<Option<Subtrees>, Uncomparable> {
        if self.0.is_empty() {
            self.union(other)?;
            return Ok(None);
        }
        self.minimize()?;
        other.minimize()?;
        let mut new_this = Subtrees::default();
        let mut new_excluded: Option<Subtrees> = None;
        let mut i = 0;
        while i < self.0.len() {
            let this_entry = self.0[i].base.clone();
            let mut same_type = false;
            let mut removed = false;
            for o in &other.0 {
                match this_entry.constrains(&o.base)? {
                    Rel::Narrows => {
                        self.0.remove(i);
                        removed = true;
                        new_this.0.push(o.clone());
                        same_type = false;
                        break;
                    }
                    Rel::SameType => same_type = true,
                    Rel::Match | Rel::Widens => {
                        same_type = false;
                        break;
                    }
                    Rel::DiffType => {}
                }
            }
            if same_type {
                let mut intersection = false;
                'outer: for t in &self.0 {
                    if t.base.kind() != this_entry.kind() {
                        continue;
                    }
                    for o in &other.0 {
                        if matches!(
                            t.base.constrains(&o.base)?,
                            Rel::Match | Rel::Widens | Rel::Narrows
                        ) {
                            intersection = true;
                            break 'outer;
                        }
                    }
                }
                if !intersection {
                    let widest = widest_subtree(&self.0[i])?;
                    let ex = new_excluded.get_or_insert_with(Subtrees::default);
                    if !ex.0.iter().any(|s| s.base == widest.base) {
                        ex.0.push(widest);
                    }
                }
                self.0.remove(i);
                removed = true;
            }
            if !removed {
                i += 1;
            }
        }
        if !new_this.0.is_empty() {
            self.union(&new_this)?;
        }
        let mut add = Vec::new();
        for o in &other.0 {
            let mut diff_type = false;
            for t in &self.0 {
                match t.base.constrains(&o.base)? {
                    Rel::DiffType => diff_type = true,
                    _ => {
                        diff_type = false;
                        break;
                    }
                }
            }
            if diff_type {
                add.push(o.clone());
            }
        }
        self.0.extend(add);
        Ok(new_excluded)
    }

    /// Drops permitted subtrees that an excluded one matches or contains.
    fn reduce(&mut self, excluded: &Subtrees) -> Result<(), Uncomparable> {
        for ex in &excluded.0 {
            let mut j = 0;
            while j < self.0.len() {
                match ex.base.constrains(&self.0[j].base)? {
                    Rel::Match | Rel::Narrows => {
                        self.0.remove(j);
                    }
                    _ => j += 1,
                }
            }
        }
        Ok(())
    }
}

/// `GeneralSubtrees.createWidestSubtree`: only an empty directoryName can be made; for the
/// other types Java's constructors refuse the empty name and the validation throws.
fn widest_subtree(of: &Subtree) -> Result<Subtree, Uncomparable> {
    match &of.base {
        Name::Dir(..) => Ok(Subtree {
            base: Name::Dir(NameKey::empty(), String::new()),
            from: of.from.clone(),
        }),
        other => Err(Uncomparable(format!(
            "merged with the name constraints above it, they make Java's GeneralSubtrees.intersect exclude all {} and fail (it cannot build that exclusion and throws), whatever the names below",
            plural(other)
        ))),
    }
}

/// The merged constraints so far (`prevNC`).
#[derive(Debug, Clone, Default)]
struct State {
    permitted: Option<Subtrees>,
    excluded: Option<Subtrees>,
}

impl State {
    fn merge(&mut self, nc: &Constraints) -> Result<(), Uncomparable> {
        if let Some(ex) = &nc.excluded {
            match &mut self.excluded {
                None => self.excluded = Some(ex.clone()),
                Some(cur) => cur.union(ex)?,
            }
        }
        if let Some(p) = &nc.permitted {
            match &mut self.permitted {
                None => self.permitted = Some(p.clone()),
                Some(cur) => {
                    let mut theirs = p.clone();
                    if let Some(new_ex) = cur.intersect(&mut theirs)? {
                        match &mut self.excluded {
                            Some(e) => e.union(&new_ex)?,
                            None => self.excluded = Some(new_ex),
                        }
                    }
                }
            }
        }
        if let (Some(p), Some(e)) = (&mut self.permitted, &self.excluded) {
            p.reduce(e)?;
        }
        Ok(())
    }

    /// `NameConstraintsExtension.verify(GeneralNameInterface)`: the subtree that refuses it.
    fn refuses(&self, name: &Name) -> Result<Option<Refusal>, Uncomparable> {
        if let Some(ex) = &self.excluded {
            for s in &ex.0 {
                if matches!(s.base.constrains(name)?, Rel::Match | Rel::Narrows) {
                    return Ok(Some(Refusal {
                        by: s.from.clone(),
                        how: format!("excludes the {} in {}", plural(name), s.base.bare()),
                    }));
                }
            }
        }
        if let Some(p) = &self.permitted {
            let mut same_type: Vec<&Subtree> = Vec::new();
            for s in &p.0 {
                match s.base.constrains(name)? {
                    Rel::DiffType => {}
                    Rel::Widens | Rel::SameType => same_type.push(s),
                    Rel::Match | Rel::Narrows => return Ok(None),
                }
            }
            if let Some(first) = same_type.first() {
                let bases: Vec<String> = same_type.iter().map(|s| s.base.bare()).collect();
                return Ok(Some(Refusal {
                    by: first.from.clone(),
                    how: format!("permits only the {} in {}", plural(name), bases.join(", ")),
                }));
            }
        }
        Ok(None)
    }
}

fn plural(n: &Name) -> &'static str {
    match n {
        Name::Dns(_) => "DNS names",
        Name::Email(_) => "email addresses",
        Name::Dir(..) => "directory names",
        Name::Ip(_) => "IP addresses",
        Name::Uri(_) => "URIs",
        Name::Other(..) => "names of that type",
    }
}

struct Refusal {
    by: String,
    how: String,
}

/// One certificate's nameConstraints extension.
#[derive(Debug, Clone, Default)]
struct Constraints {
    permitted: Option<Subtrees>,
    excluded: Option<Subtrees>,
}

/// What the check needs of a certificate, read from its DER.
struct Facts {
    constraints: Option<Constraints>,
    /// The names `NameConstraintsExtension.verify(X509Certificate)` checks, in its order.
    names: Vec<Name>,
}

fn convert(g: &GeneralName<'_>) -> Name {
    match g {
        GeneralName::DNSName(d) => Name::Dns((*d).to_string()),
        GeneralName::RFC822Name(e) => Name::Email((*e).to_string()),
        GeneralName::DirectoryName(n) => Name::Dir(NameKey::of(n), display_name(n)),
        GeneralName::IPAddress(b) => Name::Ip(b.to_vec()),
        GeneralName::URI(u) => Name::Uri(uri_host(u)),
        GeneralName::OtherName(oid, v) => {
            let mut b = oid.as_bytes().to_vec();
            b.extend_from_slice(v);
            Name::Other(0, b)
        }
        GeneralName::X400Address(a) => Name::Other(3, a.data.to_vec()),
        GeneralName::EDIPartyName(a) => Name::Other(5, a.data.to_vec()),
        GeneralName::RegisteredID(oid) => Name::Other(8, oid.as_bytes().to_vec()),
        GeneralName::Invalid(tag, b) => Name::Other(0x80 | (tag.0 as u8 & 0x1F), b.to_vec()),
    }
}

/// The host of a URI (`scheme://[user@]host[:port]/...`), or the whole text for a constraint,
/// which names a host or a domain.
fn uri_host(u: &str) -> String {
    match u.split_once("://") {
        Some((_, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit('@').next().unwrap_or("");
            let host = if let Some(v6) = host.strip_prefix('[') {
                v6.split(']').next().unwrap_or("")
            } else {
                host.split(':').next().unwrap_or("")
            };
            host.to_string()
        }
        None => u.to_string(),
    }
}

/// `new DNSName(cn)` without wildcards: letters, digits and hyphens in non-empty labels that
/// start with a letter or digit.
fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

const EMAIL_ADDRESS_OID: &str = "1.2.840.113549.1.9.1";

fn facts(cert: &Certificate) -> Facts {
    let Ok((_, x)) = X509Certificate::from_der(&cert.der) else {
        return Facts {
            constraints: None,
            names: Vec::new(),
        };
    };
    let tbs = &x.tbs_certificate;
    let mut constraints = None;
    let mut alt: Option<Vec<Name>> = None;
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::NameConstraints(nc) => {
                let from = cert.subject.clone();
                let list = |v: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
                    v.as_ref().map(|trees| {
                        Subtrees(
                            trees
                                .iter()
                                .map(|t| Subtree {
                                    base: convert(&t.base),
                                    from: from.clone(),
                                })
                                .collect(),
                        )
                    })
                };
                constraints = Some(Constraints {
                    permitted: list(&nc.permitted_subtrees),
                    excluded: list(&nc.excluded_subtrees),
                });
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                alt = Some(san.general_names.iter().map(convert).collect());
            }
            _ => {}
        }
    }
    let mut names = Vec::new();
    if !cert.subject_key.is_empty() {
        names.push(Name::Dir(cert.subject_key.clone(), cert.subject.clone()));
    }
    let mut alt_names = match alt {
        Some(a) => a,
        // RFC 5280: with no subjectAltName, email constraints apply to the emailAddress
        // attributes of the subject.
        None => tbs
            .subject
            .iter_attributes()
            .filter(|a| a.attr_type().to_id_string() == EMAIL_ADDRESS_OID)
            .filter_map(|a| a.as_str().ok().map(|s| Name::Email(s.to_string())))
            .filter(|n| matches!(n, Name::Email(e) if !e.is_empty()))
            .collect(),
    };
    // The most specific CN stands in for a DNS name or an IP address when there is none.
    if let Some(cn) = tbs
        .subject
        .iter_common_name()
        .last()
        .and_then(|c| c.as_str().ok())
    {
        if let Ok(ip) = cn.parse::<IpAddr>() {
            if !alt_names.iter().any(|n| matches!(n, Name::Ip(_))) {
                let bytes = match ip {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
                alt_names.push(Name::Ip(bytes));
            }
        } else if is_dns_name(cn) && !alt_names.iter().any(|n| matches!(n, Name::Dns(_))) {
            alt_names.push(Name::Dns(cn.to_string()));
        }
    }
    names.extend(alt_names);
    Facts { constraints, names }
}

/// A violation, for the verdict's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index in the path given (leaf first) of the certificate whose name is refused.
    pub at: usize,
    pub message: String,
}

/// `ConstraintsChecker.verifyNameConstraints` over `path` (leaf first, the anchor not on it).
pub fn check(path: &[&Certificate]) -> Option<Violation> {
    let n = path.len();
    let mut state: Option<State> = None;
    for k in (0..n).rev() {
        let cert = path[k];
        let f = facts(cert);
        let is_target = k == 0;
        if let Some(st) = &state {
            if is_target || !cert.self_issued {
                for name in &f.names {
                    match st.refuses(name) {
                        Ok(None) => {}
                        Ok(Some(r)) => {
                            return Some(Violation {
                                at: k,
                                message: format!(
                                    "the name constraints of {} forbid the {} of {}: it {}",
                                    r.by,
                                    name.describe(),
                                    cert.subject,
                                    r.how
                                ),
                            })
                        }
                        Err(Uncomparable(why)) => {
                            return Some(Violation {
                                at: k,
                                message: format!(
                                    "{why}: the {} of {} cannot be checked, so Java fails",
                                    name.describe(),
                                    cert.subject
                                ),
                            })
                        }
                    }
                }
            }
        }
        if let Some(nc) = &f.constraints {
            let Some(st) = &mut state else {
                // The first constraints are taken as they are (a clone, no reduction).
                state = Some(State {
                    permitted: nc.permitted.clone(),
                    excluded: nc.excluded.clone(),
                });
                continue;
            };
            if let Err(Uncomparable(why)) = st.merge(nc) {
                return Some(Violation {
                    at: k,
                    message: format!("the name constraints of {}: {why}", cert.subject),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees_go_by_labels() {
        assert_eq!(dns_relation("nc.test", "www.nc.test"), Rel::Narrows);
        assert_eq!(dns_relation("nc.test", "evilnc.test"), Rel::SameType);
        assert_eq!(dns_relation("www.nc.test", "nc.test"), Rel::Widens);
        assert_eq!(dns_relation("NC.test", "nc.TEST"), Rel::Match);
        assert_eq!(dns_relation(".nc.test", "nc.test"), Rel::Widens);
        assert_eq!(dns_relation(".nc.test", "a.nc.test"), Rel::Narrows);
    }

    #[test]
    fn email_and_ip_subtrees() {
        assert_eq!(email_relation("nc.test", "a@nc.test"), Rel::Narrows);
        assert_eq!(email_relation("nc.test", "a@x.nc.test"), Rel::SameType);
        assert_eq!(email_relation(".nc.test", "a@x.nc.test"), Rel::Narrows);
        assert_eq!(email_relation("a@nc.test", "b@nc.test"), Rel::SameType);
        let net = [127, 0, 0, 0, 255, 0, 0, 0];
        assert_eq!(ip_relation(&net, &[127, 0, 0, 1]), Rel::Narrows);
        assert_eq!(ip_relation(&net, &[10, 0, 0, 1]), Rel::SameType);
        assert_eq!(ip_relation(&[127, 0, 0, 1], &net), Rel::Widens);
        // Malformed lengths compare as strangers, never panic.
        assert_eq!(ip_relation(&[1, 2, 3], &net), Rel::SameType);
        assert_eq!(ip_relation(&[], &[]), Rel::Match);
    }

    fn dns_tree(name: &str) -> Subtree {
        Subtree {
            base: Name::Dns(name.into()),
            from: "CA".into(),
        }
    }

    /// Java drops a.test when x.a.test narrows it, then finds b.test sharing nothing with
    /// x.a.test and wants the widest DNS subtree, which it cannot make: it throws.
    #[test]
    fn intersect_keeps_javas_quirk() {
        let mut upper = Subtrees(vec![dns_tree("a.test"), dns_tree("b.test")]);
        let mut lower = Subtrees(vec![dns_tree("x.a.test")]);
        assert!(upper.intersect(&mut lower).is_err());
        let mut upper = Subtrees(vec![dns_tree("a.test")]);
        let mut lower = Subtrees(vec![dns_tree("x.a.test")]);
        assert_eq!(upper.intersect(&mut lower), Ok(None));
        assert_eq!(upper.0, vec![dns_tree("x.a.test")]);
    }

    #[test]
    fn uri_hosts() {
        assert_eq!(uri_host("https://user@www.nc.test:8443/p?q"), "www.nc.test");
        assert_eq!(uri_host("ldap://[2001:db8::1]/x"), "2001:db8::1");
        assert_eq!(uri_host("no scheme"), "no scheme");
        assert_eq!(uri_relation(".nc.test", "www.nc.test"), Rel::Narrows);
        // The domain itself is not below it (Java: WIDENS, so not permitted).
        assert_eq!(uri_relation(".nc.test", "nc.test"), Rel::Widens);
        assert_eq!(uri_relation("nc.test", "www.nc.test"), Rel::SameType);
    }
}
