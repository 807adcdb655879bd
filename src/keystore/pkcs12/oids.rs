//! Object identifiers, as the content bytes of their DER encoding (compared byte for byte).

pub const DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];
pub const SIGNED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
pub const ENVELOPED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03];
pub const ENCRYPTED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x06];

pub const SHROUDED_KEY_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x02,
];
pub const CERT_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x03,
];
pub const SECRET_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x05,
];

pub const X509_CERTIFICATE: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x16, 0x01];
pub const FRIENDLY_NAME: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x14];
pub const LOCAL_KEY_ID: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x15];
/// 2.16.840.1.113894.746875.1.1, Oracle's trustedKeyUsage: what makes a CertBag a
/// trustedCertEntry for Java.
pub const ORACLE_TRUSTED_KEY_USAGE: &[u8] = &[
    0x60, 0x86, 0x48, 0x01, 0x86, 0xF9, 0x66, 0xAD, 0xCA, 0x7B, 0x01, 0x01,
];
/// 2.5.29.37.0, the usage keytool gives imported certificates.
pub const ANY_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x25, 0x00];

pub const PBES2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
pub const PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
pub const PBMAC1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0E];
pub const HMAC_WITH_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x07];
pub const HMAC_WITH_SHA224: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x08];
pub const HMAC_WITH_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
pub const HMAC_WITH_SHA384: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0A];
pub const HMAC_WITH_SHA512: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0B];
pub const AES128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
pub const AES192_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16];
pub const AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A];

/// PKCS#12 PBE (RFC 7292 Appendix C), 1.2.840.113549.1.12.1.N.
pub const PBE_SHA1_RC4_128: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x01];
pub const PBE_SHA1_RC4_40: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x02];
pub const PBE_SHA1_3DES: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x03];
pub const PBE_SHA1_2DES: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x04];
pub const PBE_SHA1_RC2_128: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x05];
pub const PBE_SHA1_RC2_40: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x06];

pub const SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
pub const SHA224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04];
pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
pub const SHA512_224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x05];
pub const SHA512_256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x06];

pub const KEY_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x01,
];
pub const CRL_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x04,
];
pub const SAFE_CONTENTS_BAG: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x06,
];
pub const SDSI_CERTIFICATE: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x16, 0x02];
pub const HMAC_WITH_SHA512_224: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0C];
pub const HMAC_WITH_SHA512_256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0D];
/// 1.2.840.113549.3.7, the cipher Bouncy Castle and old OpenSSL put in PBES2.
pub const DES_EDE3_CBC: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x03, 0x07];
pub const RC2_CBC: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x03, 0x02];
pub const DES_CBC: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x07];
pub const AES128_GCM: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x06];
pub const AES192_GCM: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x1A];
pub const AES256_GCM: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2E];
pub const AES256_CCM: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2F];
pub const SCRYPT: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B];
/// 1.3.6.1.4.1.311.17.2, "Microsoft Local Key set": Windows writes it with no value.
pub const MS_LOCAL_KEY_SET: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x11, 0x02];
/// 1.3.6.1.4.1.311.17.1, the Microsoft CSP name.
pub const MS_CSP_NAME: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x11, 0x01];

/// The names of the OIDs this codec knows, for messages.
const NAMES: &[(&[u8], &str)] = &[
    (DATA, "data"),
    (SIGNED_DATA, "signedData"),
    (ENVELOPED_DATA, "envelopedData"),
    (ENCRYPTED_DATA, "encryptedData"),
    (KEY_BAG, "keyBag"),
    (SHROUDED_KEY_BAG, "pkcs8ShroudedKeyBag"),
    (CERT_BAG, "certBag"),
    (CRL_BAG, "crlBag"),
    (SECRET_BAG, "secretBag"),
    (SAFE_CONTENTS_BAG, "safeContentsBag"),
    (X509_CERTIFICATE, "x509Certificate"),
    (SDSI_CERTIFICATE, "sdsiCertificate"),
    (FRIENDLY_NAME, "friendlyName"),
    (LOCAL_KEY_ID, "localKeyId"),
    (ORACLE_TRUSTED_KEY_USAGE, "Oracle trustedKeyUsage"),
    (ANY_EXTENDED_KEY_USAGE, "anyExtendedKeyUsage"),
    (PBES2, "PBES2"),
    (PBKDF2, "PBKDF2"),
    (PBMAC1, "PBMAC1"),
    (SCRYPT, "scrypt"),
    (HMAC_WITH_SHA1, "HmacSHA1"),
    (HMAC_WITH_SHA224, "HmacSHA224"),
    (HMAC_WITH_SHA256, "HmacSHA256"),
    (HMAC_WITH_SHA384, "HmacSHA384"),
    (HMAC_WITH_SHA512, "HmacSHA512"),
    (HMAC_WITH_SHA512_224, "HmacSHA512/224"),
    (HMAC_WITH_SHA512_256, "HmacSHA512/256"),
    (AES128_CBC, "AES-128-CBC"),
    (AES192_CBC, "AES-192-CBC"),
    (AES256_CBC, "AES-256-CBC"),
    (AES128_GCM, "AES-128-GCM"),
    (AES192_GCM, "AES-192-GCM"),
    (AES256_GCM, "AES-256-GCM"),
    (AES256_CCM, "AES-256-CCM"),
    (DES_EDE3_CBC, "DES-EDE3-CBC"),
    (DES_CBC, "DES-CBC"),
    (RC2_CBC, "RC2-CBC"),
    (PBE_SHA1_RC4_128, "PBE-SHA1-RC4-128"),
    (PBE_SHA1_RC4_40, "PBE-SHA1-RC4-40"),
    (PBE_SHA1_3DES, "PBE-SHA1-3DES"),
    (PBE_SHA1_2DES, "PBE-SHA1-2DES"),
    (PBE_SHA1_RC2_128, "PBE-SHA1-RC2-128"),
    (PBE_SHA1_RC2_40, "PBE-SHA1-RC2-40"),
    (SHA1, "SHA-1"),
    (SHA224, "SHA-224"),
    (SHA256, "SHA-256"),
    (SHA384, "SHA-384"),
    (SHA512, "SHA-512"),
    (SHA512_224, "SHA-512/224"),
    (SHA512_256, "SHA-512/256"),
    (MS_LOCAL_KEY_SET, "Microsoft Local Key set"),
    (MS_CSP_NAME, "Microsoft CSP name"),
];

/// The name of a known OID.
pub fn name(content: &[u8]) -> Option<&'static str> {
    NAMES.iter().find(|(o, _)| *o == content).map(|(_, n)| *n)
}

/// An OID for a message: "NAME (dotted)" when it is known, else "OID dotted".
pub fn describe(content: &[u8]) -> String {
    let dotted = super::asn1::oid_string(content);
    match name(content) {
        Some(n) => format!("{n} ({dotted})"),
        None => format!("OID {dotted}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name against its dotted form, so that no constant is misnamed.
    #[test]
    fn every_name_matches_its_dotted_oid() {
        let expected = [
            ("data", "1.2.840.113549.1.7.1"),
            ("signedData", "1.2.840.113549.1.7.2"),
            ("envelopedData", "1.2.840.113549.1.7.3"),
            ("encryptedData", "1.2.840.113549.1.7.6"),
            ("keyBag", "1.2.840.113549.1.12.10.1.1"),
            ("pkcs8ShroudedKeyBag", "1.2.840.113549.1.12.10.1.2"),
            ("certBag", "1.2.840.113549.1.12.10.1.3"),
            ("crlBag", "1.2.840.113549.1.12.10.1.4"),
            ("secretBag", "1.2.840.113549.1.12.10.1.5"),
            ("safeContentsBag", "1.2.840.113549.1.12.10.1.6"),
            ("x509Certificate", "1.2.840.113549.1.9.22.1"),
            ("sdsiCertificate", "1.2.840.113549.1.9.22.2"),
            ("friendlyName", "1.2.840.113549.1.9.20"),
            ("localKeyId", "1.2.840.113549.1.9.21"),
            ("Oracle trustedKeyUsage", "2.16.840.1.113894.746875.1.1"),
            ("anyExtendedKeyUsage", "2.5.29.37.0"),
            ("PBES2", "1.2.840.113549.1.5.13"),
            ("PBKDF2", "1.2.840.113549.1.5.12"),
            ("PBMAC1", "1.2.840.113549.1.5.14"),
            ("scrypt", "1.3.6.1.4.1.11591.4.11"),
            ("HmacSHA1", "1.2.840.113549.2.7"),
            ("HmacSHA224", "1.2.840.113549.2.8"),
            ("HmacSHA256", "1.2.840.113549.2.9"),
            ("HmacSHA384", "1.2.840.113549.2.10"),
            ("HmacSHA512", "1.2.840.113549.2.11"),
            ("HmacSHA512/224", "1.2.840.113549.2.12"),
            ("HmacSHA512/256", "1.2.840.113549.2.13"),
            ("AES-128-CBC", "2.16.840.1.101.3.4.1.2"),
            ("AES-192-CBC", "2.16.840.1.101.3.4.1.22"),
            ("AES-256-CBC", "2.16.840.1.101.3.4.1.42"),
            ("AES-128-GCM", "2.16.840.1.101.3.4.1.6"),
            ("AES-192-GCM", "2.16.840.1.101.3.4.1.26"),
            ("AES-256-GCM", "2.16.840.1.101.3.4.1.46"),
            ("AES-256-CCM", "2.16.840.1.101.3.4.1.47"),
            ("DES-EDE3-CBC", "1.2.840.113549.3.7"),
            ("DES-CBC", "1.3.14.3.2.7"),
            ("RC2-CBC", "1.2.840.113549.3.2"),
            ("PBE-SHA1-RC4-128", "1.2.840.113549.1.12.1.1"),
            ("PBE-SHA1-RC4-40", "1.2.840.113549.1.12.1.2"),
            ("PBE-SHA1-3DES", "1.2.840.113549.1.12.1.3"),
            ("PBE-SHA1-2DES", "1.2.840.113549.1.12.1.4"),
            ("PBE-SHA1-RC2-128", "1.2.840.113549.1.12.1.5"),
            ("PBE-SHA1-RC2-40", "1.2.840.113549.1.12.1.6"),
            ("SHA-1", "1.3.14.3.2.26"),
            ("SHA-224", "2.16.840.1.101.3.4.2.4"),
            ("SHA-256", "2.16.840.1.101.3.4.2.1"),
            ("SHA-384", "2.16.840.1.101.3.4.2.2"),
            ("SHA-512", "2.16.840.1.101.3.4.2.3"),
            ("SHA-512/224", "2.16.840.1.101.3.4.2.5"),
            ("SHA-512/256", "2.16.840.1.101.3.4.2.6"),
            ("Microsoft Local Key set", "1.3.6.1.4.1.311.17.2"),
            ("Microsoft CSP name", "1.3.6.1.4.1.311.17.1"),
        ];
        assert_eq!(NAMES.len(), expected.len());
        for ((oid, name), (want_name, want_dotted)) in NAMES.iter().zip(expected) {
            assert_eq!(*name, want_name);
            assert_eq!(super::super::asn1::oid_string(oid), want_dotted, "{name}");
        }
        assert_eq!(describe(DES_EDE3_CBC), "DES-EDE3-CBC (1.2.840.113549.3.7)");
        assert_eq!(describe(&[0x2A, 0x03]), "OID 1.2.3");
    }
}
