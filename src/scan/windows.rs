//! The Windows sources: the vendors' registry keys (both views), their Program Files
//! folders, and services (their command line, Procrun's JVM options, a product's start-up
//! files). Everything goes through [`Machine`], so it runs on any OS over a fake tree and
//! a [`super::MapRegistry`].

use std::path::{Path, PathBuf};

use super::cmdline::{self, TrustProps};
use super::registry::View;
use super::{runtime, Machine, NamedStore, Program, ProgramKind, Sighting, Source};
use crate::locate::JvmTrustSettings;

/// HKLM keys under which Java installers record their runtimes.
const VENDOR_KEYS: &[&str] = &[
    r"SOFTWARE\JavaSoft",
    r"SOFTWARE\Eclipse Adoptium",
    r"SOFTWARE\Eclipse Foundation",
    r"SOFTWARE\AdoptOpenJDK",
    r"SOFTWARE\Azul Systems",
    r"SOFTWARE\Amazon Corretto",
    r"SOFTWARE\Amazon\Corretto",
    r"SOFTWARE\Microsoft\JDK",
    r"SOFTWARE\BellSoft",
];
/// The values that hold a runtime's folder: JavaSoft's `JavaHome`, the MSI `Path` of
/// Adoptium and Microsoft, Azul's `InstallationPath`.
const HOME_VALUES: &[&str] = &["JavaHome", "Path", "InstallationPath", "InstallLocation"];
/// Vendor keys are a few levels deep (`Eclipse Adoptium\JDK\17.0.9.9\hotspot\MSI`).
const KEY_DEPTH: usize = 5;
const KEY_BUDGET: usize = 5_000;

/// Vendor folders under Program Files; `Microsoft` holds other products too, so only its
/// `jdk-*` folders count.
const VENDOR_DIRS: &[&str] = &[
    "Java",
    "Eclipse Adoptium",
    "Eclipse Foundation",
    "AdoptOpenJDK",
    "Zulu",
    "Azul",
    "Amazon Corretto",
    "BellSoft",
    "Semeru",
    "Microsoft",
];
const PROGRAM_FILES_VARS: &[&str] = &["ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"];

const SERVICES: &str = r"SYSTEM\CurrentControlSet\Services";
/// Procrun (Apache Commons Daemon: Tomcat and many Java services) keeps the JVM and its
/// options here, per service.
const PROCRUN: &str = r"SOFTWARE\Apache Software Foundation\Procrun 2.0";

pub fn sightings(machine: &Machine) -> Vec<Sighting> {
    let mut out = registry_runtimes(machine);
    out.extend(program_files(machine));
    out.extend(services(machine));
    out
}

/// A string from the registry as a local path: variables expanded, then inside the root.
fn reg_path(machine: &Machine, value: &str) -> Option<PathBuf> {
    machine.path(&machine.expand(value))
}

/// Every folder the vendors' keys name, in both views.
pub fn registry_runtimes(machine: &Machine) -> Vec<Sighting> {
    let reg = machine.registry();
    let mut out = Vec::new();
    let mut budget = KEY_BUDGET;
    for view in View::BOTH {
        for base in VENDOR_KEYS {
            let mut stack = vec![(base.to_string(), 0usize)];
            while let Some((key, depth)) = stack.pop() {
                if budget == 0 {
                    return out;
                }
                budget -= 1;
                for name in HOME_VALUES {
                    if let Some(home) = reg
                        .string(view, &key, name)
                        .and_then(|v| reg_path(machine, &v))
                    {
                        if runtime::is_java_home(&home) {
                            out.push(Sighting::runtime(Source::Registry, home));
                        }
                    }
                }
                if depth < KEY_DEPTH {
                    let mut subs = reg.subkeys(view, &key);
                    subs.sort();
                    // Depth first, in name order.
                    for sub in subs.into_iter().rev() {
                        stack.push((format!(r"{key}\{sub}"), depth + 1));
                    }
                }
            }
        }
    }
    out
}

/// Runtimes in the vendors' folders of `%ProgramFiles%` and `%ProgramFiles(x86)%`, one or
/// two levels down (`Java\jre1.8.0_391`, `Zulu\zulu-17`).
pub fn program_files(machine: &Machine) -> Vec<Sighting> {
    let mut bases: Vec<PathBuf> = Vec::new();
    for var in PROGRAM_FILES_VARS {
        if let Some(p) = machine
            .var(var)
            .and_then(|v| machine.path(&v.to_string_lossy()))
        {
            if !bases.contains(&p) {
                bases.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for base in bases {
        for vendor in VENDOR_DIRS {
            for child in sorted_dirs(&base.join(vendor)) {
                let name = child
                    .file_name()
                    .map(|n| n.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                if *vendor == "Microsoft" && !name.starts_with("jdk-") {
                    continue;
                }
                if runtime::is_java_home(&child) {
                    out.push(Sighting::runtime(Source::ProgramFiles, child));
                    continue;
                }
                for grandchild in sorted_dirs(&child) {
                    if runtime::is_java_home(&grandchild) {
                        out.push(Sighting::runtime(Source::ProgramFiles, grandchild));
                    }
                }
            }
        }
    }
    out
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn is_java_launcher(exe: &str) -> bool {
    let name = exe.rsplit(['\\', '/']).next().unwrap_or(exe);
    name.eq_ignore_ascii_case("java.exe") || name.eq_ignore_ascii_case("javaw.exe")
}

/// Programs in the Windows folder are not products with start-up files.
fn in_windows_dir(machine: &Machine, exe: &str) -> bool {
    let windir = machine
        .var("SystemRoot")
        .map(|v| v.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_else(|| r"c:\windows".into());
    exe.to_ascii_lowercase()
        .starts_with(&format!("{}\\", windir.trim_end_matches('\\')))
}

/// Every service whose command line runs java.exe or sets the trustStore property, whose
/// Procrun options do, or whose program folder is a product with start-up files naming a
/// truststore or a bundled jre (PIMSYNC).
pub fn services(machine: &Machine) -> Vec<Sighting> {
    let reg = machine.registry();
    let mut names = reg.subkeys(View::Native, SERVICES);
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let key = format!(r"{SERVICES}\{name}");
        let Some(image) = reg.string(View::Native, &key, "ImagePath") else {
            continue;
        };
        let program = Program {
            kind: ProgramKind::WindowsService,
            name: name.clone(),
            defined_in: format!(r"HKLM\{key}"),
        };
        let words = cmdline::split_image_path(&machine.expand(&image));
        let exe = words.first().cloned().unwrap_or_default();
        let mut trust = TrustProps::default();
        trust.add_words(words.iter().map(String::as_str));
        let mut runtime_home = None;
        if is_java_launcher(&exe) {
            runtime_home = reg_path(machine, &exe).and_then(|p| runtime::home_of_binary(&p));
        }
        // Procrun: the JVM (jvm.dll, or `auto`) and one option per line.
        let mut procrun_key = None;
        for view in View::BOTH {
            let java = format!(r"{PROCRUN}\{name}\Parameters\Java");
            let jvm = reg.string(view, &java, "Jvm");
            let mut options = reg.strings(view, &java, "Options");
            options.extend(reg.strings(view, &java, "Options9"));
            if jvm.is_none() && options.is_empty() {
                continue;
            }
            procrun_key = Some(format!(r"HKLM\{java}"));
            let expanded: Vec<String> = options.iter().map(|o| machine.expand(o)).collect();
            trust.add_words(expanded.iter().map(String::as_str));
            if runtime_home.is_none() {
                runtime_home = jvm
                    .filter(|j| !j.eq_ignore_ascii_case("auto"))
                    .and_then(|j| reg_path(machine, &j))
                    .and_then(|p| runtime::home_of_binary(&p));
            }
            break;
        }
        let store = trust.store.as_ref().and_then(|s| {
            Some(NamedStore {
                path: reg_path(machine, s)?,
                settings: JvmTrustSettings {
                    file: Some(PathBuf::from(
                        procrun_key
                            .clone()
                            .unwrap_or_else(|| format!(r"HKLM\{key}")),
                    )),
                    password: trust.password.clone(),
                    store_type: trust.store_type.clone(),
                },
            })
        });
        if runtime_home.is_some() || store.is_some() {
            out.push(Sighting {
                source: Source::Service,
                runtime: runtime_home,
                store,
                program: Some(program),
            });
            continue;
        }
        // A service wrapper (prunsrv, WinSW, a product's own .exe): the product's folder
        // and its start-up files.
        if exe.is_empty() || in_windows_dir(machine, &exe) {
            continue;
        }
        let Some(exe_path) = reg_path(machine, &exe) else {
            continue;
        };
        let Some(dir) = exe_path.parent() else {
            continue;
        };
        let home = if dir
            .file_name()
            .is_some_and(|n| n.eq_ignore_ascii_case("bin"))
        {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        out.extend(super::installation(machine, home, Source::Service, program));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    use super::super::fake::*;
    use super::super::{discover, MapRegistry, Os};
    use super::*;

    fn windows_machine(root: &Path, reg: MapRegistry) -> Machine {
        let env: BTreeMap<String, OsString> = [
            ("ProgramFiles", r"C:\Program Files"),
            ("ProgramFiles(x86)", r"C:\Program Files (x86)"),
            ("SystemRoot", r"C:\Windows"),
            (
                "Path",
                r"C:\Windows\system32;C:\Program Files\Eclipse Adoptium\jdk-17.0.9.9-hotspot\bin",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
        Machine::at_root(root, Os::Windows, env).with_registry(Box::new(reg))
    }

    #[test]
    fn a_windows_machine() {
        let d = tempfile::tempdir().unwrap();
        let root = crate::write::real_path(d.path()).unwrap();
        let c = root.join("C");
        let adoptium = c.join("Program Files/Eclipse Adoptium/jdk-17.0.9.9-hotspot");
        jdk(&adoptium, "Eclipse Adoptium", "17.0.9", "java.exe");
        let jre8 = c.join("Program Files (x86)/Java/jre1.8.0_391");
        jdk(&jre8, "Oracle Corporation", "1.8.0_391", "java.exe");
        let zulu = c.join("Program Files/Zulu/zulu-11");
        jdk(&zulu, "Azul Systems, Inc.", "11.0.21", "java.exe");
        let msjdk = c.join("Program Files/Microsoft/jdk-21.0.1.12-hotspot");
        jdk(&msjdk, "Microsoft", "21.0.1", "java.exe");
        write(&c.join("Program Files/Microsoft/Edge/bin/java.exe"), "");
        let corretto = c.join("Corretto/jdk1.8.0_392");
        jdk(&corretto, "Amazon.com Inc.", "1.8.0_392", "java.exe");
        let pimsync = c.join("PIMSYNC");
        jdk(
            &pimsync.join("jre"),
            "Oracle Corporation",
            "1.8.0_202",
            "java.exe",
        );
        write(
            &pimsync.join("bin/service.conf"),
            "wrapper.java.additional.1=-Djavax.net.ssl.trustStore=%PIMSYNC_HOME%\\keystore\\trust.jks\n",
        );
        write(&pimsync.join("keystore/trust.jks"), "x");
        let tomcat_trust = c.join("Tomcat/conf/trust.p12");
        write(&tomcat_trust, "x");

        let mut reg = MapRegistry::new();
        reg.set(
            View::Native,
            r"SOFTWARE\Eclipse Adoptium\JDK\17.0.9.9\hotspot\MSI",
            "Path",
            r"C:\Program Files\Eclipse Adoptium\jdk-17.0.9.9-hotspot\",
        )
        .set(
            View::Wow32,
            r"SOFTWARE\JavaSoft\Java Runtime Environment\1.8.0_391",
            "JavaHome",
            r"C:\Program Files (x86)\Java\jre1.8.0_391",
        )
        .set(
            View::Native,
            r"SOFTWARE\Amazon Corretto\JDK\1.8",
            "InstallLocation",
            r"C:\Corretto\jdk1.8.0_392",
        )
        .set(
            View::Native,
            r"SOFTWARE\JavaSoft\JDK\21",
            "JavaHome",
            r"%ProgramFiles%\Removed\jdk-21",
        )
        .set(
            View::Native,
            r"SYSTEM\CurrentControlSet\Services\PIMSYNC",
            "ImagePath",
            r"C:\PIMSYNC\bin\pimsyncsvc.exe //RS//PIMSYNC",
        )
        .set(
            View::Native,
            r"SYSTEM\CurrentControlSet\Services\Tomcat9",
            "ImagePath",
            r#""C:\Tomcat\bin\tomcat9.exe" //RS//Tomcat9"#,
        )
        .set(
            View::Wow32,
            r"SOFTWARE\Apache Software Foundation\Procrun 2.0\Tomcat9\Parameters\Java",
            "Jvm",
            r"C:\Program Files\Zulu\zulu-11\bin\server\jvm.dll",
        )
        .set_lines(
            View::Wow32,
            r"SOFTWARE\Apache Software Foundation\Procrun 2.0\Tomcat9\Parameters\Java",
            "Options",
            &[r"-Dcatalina.home=C:\Tomcat", r"-Djavax.net.ssl.trustStore=C:\Tomcat\conf\trust.p12", "-Djavax.net.ssl.trustStoreType=PKCS12"],
        )
        .set(
            View::Native,
            r"SYSTEM\CurrentControlSet\Services\App",
            "ImagePath",
            r"C:\Program Files\Eclipse Adoptium\jdk-17.0.9.9-hotspot\bin\java.exe -jar C:\App\app.jar",
        )
        .set(
            View::Native,
            r"SYSTEM\CurrentControlSet\Services\Spooler",
            "ImagePath",
            r"%SystemRoot%\System32\spoolsv.exe",
        );
        let m = windows_machine(&root, reg);
        let found = discover(&m);
        let homes: Vec<PathBuf> = found.runtimes.iter().map(|r| r.home.clone()).collect();
        let mut want = vec![
            adoptium.clone(),
            corretto,
            pimsync.join("jre"),
            jre8,
            msjdk,
            zulu.clone(),
        ];
        want.sort();
        assert_eq!(homes, want);
        let adopt = found.runtimes.iter().find(|r| r.home == adoptium).unwrap();
        assert_eq!(
            adopt.sources,
            vec![
                Source::Registry,
                Source::ProgramFiles,
                Source::Service,
                Source::Path
            ]
        );
        let store = |p: &Path| found.stores.iter().find(|s| s.real_path == p).unwrap();
        let trust = store(&pimsync.join("keystore/trust.jks"));
        assert_eq!(trust.programs[0].to_string(), "service PIMSYNC");
        let tomcat = store(&tomcat_trust);
        assert_eq!(tomcat.programs[0].name, "Tomcat9");
        assert_eq!(tomcat.settings.store_type.as_deref(), Some("PKCS12"));
        assert!(tomcat.named_by[0]
            .to_string_lossy()
            .contains(r"Procrun 2.0\Tomcat9"));
        // Zulu's own cacerts: Tomcat uses its own truststore, not this one.
        assert!(store(&zulu.join("lib/security/cacerts"))
            .programs
            .is_empty());
        let app = store(&adoptium.join("lib/security/cacerts"));
        let users: Vec<String> = app.programs.iter().map(|p| p.to_string()).collect();
        assert_eq!(users, vec!["service App", "java on PATH"]);
        // A key naming a removed runtime is no runtime, and not worth a note.
        assert!(found.not_runtimes.is_empty(), "{:?}", found.not_runtimes);
    }
}
