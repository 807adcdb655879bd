//! Java's default algorithm constraints, per JDK release: the defaults of
//! `jdk.certpath.disabledAlgorithms` and `jdk.tls.disabledAlgorithms` in each JDK's
//! `conf/security/java.security` (JDK 8: `jre/lib/security/java.security`), as far as they
//! change whether a server chain is trusted.
//!
//! Sources (read, not guessed):
//! - JDK 8: openjdk/jdk8u-dev (latest 8u), `jdk/src/share/lib/security/java.security-linux`;
//! - JDK 17: the java.security of 17.0.15 (Debian's openjdk-17);
//! - JDK 21 and later: openjdk/jdk21u-dev (latest 21u) and Temurin 25.0.3, identical where
//!   these rules are concerned.
//!
//! jdk.certpath.disabledAlgorithms, the same in all three:
//! `MD2, MD5, SHA1 jdkCA & usage TLSServer, RSA keySize < 1024, DSA keySize < 1024,
//! EC keySize < 224, SHA1 usage SignedJAR & denyAfter 2019-01-01` (8u adds
//! `include jdk.disabled.namedCurves`: curves other than P-256/384/521, which no JDK here
//! verifies anyway). The SignedJAR entry does not concern TLS.
//!
//! jdk.tls.disabledAlgorithms adds `MD5withRSA` and `EC keySize < 224` for certificates
//! (already refused above); its entries that differ between releases are about the handshake:
//! 21u and 25 refuse SHA-1 handshake signatures (`rsa_pkcs1_sha1 usage HandshakeSignature`,
//! `ecdsa_sha1 ...`, `dsa_sha1 ...`) and `TLS_RSA_*` cipher suites; 8u and 17 do not. No
//! release restricts the size of an RSA key used for a handshake signature (a 1024-bit RSA
//! server key completes TLS 1.2 and 1.3 handshakes on JDK 17 and 25).
//!
//! Beyond the properties, JDK 8 has no EdDSA (Ed25519 and Ed448 came with JDK 15): a chain
//! signed with them cannot be verified there.

use std::collections::HashSet;

use serde::Serialize;

use crate::cert::{Certificate, KeyKind};

/// Which JDK release's defaults `check` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum JavaVersion {
    /// JDK 8 (latest 8u).
    #[serde(rename = "8")]
    Jdk8,
    /// JDK 9 to 20 share these (read from JDK 17).
    #[serde(rename = "17")]
    Jdk17,
    /// JDK 21 and later (21u, 25).
    #[serde(rename = "21")]
    Jdk21,
}

impl JavaVersion {
    /// The rule set of a JDK by its feature release (8, 11, 17, 21, 25, ...).
    pub fn of_release(major: u32) -> JavaVersion {
        match major {
            0..=8 => JavaVersion::Jdk8,
            9..=20 => JavaVersion::Jdk17,
            _ => JavaVersion::Jdk21,
        }
    }

    /// The feature release of a `release` file's JAVA_VERSION ("1.8.0_412", "17.0.15", "25").
    pub fn parse_java_version(value: &str) -> Option<u32> {
        let v = value.trim().trim_matches('"');
        let v = v.strip_prefix("1.").unwrap_or(v);
        v.split(['.', '_', '-', '+']).next()?.parse().ok()
    }

    /// The JDK of a Java home, from its `release` file (a JDK 8 JRE home `.../jre` has it one
    /// level up).
    pub fn of_java_home(home: &std::path::Path) -> Option<JavaVersion> {
        let text = [home.join("release"), home.join("..").join("release")]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())?;
        let value = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("JAVA_VERSION="))?;
        Self::parse_java_version(value).map(Self::of_release)
    }

    /// How the rule set is named in the output: "8", "17", "21".
    pub fn label(self) -> &'static str {
        match self {
            JavaVersion::Jdk8 => "8",
            JavaVersion::Jdk17 => "17",
            JavaVersion::Jdk21 => "21",
        }
    }

    /// As a sentence names it: "JDK 17", "JDK 21 and later".
    pub fn shown(self) -> &'static str {
        match self {
            JavaVersion::Jdk8 => "JDK 8",
            JavaVersion::Jdk17 => "JDK 17",
            JavaVersion::Jdk21 => "JDK 21 and later",
        }
    }
}

/// The algorithm rules of one JDK release, and the roots that JDK itself ships (what its
/// `jdkCA` constraint means), when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaRules {
    pub version: JavaVersion,
    /// SHA-256 fingerprints (upper-case hex) of the roots that JDK counts as its own: the
    /// entries of its `lib/security/cacerts` whose alias contains " [jdk" (what its
    /// AnchorCertificates reads). None: not known, and the `SHA1 jdkCA & usage TLSServer`
    /// rule is not applied.
    jdk_cas: Option<HashSet<String>>,
}

impl Default for JavaRules {
    fn default() -> Self {
        JavaRules::new(JavaVersion::Jdk17)
    }
}

const CERTPATH: &str = "jdk.certpath.disabledAlgorithms";

impl JavaRules {
    pub fn new(version: JavaVersion) -> JavaRules {
        JavaRules {
            version,
            jdk_cas: None,
        }
    }

    /// With the fingerprints of the JDK's own roots (see `jdk_cas`).
    pub fn with_jdk_cas<I: IntoIterator<Item = String>>(mut self, sha256: I) -> JavaRules {
        self.jdk_cas = Some(sha256.into_iter().collect());
        self
    }

    pub fn knows_jdk_cas(&self) -> bool {
        self.jdk_cas.is_some()
    }

    /// Whether `anchor` is one the JDK ships (`jdkCA`).
    pub fn is_jdk_ca(&self, anchor: &Certificate) -> bool {
        self.jdk_cas
            .as_ref()
            .is_some_and(|s| s.contains(&anchor.sha256))
    }

    fn refused(&self, what: String, property: &str, entry: &str) -> String {
        format!(
            "{what}, refused by {property} of {} ({entry})",
            self.version.shown()
        )
    }

    /// Why these rules refuse `cert`'s key: Java checks the key of every certificate on the
    /// path and of the trust anchor.
    pub fn refuse_key(&self, cert: &Certificate) -> Option<String> {
        let bits = cert.key_bits;
        let (kind, limit, entry) = match cert.key_kind {
            KeyKind::Rsa => ("RSA", 1024, "RSA keySize < 1024"),
            KeyKind::Dsa => ("DSA", 1024, "DSA keySize < 1024"),
            KeyKind::Ec => ("EC", 224, "EC keySize < 224"),
            KeyKind::Ed25519 | KeyKind::Ed448 if self.version == JavaVersion::Jdk8 => {
                return Some(format!(
                    "its {} key is one JDK 8 cannot use (EdDSA came with JDK 15)",
                    cert.key_kind.name()
                ))
            }
            _ => return None,
        };
        (bits > 0 && bits < limit).then(|| {
            self.refused(
                format!("its {kind} key has only {bits} bits"),
                CERTPATH,
                entry,
            )
        })
    }

    /// Why these rules refuse the algorithm `cert` is signed with. `to_jdk_ca`: the path ends
    /// at a root the JDK itself ships, where SHA-1 is refused for TLS servers.
    pub fn refuse_signature(&self, cert: &Certificate, to_jdk_ca: bool) -> Option<String> {
        let name = signature_name(&cert.sig_alg);
        match cert.sig_alg.as_str() {
            "1.2.840.113549.1.1.2" => {
                Some(self.refused(format!("it is signed with {name}"), CERTPATH, "MD2"))
            }
            "1.2.840.113549.1.1.4" => {
                Some(self.refused(format!("it is signed with {name}"), CERTPATH, "MD5"))
            }
            "1.3.101.112" | "1.3.101.113" if self.version == JavaVersion::Jdk8 => Some(format!(
                "it is signed with {name}, which JDK 8 cannot verify (EdDSA came with JDK 15)"
            )),
            alg if to_jdk_ca && is_sha1(alg) => Some(self.refused(
                format!("it is signed with {name} on a path to a root the JDK itself ships"),
                CERTPATH,
                "SHA1 jdkCA & usage TLSServer",
            )),
            _ => None,
        }
    }

    /// Why these rules refuse `cert` on a path ending at a JDK-shipped root or not, key or
    /// signature (Java's AlgorithmChecker, which runs before the signature is verified).
    pub fn refuse(&self, cert: &Certificate, to_jdk_ca: bool) -> Option<String> {
        self.refuse_signature(cert, to_jdk_ca)
            .or_else(|| self.refuse_key(cert))
    }
}

fn is_sha1(oid: &str) -> bool {
    matches!(
        oid,
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3"
    )
}

/// Java's standard name of a signature algorithm, for messages.
pub fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.2" => "MD2withRSA",
        "1.2.840.113549.1.1.4" => "MD5withRSA",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "SHA1withRSA",
        "1.2.840.113549.1.1.14" => "SHA224withRSA",
        "1.2.840.113549.1.1.11" => "SHA256withRSA",
        "1.2.840.113549.1.1.12" => "SHA384withRSA",
        "1.2.840.113549.1.1.13" => "SHA512withRSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.1" => "SHA1withECDSA",
        "1.2.840.10045.4.3.1" => "SHA224withECDSA",
        "1.2.840.10045.4.3.2" => "SHA256withECDSA",
        "1.2.840.10045.4.3.3" => "SHA384withECDSA",
        "1.2.840.10045.4.3.4" => "SHA512withECDSA",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.3" => "SHA1withDSA",
        "2.16.840.1.101.3.4.3.1" => "SHA224withDSA",
        "2.16.840.1.101.3.4.3.2" => "SHA256withDSA",
        other => return format!("algorithm {other}"),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_map_to_rule_sets() {
        assert_eq!(JavaVersion::parse_java_version("\"1.8.0_412\""), Some(8));
        assert_eq!(JavaVersion::parse_java_version("\"17.0.15\""), Some(17));
        assert_eq!(JavaVersion::parse_java_version("25"), Some(25));
        assert_eq!(JavaVersion::parse_java_version("21-ea"), Some(21));
        assert_eq!(JavaVersion::parse_java_version("x"), None);
        assert_eq!(JavaVersion::of_release(8), JavaVersion::Jdk8);
        assert_eq!(JavaVersion::of_release(11), JavaVersion::Jdk17);
        assert_eq!(JavaVersion::of_release(21), JavaVersion::Jdk21);
        assert_eq!(JavaVersion::of_release(25), JavaVersion::Jdk21);
    }
}
