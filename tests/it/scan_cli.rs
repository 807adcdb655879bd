//! `scan`, `import --all-found`, `refresh --all-found` and `--format prometheus`, on a fake
//! machine built in a temporary folder (`--system-root`): package JDKs sharing an
//! OS-managed store through links, a password-less JDK 25 cacerts, a product with a
//! bundled jre whose start-up script names its own truststore and password, a systemd
//! unit, a store with the wrong password. Never this machine's own files.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use azure_cacerts::keystore::Keystore;
use common::*;
use serde_json::Value;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}\n{}", stdout(o), stderr(o)))
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A runtime's launcher and release file (not runnable: nothing here runs it).
fn runtime(home: &Path, vendor: &str, version: &str) {
    write(&home.join("bin/java"), b"");
    write(
        &home.join("release"),
        format!("IMPLEMENTOR=\"{vendor}\"\nJAVA_VERSION=\"{version}\"\n").as_bytes(),
    );
}

/// jks-jdk17.jks under another store password.
fn jks_with_password(password: &str) -> Vec<u8> {
    let bytes = std::fs::read(sample("jks-jdk17.jks")).unwrap();
    Keystore::parse(&bytes, None, Some("changeit"))
        .unwrap()
        .to_bytes(Some(password))
        .unwrap()
}

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn at(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }

    /// The binary with this tree as the machine: its JAVA_HOME and PATH, nothing of ours.
    fn run(&self, args: &[&str]) -> Output {
        let mut c = bin();
        c.args(args)
            .args(["--system-root", p(&self.root)])
            .env("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
            .env(
                "PATH",
                "/usr/local/bin:/usr/lib/jvm/java-17-openjdk-amd64/bin",
            )
            .env_remove("PIMSYNC_HOME");
        c.output().expect("binary runs")
    }
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = azure_cacerts::write::real_path(dir.path()).unwrap();
    let t = Tree { _dir: dir, root };
    // Debian: the JDK's cacerts is a link to the store ca-certificates-java builds.
    let debian = t.at("/etc/ssl/certs/java/cacerts");
    write(
        &debian,
        &std::fs::read(fixtures_dir().join("cacerts-debian.jks")).unwrap(),
    );
    let jdk17 = t.at("/usr/lib/jvm/java-17-openjdk-amd64");
    runtime(&jdk17, "Debian", "17.0.15");
    std::fs::create_dir_all(jdk17.join("lib/security")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "/etc/ssl/certs/java/cacerts",
        jdk17.join("lib/security/cacerts"),
    )
    .unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&debian, jdk17.join("lib/security/cacerts")).unwrap();
    // Temurin 25: its own password-less PKCS12.
    let temurin = t.at("/usr/lib/jvm/temurin-25-jdk-amd64");
    runtime(&temurin, "Eclipse Adoptium", "25.0.3");
    write(
        &temurin.join("lib/security/cacerts"),
        &std::fs::read(sample("cacerts-debian-nopass-jdk25.p12")).unwrap(),
    );
    // A product with a bundled Java 8 jre; its start-up script names its own truststore.
    let app = t.at("/opt/vendor/app");
    runtime(&app.join("jre"), "Oracle Corporation", "1.8.0_392");
    write(
        &app.join("jre/lib/security/cacerts"),
        &std::fs::read(sample("jks-jdk17.jks")).unwrap(),
    );
    write(
        &app.join("bin/start.sh"),
        b"#!/bin/sh\nJAVA_OPTS=\"-Djavax.net.ssl.trustStore=/opt/vendor/app/conf/trust.jks -Djavax.net.ssl.trustStorePassword=s3cret\"\nexec ../jre/bin/java $JAVA_OPTS -jar app.jar\n",
    );
    write(&app.join("conf/trust.jks"), &jks_with_password("s3cret"));
    write(
        &t.at("/etc/systemd/system/app.service"),
        b"[Unit]\nDescription=App\n[Service]\nExecStart=/opt/vendor/app/bin/start.sh\n",
    );
    // A unit whose truststore password is wrong.
    write(
        &t.at("/etc/systemd/system/broken.service"),
        b"[Service]\nExecStart=/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Djavax.net.ssl.trustStore=/srv/broken.jks -Djavax.net.ssl.trustStorePassword=wrong -jar b.jar\n",
    );
    write(
        &t.at("/srv/broken.jks"),
        &std::fs::read(sample("jks-jdk17.jks")).unwrap(),
    );
    t
}

fn store<'a>(doc: &'a Value, path: &Path) -> &'a Value {
    doc["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == p(path))
        .unwrap_or_else(|| panic!("no store {}: {doc:#}", path.display()))
}

#[test]
fn scan_finds_every_runtime_and_store_and_counts_as_diff_does() {
    let t = tree();
    let o = t.run(&["scan", "--format", "json"]);
    // A store that cannot be read (exit 3) is worse than one that lacks CAs (exit 1).
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let doc = json(&o);
    let homes: Vec<&str> = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["home"].as_str().unwrap())
        .collect();
    assert_eq!(
        homes,
        vec![
            p(&t.at("/opt/vendor/app/jre")),
            p(&t.at("/usr/lib/jvm/java-17-openjdk-amd64")),
            p(&t.at("/usr/lib/jvm/temurin-25-jdk-amd64")),
        ]
    );
    let temurin_rt = &doc["runtimes"][2];
    assert_eq!(temurin_rt["vendor"], "Eclipse Adoptium");
    assert_eq!(temurin_rt["version"], "25.0.3");
    assert_eq!(doc["stores"].as_array().unwrap().len(), 5, "{doc:#}");

    let debian = store(&doc, &t.at("/etc/ssl/certs/java/cacerts"));
    assert_eq!(debian["managed"], "debian");
    assert_eq!(debian["type"], "jks");
    assert_eq!(debian["entries"], 144);
    assert_eq!(
        debian["paths"][0],
        p(&t.at("/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts"))
    );
    let users: Vec<&str> = debian["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(users, vec!["java on PATH"], "{debian:#}");

    let temurin = store(
        &doc,
        &t.at("/usr/lib/jvm/temurin-25-jdk-amd64/lib/security/cacerts"),
    );
    assert_eq!(temurin["password_protected"], false);
    assert_eq!(temurin["type"], "pkcs12");
    assert_eq!(temurin["programs"][0]["name"], "JAVA_HOME");

    let trust = store(&doc, &t.at("/opt/vendor/app/conf/trust.jks"));
    assert_eq!(trust["state"], "read", "{trust:#}");
    assert_eq!(
        trust["password_setting"],
        p(&t.at("/opt/vendor/app/bin/start.sh"))
    );
    let kinds: Vec<&str> = trust["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["systemd-unit", "installation"], "{trust:#}");

    let broken = store(&doc, &t.at("/srv/broken.jks"));
    assert_eq!(broken["state"], "error");
    assert_eq!(broken["exit"], 3);
    assert!(
        broken["error"].as_str().unwrap().contains("broken.jks"),
        "{broken:#}"
    );
    assert_eq!(broken["programs"][0]["name"], "broken.service");
    assert!(!serde_json::to_string(&doc).unwrap().contains("s3cret"));

    // The missing counts are diff's, store by store.
    let mut total = 0;
    for s in doc["stores"].as_array().unwrap() {
        if s["state"] != "read" {
            continue;
        }
        let mut args = vec![
            "diff",
            "-k",
            s["path"].as_str().unwrap(),
            "--format",
            "json",
        ];
        if s["password_setting"].is_string() {
            args.extend(["--storepass", "s3cret"]);
        }
        let d = bin().args(&args).output().unwrap();
        assert_eq!(json(&d)["summary"], s["summary"], "{}", s["path"]);
        assert_eq!(
            s["missing"].as_array().unwrap().len() as u64,
            s["summary"]["missing"].as_u64().unwrap()
        );
        total += s["summary"]["missing"].as_u64().unwrap();
    }
    assert!(total > 0);
    assert_eq!(doc["summary"]["missing"], total);
    assert_eq!(doc["summary"]["failed"], 1);

    // Text: every store once, the OS-managed one and the unreadable one said so.
    let o = t.run(&["scan"]);
    let text = stdout(&o);
    assert_eq!(
        text.matches("/etc/ssl/certs/java/cacerts (JKS, 144 entries)")
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("generated by Debian's ca-certificates-java"),
        "{text}"
    );
    assert!(text.contains("not read: cannot read keystore"), "{text}");
    assert!(text.contains("used by app.service, installation"), "{text}");
    assert!(text.contains("import --all-found --system-root"), "{text}");

    // Left out, the broken store no longer decides the exit code.
    let o = t.run(&["scan", "--exclude", p(&t.at("/srv")), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        store(&json(&o), &t.at("/srv/broken.jks"))["state"],
        "excluded"
    );
    let o = t.run(&["scan", "-q", "--exclude", "/no/such/place"]);
    assert!(
        stderr(&o).contains("--exclude /no/such/place matched no truststore"),
        "{}",
        stderr(&o)
    );
}

fn keytool_count(kt: &Path, ks: &Path, storepass: &str) -> usize {
    let o = keytool(kt, &["-list", "-keystore", p(ks), "-storepass", storepass]);
    assert!(
        o.status.success(),
        "keytool on {}: {}{}",
        ks.display(),
        stdout(&o),
        stderr(&o)
    );
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.starts_with("Your keystore contains"))
        .unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// This machine's own Debian store, which the fake tree's links name: it must never change.
fn host_store() -> Option<Vec<u8>> {
    std::fs::read("/etc/ssl/certs/java/cacerts").ok()
}

#[test]
fn import_all_found_updates_each_store_on_its_own() {
    let host_before = host_store();
    let t = tree();
    let broken = t.at("/srv/broken.jks");
    let broken_before = std::fs::read(&broken).unwrap();
    let o = t.run(&["import", "--all-found", "--format", "json"]);
    // The wrong password is that store's failure; the others are updated.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("error: "), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Restart the Java programs"),
        "{}",
        stderr(&o)
    );
    let doc = json(&o);
    assert_eq!(doc["changed"], true);
    let results = doc["keystores"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let failed: Vec<&Value> = results.iter().filter(|r| r["error"].is_string()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["label"], p(&broken));
    assert_eq!(std::fs::read(&broken).unwrap(), broken_before);
    for r in results.iter().filter(|r| r["error"].is_null()) {
        assert_eq!(r["changed"], true, "{r:#}");
        let path = PathBuf::from(r["keystore"]["path"].as_str().unwrap());
        let backup = r["backup"].as_str().unwrap();
        assert!(Path::new(backup).is_file(), "{backup}");
        assert!(
            backup.starts_with(p(&path)),
            "backup beside the real file: {backup}"
        );
        let added = r["summary"]["added"].as_u64().unwrap() as usize;
        assert!(added > 0);
        // Java is the judge: keytool reads each result, with its own password.
        let pass = if path.ends_with("conf/trust.jks") {
            "s3cret"
        } else {
            "changeit"
        };
        for kt in keytools() {
            assert_eq!(
                keytool_count(&kt, &path, pass),
                r["keystore"]["entries"].as_u64().unwrap() as usize,
                "{}",
                path.display()
            );
        }
    }
    // The link of the Debian JDK is still a link.
    #[cfg(unix)]
    assert!(std::fs::symlink_metadata(
        t.at("/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts")
    )
    .unwrap()
    .file_type()
    .is_symlink());
    // A password-less store stays password-less.
    let temurin = t.at("/usr/lib/jvm/temurin-25-jdk-amd64/lib/security/cacerts");
    let ks = Keystore::parse(&std::fs::read(&temurin).unwrap(), None, None).unwrap();
    assert!(!ks.is_password_protected());

    // Again, with the broken one left out: nothing to do, exit 0.
    let o = t.run(&["import", "--all-found", "--exclude", p(&broken)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.matches(": 0 added").count(), 4, "{text}");
    assert!(
        text.contains(&format!("{}: excluded", broken.display())),
        "{text}"
    );
    assert!(
        text.contains("5 truststore(s): 0 updated, 4 already current, 0 failed, 1 excluded."),
        "{text}"
    );
    assert!(!stderr(&o).contains("Restart"), "{}", stderr(&o));

    assert_eq!(
        host_store(),
        host_before,
        "the links were followed inside the tree only"
    );
    // A dry run over every store is the scan.
    let o = t.run(&[
        "import",
        "--all-found",
        "--dry-run",
        "--exclude",
        p(&broken),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["summary"]["missing"], 0);
}

#[cfg(unix)]
#[test]
fn a_read_only_store_fails_alone() {
    use std::os::unix::fs::PermissionsExt;
    let t = tree();
    let app_cacerts = t.at("/opt/vendor/app/jre/lib/security/cacerts");
    std::fs::set_permissions(&app_cacerts, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&app_cacerts).unwrap();
    let o = t.run(&[
        "import",
        "--all-found",
        "--exclude",
        p(&t.at("/srv/broken.jks")),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let doc = json(&o);
    let results = doc["keystores"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(doc["excluded"][0], p(&t.at("/srv/broken.jks")));
    let failed: Vec<_> = results.iter().filter(|r| r["error"].is_string()).collect();
    assert_eq!(failed.len(), 1, "{doc:#}");
    assert_eq!(failed[0]["label"], p(&app_cacerts));
    assert_eq!(std::fs::read(&app_cacerts).unwrap(), before);
    assert_eq!(results.iter().filter(|r| r["changed"] == true).count(), 3);
}

#[test]
fn refresh_all_found_reports_every_store() {
    let t = tree();
    let o = t.run(&[
        "refresh",
        "--offline",
        "--all-found",
        "--exclude",
        p(&t.at("/srv/broken.jks")),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["keystores"].as_array().unwrap().len(), 4);
    assert_eq!(doc["excluded"][0], p(&t.at("/srv/broken.jks")));
    // A store named with -k too is refreshed once.
    let o = t.run(&[
        "refresh",
        "--offline",
        "--all-found",
        "-k",
        p(&t.at("/usr/lib/jvm/temurin-25-jdk-amd64/lib/security/cacerts")),
        "--exclude",
        p(&t.at("/srv")),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["keystores"].as_array().unwrap().len(), 4);
    // Quiet when nothing changed, as refresh always is.
    let o = t.run(&[
        "refresh",
        "--offline",
        "--all-found",
        "--exclude",
        p(&t.at("/srv")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[cfg(unix)]
#[test]
fn a_link_that_cannot_be_followed_inside_the_root_is_never_opened() {
    use std::os::unix::fs::symlink;
    // A keystore of this machine, outside the tree.
    let host = tempfile::tempdir().unwrap();
    let host_dir = azure_cacerts::write::real_path(host.path()).unwrap();
    let host_file = host_dir.join("trust.jks");
    copy_writable(&sample("jks-jdk17.jks"), &host_file);
    let host_bytes = std::fs::read(&host_file).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let root = azure_cacerts::write::real_path(dir.path()).unwrap();
    let t = Tree { _dir: dir, root };
    write(
        &t.at("/etc/systemd/system/a.service"),
        b"[Service]\nExecStart=/srv/a/run -Djavax.net.ssl.trustStore=/srv/loop\n",
    );
    write(
        &t.at("/etc/systemd/system/b.service"),
        b"[Service]\nExecStart=/srv/b/run -Djavax.net.ssl.trustStore=/srv/escape\n",
    );
    std::fs::create_dir_all(t.at("/srv")).unwrap();
    // A plain loop.
    symlink("loop2", t.at("/srv/loop")).unwrap();
    symlink("loop", t.at("/srv/loop2")).unwrap();
    // Inside the tree, the link's target is a loop; read as this machine reads it, the same
    // link leads to the keystore of this machine.
    symlink(&host_file, t.at("/srv/escape")).unwrap();
    let inside = t.root.join(host_file.strip_prefix("/").unwrap());
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    symlink("trust.jks.2", &inside).unwrap();
    symlink("trust.jks", inside.with_file_name("trust.jks.2")).unwrap();

    let o = t.run(&["scan", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let doc = json(&o);
    let stores = doc["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 2, "{doc:#}");
    for s in stores {
        assert_eq!(s["state"], "error", "{doc:#}");
        assert!(
            s["error"]
                .as_str()
                .unwrap()
                .contains("cannot be followed inside the system"),
            "{s:#}"
        );
    }
    let o = t.run(&["import", "--all-found", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        stderr(&o)
            .matches("cannot be followed inside the system")
            .count(),
        2,
        "{}",
        stderr(&o)
    );
    let o = t.run(&["refresh", "--offline", "--all-found"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(std::fs::read(&host_file).unwrap(), host_bytes);
    assert_eq!(
        std::fs::read_dir(&host_dir).unwrap().count(),
        1,
        "no backup or lock beside it"
    );
}

#[test]
fn usage_errors_around_all_found() {
    let t = tree();
    for args in [
        vec!["import", "--all-found", "-k", "/tmp/x"],
        vec!["import", "--all-found", "--lock-file", "/tmp/l"],
        vec![
            "refresh",
            "--all-found",
            "--offline",
            "--lock-file",
            "/tmp/l",
        ],
    ] {
        let o = t.run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
    let o = bin()
        .args(["import", "-k", "/tmp/x", "--exclude", "/tmp"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("without --all-found"), "{}", stderr(&o));
    let o = bin()
        .args(["list", "-k", "/tmp/x", "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--format prometheus"), "{}", stderr(&o));
}

// ---- Prometheus: the text exposition format, as node_exporter's textfile collector reads it

/// One sample: name, labels (unescaped), value.
type Sample = (String, Vec<(String, String)>, f64);

/// A strict reader of the text format: every family has one HELP and one TYPE line before
/// its samples, its samples are together, names and label names are valid, label values
/// are escaped (`\\`, `\"`, `\n` only), values are numbers.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut samples = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    let mut typed: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut closed: Vec<String> = Vec::new();
    assert!(text.ends_with('\n'), "the last line ends with a line feed");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(valid_name(name) && !help.is_empty(), "{line}");
            assert!(
                !helped.contains(&name.to_string()),
                "one HELP per family: {line}"
            );
            assert!(!help.contains('\\') || help.contains("\\\\") || help.contains("\\n"));
            helped.push(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                helped.last().map(String::as_str) == Some(name),
                "HELP then TYPE: {line}"
            );
            assert!(["gauge", "counter", "untyped"].contains(&kind), "{line}");
            assert!(
                !typed.contains(&name.to_string()),
                "one TYPE per family: {line}"
            );
            typed.push(name.to_string());
            if let Some(c) = current.replace(name.to_string()) {
                closed.push(c);
            }
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "unexpected line {line:?}"
        );
        let name_end = line.find(['{', ' ']).expect("sample name");
        let name = &line[..name_end];
        assert!(valid_name(name), "{line}");
        assert_eq!(
            current.as_deref(),
            Some(name),
            "a sample of its family, after its TYPE: {line}"
        );
        assert!(!closed.contains(&name.to_string()));
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let mut pos = 0;
            if !after.starts_with('}') {
                loop {
                    let (n, v, used) = next_label(&after[pos..], line);
                    labels.push((n, v));
                    pos += used;
                    match after.get(pos..pos + 1) {
                        Some(",") => pos += 1,
                        Some("}") => break,
                        other => panic!("after a label value: {other:?} in {line}"),
                    }
                }
            }
            rest = &after[pos + 1..];
        }
        let value = rest.strip_prefix(' ').expect("space before the value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        samples.push((name.to_string(), labels, value));
    }
    samples
}

/// `name="value"` at the start of `text`: the name, the unescaped value, the bytes used.
fn next_label(text: &str, line: &str) -> (String, String, usize) {
    let eq = text.find('=').expect("label=");
    let name = &text[..eq];
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{line}"
    );
    assert_eq!(&text[eq + 1..eq + 2], "\"", "{line}");
    let mut value = String::new();
    let mut it = text[eq + 2..].char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => value.push(match it.next().expect("escape").1 {
                '\\' => '\\',
                '"' => '"',
                'n' => '\n',
                other => panic!("bad escape \\{other} in {line}"),
            }),
            '"' => return (name.to_string(), value, eq + 2 + i + 1),
            c => value.push(c),
        }
    }
    panic!("unterminated label value in {line}");
}

fn metric<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|(n, l, _)| {
        n == name
            && labels
                .iter()
                .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
    })
}

#[test]
fn diff_prometheus_is_the_textfile_format() {
    // A path that needs escaping: a backslash and a double quote.
    let dir = tempfile::tempdir().unwrap();
    let name = if cfg!(windows) {
        "odd name.jks"
    } else {
        "odd \\ \"name\".jks"
    };
    let ks = dir.path().join(name);
    copy_writable(&fixtures_dir().join("cacerts-debian.jks"), &ks);
    let o = bin()
        .args(["diff", "-k", p(&ks), "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let samples = parse_exposition(&text);
    let diff = bin()
        .args(["diff", "-k", p(&ks), "--format", "json"])
        .output()
        .unwrap();
    let summary = json(&diff)["summary"].clone();
    for status in [
        "present",
        "equivalent",
        "missing",
        "skipped",
        "expired",
        "unavailable",
    ] {
        let s = metric(
            &samples,
            "azure_cacerts_cas",
            &[("keystore", p(&ks)), ("status", status)],
        )
        .unwrap_or_else(|| panic!("{status}: {text}"));
        assert_eq!(s.2, summary[status].as_f64().unwrap(), "{status}");
    }
    let expiry = metric(
        &samples,
        "azure_cacerts_earliest_ca_expiry_days",
        &[("keystore", p(&ks))],
    )
    .expect("earliest expiry");
    assert!(expiry.2 > 0.0 && expiry.2 < 36500.0, "{}", expiry.2);
    assert!(expiry.1.iter().any(|(k, _)| k == "ca"));
    let age = metric(
        &samples,
        "azure_cacerts_catalog_age_days",
        &[("source", "built-in")],
    )
    .expect("catalog age");
    assert!(age.2 >= 0.0);
    assert!(metric(&samples, "azure_cacerts_run_timestamp_seconds", &[]).is_some());

    // After an import nothing is missing and the exit code says so.
    assert!(bin()
        .args(["import", "-k", p(&ks), "-q"])
        .output()
        .unwrap()
        .status
        .success());
    let o = bin()
        .args(["diff", "-k", p(&ks), "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let samples = parse_exposition(&stdout(&o));
    let missing = metric(&samples, "azure_cacerts_cas", &[("status", "missing")]).unwrap();
    assert_eq!(missing.2, 0.0);
}

#[test]
fn scan_prometheus_has_every_store() {
    let t = tree();
    let o = t.run(&["scan", "--format", "prometheus"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let samples = parse_exposition(&stdout(&o));
    let readable: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.0 == "azure_cacerts_keystore_readable")
        .collect();
    assert_eq!(readable.len(), 5);
    let broken = metric(
        &samples,
        "azure_cacerts_keystore_readable",
        &[("keystore", p(&t.at("/srv/broken.jks")))],
    )
    .unwrap();
    assert_eq!(broken.2, 0.0);
    assert!(metric(
        &samples,
        "azure_cacerts_cas",
        &[("keystore", p(&t.at("/srv/broken.jks")))]
    )
    .is_none());
}

#[test]
fn the_exposition_reader_rejects_what_node_exporter_rejects() {
    let ok = "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"v\\\\ \\\"q\\\"\",l=\"\"} 1\n";
    let s = parse_exposition(ok);
    assert_eq!(
        s[0].1,
        vec![
            ("k".into(), "v\\ \"q\"".into()),
            ("l".into(), String::new())
        ]
    );
    for bad in [
        "a_b 1\n",                                            // no TYPE
        "# HELP a_b x\n# TYPE a_b gauge\na_b{k=\"\\x\"} 1\n", // bad escape
        "# HELP a_b x\n# TYPE a_b gauge\na_b one\n",          // not a number
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "{bad}"
        );
    }
}
