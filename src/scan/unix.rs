//! The Linux (and Unix) sources: package folders, /opt, the `java` alternative, systemd.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cmdline::{self, TrustProps};
use super::{runtime, Machine, NamedStore, Program, ProgramKind, Sighting, Source};
use crate::locate::JvmTrustSettings;

/// Folders where packages put runtimes: Debian/Ubuntu/RHEL, SUSE, Oracle's RPMs.
const JVM_DIRS: &[&str] = &["/usr/lib/jvm", "/usr/lib64/jvm", "/usr/java"];

/// How deep below /opt runtimes are looked for (`/opt/vendor/product/jre` is 3).
pub const OPT_DEPTH: usize = 4;
/// At most this many folders are looked at below /opt.
const OPT_BUDGET: usize = 20_000;

/// The `java` alternative: Debian's and RHEL's admin files and the current link.
const ALTERNATIVES: &[&str] = &[
    "/var/lib/dpkg/alternatives/java",
    "/var/lib/alternatives/java",
];
const CURRENT_ALTERNATIVE: &str = "/etc/alternatives/java";

/// Unit folders, in systemd's order of precedence (the first one that has a unit wins).
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
/// A unit file, a drop-in, an EnvironmentFile: small text files.
const UNIT_LIMIT: u64 = 1 << 20;
/// systemd's default PATH for an ExecStart that names a bare `java`.
const SYSTEMD_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

pub fn sightings(machine: &Machine) -> Vec<Sighting> {
    let mut out = jvm_dirs(machine);
    out.extend(opt_tree(machine));
    out.extend(alternatives(machine));
    out.extend(systemd_units(machine));
    out
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    v.sort();
    v
}

/// Every runtime in the package folders.
pub fn jvm_dirs(machine: &Machine) -> Vec<Sighting> {
    let mut out = Vec::new();
    for dir in JVM_DIRS {
        let Some(local) = machine.path(dir) else {
            continue;
        };
        for entry in sorted_entries(&local) {
            if runtime::is_java_home(&entry) {
                out.push(Sighting::runtime(Source::JvmDir(dir), entry));
            }
        }
    }
    out
}

/// Runtimes below /opt, [`OPT_DEPTH`] levels at most: a product's `jre` or `jdk*` folder
/// as much as a runtime unpacked there. A runtime's own folders are not searched, nor
/// linked folders (they lead elsewhere, perhaps in a loop).
pub fn opt_tree(machine: &Machine) -> Vec<Sighting> {
    let Some(opt) = machine.path("/opt") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut level = vec![opt];
    let mut budget = OPT_BUDGET;
    for _ in 0..OPT_DEPTH {
        let mut next = Vec::new();
        for dir in level {
            for entry in sorted_entries(&dir) {
                if budget == 0 {
                    return out;
                }
                budget -= 1;
                let Ok(meta) = std::fs::symlink_metadata(&entry) else {
                    continue;
                };
                let is_dir = if meta.file_type().is_symlink() {
                    entry.is_dir()
                } else {
                    meta.is_dir()
                };
                if !is_dir {
                    continue;
                }
                if runtime::is_java_home(&entry) {
                    out.push(Sighting::runtime(Source::Opt, entry));
                } else if !meta.file_type().is_symlink() {
                    next.push(entry);
                }
            }
        }
        level = next;
    }
    out
}

/// The runtimes the `java` alternative offers, and the one it selects.
pub fn alternatives(machine: &Machine) -> Vec<Sighting> {
    let mut out = Vec::new();
    for file in ALTERNATIVES {
        let Some(local) = machine.path(file) else {
            continue;
        };
        let Ok(bytes) = crate::fsio::read_regular_bounded(&local, UNIT_LIMIT) else {
            continue;
        };
        // The admin file lists the link, its slaves, then each alternative's path and
        // priority: the paths of java launchers are what matter.
        for line in String::from_utf8_lossy(&bytes).lines() {
            let line = line.trim();
            if !line.starts_with('/') || !line.ends_with("/bin/java") || line == "/usr/bin/java" {
                continue;
            }
            if let Some(home) = machine.path(line).and_then(|p| runtime::home_of_binary(&p)) {
                out.push(Sighting::runtime(Source::Alternatives, home));
            }
        }
    }
    if let Some(link) = machine.path(CURRENT_ALTERNATIVE) {
        if link.is_file() {
            if let Some(home) = runtime::home_of_binary(&machine.real_path(&link)) {
                out.push(Sighting::runtime(Source::Alternatives, home));
            }
        }
    }
    out
}

/// What a service unit (with its drop-ins) says about the JVM it starts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UnitFacts {
    /// ExecStart's words, variables expanded.
    pub exec: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub trust: TrustProps,
}

/// Reads `[Service]` lines: ExecStart (the last one; an empty one resets), Environment,
/// EnvironmentFile.
pub fn parse_unit(machine: &Machine, texts: &[String]) -> UnitFacts {
    let mut exec_line: Option<String> = None;
    let mut env = BTreeMap::new();
    for text in texts {
        let mut section = String::new();
        let mut joined = String::new();
        for raw in text.lines() {
            // A trailing backslash continues the line.
            if let Some(part) = raw.strip_suffix('\\') {
                joined.push_str(part);
                joined.push(' ');
                continue;
            }
            joined.push_str(raw);
            let line = std::mem::take(&mut joined);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            if section != "[Service]" {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "ExecStart" => exec_line = (!value.is_empty()).then(|| value.to_string()),
                "Environment" => {
                    for assignment in cmdline::split_unix(value) {
                        if let Some((k, v)) = assignment.split_once('=') {
                            env.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                "EnvironmentFile" => {
                    let path = value.trim_start_matches('-');
                    if let Some(local) = machine.path(path) {
                        env.extend(environment_file(&local));
                    }
                }
                _ => {}
            }
        }
    }
    let exec = exec_line
        .map(|l| expand_exec(&cmdline::split_unix(&l), &env))
        .unwrap_or_default();
    let mut trust = TrustProps::default();
    trust.add_words(exec.iter().map(String::as_str));
    // The JVM reads JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS itself, and start-up scripts
    // pass on JAVA_OPTS and the like: every value counts.
    for value in env.values() {
        trust.add_words(cmdline::split_unix(value).iter().map(String::as_str));
    }
    UnitFacts { exec, env, trust }
}

/// systemd's expansion: `$NAME` alone is split into words, `${NAME}` stays one word.
fn expand_exec(words: &[String], env: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        if let Some(name) = w.strip_prefix('$').filter(|n| !n.starts_with('{')) {
            if let Some(v) = env.get(name) {
                out.extend(v.split_whitespace().map(str::to_string));
                continue;
            }
        }
        let mut word = w.clone();
        for (k, v) in env {
            word = word.replace(&format!("${{{k}}}"), v);
        }
        out.push(word);
    }
    out
}

/// `NAME=VALUE` lines of an EnvironmentFile.
fn environment_file(path: &Path) -> BTreeMap<String, String> {
    let Ok(bytes) = crate::fsio::read_regular_bounded(path, UNIT_LIMIT) else {
        return BTreeMap::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

/// Programs installed by the system itself are not products with start-up files.
fn is_system_path(inside: &Path) -> bool {
    ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"]
        .iter()
        .any(|p| inside.starts_with(p))
}

/// Every service unit that runs java, names a truststore, or starts a product whose
/// start-up files do.
pub fn systemd_units(machine: &Machine) -> Vec<Sighting> {
    let dirs: Vec<PathBuf> = UNIT_DIRS.iter().filter_map(|d| machine.path(d)).collect();
    let mut units: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in &dirs {
        for entry in sorted_entries(dir) {
            let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".service") && !units.contains_key(name) {
                units.insert(name.to_string(), entry.clone());
            }
        }
    }
    let mut out = Vec::new();
    for (name, file) in units {
        // A masked unit is a link to /dev/null: not a regular file, not read.
        let Ok(main) = crate::fsio::read_regular_bounded(&file, UNIT_LIMIT) else {
            continue;
        };
        let mut texts = vec![String::from_utf8_lossy(&main).into_owned()];
        for dir in &dirs {
            for dropin in sorted_entries(&dir.join(format!("{name}.d"))) {
                if dropin.extension().is_some_and(|e| e == "conf") {
                    if let Ok(b) = crate::fsio::read_regular_bounded(&dropin, UNIT_LIMIT) {
                        texts.push(String::from_utf8_lossy(&b).into_owned());
                    }
                }
            }
        }
        let facts = parse_unit(machine, &texts);
        let program = Program {
            kind: ProgramKind::SystemdUnit,
            name: name.clone(),
            defined_in: file.display().to_string(),
        };
        out.extend(unit_sighting(machine, &facts, &file, program));
    }
    out
}

fn unit_sighting(
    machine: &Machine,
    facts: &UnitFacts,
    file: &Path,
    program: Program,
) -> Option<Sighting> {
    let exe = facts
        .exec
        .first()
        .map(|w| cmdline::strip_exec_prefixes(w))
        .filter(|w| !w.is_empty());
    let exe_path = exe.and_then(|e| {
        if e.contains('/') {
            machine.path(e)
        } else {
            SYSTEMD_PATH
                .iter()
                .filter_map(|d| machine.path(d))
                .map(|d| d.join(e))
                .find(|p| p.is_file())
        }
    });
    let runs_java = exe.is_some_and(|e| e.rsplit('/').next() == Some("java"));
    let store = facts.trust.store.as_ref().and_then(|s| {
        Some(NamedStore {
            path: machine.path(s)?,
            settings: JvmTrustSettings {
                file: Some(file.to_path_buf()),
                password: facts.trust.password.clone(),
                store_type: facts.trust.store_type.clone(),
            },
        })
    });
    if runs_java {
        let home = match &exe_path {
            Some(p) if p.is_file() => runtime::home_of_binary(&machine.real_path(p)),
            Some(p) => runtime::home_of_binary(p),
            None => None,
        };
        return Some(Sighting {
            source: Source::Systemd,
            runtime: home,
            store,
            program: Some(program),
        });
    }
    // A start-up script of a product: its folder's start-up files and bundled jre, as for
    // PIMSYNC.
    let from_product = exe_path
        .filter(|p| !is_system_path(&machine.inside(p)))
        .and_then(|p| {
            let dir = p.parent()?;
            let home = if dir.file_name().is_some_and(|n| n == "bin") {
                dir.parent()?
            } else {
                dir
            };
            super::installation(machine, home, Source::Systemd, program.clone())
        });
    match (from_product, store) {
        (Some(mut s), Some(named)) => {
            s.store = Some(named);
            Some(s)
        }
        (Some(s), None) => Some(s),
        (None, Some(named)) => Some(Sighting {
            source: Source::Systemd,
            runtime: None,
            store: Some(named),
            program: Some(program),
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
    use super::super::Os;
    use super::*;

    fn machine(root: &Path) -> Machine {
        Machine::at_root(root, Os::Unix, BTreeMap::new())
    }

    #[test]
    fn unit_files_as_systemd_reads_them() {
        let d = tempfile::tempdir().unwrap();
        let m = machine(d.path());
        write(
            &m.root().unwrap().join("etc/default/app"),
            "# comment\nJAVA_TOOL_OPTIONS=\"-Djavax.net.ssl.trustStorePassword=pw\"\n",
        );
        let unit = "[Unit]\nDescription=x\nExecStart=/bin/false\n[Service]\n\
            Environment=\"JAVA_HOME=/opt/jdk\" OPTS=-Xmx1g\n\
            EnvironmentFile=-/etc/default/app\n\
            ExecStart=/bin/true\n\
            ExecStart=\n\
            ExecStart=-${JAVA_HOME}/bin/java $OPTS \\\n  -Djavax.net.ssl.trustStore=/srv/trust.p12 -jar app.jar\n";
        let facts = parse_unit(&m, &[unit.to_string()]);
        assert_eq!(
            facts.exec,
            vec![
                "-/opt/jdk/bin/java",
                "-Xmx1g",
                "-Djavax.net.ssl.trustStore=/srv/trust.p12",
                "-jar",
                "app.jar"
            ]
        );
        assert_eq!(facts.trust.store.as_deref(), Some("/srv/trust.p12"));
        assert_eq!(facts.trust.password.as_deref(), Some("pw"));
        // A drop-in overrides ExecStart.
        let facts = parse_unit(
            &m,
            &[
                unit.to_string(),
                "[Service]\nExecStart=\nExecStart=/usr/bin/java -jar b.jar\n".into(),
            ],
        );
        assert_eq!(facts.exec[0], "/usr/bin/java");
    }

    #[cfg(unix)]
    #[test]
    fn a_linux_machine() {
        let d = tempfile::tempdir().unwrap();
        let m = machine(d.path());
        let r = m.root().unwrap().to_path_buf();
        jdk(
            &r.join("usr/lib/jvm/java-17-openjdk-amd64"),
            "Debian",
            "17.0.15",
            "java",
        );
        jdk(
            &r.join("opt/vendor/product/jre"),
            "Azul Systems, Inc.",
            "11.0.20",
            "java",
        );
        jdk(&r.join("opt/too/deep/for/the/walk"), "X", "1", "java");
        jdk(
            &r.join("srv/tomcat-jdk"),
            "Amazon.com Inc.",
            "21.0.2",
            "java",
        );
        // Debian's alternatives file and link.
        write(
            &r.join("var/lib/dpkg/alternatives/java"),
            "auto\n/usr/bin/java\njava.1.gz\n/usr/share/man/man1/java.1.gz\n\n/usr/lib/jvm/java-17-openjdk-amd64/bin/java\n1711\n/usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz\n",
        );
        std::fs::create_dir_all(r.join("etc/alternatives")).unwrap();
        std::os::unix::fs::symlink(
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            r.join("etc/alternatives/java"),
        )
        .unwrap();
        // Units: one runs a JDK elsewhere with its own truststore, one a product script,
        // one is masked, one runs no Java.
        write(
            &r.join("etc/systemd/system/tomcat.service"),
            "[Service]\nExecStart=/srv/tomcat-jdk/bin/java -Djavax.net.ssl.trustStore=/srv/tomcat/trust.jks -jar t.jar\n",
        );
        write(&r.join("srv/tomcat/trust.jks"), "x");
        write(
            &r.join("lib/systemd/system/product.service"),
            "[Service]\nExecStart=/opt/vendor/product/bin/run.sh\n",
        );
        write(
            &r.join("opt/vendor/product/bin/run.sh"),
            "#!/bin/sh\nexec jre/bin/java -jar x\n",
        );
        std::os::unix::fs::symlink("/dev/null", r.join("etc/systemd/system/masked.service"))
            .unwrap();
        write(
            &r.join("lib/systemd/system/cron.service"),
            "[Service]\nExecStart=/usr/sbin/cron -f\n",
        );

        let found = super::super::discover(&m);
        let homes: Vec<_> = found
            .runtimes
            .iter()
            .map(|rt| m.inside(&rt.home).display().to_string())
            .collect();
        assert_eq!(
            homes,
            vec![
                "/opt/vendor/product/jre",
                "/srv/tomcat-jdk",
                "/usr/lib/jvm/java-17-openjdk-amd64"
            ]
        );
        let deb = &found.runtimes[2];
        assert_eq!(
            deb.sources,
            vec![Source::JvmDir("/usr/lib/jvm"), Source::Alternatives]
        );
        let store = |tail: &str| {
            found
                .stores
                .iter()
                .find(|s| s.real_path.ends_with(tail))
                .unwrap_or_else(|| panic!("no store {tail}: {:?}", found.stores))
        };
        let tomcat = store("srv/tomcat/trust.jks");
        assert_eq!(tomcat.programs[0].name, "tomcat.service");
        assert_eq!(
            tomcat.named_by,
            vec![r.join("etc/systemd/system/tomcat.service")]
        );
        // The tomcat JDK's own cacerts: no program uses it.
        assert!(store("srv/tomcat-jdk/lib/security/cacerts")
            .programs
            .is_empty());
        let product = store("opt/vendor/product/jre/lib/security/cacerts");
        let names: Vec<_> = product.programs.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            names,
            vec![
                "product.service".to_string(),
                format!("installation {}", r.join("opt/vendor/product").display())
            ]
        );
        assert_eq!(found.stores.len(), 4);
        assert!(found.not_runtimes.is_empty(), "{:?}", found.not_runtimes);
    }
}
