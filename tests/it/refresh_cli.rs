//! `refresh`: concurrency, pruning, fallback, several keystores, log file, quiet runs, and the
//! scheduling examples of docs/scheduling.md.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use azure_cacerts::keystore::{EntryKind, Keystore};
use common::*;
use rustls_pki_types::{pem::PemObject, CertificateDer};
use serde_json::Value;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}\n{}", stdout(o), stderr(o)))
}

fn azure_pem(name: &str) -> Vec<u8> {
    let path = azure_ca_dir().join("pem").join(name);
    CertificateDer::from_pem_file(&path)
        .unwrap()
        .as_ref()
        .to_vec()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn trusted_sha256s(ks: &Path) -> Vec<String> {
    let store = Keystore::parse(&std::fs::read(ks).unwrap(), None, Some("changeit")).unwrap();
    store
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::TrustedCert)
        .map(|e| azure_cacerts::cert::sha256_hex(&e.certs[0]))
        .collect()
}

#[test]
fn two_runs_at_once_write_one_at_a_time() {
    let (dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let spawn = || {
        bin()
            .args(["refresh", "--offline", "-k", p(&ks), "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    let added = |o: &Output| json(o)["summary"]["added"].as_u64().unwrap();
    let (na, nb) = (added(&a), added(&b));
    assert!(
        na == 0 || nb == 0,
        "only one of the runs adds: {na} and {nb}"
    );
    assert!(na + nb > 20);
    let shas = trusted_sha256s(&ks);
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for s in &shas {
        *counts.entry(s).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "every CA once");
    let files = files_in(dir.path());
    assert_eq!(
        files.len(),
        2,
        "the keystore and one backup, nothing else: {files:?}"
    );
    assert!(
        files[1].starts_with("jks-jdk17.jks.") && files[1].ends_with(".bak"),
        "{files:?}"
    );
}

#[test]
fn prune_removes_only_our_stale_entries() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk17.jks"));
    let mut store = Keystore::parse(&std::fs::read(&ks).unwrap(), None, Some("changeit")).unwrap();
    let baltimore = azure_pem("baltimore-cybertrust-root.pem"); // expired 2025-05-12, retired
    let l1k = azure_pem("entrust-certification-authority-l1k.pem"); // retired, valid to 2030
    let g2 = azure_pem("digicert-global-root-g2.pem"); // listed, valid
    let old_2020 = azure_pem("digicert-tls-rsa-sha256-2020-ca1-6938fd4d.pem"); // retired, valid
    store
        .add_trusted_cert("azure-ca-baltimore-cybertrust-root", &baltimore, 0)
        .unwrap();
    store
        .add_trusted_cert("azure-ca-entrust-certification-authority-l1k", &l1k, 0)
        .unwrap();
    store
        .add_trusted_cert("azure-ca-digicert-global-root-g2", &g2, 0)
        .unwrap();
    store
        .add_trusted_cert("my-baltimore", &baltimore, 0)
        .unwrap();
    store
        .add_trusted_cert("jdk-digicert-2020", &old_2020, 0)
        .unwrap();
    std::fs::write(&ks, store.to_bytes(Some("changeit")).unwrap()).unwrap();

    let o = run(&[
        "refresh",
        "--offline",
        "--prune",
        "-k",
        p(&ks),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let mut pruned: Vec<(String, String)> = v["pruned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["alias"].as_str().unwrap().to_string(),
                p["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pruned.sort();
    assert_eq!(
        pruned,
        vec![
            (
                "azure-ca-baltimore-cybertrust-root".to_string(),
                "expired".to_string()
            ),
            (
                "azure-ca-entrust-certification-authority-l1k".to_string(),
                "retired".to_string()
            ),
        ]
    );
    let after = Keystore::parse(&std::fs::read(&ks).unwrap(), None, Some("changeit")).unwrap();
    for kept in [
        "azure-ca-digicert-global-root-g2",
        "my-baltimore",
        "jdk-digicert-2020",
        "myca",
        "mykey",
    ] {
        assert!(after.contains_alias(kept), "{kept} must stay");
    }
    assert!(!after.contains_alias("azure-ca-baltimore-cybertrust-root"));
    assert!(!after.contains_alias("azure-ca-entrust-certification-authority-l1k"));
}

#[test]
fn network_down_falls_back_to_builtin() {
    let (_dir, ks) = copy_to_temp(&sample("jks-jdk25.jks"));
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/azure-certificate-authority-details.md");
    let o = run(&[
        "refresh",
        "-k",
        p(&ks),
        "--catalog-url",
        &url,
        "--timeout",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("using the built-in catalog"),
        "{}",
        stderr(&o)
    );
    let v = json(&o);
    assert_eq!(v["catalog"]["source"], "built-in");
    assert!(v["catalog"]["fallback"].is_string());
    assert_eq!(v["changed"], true);
}

#[test]
fn one_failing_keystore_does_not_stop_the_others_and_quiet_when_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jks");
    let b = dir.path().join("b.jks");
    let c = dir.path().join("c.p12");
    copy_writable(&sample("jks-jdk17.jks"), &a);
    std::fs::write(&b, b"this is not a keystore").unwrap();
    copy_writable(&sample("pkcs12-nopass-jdk25.p12"), &c);
    let log = dir.path().join("refresh.log");
    let args = [
        "refresh",
        "--offline",
        "-k",
        p(&a),
        "-k",
        p(&b),
        "-k",
        p(&c),
        "--log-file",
        p(&log),
        "--no-backup",
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(3), "the worst result: {}", stderr(&o));
    assert_eq!(
        stderr(&o)
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        1,
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("b.jks"));
    assert!(trusted_sha256s(&a).len() > 20, "a was updated");
    let c_store = Keystore::parse(&std::fs::read(&c).unwrap(), None, None).unwrap();
    assert!(c_store.entries().len() > 20, "c was updated");
    assert!(!c_store.is_password_protected());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("a.jks")
            && lines[0].contains("result=ok")
            && lines[0].contains("source=built-in")
    );
    assert!(lines[1].contains("b.jks") && lines[1].contains("result=error"));
    assert!(!lines[0].contains("added=0"));

    // Second run on the good ones: nothing changes, nothing printed, one more log line each.
    let o = run(&[
        "refresh",
        "--offline",
        "-k",
        p(&a),
        "-k",
        p(&c),
        "--log-file",
        p(&log),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "quiet when nothing changed");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().last().unwrap().contains("added=0 pruned=0"));
}

#[test]
fn config_file_lists_keystores_with_their_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jks");
    copy_writable(
        &sample("edge-cases/jks-storepass-differs-from-keypass.jks"),
        &a,
    );
    std::fs::write(dir.path().join("a.pass"), "n3wStorePass\n").unwrap();
    let config = dir.path().join("refresh.toml");
    std::fs::write(
        &config,
        "skip = [\"DigiCert Global Root G3\"]\n[[keystore]]\npath = \"a.jks\"\nstorepass_file = \"a.pass\"\n",
    )
    .unwrap();
    let o = run(&[
        "refresh",
        "--offline",
        "--config",
        p(&config),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert!(v["cas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "DigiCert Global Root G3" && c["status"] == "skipped"));
    let store = Keystore::parse(&std::fs::read(&a).unwrap(), None, Some("n3wStorePass")).unwrap();
    assert!(store.is_verified() && store.entries().len() > 20);
}

/// The code blocks of docs/scheduling.md that follow `<!-- example: NAME -->`.
fn doc_example(name: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scheduling.md"))
            .unwrap();
    let marker = format!("<!-- example: {name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in docs/scheduling.md"));
    let rest = &doc[start..];
    let body_start = rest.find("```").unwrap();
    let body = &rest[body_start..];
    let first_nl = body.find('\n').unwrap();
    let end = body[first_nl..].find("\n```").unwrap();
    body[first_nl + 1..first_nl + end + 1].to_string()
}

/// A fake PIMSYNC installation and a `systemctl` stub that records its arguments.
fn fake_install() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("pimsync");
    std::fs::create_dir_all(home.join("jre/lib/security")).unwrap();
    copy_writable(
        &sample("jks-jdk17.jks"),
        &home.join("jre/lib/security/cacerts"),
    );
    let stub_dir = dir.path().join("bin");
    std::fs::create_dir_all(&stub_dir).unwrap();
    let record = dir.path().join("systemctl.calls");
    let stub = stub_dir.join("systemctl");
    std::fs::write(
        &stub,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", record.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (dir, home, stub_dir, record)
}

fn localise(cmd: &str, home: &Path, log: &Path) -> String {
    cmd.replace(
        "/usr/local/bin/azure-cacerts",
        env!("CARGO_BIN_EXE_azure-cacerts"),
    )
    .replace("/opt/pimsync", p(home))
    .replace("/var/log/azure-cacerts.log", p(log))
    // The documented runs are live; the test stays offline and uses the built-in catalog.
    .replace(" refresh ", " refresh --offline ")
}

fn run_shell(cmd: &str, stub_dir: &Path) -> Output {
    let path = format!(
        "{}:{}",
        stub_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("PATH", path)
        .env_remove("PIMSYNC_HOME")
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn documented_systemd_and_cron_commands_work() {
    // systemd ExecStart: strip the key, undo systemd's %% escape, run it twice.
    let service = doc_example("systemd-service");
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap()
        .replace("%%", "%");
    let exec = exec
        .strip_prefix("/bin/sh -c '")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap()
        .to_string();
    let (dir, home, stub_dir, record) = fake_install();
    let log = dir.path().join("refresh.log");
    let cmd = localise(&exec, &home, &log);
    let o = run_shell(&cmd, &stub_dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "restart pimsync.service\n",
        "restarted after a change"
    );
    let o = run_shell(&cmd, &stub_dir);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap().lines().count(),
        1,
        "no restart when nothing changed"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
    assert!(doc_example("systemd-timer").contains("OnCalendar="));

    // cron: the fields before the user are the schedule; the rest is the command.
    let cron = doc_example("cron");
    let command = cron.trim().splitn(7, ' ').nth(6).unwrap().to_string();
    let (dir, home, stub_dir, record) = fake_install();
    let log = dir.path().join("refresh.log");
    let cmd = localise(&command, &home, &log);
    let o = run_shell(&cmd, &stub_dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "restart pimsync.service\n"
    );
    let _ = run_shell(&cmd, &stub_dir);
    assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 1);
}

/// The Task Scheduler definition shipped as a file: in the encoding it declares (UTF-16LE
/// with a BOM and CRLF, as Task Scheduler exports), the same text as docs/scheduling.md
/// shows, and read by the JDK's XML parser as UTF-16 with the expected elements.
#[test]
fn shipped_task_xml_is_utf16_as_declared_and_parses() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/azure-cacerts-refresh.xml");
    let bytes = std::fs::read(&file).unwrap();
    let body = bytes
        .strip_prefix(b"\xFF\xFE")
        .expect("a UTF-16LE byte-order mark");
    assert_eq!(body.len() % 2, 0);
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("valid UTF-16");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF throughout");
    assert_eq!(
        text.replace("\r\n", "\n"),
        doc_example("task-xml"),
        "docs/scheduling.md shows the shipped file"
    );
    assert!(doc_example("powershell").contains("ConvertFrom-Json"));

    let Some(keytool) = keytools().into_iter().next() else {
        eprintln!("note: no JDK here; the task XML was not parsed");
        return;
    };
    let o = std::process::Command::new(java_beside(&keytool))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/XmlCheck.java"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "encoding UTF-16LE declared UTF-16", "{out}");
    assert_eq!(
        lines[1],
        "root {http://schemas.microsoft.com/windows/2004/02/mit/task}Task"
    );
    for expected in [
        "UserId S-1-5-18",
        "Command powershell.exe",
        r#"Arguments -NoProfile -ExecutionPolicy Bypass -File "C:\PIMSYNC\azure-cacerts\refresh.ps1""#,
        "MultipleInstancesPolicy IgnoreNew",
    ] {
        assert!(lines.contains(&expected), "{expected} in {out}");
    }
}
