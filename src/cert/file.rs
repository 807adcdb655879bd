//! The certificates of a file a person hands over: PEM (one or many `CERTIFICATE` blocks,
//! OpenSSL's `TRUSTED CERTIFICATE`, `PKCS7`/`CMS` blocks), DER (one certificate, or several
//! back to back), or a DER PKCS#7 bundle (`.p7b`). keytool stores only the first certificate
//! of a bundle; every one is returned here, in file order, as the bytes the file holds.
//!
//! Only the container is read here; each certificate is judged by [`super::Certificate`].
//! Other PEM blocks (keys, CRLs, requests) are counted, never echoed.

use base64::Engine as _;
use thiserror::Error;

use super::pkcs7;

/// More certificates than any real bundle holds (an OS bundle has about 150): a bound on
/// the work one file can cause.
pub const MAX_CERTS: usize = 10_000;

/// How the file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Pem,
    Der,
    Pkcs7Der,
    Pkcs7Pem,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Pem => "PEM",
            Form::Der => "DER",
            Form::Pkcs7Der => "PKCS#7 (DER)",
            Form::Pkcs7Pem => "PKCS#7 (PEM)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCerts {
    pub form: Form,
    /// DER, in file order.
    pub certs: Vec<Vec<u8>>,
    /// What was left out: "2 PEM blocks of other kinds (PRIVATE KEY)", ...
    pub left_out: Vec<String>,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CertFileError {
    #[error("it holds no certificate (no \"BEGIN CERTIFICATE\" or \"BEGIN PKCS7\" block, and it is not DER)")]
    NoCertificate,
    #[error("PEM block {block} ({label}) {why}")]
    Pem {
        block: usize,
        label: String,
        why: String,
    },
    #[error("DER certificate {index} {why}")]
    Der { index: usize, why: String },
    #[error("the PKCS#7 bundle does not parse: {0}")]
    Pkcs7(String),
    #[error("it holds more than {MAX_CERTS} certificates")]
    TooMany,
}

/// Reads every certificate of `bytes` (the whole file).
pub fn read(bytes: &[u8]) -> Result<FileCerts, CertFileError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.first() == Some(&0x30) {
        return read_der(body);
    }
    read_pem(body)
}

fn read_der(body: &[u8]) -> Result<FileCerts, CertFileError> {
    if pkcs7::looks_like(body) {
        let p7 = pkcs7::certificates(body).map_err(CertFileError::Pkcs7)?;
        return from_pkcs7(p7, Form::Pkcs7Der, Vec::new());
    }
    let mut certs = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let len = der_element_len(rest).map_err(|why| CertFileError::Der {
            index: certs.len() + 1,
            why,
        })?;
        certs.push(rest[..len].to_vec());
        if certs.len() > MAX_CERTS {
            return Err(CertFileError::TooMany);
        }
        rest = &rest[len..];
        // Trailing whitespace or padding after the last certificate is tolerated.
        if rest.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
            break;
        }
    }
    Ok(FileCerts {
        form: Form::Der,
        certs,
        left_out: Vec::new(),
    })
}

fn from_pkcs7(
    p7: pkcs7::Pkcs7Certs,
    form: Form,
    mut left_out: Vec<String>,
) -> Result<FileCerts, CertFileError> {
    if p7.certs.len() > MAX_CERTS {
        return Err(CertFileError::TooMany);
    }
    if p7.other_entries > 0 {
        left_out.push(format!(
            "{} entr{} of the PKCS#7 certificate set that are not X.509 certificates",
            p7.other_entries,
            if p7.other_entries == 1 { "y" } else { "ies" }
        ));
    }
    if p7.certs.is_empty() {
        return Err(CertFileError::Pkcs7("its certificate set is empty".into()));
    }
    Ok(FileCerts {
        form,
        certs: p7.certs,
        left_out,
    })
}

/// The length of the definite-length DER SEQUENCE at the start of `data`.
fn der_element_len(data: &[u8]) -> Result<usize, String> {
    if data.first() != Some(&0x30) {
        return Err("does not start with a SEQUENCE (is the file cut or padded?)".into());
    }
    let first = *data.get(1).ok_or("ends inside its length")?;
    let (header, len) = match first {
        n if n < 0x80 => (2usize, usize::from(n)),
        0x80 => return Err("has an indefinite length, which a certificate never has".into()),
        n => {
            let count = usize::from(n & 0x7F);
            if count > 4 {
                return Err("has a length that does not fit in 4 bytes".into());
            }
            let bytes = data.get(2..2 + count).ok_or("ends inside its length")?;
            (
                2 + count,
                bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)),
            )
        }
    };
    header
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| "runs past the end of the file (is it cut?)".to_string())
}

/// A PEM label this reader takes certificates from.
enum Kind {
    Certificate,
    /// OpenSSL's `TRUSTED CERTIFICATE`: the certificate followed by its trust settings.
    Trusted,
    Pkcs7,
    Other,
}

fn kind(label: &str) -> Kind {
    match label {
        "CERTIFICATE" | "X509 CERTIFICATE" | "X.509 CERTIFICATE" => Kind::Certificate,
        "TRUSTED CERTIFICATE" => Kind::Trusted,
        "PKCS7" | "PKCS #7 SIGNED DATA" | "CMS" | "CERTIFICATE CHAIN" => Kind::Pkcs7,
        _ => Kind::Other,
    }
}

fn read_pem(body: &[u8]) -> Result<FileCerts, CertFileError> {
    // Text outside the blocks ("subject=..." lines of openssl, comments) is ignored; a file
    // that is not text at all has no block and ends as NoCertificate.
    let text = String::from_utf8_lossy(body);
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    let mut left_out = Vec::new();
    let mut saw_pkcs7 = false;
    let mut saw_plain = false;
    let mut lines = text.lines();
    let mut block = 0usize;
    while let Some(line) = lines.next() {
        let Some(label) = armor(line.trim(), "-----BEGIN ") else {
            continue;
        };
        block += 1;
        let label = label.to_string();
        let pem_err = |why: String| CertFileError::Pem {
            block,
            label: label.clone(),
            why,
        };
        let mut b64 = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            let l = l.trim();
            if let Some(end) = armor(l, "-----END ") {
                if end != label {
                    return Err(pem_err(format!("is closed by \"END {end}\"")));
                }
                closed = true;
                break;
            }
            // RFC 1421 headers (Proc-Type, DEK-Info) belong to encrypted keys only.
            if l.contains(':') {
                continue;
            }
            b64.extend(l.chars().filter(|c| !c.is_whitespace()));
        }
        if !closed {
            return Err(pem_err("has no END line (is the file cut?)".into()));
        }
        let kind = kind(&label);
        if matches!(kind, Kind::Other) {
            others.push(label.clone());
            continue;
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| pem_err(format!("is not valid base64: {e}")))?;
        match kind {
            Kind::Certificate => {
                saw_plain = true;
                let len = der_element_len(&der)
                    .map_err(|w| pem_err(format!("holds no certificate: it {w}")))?;
                if len != der.len() {
                    return Err(pem_err(format!(
                        "holds {} bytes after the certificate",
                        der.len() - len
                    )));
                }
                certs.push(der);
            }
            Kind::Trusted => {
                saw_plain = true;
                let len = der_element_len(&der)
                    .map_err(|w| pem_err(format!("holds no certificate: it {w}")))?;
                certs.push(der[..len].to_vec());
            }
            Kind::Pkcs7 => {
                saw_pkcs7 = true;
                let p7 = pkcs7::certificates(&der)
                    .map_err(|w| pem_err(format!("does not parse as PKCS#7: {w}")))?;
                let got = from_pkcs7(p7, Form::Pkcs7Pem, Vec::new())
                    .map_err(|e| pem_err(e.to_string()))?;
                left_out.extend(got.left_out);
                certs.extend(got.certs);
            }
            Kind::Other => {}
        }
        if certs.len() > MAX_CERTS {
            return Err(CertFileError::TooMany);
        }
    }
    if !others.is_empty() {
        others.sort();
        others.dedup();
        left_out.push(format!(
            "PEM block(s) of other kinds ({}), never read",
            others.join(", ")
        ));
    }
    if certs.is_empty() {
        return Err(CertFileError::NoCertificate);
    }
    let form = if saw_pkcs7 && !saw_plain {
        Form::Pkcs7Pem
    } else {
        Form::Pem
    };
    Ok(FileCerts {
        form,
        certs,
        left_out,
    })
}

/// `LABEL` of `-----BEGIN LABEL-----` (or END).
fn armor<'a>(line: &'a str, start: &str) -> Option<&'a str> {
    line.strip_prefix(start)?.strip_suffix("-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut s = format!("-----BEGIN {label}-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).unwrap());
            s.push('\n');
        }
        s.push_str(&format!("-----END {label}-----\n"));
        s
    }

    fn builtin(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs/pem")
            .join(name);
        let bytes = std::fs::read(path).unwrap();
        read(&bytes).unwrap().certs.remove(0)
    }

    #[test]
    fn pem_der_and_their_mixtures() {
        let a = builtin("digicert-global-root-g2.pem");
        let b = builtin("baltimore-cybertrust-root.pem");
        let text = format!(
            "subject=CN = a\n{}\n# comment\n{}{}",
            pem("CERTIFICATE", &a),
            pem("PRIVATE KEY", b"secret"),
            pem(
                "TRUSTED CERTIFICATE",
                &[b.clone(), vec![0x30, 0x00]].concat()
            )
        );
        let got = read(text.as_bytes()).unwrap();
        assert_eq!(got.form, Form::Pem);
        assert_eq!(got.certs, vec![a.clone(), b.clone()]);
        assert_eq!(got.left_out.len(), 1);
        assert!(!got.left_out[0].contains("secret"));

        let der = [a.clone(), b.clone()].concat();
        let got = read(&der).unwrap();
        assert_eq!((got.form, got.certs), (Form::Der, vec![a.clone(), b]));
        // CRLF and a BOM.
        let crlf = format!("\u{feff}{}", pem("CERTIFICATE", &a).replace('\n', "\r\n"));
        assert_eq!(read(crlf.as_bytes()).unwrap().certs, vec![a]);
    }

    #[test]
    fn bad_files_say_why() {
        assert_eq!(read(b"hello"), Err(CertFileError::NoCertificate));
        assert_eq!(read(b""), Err(CertFileError::NoCertificate));
        let cut = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(matches!(
            read(cut.as_bytes()),
            Err(CertFileError::Pem { .. })
        ));
        let bad64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(read(bad64.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("base64"));
        assert!(matches!(
            read(&[0x30, 0x82, 0xFF]),
            Err(CertFileError::Der { index: 1, .. })
        ));
        let mismatched = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END PKCS7-----\n";
        assert!(read(mismatched.as_bytes()).is_err());
    }
}
