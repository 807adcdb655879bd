//! The external keystore corpus (`../shared/external-keystores`, 214 keystores made by other
//! tools, listed in its MANIFEST.tsv) with Java as the judge: one long-lived JVM per JDK runs
//! tests/java/KeystoreJudge.java over every file (JDK 17 first, Temurin 25 where 17 fails).
//!
//! - What Java reads, we read the same: the same aliases, entry kinds, certificate SHA-256s,
//!   creation dates and count as `Keystore::parse(..).entries()`.
//! - Every file Java reads takes a new trusted certificate (`add_trusted_cert`, `to_bytes`),
//!   and Java then shows every original entry unchanged (alias, kind, fingerprints, date, and
//!   keys still opening with their key passwords), the new one, and one more in the count; a
//!   MAC-less PKCS12 stays MAC-less and the certificates keep their protection.
//! - What Java refuses, we refuse with an error that names the real reason.
//!
//! The corpus is not the project's to commit: when the folder is missing the test prints a
//! note and passes, except in CI (`CI` set), where it fails. Self-contained on purpose (no
//! `mod common`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use azure_cacerts::keystore::pkcs12::{ContentProtection, Pkcs12Store};
use azure_cacerts::keystore::{EntryKind, Keystore, KeystoreError, StoreType};
use sha2::{Digest, Sha256};

const JDK17: &str = "/usr/lib/jvm/java-17-openjdk-amd64";
const JDK25: &str = "/usr/lib/jvm/temurin-25-jdk-amd64";
/// The alias of the certificate every readable file gets (lower case: Java's form).
const NEW_ALIAS: &str = "azure-cacerts-corpus-test-ca";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Skips (prints why and returns None) outside CI; fails in CI.
fn skip_or_fail(why: &str) -> Option<()> {
    assert!(!in_ci(), "{why}: required in CI");
    eprintln!("SKIPPED external_keystores: {why}");
    None
}

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len() / 2)
        .filter_map(|i| s.get(2 * i..2 * i + 2))
        .map(|p| u8::from_str_radix(p, 16).unwrap_or(b'?'))
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------------------
// The manifest

#[derive(Debug, Clone)]
struct Row {
    file: String,
    storetype: String,
    storepass: Option<String>,
    keypass: Vec<(String, String)>,
    keytool17: String,
}

fn password_field(s: &str) -> Option<String> {
    match s {
        "<none>" => None,
        "<empty>" => Some(String::new()),
        other => Some(other.to_string()),
    }
}

fn read_manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv reads");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert!(c.len() >= 6, "a MANIFEST row with {} columns: {l}", c.len());
            let keypass = c[4]
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (a, pw) = p.split_once('=').expect("alias=password");
                    (a.to_string(), password_field(pw).unwrap_or_default())
                })
                .collect();
            Row {
                file: c[0].to_string(),
                storetype: c[2].to_string(),
                storepass: password_field(c[3]),
                keypass,
                keytool17: c[5].to_string(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The judge: one JVM answering LOAD requests (see KeystoreJudge.java for the protocol)

#[derive(Debug, Clone, PartialEq, Eq)]
struct JavaEntry {
    kind: String,
    /// "now" (the load time: no stored date), "-" (none) or ms since the epoch.
    created: String,
    sha256: Vec<String>,
    /// Outcome of KeyStore.getKey with the key password.
    key: String,
}

#[derive(Debug, Clone)]
struct JavaView {
    count: usize,
    entries: BTreeMap<String, JavaEntry>,
}

struct Judge {
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Judge {
    fn start(jdk: &str, classes: &Path) -> Judge {
        let java = Path::new(jdk).join("bin/java");
        let mut child = Command::new(&java)
            .arg("-cp")
            .arg(classes)
            .arg("KeystoreJudge")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", java.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut judge = Judge {
            name: jdk.rsplit('/').next().unwrap_or(jdk).to_string(),
            child,
            stdin,
            stdout,
        };
        writeln!(judge.stdin, "PING").expect("judge stdin");
        let pong = judge.line();
        assert!(pong.starts_with("PONG"), "judge said {pong:?}");
        judge
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        let n = self.stdout.read_line(&mut l).expect("judge stdout");
        assert!(n > 0, "the {} judge ended unexpectedly", self.name);
        l.trim_end_matches('\n').to_string()
    }

    fn load(
        &mut self,
        path: &Path,
        storepass: Option<&str>,
        keypass: &[(String, String)],
    ) -> Result<JavaView, String> {
        let mut req = vec![
            "LOAD".to_string(),
            hex(path.to_str().expect("UTF-8 path")),
            "-".into(),
            storepass.map_or("-".into(), hex),
        ];
        for (a, p) in keypass {
            req.push(hex(a));
            req.push(hex(p));
        }
        writeln!(self.stdin, "{}", req.join("\t")).expect("judge stdin");
        self.stdin.flush().expect("judge stdin");
        let first = self.line();
        let f: Vec<&str> = first.split('\t').collect();
        match f.first() {
            Some(&"ERR") => return Err(unhex(f.get(1).unwrap_or(&""))),
            Some(&"OK") => {}
            _ => panic!("judge said {first:?}"),
        }
        let count = f.get(2).and_then(|c| c.parse().ok()).expect("a count");
        let mut entries = BTreeMap::new();
        loop {
            let l = self.line();
            if l == "END" {
                break;
            }
            let e: Vec<&str> = l.split('\t').collect();
            assert_eq!(e.len(), 6, "judge entry line {l:?}");
            let sha256 = if e[4] == "-" {
                Vec::new()
            } else {
                e[4].split(',').map(str::to_string).collect()
            };
            entries.insert(
                unhex(e[1]),
                JavaEntry {
                    kind: e[2].to_string(),
                    created: e[3].to_string(),
                    sha256,
                    key: e[5].to_string(),
                },
            );
        }
        Ok(JavaView { count, entries })
    }
}

impl Drop for Judge {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "QUIT");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

fn compile_judge(out: &Path) -> bool {
    let javac = Path::new(JDK17).join("bin/javac");
    let status = Command::new(&javac)
        .arg("-d")
        .arg(out)
        .arg(crate_dir().join("tests/java/KeystoreJudge.java"))
        .status()
        .unwrap_or_else(|e| panic!("{} runs: {e}", javac.display()));
    status.success()
}

// ---------------------------------------------------------------------------------------
// Comparing

fn java_kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::PrivateKey => "PrivateKeyEntry",
        EntryKind::SecretKey => "SecretKeyEntry",
        EntryKind::TrustedCert => "trustedCertEntry",
    }
}

/// Where our entries differ from Java's view, one line per difference.
fn compare(ours: &Keystore, java: &JavaView) -> Vec<String> {
    let mut diffs = Vec::new();
    if ours.entries().len() != java.count {
        diffs.push(format!(
            "count: ours {}, Java {}",
            ours.entries().len(),
            java.count
        ));
    }
    let mut seen = BTreeMap::new();
    for e in ours.entries() {
        if seen.insert(e.alias.clone(), ()).is_some() {
            diffs.push(format!("alias {:?} listed twice by us", e.alias));
        }
        let Some(j) = java.entries.get(&e.alias) else {
            diffs.push(format!("alias {:?}: we list it, Java does not", e.alias));
            continue;
        };
        if java_kind(e.kind) != j.kind {
            diffs.push(format!(
                "alias {:?}: ours {}, Java {}",
                e.alias,
                java_kind(e.kind),
                j.kind
            ));
        }
        let ours_fp: Vec<String> = e.certs.iter().map(|c| sha256_hex(c)).collect();
        if e.kind != EntryKind::SecretKey && ours_fp != j.sha256 {
            diffs.push(format!(
                "alias {:?}: certificates ours {ours_fp:?}, Java {:?}",
                e.alias, j.sha256
            ));
        }
        let date_ok = match e.created_ms {
            Some(ms) => j.created == ms.to_string(),
            None => j.created == "now" || j.created == "-",
        };
        if !date_ok {
            diffs.push(format!(
                "alias {:?}: created ours {:?}, Java {}",
                e.alias, e.created_ms, j.created
            ));
        }
    }
    for alias in java.entries.keys() {
        if !seen.contains_key(alias) {
            diffs.push(format!("alias {alias:?}: Java lists it, we do not"));
        }
    }
    diffs
}

/// The words our refusal must contain, by what Java said; None when Java's reason is not one
/// this test knows.
fn expected_reason(row: &Row, java_error: &str) -> Option<&'static [&'static str]> {
    if java_error.contains("Unrecognized keystore format") {
        return match row.storetype.as_str() {
            "BKS-V1" => Some(&["BKS-V1"]),
            "BKS" => Some(&["BKS"]),
            "UBER" => Some(&["UBER"]),
            "BCFKS" => Some(&["BCFKS"]),
            _ => None,
        };
    }
    if java_error.contains("Invalid secret key format") {
        return Some(&["secret key"]);
    }
    if java_error.contains("expecting the object identifier for AES cipher") {
        return Some(&["AES-192-CBC", "DES-EDE3-CBC"]);
    }
    if java_error.contains("1.2.840.113549.1.5.14") {
        return Some(&["PBMAC1"]);
    }
    None
}

fn names_reason(msg: &str, words: &[&str]) -> bool {
    words.iter().any(|w| msg.contains(w))
}

fn is_typed_refusal(e: &KeystoreError) -> bool {
    matches!(
        e,
        KeystoreError::JavaCannotLoad(_) | KeystoreError::BouncyCastle { .. }
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn test_ca() -> Vec<u8> {
    let pem = std::fs::read_to_string(crate_dir().join("tests/fixtures/new-ca.pem"))
        .expect("tests/fixtures/new-ca.pem");
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64_decode(&b64)
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:?}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    out
}

/// A PKCS12's MAC presence and the protection of each of its ContentInfos.
fn pkcs12_shape(data: &[u8], pw: Option<&str>) -> Option<(bool, Vec<ContentProtection>)> {
    let s = Pkcs12Store::parse(data, pw).ok()?;
    Some((s.has_mac(), s.contents()))
}

#[derive(Default)]
struct Tally {
    files: usize,
    agree: usize,
    appended: usize,
    not_writable_without_password: Vec<String>,
    refused: usize,
    judged_by_25: Vec<String>,
    shadowed: Vec<String>,
    disagreements: Vec<String>,
}

impl Tally {
    fn disagree(&mut self, row: &Row, what: impl std::fmt::Display) {
        self.disagreements.push(format!("{}: {what}", row.file));
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn external_keystores_agree_with_java() {
    let started = std::time::Instant::now();
    let corpus = crate_dir().join("../shared/external-keystores");
    if !corpus.join("MANIFEST.tsv").is_file() {
        let _ = skip_or_fail(&format!("{} is missing", corpus.display()));
        return;
    }
    if !Path::new(JDK17).join("bin/javac").is_file() {
        let _ = skip_or_fail(&format!("no JDK 17 at {JDK17}"));
        return;
    }
    let classes = tempfile::tempdir().expect("tempdir");
    assert!(compile_judge(classes.path()), "javac KeystoreJudge.java");
    let mut j17 = Judge::start(JDK17, classes.path());
    let mut j25: Option<Judge> = None;
    let ca = test_ca();
    let ca_fp = sha256_hex(&ca);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let rows = read_manifest(&corpus);
    let mut t = Tally::default();

    for row in &rows {
        t.files += 1;
        let path = corpus.join(&row.file);
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pw = row.storepass.as_deref();

        // Java's view: JDK 17, or Temurin 25 where 17 fails.
        let mut by_25 = false;
        let java = match j17.load(&path, pw, &row.keypass) {
            Ok(v) => Ok(v),
            Err(e17) if Path::new(JDK25).join("bin/java").is_file() => {
                let j = j25.get_or_insert_with(|| Judge::start(JDK25, classes.path()));
                match j.load(&path, pw, &row.keypass) {
                    Ok(v) => {
                        by_25 = true;
                        Ok(v)
                    }
                    Err(_) => Err(e17),
                }
            }
            Err(e17) => Err(e17),
        };
        if let Some(n) = row
            .keytool17
            .strip_suffix(" entries")
            .and_then(|n| n.parse::<usize>().ok())
        {
            if let Ok(v) = &java {
                if !by_25 {
                    assert_eq!(v.count, n, "{}: the judge and the MANIFEST", row.file);
                }
            }
        }
        let ours = Keystore::parse(&data, None, pw);

        match java {
            Err(java_error) => {
                let Some(words) = expected_reason(row, &java_error) else {
                    t.disagree(
                        row,
                        format!(
                            "Java refuses it for a reason this test does not know: {java_error}"
                        ),
                    );
                    continue;
                };
                match ours {
                    Err(e) if is_typed_refusal(&e) && names_reason(&e.to_string(), words) => {
                        t.refused += 1;
                    }
                    Err(e) => t.disagree(
                        row,
                        format!("Java: {java_error}; we refuse, but with {e:?} (want one of {words:?})"),
                    ),
                    Ok(ks) => match ks.java_load_problem() {
                        None => t.disagree(row, format!("Java refuses it ({java_error}); we read it")),
                        Some(p) if !names_reason(&p.to_string(), words) => t.disagree(
                            row,
                            format!("Java: {java_error}; our load problem says {p} (want one of {words:?})"),
                        ),
                        Some(_) => {
                            // Listed with a warning; writing must be refused with the reason.
                            let mut ks = ks;
                            let written = ks
                                .add_trusted_cert(NEW_ALIAS, &ca, now_ms())
                                .and_then(|()| ks.to_bytes(pw));
                            match written {
                                Err(e @ KeystoreError::JavaCannotLoad(_))
                                    if names_reason(&e.to_string(), words) =>
                                {
                                    t.refused += 1
                                }
                                Err(e) => t.disagree(
                                    row,
                                    format!("writing a file Java cannot load: refused with {e:?}"),
                                ),
                                Ok(_) => t.disagree(row, "wrote a file Java cannot load"),
                            }
                        }
                    },
                }
            }
            Ok(view) => {
                if by_25 {
                    t.judged_by_25.push(row.file.clone());
                }
                let mut ks = match ours {
                    Ok(ks) => ks,
                    Err(e) => {
                        t.disagree(
                            row,
                            format!("Java reads it ({} entries); we refuse: {e}", view.count),
                        );
                        continue;
                    }
                };
                if let Some(p) = ks.java_load_problem() {
                    t.disagree(row, format!("Java reads it; we say Java cannot: {p}"));
                }
                let mut diffs = compare(&ks, &view);
                // A JKS/JCEKS header counts every entry; Java shows one per alias, and the
                // difference must be named as shadowed entries.
                if matches!(ks.store_type(), StoreType::Jks | StoreType::Jceks) {
                    let header = data
                        .get(8..12)
                        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let shadowed = ks.shadowed_aliases().len();
                    if header != view.count + shadowed {
                        diffs.push(format!(
                            "the header counts {header} entries, Java shows {}, we name {shadowed} shadowed",
                            view.count
                        ));
                    }
                    if shadowed > 0 {
                        t.shadowed.push(row.file.clone());
                    }
                }
                if !diffs.is_empty() {
                    t.disagree(row, diffs.join("; "));
                    continue;
                }
                t.agree += 1;

                // Append, then let Java judge the result.
                if let Err(e) = ks.add_trusted_cert(NEW_ALIAS, &ca, now_ms()) {
                    t.disagree(row, format!("add_trusted_cert: {e}"));
                    continue;
                }
                let bytes = match ks.to_bytes(pw) {
                    Ok(b) => b,
                    Err(KeystoreError::PasswordRequired(_))
                        if pw.is_none() && ks.is_password_protected() =>
                    {
                        // Read without its password: listing is fine, writing needs it.
                        t.not_writable_without_password.push(row.file.clone());
                        continue;
                    }
                    Err(e) => {
                        t.disagree(row, format!("to_bytes: {e}"));
                        continue;
                    }
                };
                let out =
                    out_dir
                        .path()
                        .join(format!("{:03}-{}", t.files, row.file.replace('/', "_")));
                std::fs::write(&out, &bytes).expect("write the appended keystore");
                let judge = if by_25 {
                    j25.as_mut().expect("started")
                } else {
                    &mut j17
                };
                let after = match judge.load(&out, pw, &row.keypass) {
                    Ok(v) => v,
                    Err(e) => {
                        t.disagree(row, format!("Java cannot load what we appended: {e}"));
                        continue;
                    }
                };
                let mut problems = Vec::new();
                if after.count != view.count + 1 {
                    problems.push(format!(
                        "count after append {} (before {})",
                        after.count, view.count
                    ));
                }
                for (alias, before) in &view.entries {
                    match after.entries.get(alias) {
                        None => problems.push(format!("{alias:?} is gone")),
                        Some(a) if a != before => {
                            problems.push(format!("{alias:?} changed: {before:?} -> {a:?}"))
                        }
                        Some(_) => {}
                    }
                }
                match after.entries.get(NEW_ALIAS) {
                    Some(n) if n.kind == "trustedCertEntry" && n.sha256 == [ca_fp.clone()] => {}
                    other => problems.push(format!("the new entry is {other:?}")),
                }
                // Our own reading of what we wrote.
                match Keystore::parse(&bytes, None, pw) {
                    Ok(re) if re.entries() == ks.entries() => {}
                    Ok(_) => problems.push("re-parsing our output gives other entries".into()),
                    Err(e) => problems.push(format!("re-parsing our output: {e}")),
                }
                if ks.store_type() == StoreType::Pkcs12 {
                    match (pkcs12_shape(&data, pw), pkcs12_shape(&bytes, pw)) {
                        (Some((mac0, c0)), Some((mac1, c1))) => {
                            if mac0 != mac1 {
                                problems.push(format!("MAC present before {mac0}, after {mac1}"));
                            }
                            let encrypted =
                                |c: &ContentProtection| !matches!(c, ContentProtection::Data);
                            if c1.len() != c0.len() + 1
                                || c1[..c0.len()] != c0[..]
                                || c1.last().map(encrypted) != Some(c0.iter().any(encrypted))
                            {
                                problems.push(format!("content protection {c0:?} -> {c1:?}"));
                            }
                        }
                        _ => problems.push("the PKCS12 shape cannot be read".into()),
                    }
                }
                if problems.is_empty() {
                    t.appended += 1;
                } else {
                    t.disagree(row, format!("after appending: {}", problems.join("; ")));
                }
            }
        }
    }

    println!(
        "external keystores: {} files; {} read as Java reads them, {} of those appended and re-judged by Java, {} not writable without their password (read with none); {} refused with Java's reason; {} judged by Temurin 25 {:?}; {} disagreements; {:.1?}",
        t.files,
        t.agree,
        t.appended,
        t.not_writable_without_password.len(),
        t.refused,
        t.judged_by_25.len(),
        t.judged_by_25,
        t.disagreements.len(),
        started.elapsed()
    );
    println!("files with shadowed duplicate aliases: {:?}", t.shadowed);
    if !t.not_writable_without_password.is_empty() {
        println!(
            "read without a password, so not written: {:?}",
            t.not_writable_without_password
        );
    }
    assert!(
        t.disagreements.is_empty(),
        "{} of {} files disagree with Java:\n{}",
        t.disagreements.len(),
        t.files,
        t.disagreements.join("\n")
    );
    assert_eq!(t.agree + t.refused, t.files);
}

/// What a person reads for the files Java refuses: a Bouncy Castle store is named and the
/// conversion shown; a PKCS12 that Java cannot load (PBES2 with AES-192) is listed with a
/// warning, and import refuses it (exit 3) and leaves it byte for byte as it was.
#[test]
fn refused_files_are_named_and_never_written() {
    let corpus = crate_dir().join("../shared/external-keystores");
    if !corpus.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs the corpus at {}",
            corpus.display()
        );
        eprintln!("skipped: no external keystore corpus beside the project");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_azure-cacerts");
    let out = Command::new(bin)
        .args(["list", "--storepass", "12345678", "-k"])
        .arg(corpus.join("pyjks/christmas.bksv2"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("Bouncy Castle BKS keystore"), "{err}");
    assert!(err.contains("-srcstoretype BKS"), "{err}");
    assert!(!err.contains("restore it from a backup"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("aes192.p12");
    std::fs::copy(corpus.join("go-pkcs12/TestPBES2_AES192CBC.p12"), &p12).unwrap();
    let before = std::fs::read(&p12).unwrap();
    let list = Command::new(bin)
        .args(["list", "--storepass", "password", "-k"])
        .arg(&p12)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&list.stderr);
    assert_eq!(list.status.code(), Some(0), "{err}");
    assert!(err.contains("Java cannot load this keystore"), "{err}");
    let import = Command::new(bin)
        .args(["import", "--storepass", "password", "-k"])
        .arg(&p12)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&import.stderr);
    assert_eq!(import.status.code(), Some(3), "{err}");
    assert!(err.contains("Java cannot load"), "{err}");
    assert_eq!(std::fs::read(&p12).unwrap(), before);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no backup, temp or lock file left");
}
