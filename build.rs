//! Turns the built-in catalog's PEM files (certs/pem/) into the DER the binary embeds, so no
//! run decodes base64. Nothing else: the pins, parse and dates of every embedded certificate
//! are proven by the unit tests of src/catalog/builtin.rs, over exactly these bytes.
//!
//! Written without dependencies: the files are our own (scripts/build-catalog.py writes them,
//! one CERTIFICATE block each, 64-column base64), so a strict little decoder is enough, and a
//! file that is not exactly that stops the build with its name.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let pem_dir = Path::new("certs/pem");
    println!("cargo:rerun-if-changed=certs/pem");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let der_dir = Path::new(&out_dir).join("der");
    std::fs::create_dir_all(&der_dir).expect("create OUT_DIR/der");

    let mut names: Vec<String> = std::fs::read_dir(pem_dir)
        .expect("read certs/pem")
        .map(|e| {
            e.expect("list certs/pem")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".pem"))
        .collect();
    names.sort();

    let mut table = String::from(
        "// Written by build.rs from certs/pem/: (PEM file name, its certificate as DER).\n\
         pub(super) const DERS: &[(&str, &[u8])] = &[\n",
    );
    for name in &names {
        let path = pem_dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("read a PEM file");
        let der = decode_certificate(&text)
            .unwrap_or_else(|why| panic!("certs/pem/{name} is not one PEM certificate: {why}"));
        let der_name = format!("{}.der", name.trim_end_matches(".pem"));
        std::fs::write(der_dir.join(&der_name), der).expect("write DER to OUT_DIR");
        writeln!(
            table,
            "    ({name:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/der/{der_name}\"))),"
        )
        .expect("format to a String");
    }
    table.push_str("];\n");
    std::fs::write(Path::new(&out_dir).join("builtin_der.rs"), table).expect("write table");
}

fn decode_certificate(text: &str) -> Result<Vec<u8>, String> {
    let body = text
        .trim_end()
        .strip_prefix("-----BEGIN CERTIFICATE-----")
        .and_then(|t| t.strip_suffix("-----END CERTIFICATE-----"))
        .ok_or("not framed by BEGIN/END CERTIFICATE")?;
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0usize);
    for b in body.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            other => return Err(format!("byte {other:#04x} is not base64")),
        };
        if pad > 0 {
            return Err("data after '='".into());
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if pad > 2 || acc != 0 {
        return Err("bad padding".into());
    }
    Ok(out)
}
