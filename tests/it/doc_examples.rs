//! Every Linux example in README.md and docs/ is run here, so the documentation cannot rot.
//!
//! Each ```sh block line that calls azure-cacerts (or `cargo run --release --`) runs against a
//! sandbox: /tmp/cacerts and /opt/pimsync point into a temporary directory holding a copy of a
//! cacerts file, JAVA_HOME points at a fake runtime. Lines that need the internet (`--online`,
//! `check --host`) are not run; their arguments are still checked by clap (`--help` appended).
//! docs/scheduling.md has its own tests in tests/refresh_cli.rs.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;

const DOCS: &[&str] = &[
    "README.md",
    "docs/ja/README.md",
    "docs/usage.md",
    "docs/catalog.md",
    "docs/design.md",
];

struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    java_home: PathBuf,
    pimsync: PathBuf,
}

fn source_cacerts() -> PathBuf {
    debian_cacerts().unwrap_or_else(|| sample("jks-jdk17.jks"))
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let java_home = root.join("jdk");
    std::fs::create_dir_all(java_home.join("lib/security")).unwrap();
    copy_writable(&source_cacerts(), &java_home.join("lib/security/cacerts"));
    let pimsync = root.join("opt/pimsync");
    for d in ["config", "log", "jre/lib/security"] {
        std::fs::create_dir_all(pimsync.join(d)).unwrap();
    }
    copy_writable(&source_cacerts(), &pimsync.join("jre/lib/security/cacerts"));
    std::fs::write(pimsync.join("jre/release"), "JAVA_VERSION=\"1.8.0_392\"\n").unwrap();
    Sandbox {
        _dir: dir,
        root,
        java_home,
        pimsync,
    }
}

/// The lines of the ```sh blocks of a markdown file.
fn sh_lines(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in doc.lines() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            in_sh = !in_sh && (lang == "sh" || lang == "bash");
            continue;
        }
        if in_sh {
            // Comments are aligned after two or more spaces.
            let cmd = match line.find("  #") {
                Some(i) => &line[..i],
                None => line,
            };
            let cmd = cmd.trim();
            if !cmd.is_empty() && !cmd.starts_with('#') {
                out.push(cmd.to_string());
            }
        }
    }
    out
}

fn localise(line: &str, sb: &Sandbox) -> String {
    line.replace("/tmp/cacerts", sb.root.join("cacerts").to_str().unwrap())
        .replace("/opt/pimsync", sb.pimsync.to_str().unwrap())
}

/// Splits on spaces, keeping double-quoted words together.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn run_doc(name: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let doc = std::fs::read_to_string(&path).unwrap();
    let sb = sandbox();
    let mut ran = 0;
    for line in sh_lines(&doc) {
        let line = localise(&line, &sb);
        let mut w = words(&line);
        match w.first().map(String::as_str) {
            Some("cp") => {
                let args: Vec<&String> = w.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
                let (src, dst) = (Path::new(args[0]), Path::new(args[1]));
                // A rollback example names a backup of a given date: run it when one is there.
                if src.exists() {
                    copy_writable(src, dst);
                }
                continue;
            }
            Some("cargo") if line.starts_with("cargo run --release --") => {
                w.drain(..4);
            }
            Some("azure-cacerts") => {
                w.remove(0);
            }
            _ => continue,
        }
        let networked =
            w.iter().any(|a| a == "--online" || a == "--host") && !w.iter().any(|a| a == "--chain");
        if networked {
            w.push("--help".into());
        }
        let o = bin()
            .args(&w)
            .env("JAVA_HOME", &sb.java_home)
            .current_dir(&sb.root)
            .output()
            .unwrap();
        let code = o.status.code();
        if networked {
            assert_eq!(
                code,
                Some(0),
                "{name}: `{line}` arguments rejected: {}",
                stderr(&o)
            );
        } else {
            assert!(
                matches!(code, Some(0) | Some(1)),
                "{name}: `{line}` exited {code:?}: {}{}",
                stdout(&o),
                stderr(&o)
            );
        }
        ran += 1;
    }
    ran
}

#[test]
fn readme_examples_run() {
    let ran = run_doc("README.md");
    assert!(ran >= 5, "README.md has runnable examples ({ran})");
}

#[test]
fn docs_examples_run() {
    for name in DOCS.iter().skip(1) {
        run_doc(name);
    }
    assert!(run_doc("docs/ja/README.md") >= 5);
}
