//! The Ansible role (contrib/ansible/), run by ansible-playbook against localhost (`-c
//! local`) on copies of keystores: the first run changes, the second does not, check mode
//! changes nothing and says what would change, a wrong password fails with the tool's
//! message, `--all-found` works on a fake machine; `--syntax-check` covers the Windows
//! tasks. ansible-core comes from PyPI (.ci/run installs it); without it this is skipped
//! with a note, except in CI.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// ansible-playbook on PATH; None (a note) outside CI, a failure in CI.
fn ansible_playbook() -> Option<PathBuf> {
    let found = which("ansible-playbook");
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "ansible-playbook is not on PATH: CI installs ansible from PyPI (.ci/run)"
        );
        eprintln!("note: ansible-playbook not found (pip install ansible-core); the Ansible role test is skipped");
    }
    found
}

struct Controller {
    playbook_bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Controller {
    fn new(playbook_bin: PathBuf) -> Controller {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("inventory"),
            "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
        )
        .unwrap();
        std::fs::write(
            d.join("ansible.cfg"),
            "[defaults]\nretry_files_enabled = False\n",
        )
        .unwrap();
        // The play a user writes: the role, and a handler of their own on the role's topic.
        std::fs::write(
            d.join("play.yml"),
            "- hosts: all\n  gather_facts: false\n  roles:\n    - role: azure_cacerts\n  handlers:\n    - name: Note the change\n      ansible.builtin.file:\n        path: \"{{ marker }}\"\n        state: touch\n      listen: azure-cacerts truststore changed\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("host/bin")).unwrap();
        Controller { playbook_bin, dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, playbook: &str, extra: &[&str], vars: &[(&str, &str)]) -> Output {
        let d = self.dir.path();
        let mut all: Vec<(String, String)> = vec![
            (
                "azure_cacerts_binary_src".into(),
                env!("CARGO_BIN_EXE_azure-cacerts").into(),
            ),
            (
                "azure_cacerts_binary".into(),
                p(&d.join("host/bin/azure-cacerts")).into(),
            ),
            ("marker".into(), p(&d.join("marker")).into()),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let vars: serde_json::Map<String, serde_json::Value> = all
            .into_iter()
            .map(|(k, v)| {
                let v = match v.as_str() {
                    "true" => serde_json::Value::Bool(true),
                    _ => serde_json::Value::String(v),
                };
                (k, v)
            })
            .collect();
        std::fs::write(d.join("vars.json"), serde_json::to_vec(&vars).unwrap()).unwrap();
        let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/roles");
        std::process::Command::new(&self.playbook_bin)
            .args(["-i", p(&d.join("inventory")), playbook, "-e", "@vars.json"])
            .args(extra)
            .current_dir(d)
            .env("ANSIBLE_CONFIG", d.join("ansible.cfg"))
            .env("ANSIBLE_ROLES_PATH", &roles)
            .env("ANSIBLE_HOME", d.join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", d.join("tmp-local"))
            .env("ANSIBLE_REMOTE_TEMP", d.join("tmp-remote"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
            .env_remove("ANSIBLE_FORCE_COLOR")
            .env_remove("PIMSYNC_HOME")
            .env_remove("JAVA_HOME")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ansible-playbook runs")
    }

    fn marker(&self) -> bool {
        let m = self.path("marker");
        let there = m.exists();
        let _ = std::fs::remove_file(m);
        there
    }
}

/// `changed=N` and `failed=N` of the PLAY RECAP line.
fn recap(o: &Output) -> (u32, u32) {
    let text = stdout(o);
    let line = text
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with("localhost"))
        .unwrap_or_else(|| panic!("no recap:\n{text}\n{}", stderr(o)));
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {line}"))
    };
    (field("changed="), field("failed="))
}

/// What the role's task of that name reported (`ok`, `changed`, `skipping`, `fatal`).
fn task_result(o: &Output, task: &str) -> String {
    let text = stdout(o);
    let header = format!("TASK [azure_cacerts : {task}]");
    let at = text
        .find(&header)
        .unwrap_or_else(|| panic!("no task {task}:\n{text}"));
    text[at + header.len()..]
        .lines()
        .find(|l| l.contains("[localhost]"))
        .and_then(|l| l.split(':').next())
        .unwrap_or_default()
        .to_string()
}

fn entries(ks: &Path, pass: &str) -> usize {
    azure_cacerts::keystore::Keystore::parse(&std::fs::read(ks).unwrap(), None, Some(pass))
        .unwrap()
        .entries()
        .len()
}

#[test]
fn the_role_imports_once_checks_without_writing_and_fails_with_the_tools_message() {
    let Some(bin) = ansible_playbook() else {
        return;
    };
    let c = Controller::new(bin);
    let debian = fixtures_dir().join("cacerts-debian.jks");
    let ks = c.path("cacerts");
    copy_writable(&debian, &ks);
    let before = entries(&ks, "changeit");

    let o = c.run("play.yml", &[], &[("azure_cacerts_keystore", p(&ks))]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(task_result(&o, "Add the missing Azure CAs"), "changed");
    assert!(c.marker(), "the handler runs on a change");
    assert!(entries(&ks, "changeit") > before);
    let after_first = std::fs::read(&ks).unwrap();

    // Second run: nothing to add, nothing changed, no handler.
    let o = c.run("play.yml", &[], &[("azure_cacerts_keystore", p(&ks))]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(recap(&o), (0, 0), "{}", stdout(&o));
    assert_eq!(task_result(&o, "Add the missing Azure CAs"), "skipping");
    assert!(!c.marker());
    assert_eq!(std::fs::read(&ks).unwrap(), after_first);

    // Check mode on a fresh copy: reports the change, writes nothing (no backup either).
    let fresh_dir = c.path("fresh");
    std::fs::create_dir_all(&fresh_dir).unwrap();
    let fresh = fresh_dir.join("cacerts");
    copy_writable(&debian, &fresh);
    let o = c.run(
        "play.yml",
        &["--check"],
        &[("azure_cacerts_keystore", p(&fresh))],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(recap(&o).0, 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("would add 29 Azure CA(s)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read(&fresh).unwrap(),
        std::fs::read(&debian).unwrap()
    );
    assert_eq!(std::fs::read_dir(&fresh_dir).unwrap().count(), 1);
    assert!(!c.marker());
    // ... and on the store already done: nothing would change.
    let o = c.run(
        "play.yml",
        &["--check"],
        &[("azure_cacerts_keystore", p(&ks))],
    );
    assert_eq!(recap(&o), (0, 0), "{}", stdout(&o));

    // A wrong password fails the task with the tool's own error line.
    let o = c.run(
        "play.yml",
        &[],
        &[
            ("azure_cacerts_keystore", p(&fresh)),
            ("azure_cacerts_storepass", "not-the-password"),
        ],
    );
    assert!(!o.status.success());
    assert_eq!(recap(&o).1, 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("error: cannot read keystore"), "{out}");
    assert!(out.contains("wrong password"), "{out}");
    assert!(
        !out.contains("not-the-password"),
        "the password is never shown: {out}"
    );
    assert_eq!(
        std::fs::read(&fresh).unwrap(),
        std::fs::read(&debian).unwrap()
    );

    // Two keystore choices at once: the role refuses before running anything.
    let o = c.run(
        "play.yml",
        &[],
        &[
            ("azure_cacerts_keystore", p(&fresh)),
            ("azure_cacerts_all_found", "true"),
        ],
    );
    assert!(!o.status.success());
    assert!(stdout(&o).contains("Set exactly one of"), "{}", stdout(&o));
}

#[test]
fn the_role_updates_every_store_found() {
    let Some(bin) = ansible_playbook() else {
        return;
    };
    let c = Controller::new(bin);
    // A machine with two runtimes, each with its own cacerts.
    let root = c.path("machine");
    for (name, sample_file) in [
        (
            "usr/lib/jvm/jdk-17",
            fixtures_dir().join("cacerts-debian.jks"),
        ),
        ("opt/app/jre", sample("cacerts-debian-nopass-jdk25.p12")),
    ] {
        let home = root.join(name);
        std::fs::create_dir_all(home.join("bin")).unwrap();
        std::fs::create_dir_all(home.join("lib/security")).unwrap();
        std::fs::write(home.join("bin/java"), "").unwrap();
        std::fs::write(home.join("release"), "JAVA_VERSION=\"17\"\n").unwrap();
        copy_writable(&sample_file, &home.join("lib/security/cacerts"));
    }
    let vars = [
        ("azure_cacerts_all_found", "true"),
        ("azure_cacerts_system_root", p(&root)),
    ];
    let o = c.run("play.yml", &[], &vars);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(task_result(&o, "Add the missing Azure CAs"), "changed");
    assert!(c.marker());
    let o = c.run("play.yml", &[], &vars);
    assert_eq!(recap(&o), (0, 0), "{}", stdout(&o));
    let o = c.run("play.yml", &["--check"], &vars);
    assert_eq!(recap(&o), (0, 0), "{}", stdout(&o));
}

#[test]
fn the_role_and_its_windows_tasks_pass_the_syntax_check() {
    let Some(bin) = ansible_playbook() else {
        return;
    };
    let c = Controller::new(bin);
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/site.yml");
    let o = c.run(p(&site), &["--syntax-check"], &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // The OS task files are included at run time; imported statically here, every module
    // they name is resolved (the Windows ones come from the ansible.windows collection).
    std::fs::write(
        c.path("all-tasks.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.import_role:\n        name: azure_cacerts\n        tasks_from: linux\n    - ansible.builtin.import_role:\n        name: azure_cacerts\n        tasks_from: windows\n    - ansible.builtin.import_tasks: restart_windows.yml\n",
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("contrib/ansible/roles/azure_cacerts/handlers/restart_windows.yml"),
        c.path("restart_windows.yml"),
    )
    .unwrap();
    let o = c.run("all-tasks.yml", &["--syntax-check"], &[]);
    let missing_collection = stderr(&o).contains("ansible.windows") && !o.status.success();
    if missing_collection && std::env::var_os("CI").is_none() {
        eprintln!("note: the ansible.windows collection is not installed (pip install ansible); the syntax check of the Windows tasks is skipped");
        return;
    }
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}
