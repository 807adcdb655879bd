//! Every Java runtime and truststore on a machine, and who uses which.
//!
//! Each source is a function over a [`Machine`] (file tree, environment, registry) that
//! reports *sightings*: a runtime's home, a truststore a setting names, the program behind
//! them. [`discover`] runs the sources of the machine's OS and folds the sightings: links
//! resolved, one runtime per real home, one store per real file with every runtime and
//! program that uses it. Reading the stores (their format, their Azure state) is
//! `ops::scan`'s part; nothing here opens a keystore or prints.

pub mod cmdline;
pub mod machine;
pub mod registry;
pub mod runtime;
mod unix;
mod windows;

use std::path::{Path, PathBuf};

use crate::locate::{self, JvmTrustSettings, Managed};

pub use machine::{Machine, Os};
pub use registry::{MapRegistry, Registry, View};

/// Where a runtime or a store was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A folder where packages install runtimes (`/usr/lib/jvm`, `/usr/java`).
    JvmDir(&'static str),
    /// `/opt`, a few levels deep.
    Opt,
    /// The `java` alternative (update-alternatives / alternatives).
    Alternatives,
    JavaHome,
    /// The first `java` on PATH.
    Path,
    PimsyncHome,
    /// A systemd service unit.
    Systemd,
    /// The vendors' registry keys (Windows).
    Registry,
    /// `%ProgramFiles%` and `%ProgramFiles(x86)%` vendor folders (Windows).
    ProgramFiles,
    /// A Windows service's command line or Procrun options.
    Service,
    /// The start-up files of the product that bundles a `jre` folder.
    StartupFiles,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::JvmDir(dir) => dir,
            Source::Opt => "/opt",
            Source::Alternatives => "update-alternatives",
            Source::JavaHome => "JAVA_HOME",
            Source::Path => "PATH",
            Source::PimsyncHome => "PIMSYNC_HOME",
            Source::Systemd => "systemd",
            Source::Registry => "registry",
            Source::ProgramFiles => "Program Files",
            Source::Service => "service",
            Source::StartupFiles => "start-up files",
        }
    }

    /// Sources an administrator set by hand: one that names no runtime is worth telling.
    fn names_on_purpose(self) -> bool {
        matches!(
            self,
            Source::JavaHome | Source::PimsyncHome | Source::Systemd | Source::Service
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProgramKind {
    SystemdUnit,
    WindowsService,
    /// A product installation (PIMSYNC, or any product bundling a `jre` folder).
    Installation,
    /// What programs started from a shell use: `JAVA_HOME`, the `java` on PATH.
    Environment,
}

impl ProgramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramKind::SystemdUnit => "systemd-unit",
            ProgramKind::WindowsService => "windows-service",
            ProgramKind::Installation => "installation",
            ProgramKind::Environment => "environment",
        }
    }
}

/// Something that makes a JVM use a runtime or a truststore.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Program {
    pub kind: ProgramKind,
    /// `tomcat.service`, the service name, the installation folder, `JAVA_HOME`.
    pub name: String,
    /// The unit file, registry key or variable that says so.
    pub defined_in: String,
}

impl std::fmt::Display for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ProgramKind::SystemdUnit => write!(f, "{}", self.name),
            ProgramKind::WindowsService => write!(f, "service {}", self.name),
            ProgramKind::Installation => write!(f, "installation {}", self.name),
            ProgramKind::Environment => f.write_str(&self.name),
        }
    }
}

/// A truststore a setting names (`-Djavax.net.ssl.trustStore=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedStore {
    pub path: PathBuf,
    /// The file (or registry key) of the setting, and the password and type set beside it.
    pub settings: JvmTrustSettings,
}

/// What one source saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub source: Source,
    /// A runtime's home, as found (links not yet followed).
    pub runtime: Option<PathBuf>,
    /// The store the program is told to use; None: the runtime's own cacerts.
    pub store: Option<NamedStore>,
    pub program: Option<Program>,
}

impl Sighting {
    fn runtime(source: Source, home: PathBuf) -> Sighting {
        Sighting {
            source,
            runtime: Some(home),
            store: None,
            program: None,
        }
    }

    fn with_program(mut self, program: Program) -> Sighting {
        self.program = Some(program);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The real folder (links followed).
    pub home: PathBuf,
    pub vendor: Option<String>,
    pub version: Option<String>,
    /// Its own cacerts (`lib/security/cacerts` or `jre/lib/security/cacerts`), if it has one.
    pub cacerts: Option<PathBuf>,
    pub sources: Vec<Source>,
    /// Programs that run it with its own cacerts.
    pub programs: Vec<Program>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The first path it was found at.
    pub path: PathBuf,
    /// The file behind every link: what is read, locked, backed up and written.
    pub real_path: PathBuf,
    /// Every path that leads to it.
    pub paths: Vec<PathBuf>,
    /// The operating system regenerates it (Debian, RHEL).
    pub managed: Option<Managed>,
    /// Runtimes whose own cacerts it is.
    pub runtimes: Vec<PathBuf>,
    /// Files or keys whose trustStore setting names it.
    pub named_by: Vec<PathBuf>,
    pub programs: Vec<Program>,
    /// The trustStorePassword/Type set beside the first setting that names it.
    pub settings: JvmTrustSettings,
}

impl Store {
    /// Whether `path` names this store, a path to it, or a folder holding one of them or
    /// one of its runtimes (`--exclude`).
    pub fn is_under(&self, path: &Path) -> bool {
        std::iter::once(&self.real_path)
            .chain(&self.paths)
            .chain(&self.runtimes)
            .any(|p| p.starts_with(path))
    }
}

/// A path a source named that holds no Java runtime (a stale JAVA_HOME, a unit whose
/// java is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotARuntime {
    pub source: Source,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Sorted by home.
    pub runtimes: Vec<Runtime>,
    /// Sorted by real path.
    pub stores: Vec<Store>,
    pub not_runtimes: Vec<NotARuntime>,
}

/// Every runtime and store of the machine.
pub fn discover(machine: &Machine) -> Discovery {
    let mut sightings = match machine.os() {
        Os::Unix => unix::sightings(machine),
        Os::Windows => windows::sightings(machine),
    };
    sightings.extend(environment(machine));
    fold(machine, sightings)
}

/// JAVA_HOME, the `java` on PATH and PIMSYNC_HOME, on every OS.
pub fn environment(machine: &Machine) -> Vec<Sighting> {
    let mut out = Vec::new();
    let env_program = |name: &str, var: &str| Program {
        kind: ProgramKind::Environment,
        name: name.to_string(),
        defined_in: var.to_string(),
    };
    if let Some(home) = machine
        .var("JAVA_HOME")
        .and_then(|v| machine.path(&v.to_string_lossy()))
    {
        out.push(
            Sighting::runtime(Source::JavaHome, home)
                .with_program(env_program("JAVA_HOME", "JAVA_HOME")),
        );
    }
    if let Some(home) = java_on_path(machine) {
        out.push(
            Sighting::runtime(Source::Path, home).with_program(env_program("java on PATH", "PATH")),
        );
    }
    if let Some(home) = machine
        .var("PIMSYNC_HOME")
        .and_then(|v| machine.path(&v.to_string_lossy()))
    {
        let program = Program {
            kind: ProgramKind::Installation,
            name: home.display().to_string(),
            defined_in: "PIMSYNC_HOME".into(),
        };
        match installation(machine, &home, Source::PimsyncHome, program) {
            Some(s) => out.push(s),
            None => out.push(Sighting::runtime(Source::PimsyncHome, home.join("jre"))),
        }
    }
    out
}

/// The runtime of the first `java` on PATH (links followed: /usr/bin/java ->
/// /etc/alternatives/java -> /usr/lib/jvm/X/bin/java).
fn java_on_path(machine: &Machine) -> Option<PathBuf> {
    let exe = machine.os().java_exe();
    machine
        .path_dirs()
        .into_iter()
        .map(|d| d.join(exe))
        .find(|p| p.is_file())
        .and_then(|p| runtime::home_of_binary(&machine.real_path(&p)))
}

/// What an installation folder's start-up files say (the PIMSYNC rules of `locate`): the
/// truststore a `javax.net.ssl.trustStore` setting names, else its bundled `jre`. None when
/// the folder has neither.
pub fn installation(
    machine: &Machine,
    home: &Path,
    source: Source,
    program: Program,
) -> Option<Sighting> {
    let located = locate::resolve_pimsync(home).ok()?;
    let bundled = home.join("jre");
    let runtime = runtime::is_java_home(&bundled).then_some(bundled);
    let store = match located.how {
        locate::FoundBy::TrustStoreSetting { .. } => Some(NamedStore {
            path: machine.local(&located.path),
            settings: located.jvm,
        }),
        _ => None,
    };
    if runtime.is_none() && store.is_none() {
        return None;
    }
    Some(Sighting {
        source,
        runtime,
        store,
        program: Some(program),
    })
}

/// One runtime per real home, one store per real file.
fn fold(machine: &Machine, sightings: Vec<Sighting>) -> Discovery {
    let mut d = Discovery::default();
    let mut pending = sightings;
    let mut seen_installations: Vec<PathBuf> = Vec::new();
    while !pending.is_empty() {
        let mut more = Vec::new();
        for s in std::mem::take(&mut pending) {
            let home = s.runtime.as_ref().and_then(|h| {
                let real = runtime::normalize_home(machine.real_path(h));
                if runtime::is_java_home(&real) {
                    Some(real)
                } else {
                    if s.source.names_on_purpose() && !d.not_runtimes.iter().any(|n| n.path == *h) {
                        d.not_runtimes.push(NotARuntime {
                            source: s.source,
                            path: h.clone(),
                        });
                    }
                    None
                }
            });
            if let Some(home) = &home {
                let is_new = !d.runtimes.iter().any(|r| r.home == *home);
                let rt = runtime_entry(&mut d.runtimes, home);
                push_unique(&mut rt.sources, s.source);
                if s.store.is_none() {
                    if let Some(p) = &s.program {
                        add_program(&mut rt.programs, p.clone());
                    }
                }
                // A product's bundled jre: its start-up files may name another truststore.
                if is_new {
                    more.extend(bundled_by(machine, home, &mut seen_installations));
                }
            }
            if let Some(named) = s.store {
                let st = store_entry(machine, &mut d.stores, &named.path);
                if let Some(file) = &named.settings.file {
                    push_unique(&mut st.named_by, file.clone());
                }
                if st.settings.file.is_none() {
                    st.settings = named.settings;
                }
                if let Some(p) = s.program {
                    add_program(&mut st.programs, p);
                }
            }
        }
        pending = more;
    }
    let runtimes: Vec<(PathBuf, PathBuf, Vec<Program>)> = d
        .runtimes
        .iter()
        .filter_map(|r| Some((r.home.clone(), r.cacerts.clone()?, r.programs.clone())))
        .collect();
    for (home, cacerts, programs) in runtimes {
        let st = store_entry(machine, &mut d.stores, &cacerts);
        push_unique(&mut st.runtimes, home);
        for p in programs {
            add_program(&mut st.programs, p);
        }
    }
    d.runtimes.sort_by(|a, b| a.home.cmp(&b.home));
    d.stores.sort_by(|a, b| a.real_path.cmp(&b.real_path));
    for st in &mut d.stores {
        st.programs.sort();
    }
    d
}

/// The installation around a bundled `jre` folder (`/opt/app/jre` -> `/opt/app`), when its
/// start-up files name a truststore or it is simply the product that runs this jre.
fn bundled_by(machine: &Machine, home: &Path, seen: &mut Vec<PathBuf>) -> Option<Sighting> {
    let is_jre = home
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("jre"));
    let product = home.parent().filter(|_| is_jre)?;
    if seen.iter().any(|p| p == product) {
        return None;
    }
    seen.push(product.to_path_buf());
    let program = Program {
        kind: ProgramKind::Installation,
        name: product.display().to_string(),
        defined_in: product.display().to_string(),
    };
    installation(machine, product, Source::StartupFiles, program)
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// A program is named once, by the first source that saw it (PIMSYNC_HOME and the
/// installation's own start-up files name the same one).
fn add_program(v: &mut Vec<Program>, p: Program) {
    if !v.iter().any(|q| q.kind == p.kind && q.name == p.name) {
        v.push(p);
    }
}

fn runtime_entry<'a>(runtimes: &'a mut Vec<Runtime>, home: &Path) -> &'a mut Runtime {
    let at = match runtimes.iter().position(|r| r.home == home) {
        Some(i) => i,
        None => {
            let info = runtime::release_info(home);
            runtimes.push(Runtime {
                home: home.to_path_buf(),
                vendor: info.vendor,
                version: info.version,
                cacerts: locate::cacerts_in_java_home(home),
                sources: Vec::new(),
                programs: Vec::new(),
            });
            runtimes.len() - 1
        }
    };
    &mut runtimes[at]
}

fn store_entry<'a>(machine: &Machine, stores: &'a mut Vec<Store>, path: &Path) -> &'a mut Store {
    let real = machine.real_path(path);
    let at = match stores.iter().position(|s| s.real_path == real) {
        Some(i) => i,
        None => {
            stores.push(Store {
                path: path.to_path_buf(),
                managed: Managed::of_real_path(&machine.inside(&real)),
                real_path: real,
                paths: Vec::new(),
                runtimes: Vec::new(),
                named_by: Vec::new(),
                programs: Vec::new(),
                settings: JvmTrustSettings::default(),
            });
            stores.len() - 1
        }
    };
    let st = &mut stores[at];
    push_unique(&mut st.paths, path.to_path_buf());
    st
}

/// Test helpers: a fake machine tree.
#[cfg(test)]
pub(crate) mod fake {
    use std::path::Path;

    /// Writes a file (and its folders).
    pub fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A runtime at `home`: launcher, release file, cacerts.
    pub fn jdk(home: &Path, vendor: &str, version: &str, exe: &str) {
        write(&home.join("bin").join(exe), "");
        write(
            &home.join("release"),
            &format!("IMPLEMENTOR=\"{vendor}\"\nJAVA_VERSION=\"{version}\"\n"),
        );
        write(&home.join("lib/security/cacerts"), "keystore bytes");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    use super::fake::*;
    use super::*;

    fn machine(root: &Path, env: &[(&str, &str)]) -> Machine {
        let env: BTreeMap<String, OsString> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Machine::at_root(root, Os::Unix, env)
    }

    #[test]
    fn environment_sources_and_the_pimsync_truststore_setting() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        jdk(&r.join("opt/jdk-21"), "Eclipse Adoptium", "21.0.1", "java");
        jdk(
            &r.join("opt/pimsync/jre"),
            "Oracle Corporation",
            "1.8.0_392",
            "java",
        );
        write(
            &r.join("opt/pimsync/bin/start.sh"),
            "JAVA_OPTS=\"-Djavax.net.ssl.trustStore=$PIMSYNC_HOME/keystore/trust.jks -Djavax.net.ssl.trustStorePassword=s3cret\"\n",
        );
        write(&r.join("opt/pimsync/keystore/trust.jks"), "x");
        let m = machine(
            r,
            &[
                ("JAVA_HOME", "/opt/jdk-21"),
                ("PATH", "/nowhere:/opt/jdk-21/bin"),
                ("PIMSYNC_HOME", "/opt/pimsync"),
            ],
        );
        let found = fold(&m, environment(&m));
        let root = m.root().unwrap();
        let homes: Vec<_> = found.runtimes.iter().map(|r| r.home.clone()).collect();
        assert_eq!(
            homes,
            vec![root.join("opt/jdk-21"), root.join("opt/pimsync/jre")]
        );
        let jdk21 = &found.runtimes[0];
        assert_eq!(jdk21.sources, vec![Source::JavaHome, Source::Path]);
        assert_eq!(jdk21.vendor.as_deref(), Some("Eclipse Adoptium"));
        // PIMSYNC's setting wins: its truststore is the one it uses, the bundled jre's
        // cacerts is listed as that runtime's store with no program.
        let trust = found
            .stores
            .iter()
            .find(|s| s.real_path.ends_with("keystore/trust.jks"))
            .unwrap();
        assert_eq!(trust.programs.len(), 1);
        assert_eq!(trust.programs[0].defined_in, "PIMSYNC_HOME");
        assert_eq!(trust.settings.password.as_deref(), Some("s3cret"));
        assert!(trust.runtimes.is_empty());
        let bundled = found
            .stores
            .iter()
            .find(|s| s.real_path.ends_with("pimsync/jre/lib/security/cacerts"))
            .unwrap();
        assert!(bundled.programs.is_empty(), "{:?}", bundled.programs);
        let jdk_store = found
            .stores
            .iter()
            .find(|s| s.real_path.ends_with("jdk-21/lib/security/cacerts"))
            .unwrap();
        let names: Vec<_> = jdk_store.programs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["JAVA_HOME", "java on PATH"]);
    }

    #[test]
    fn a_stale_java_home_is_told() {
        let d = tempfile::tempdir().unwrap();
        let m = machine(d.path(), &[("JAVA_HOME", "/opt/removed-jdk")]);
        let found = fold(&m, environment(&m));
        assert!(found.runtimes.is_empty());
        assert_eq!(found.not_runtimes.len(), 1);
        assert_eq!(found.not_runtimes[0].source, Source::JavaHome);
    }

    #[cfg(unix)]
    #[test]
    fn the_same_file_is_one_store_with_every_runtime() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(&r.join("etc/ssl/certs/java/cacerts"), "x");
        for name in ["java-17-openjdk-amd64", "temurin-25-jdk-amd64"] {
            let home = r.join("usr/lib/jvm").join(name);
            jdk(&home, "Debian", "17", "java");
            let link = home.join("lib/security/cacerts");
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink("/etc/ssl/certs/java/cacerts", &link).unwrap();
        }
        std::os::unix::fs::symlink(
            "java-17-openjdk-amd64",
            r.join("usr/lib/jvm/java-1.17.0-openjdk-amd64"),
        )
        .unwrap();
        let m = machine(r, &[]);
        let found = discover(&m);
        assert_eq!(found.runtimes.len(), 2, "{:?}", found.runtimes);
        assert_eq!(found.stores.len(), 1);
        let st = &found.stores[0];
        assert_eq!(st.managed, Some(Managed::Debian));
        assert_eq!(st.runtimes.len(), 2);
        assert_eq!(st.paths.len(), 2);
        let excluded = m.root().unwrap().join("usr/lib/jvm/temurin-25-jdk-amd64");
        assert!(st.is_under(&excluded));
        assert!(!st.is_under(&m.root().unwrap().join("opt")));
    }
}
