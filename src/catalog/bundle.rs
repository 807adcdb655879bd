//! Offline bundles: `fetch --out DIR` writes DIR/catalog.toml (the schema of
//! certs/catalog.toml, with the source it was made from) and DIR/pem/<slug>.pem;
//! `--bundle DIR` reads them back and re-verifies every PEM against the thumbprints.
//!
//! Writing goes to a temporary directory beside DIR that is renamed into place, so a
//! failure leaves no half-written bundle behind. An existing bundle is updated file by file
//! (catalog.toml last), and files in DIR that the bundle does not own are never touched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{file, format_date, verify, Catalog, CatalogError, CatalogSource};

const CATALOG_FILE: &str = "catalog.toml";
const PEM_DIR: &str = "pem";
const MAX_CATALOG_BYTES: u64 = crate::fsio::CATALOG_LIMIT;
const MAX_PEM_BYTES: u64 = crate::fsio::PEM_LIMIT;

/// Reads and verifies a bundle. Every CA with a `pem` must have that file, and its bytes must
/// hash to the catalog's SHA-1 and SHA-256 and parse; anything else rejects the bundle.
pub fn read(dir: &Path) -> Result<Catalog, CatalogError> {
    let missing = |why: String| CatalogError::BundleMissing {
        path: dir.to_path_buf(),
        why,
    };
    let meta = fs::metadata(dir).map_err(|e| missing(io_why(&e)))?;
    if !meta.is_dir() {
        return Err(missing("not a directory".into()));
    }
    let cat_path = dir.join(CATALOG_FILE);
    if !cat_path.exists() {
        return Err(missing(format!(
            "no {CATALOG_FILE}: not a bundle written by `fetch --out`"
        )));
    }
    let text =
        read_limited(&cat_path, MAX_CATALOG_BYTES).map_err(|why| CatalogError::BundleMissing {
            path: cat_path.clone(),
            why,
        })?;
    let text = String::from_utf8(text).map_err(|_| CatalogError::BundleInvalid {
        path: cat_path.clone(),
        why: "not UTF-8 text".into(),
    })?;
    let parsed = file::parse(&text).map_err(|why| CatalogError::BundleInvalid {
        path: cat_path.clone(),
        why,
    })?;

    let mut catalog = parsed.catalog;
    catalog.origin = Some(match catalog.source {
        CatalogSource::Bundle => CatalogSource::BuiltIn,
        s => s,
    });
    catalog.source = CatalogSource::Bundle;
    catalog.location = Some(dir.display().to_string());

    for (ca, pem) in catalog.cas.iter_mut().zip(parsed.pems) {
        let Some(name) = pem else { continue };
        let path = dir.join(PEM_DIR).join(&name);
        let invalid = |why: String| CatalogError::BundleInvalid {
            path: path.clone(),
            why,
        };
        let bytes = read_limited(&path, MAX_PEM_BYTES)
            .map_err(|why| invalid(format!("{why} ({})", ca.display_name())))?;
        let der = verify::decode_pinned(&bytes, &ca.sha1)
            .map_err(|why| invalid(format!("{why} ({})", ca.display_name())))?;
        let checked = verify::check_pins(ca, &der).map_err(|e| match e {
            CatalogError::Verification { ca, why } => invalid(format!("{why} ({ca})")),
            e => e,
        })?;
        let not_after = checked.info.not_after.date();
        if ca.not_after.is_some_and(|d| d != not_after) {
            return Err(invalid(format!(
                "catalog.toml says not_after {}, the certificate says {} ({})",
                ca.not_after.map(format_date).unwrap_or_default(),
                format_date(not_after),
                ca.display_name()
            )));
        }
        ca.not_after = Some(not_after);
        if ca.sha256.is_none() {
            ca.sha256 = Some(checked.info.sha256.clone());
        }
        ca.der = Some(der.into());
    }
    Ok(catalog)
}

/// What [`write`] put where.
#[derive(Debug, Clone)]
pub struct Written {
    pub dir: PathBuf,
    pub certificates: usize,
}

/// Writes `catalog` (the CAs with bytes get a PEM file) as a bundle at `dir`.
pub fn write(
    catalog: &Catalog,
    dir: &Path,
    fetched_on: time::OffsetDateTime,
) -> Result<Written, CatalogError> {
    let out_err = |path: &Path, why: String| CatalogError::Output {
        path: path.to_path_buf(),
        why,
    };
    let name = dir
        .file_name()
        .ok_or_else(|| out_err(dir, "the path has no directory name".into()))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(out_err(
            dir,
            format!("the parent directory {} does not exist", parent.display()),
        ));
    }
    let replacing = match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {
            let empty = fs::read_dir(dir)
                .map_err(|e| out_err(dir, io_why(&e)))?
                .next()
                .is_none();
            if !empty && !dir.join(CATALOG_FILE).is_file() {
                return Err(out_err(
                    dir,
                    "the directory exists and is not a bundle; refusing to replace it".into(),
                ));
            }
            true
        }
        Ok(_) => return Err(out_err(dir, "exists and is not a directory".into())),
        Err(_) => false,
    };

    let stamp = format!(
        "{}-{}",
        std::process::id(),
        fetched_on.unix_timestamp_nanos()
    );
    let tmp = parent.join(format!(".{name}.tmp-{stamp}"));
    let fetched = fetched_on
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format_date(fetched_on.date()));
    let certificates = match fill(catalog, &tmp, &fetched) {
        Ok(n) => n,
        Err(why) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(out_err(dir, why));
        }
    };

    if replacing {
        if let Err(why) = replace_in_place(dir, &tmp) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(out_err(dir, why));
        }
        let _ = fs::remove_dir_all(&tmp);
    } else if let Err(e) = fs::rename(&tmp, dir) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(out_err(dir, io_why(&e)));
    }
    sync_dir(&parent);
    Ok(Written {
        dir: dir.to_path_buf(),
        certificates,
    })
}

/// Updates an existing bundle directory from the complete new one in `tmp`, touching only
/// the bundle's own files: each PEM is renamed over its old copy, then catalog.toml (the
/// commit point: a reader that comes in between finds a PEM that does not match its old
/// catalog line and rejects the bundle, never a mix it accepts), then the PEMs the old
/// catalog named and the new one does not are removed. Any other file in the directory
/// stays as it was.
fn replace_in_place(dir: &Path, tmp: &Path) -> Result<(), String> {
    let old_pems: Vec<String> = read_limited(&dir.join(CATALOG_FILE), MAX_CATALOG_BYTES)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| file::parse(&t).ok())
        .map(|p| p.pems.into_iter().flatten().collect())
        .unwrap_or_default();
    let pem_dir = dir.join(PEM_DIR);
    if !pem_dir.is_dir() {
        fs::create_dir(&pem_dir)
            .map_err(|e| format!("cannot create {}: {}", pem_dir.display(), io_why(&e)))?;
    }
    let mut new_pems = Vec::new();
    for entry in fs::read_dir(tmp.join(PEM_DIR)).map_err(|e| io_why(&e))? {
        let entry = entry.map_err(|e| io_why(&e))?;
        let name = entry.file_name();
        fs::rename(entry.path(), pem_dir.join(&name))
            .map_err(|e| format!("{}: {}", pem_dir.join(&name).display(), io_why(&e)))?;
        new_pems.push(name.to_string_lossy().into_owned());
    }
    sync_dir(&pem_dir);
    fs::rename(tmp.join(CATALOG_FILE), dir.join(CATALOG_FILE))
        .map_err(|e| format!("{}: {}", dir.join(CATALOG_FILE).display(), io_why(&e)))?;
    for gone in old_pems.iter().filter(|n| !new_pems.contains(n)) {
        // Only a name the old catalog listed, and only a regular file: never follow a link.
        let path = pem_dir.join(gone);
        if super::is_valid_slug(gone.trim_end_matches(".pem"))
            && fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
        {
            let _ = fs::remove_file(&path);
        }
    }
    sync_dir(&pem_dir);
    sync_dir(dir);
    Ok(())
}

fn fill(catalog: &Catalog, tmp: &Path, fetched: &str) -> Result<usize, String> {
    fs::create_dir(tmp).map_err(|e| format!("cannot create {}: {}", tmp.display(), io_why(&e)))?;
    let pem_dir = tmp.join(PEM_DIR);
    fs::create_dir(&pem_dir).map_err(|e| io_why(&e))?;
    let mut n = 0;
    for ca in &catalog.cas {
        let Some(der) = &ca.der else { continue };
        write_synced(
            &pem_dir.join(ca.pem_file_name()),
            pem_encode(der).as_bytes(),
        )?;
        n += 1;
    }
    let text = file::render(catalog, fetched)?;
    write_synced(&tmp.join(CATALOG_FILE), text.as_bytes())?;
    sync_dir(&pem_dir);
    sync_dir(tmp);
    Ok(n)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f =
        fs::File::create(path).map_err(|e| format!("{}: {}", path.display(), io_why(&e)))?;
    f.write_all(bytes)
        .map_err(|e| format!("{}: {}", path.display(), io_why(&e)))?;
    f.sync_all()
        .map_err(|e| format!("{}: {}", path.display(), io_why(&e)))
}

/// Best effort: a directory fsync makes the rename durable on Linux; elsewhere it may fail.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A file of the bundle: a regular file, not a symbolic link (a bundle is data we wrote; a
/// link in it points at something else), bounded in size.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    crate::fsio::read_regular_no_follow(path, limit).map_err(|e| e.to_string())
}

fn io_why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// PEM of one certificate: base64 in 64-column lines (RFC 7468).
pub fn pem_encode(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin;

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-11-25 10:00 UTC)
    }

    #[test]
    fn pem_encoding_matches_the_embedded_files() {
        let c = builtin::load().unwrap();
        for ca in c.cas.iter().filter(|c| c.der.is_some()) {
            let embedded = builtin::pem_file(&ca.pem_file_name()).unwrap();
            assert_eq!(
                pem_encode(ca.der.as_ref().unwrap()).as_bytes(),
                embedded.as_slice(),
                "{}",
                ca.slug
            );
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        let c = builtin::load().unwrap();
        let w = write(&c, &dir, now()).unwrap();
        assert_eq!(w.certificates, 68);
        let back = read(&dir).unwrap();
        assert_eq!(back.source, CatalogSource::Bundle);
        assert_eq!(back.origin, Some(CatalogSource::BuiltIn));
        assert_eq!(back.page_date, c.page_date);
        assert_eq!(back.cas.len(), c.cas.len());
        for (a, b) in back.cas.iter().zip(&c.cas) {
            assert_eq!(
                (&a.slug, &a.sha1, &a.sha256, &a.der, a.status),
                (&b.slug, &b.sha1, &b.sha256, &b.der, b.status)
            );
        }
        // Written again over itself: replaced in one step, no leftovers beside it.
        write(&back, &dir, now()).unwrap();
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["bundle"]);

        // One byte changed in one PEM: the bundle is rejected (exit 5).
        let victim = dir.join("pem").join("digicert-global-root-g2.pem");
        let mut text = fs::read_to_string(&victim).unwrap();
        let pos = text.find('\n').unwrap() + 30;
        let ch = if &text[pos..pos + 1] == "A" { "B" } else { "A" };
        text.replace_range(pos..pos + 1, ch);
        fs::write(&victim, text).unwrap();
        let e = read(&dir).unwrap_err();
        assert!(matches!(e, CatalogError::BundleInvalid { .. }), "{e}");
        assert!(e.to_string().contains("digicert-global-root-g2.pem"), "{e}");

        fs::remove_file(&victim).unwrap();
        assert!(matches!(
            read(&dir).unwrap_err(),
            CatalogError::BundleInvalid { .. }
        ));
    }

    #[test]
    fn missing_and_foreign_directories() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(&tmp.path().join("nope")).unwrap_err(),
            CatalogError::BundleMissing { .. }
        ));
        assert!(matches!(
            read(tmp.path()).unwrap_err(),
            CatalogError::BundleMissing { .. }
        ));
        fs::write(tmp.path().join("precious.txt"), "x").unwrap();
        let c = builtin::load().unwrap();
        let e = write(&c, tmp.path(), now()).unwrap_err();
        assert!(e.to_string().contains("not a bundle"), "{e}");
        assert!(tmp.path().join("precious.txt").exists());
        assert!(write(&c, &tmp.path().join("no/such/parent"), now()).is_err());
    }

    #[test]
    fn rewriting_a_bundle_keeps_files_it_does_not_own() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        let mut c = builtin::load().unwrap();
        write(&c, &dir, now()).unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        fs::write(dir.join("pem/mine.txt"), "mine too").unwrap();
        // The second bundle lacks one CA the first had: its PEM goes, nothing else does.
        let gone = c.cas.iter().position(|x| x.der.is_some()).unwrap();
        let gone_file = dir.join("pem").join(c.cas[gone].pem_file_name());
        assert!(gone_file.exists());
        c.cas.remove(gone);
        write(&c, &dir, now()).unwrap();
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(
            fs::read_to_string(dir.join("pem/mine.txt")).unwrap(),
            "mine too"
        );
        assert!(!gone_file.exists());
        let back = read(&dir).unwrap();
        assert_eq!(back.cas.len(), c.cas.len());
        // No temporary directory is left beside it.
        let left: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bundle")]);
    }

    #[cfg(unix)]
    #[test]
    fn bundle_entries_must_be_regular_files_and_are_never_quoted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        let c = builtin::load().unwrap();
        write(&c, &dir, now()).unwrap();
        let victim = dir.join("pem").join(
            c.cas
                .iter()
                .find(|x| x.der.is_some())
                .unwrap()
                .pem_file_name(),
        );
        let secret = tmp.path().join("shadow");
        fs::write(&secret, "root:$6$secretsalt$hash:19000:0:99999:7:::\n").unwrap();
        fs::remove_file(&victim).unwrap();
        std::os::unix::fs::symlink(&secret, &victim).unwrap();
        let e = read(&dir).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(!e.contains("secretsalt") && !e.contains("19000"), "{e}");
        // A regular file with foreign content: named by what it looks like, never quoted.
        fs::remove_file(&victim).unwrap();
        fs::copy(&secret, &victim).unwrap();
        let e = read(&dir).unwrap_err().to_string();
        assert!(!e.contains("secretsalt") && !e.contains("19000"), "{e}");
        // A FIFO in place of a PEM is refused at once, not waited on.
        fs::remove_file(&victim).unwrap();
        assert!(std::process::Command::new("mkfifo")
            .arg(&victim)
            .status()
            .unwrap()
            .success());
        let started = std::time::Instant::now();
        let e = read(&dir).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn an_oversized_catalog_is_refused_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        write(&builtin::load().unwrap(), &dir, now()).unwrap();
        let mut text = fs::read_to_string(dir.join(CATALOG_FILE)).unwrap();
        while (text.len() as u64) <= MAX_CATALOG_BYTES {
            text.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        fs::write(dir.join(CATALOG_FILE), text).unwrap();
        let e = read(&dir).unwrap_err().to_string();
        assert!(e.contains("larger than 2 MiB"), "{e}");
    }
}
