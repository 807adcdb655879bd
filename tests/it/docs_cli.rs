//! `completions` and `man` produce non-empty, valid output.

use crate::common;

use common::*;

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = bin().args(["completions", shell]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.len() > 1000 && text.contains("azure-cacerts"),
            "{shell}"
        );
        for sub in ["import", "diff", "refresh", "fetch"] {
            assert!(text.contains(sub), "{shell} completes {sub}");
        }
    }
    // bash can parse what we give it.
    if let Some(bash) = which("bash") {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.bash");
        std::fs::write(
            &f,
            stdout(&bin().args(["completions", "bash"]).output().unwrap()),
        )
        .unwrap();
        let o = std::process::Command::new(bash)
            .arg("-n")
            .arg(&f)
            .output()
            .unwrap();
        assert!(o.status.success(), "bash -n: {}", stderr(&o));
    }
    let o = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "unknown shell is a usage error");
}

#[test]
fn man_page_is_roff_with_every_command() {
    let o = bin().arg("man").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(page.contains(".TH azure-cacerts 1"));
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS"] {
        assert!(page.contains(&format!(".SH {section}")), "{section}");
    }
    for cmd in [
        "LIST", "CATALOG", "FETCH", "DIFF", "IMPORT", "REFRESH", "CHECK", "DOCTOR",
    ] {
        assert!(page.contains(&format!(".SH \"COMMAND: {cmd}\"")), "{cmd}");
    }
    assert!(page.contains("storepass\\-file"), "options are documented");
    if let Some(groff) = which("groff") {
        let mut child = std::process::Command::new(groff)
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "groff: {}", stderr(&o));
    }
}
