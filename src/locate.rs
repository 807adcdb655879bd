//! Which keystore file: `-k`, the cacerts of a Java runtime, or the truststore a PIMSYNC
//! installation uses.

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeystoreLocation {
    File(PathBuf),
    /// The cacerts of the runtime in `java_home`, else JAVA_HOME, else `java` on PATH.
    Cacerts {
        java_home: Option<PathBuf>,
    },
    /// A PIMSYNC installation directory.
    Pimsync(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub how: FoundBy,
    /// `javax.net.ssl.trustStorePassword` / `trustStoreType` set beside the trustStore
    /// setting that named this file (PIMSYNC start-up files); empty otherwise.
    pub jvm: JvmTrustSettings,
}

/// The other `javax.net.ssl.trustStore*` settings of the file that named the truststore.
/// The password is never displayed: [`std::fmt::Debug`] hides it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct JvmTrustSettings {
    /// The file the settings were read from.
    pub file: Option<PathBuf>,
    pub password: Option<String>,
    pub store_type: Option<String>,
}

impl std::fmt::Debug for JvmTrustSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JvmTrustSettings")
            .field("file", &self.file)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("store_type", &self.store_type)
            .finish()
    }
}

/// A keystore that the operating system's CA package generates: a change made to it is
/// undone the next time the package rebuilds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Managed {
    /// Debian, Ubuntu: `/etc/ssl/certs/java/cacerts`, built by ca-certificates-java.
    Debian,
    /// RHEL, Fedora, CentOS, Rocky, Alma: `/etc/pki/ca-trust/extracted/java/cacerts`.
    Rhel,
}

impl Managed {
    pub const DEBIAN_PATH: &'static str = "/etc/ssl/certs/java/cacerts";
    pub const RHEL_PATH: &'static str = "/etc/pki/ca-trust/extracted/java/cacerts";

    /// Whether the real file (links resolved) is a store the OS generates.
    pub fn of_real_path(real: &Path) -> Option<Managed> {
        if real == Path::new(Self::DEBIAN_PATH) {
            Some(Managed::Debian)
        } else if real == Path::new(Self::RHEL_PATH) {
            Some(Managed::Rhel)
        } else {
            None
        }
    }

    /// Who generates the file.
    pub fn owner(self) -> &'static str {
        match self {
            Managed::Debian => "Debian's ca-certificates-java",
            Managed::Rhel => "RHEL's ca-certificates (update-ca-trust)",
        }
    }

    /// What regenerates it (and so drops what was added by hand).
    pub fn regenerated_by(self) -> &'static str {
        match self {
            Managed::Debian => {
                "update-ca-certificates and the ca-certificates-java hooks run by package updates"
            }
            Managed::Rhel => "update-ca-trust, run by every ca-certificates package update",
        }
    }

    /// How to add a CA to the OS trust store instead, so the rebuilt file keeps it.
    pub fn os_trust_steps(self) -> &'static str {
        match self {
            Managed::Debian => {
                "copy each DIR/pem/NAME.pem to /usr/local/share/ca-certificates/NAME.crt, then run update-ca-certificates"
            }
            Managed::Rhel => {
                "copy DIR/pem/*.pem to /etc/pki/ca-trust/source/anchors/, then run update-ca-trust extract"
            }
        }
    }
}

/// The file a path means once every symbolic link is followed (the path itself when it
/// cannot be resolved, e.g. it does not exist yet); on Windows `C:\...`, not the `\\?\C:\...`
/// that canonicalize returns (which would make every path look like a link elsewhere).
pub fn real_path(path: &Path) -> PathBuf {
    crate::write::real_path(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The real file when it is another one than the path names without following links: a
/// relative path to a plain file is the same file, a JDK's `lib/security/cacerts` link is not.
pub fn real_if_elsewhere(path: &Path) -> Option<PathBuf> {
    let real = real_path(path);
    leads_elsewhere(path, &real).then_some(real)
}

/// Whether `real` (the path with its links followed) is another file than `path` names
/// literally; lexical, so callers that already know `real` make no further system call.
pub fn leads_elsewhere(path: &Path, real: &Path) -> bool {
    let plain = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    !same_name(real, &plain) && !same_name(real, path)
}

/// Whether two paths name the same file by their text: Windows file names ignore case
/// (`c:\pimsync` is `C:\PIMSYNC`), Unix ones do not.
fn same_name(a: &Path, b: &Path) -> bool {
    if cfg!(windows) {
        a.to_string_lossy().to_lowercase() == b.to_string_lossy().to_lowercase()
    } else {
        a == b
    }
}

/// How a keystore path was found. Displayed for people ("JAVA_HOME=/usr/lib/jvm/.."), matched
/// by code (doctor treats a truststore named by a setting differently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundBy {
    /// `-k FILE`.
    Given,
    /// The cacerts of the runtime named with `--java-home`.
    JavaHomeOption(PathBuf),
    /// The cacerts of the runtime in `JAVA_HOME`.
    JavaHomeEnv(PathBuf),
    /// The cacerts of the runtime whose `java` is first on PATH.
    JavaOnPath(PathBuf),
    /// `javax.net.ssl.trustStore` in a PIMSYNC start-up or configuration file.
    TrustStoreSetting { file: PathBuf },
    /// The cacerts of PIMSYNC's bundled JRE.
    PimsyncBundledJre(PathBuf),
}

impl FoundBy {
    pub fn is_given(&self) -> bool {
        matches!(self, FoundBy::Given)
    }
}

impl std::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FoundBy::Given => f.write_str("given with -k"),
            FoundBy::JavaHomeOption(h) => write!(f, "--java-home {}", h.display()),
            FoundBy::JavaHomeEnv(h) => write!(f, "JAVA_HOME={}", h.display()),
            FoundBy::JavaOnPath(h) => write!(f, "java on PATH ({})", h.display()),
            FoundBy::TrustStoreSetting { file } => {
                write!(f, "{SETTING} in {}", file.display())
            }
            FoundBy::PimsyncBundledJre(jre) => write!(f, "PIMSYNC bundled JRE ({})", jre.display()),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LocateError {
    #[error("no Java runtime found: {0}")]
    NoJava(String),
    #[error("no cacerts in the Java runtime {0} (looked for lib/security/cacerts and jre/lib/security/cacerts)")]
    NoCacerts(PathBuf),
    #[error(
        "{0} does not look like a PIMSYNC installation (no jre/ folder and no truststore setting)"
    )]
    NotPimsync(PathBuf),
}

/// The places a runtime keeps cacerts: JDK 9+ (and a JDK 8 JRE), then a JDK 8 JDK.
pub fn cacerts_in_java_home(java_home: &Path) -> Option<PathBuf> {
    [
        cacerts_under(java_home),
        cacerts_under(&java_home.join("jre")),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// `DIR/lib/security/cacerts`, joined a component at a time so that the path has the
/// platform's separators throughout (not `C:\PIMSYNC\jre\lib/security/cacerts`).
pub fn cacerts_under(dir: &Path) -> PathBuf {
    dir.join("lib").join("security").join("cacerts")
}

/// JAVA_HOME from the `java` found on PATH, following links (/usr/bin/java ->
/// /etc/alternatives/java -> /usr/lib/jvm/X/bin/java).
pub fn java_home_from_path(path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let exe = if cfg!(windows) { "java.exe" } else { "java" };
    let dirs = std::env::split_paths(path_var?);
    for dir in dirs {
        let candidate = dir.join(exe);
        if candidate.is_file() {
            let real = real_path(&candidate);
            // .../bin/java -> ...; a JDK 8 JRE binary is .../jre/bin/java -> .../jre.
            return real.parent()?.parent().map(Path::to_path_buf);
        }
    }
    None
}

pub fn resolve(location: &KeystoreLocation) -> Result<Located, LocateError> {
    match location {
        KeystoreLocation::File(p) => Ok(Located {
            path: p.clone(),
            how: FoundBy::Given,
            jvm: JvmTrustSettings::default(),
        }),
        KeystoreLocation::Cacerts { java_home } => {
            let (home, how) = if let Some(h) = java_home {
                (h.clone(), FoundBy::JavaHomeOption(h.clone()))
            } else if let Some(h) = std::env::var_os("JAVA_HOME").filter(|v| !v.is_empty()) {
                let h = PathBuf::from(h);
                (h.clone(), FoundBy::JavaHomeEnv(h))
            } else if let Some(h) = java_home_from_path(std::env::var_os("PATH").as_deref()) {
                (h.clone(), FoundBy::JavaOnPath(h))
            } else {
                return Err(LocateError::NoJava(
                    "no --java-home, no JAVA_HOME and no java on PATH".into(),
                ));
            };
            let path = cacerts_in_java_home(&home).ok_or(LocateError::NoCacerts(home))?;
            Ok(Located {
                path,
                how,
                jvm: JvmTrustSettings::default(),
            })
        }
        KeystoreLocation::Pimsync(home) => resolve_pimsync(home),
    }
}

/// `$PIMSYNC_HOME/jre/lib/security/cacerts`, unless the installation's start-up scripts or
/// configuration set `javax.net.ssl.trustStore`, which is what the JVM then uses.
pub fn resolve_pimsync(home: &Path) -> Result<Located, LocateError> {
    if let Some((value, file)) = find_truststore_setting(home) {
        let path = expand_pimsync_path(&value, home);
        let jvm = companion_settings(&file);
        return Ok(Located {
            path,
            how: FoundBy::TrustStoreSetting { file },
            jvm,
        });
    }
    let jre = home.join("jre");
    if !jre.is_dir() {
        return Err(LocateError::NotPimsync(home.to_path_buf()));
    }
    let path = cacerts_in_java_home(&jre).unwrap_or_else(|| cacerts_under(&jre));
    Ok(Located {
        path,
        how: FoundBy::PimsyncBundledJre(jre),
        jvm: JvmTrustSettings::default(),
    })
}

const SETTING: &str = "javax.net.ssl.trustStore";

/// Files that can carry JVM options in an installation: scripts, service wrappers, config.
fn candidate_files(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["bin", "config", "etc", "conf", ""] {
        let Ok(rd) = std::fs::read_dir(home.join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                matches!(
                    ext.as_str(),
                    "bat"
                        | "cmd"
                        | "sh"
                        | "conf"
                        | "cfg"
                        | "ini"
                        | "properties"
                        | "vmoptions"
                        | "l4j"
                        | "xml"
                        | ""
                )
            })
            .filter(|p| {
                p.metadata()
                    .map(|m| m.len() <= 4 * 1024 * 1024)
                    .unwrap_or(false)
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// The first `javax.net.ssl.trustStore=VALUE` (as `-D...` or a property line) in the
/// installation's files, skipping trustStorePassword/Type and commented lines.
pub fn find_truststore_setting(home: &Path) -> Option<(String, PathBuf)> {
    for file in candidate_files(home) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        // Japanese Windows writes .bat files (and most of what its editors save) in CP932.
        let (text, _) = crate::text::decode(&bytes);
        for line in text.lines() {
            if let Some(v) = truststore_in_line(line) {
                return Some((v, file));
            }
        }
    }
    None
}

/// `javax.net.ssl.trustStorePassword` and `trustStoreType` in the file that set trustStore.
pub fn companion_settings(file: &Path) -> JvmTrustSettings {
    let mut out = JvmTrustSettings {
        file: Some(file.to_path_buf()),
        ..JvmTrustSettings::default()
    };
    let Ok(bytes) = std::fs::read(file) else {
        return out;
    };
    let (text, _) = crate::text::decode(&bytes);
    for line in text.lines() {
        if out.password.is_none() {
            out.password = setting_in_line(line, PASSWORD_SETTING);
        }
        if out.store_type.is_none() {
            out.store_type = setting_in_line(line, TYPE_SETTING);
        }
    }
    out
}

const PASSWORD_SETTING: &str = "javax.net.ssl.trustStorePassword";
const TYPE_SETTING: &str = "javax.net.ssl.trustStoreType";

fn truststore_in_line(line: &str) -> Option<String> {
    setting_in_line(line, SETTING)
}

/// The value of `name=VALUE` (or `name: VALUE`) in a line that is not a comment; a longer
/// setting that starts with `name` (trustStore vs trustStorePassword) does not count.
fn setting_in_line(line: &str, name: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let lower = trimmed.to_ascii_lowercase();
    if trimmed.starts_with('#')
        || trimmed.starts_with("//")
        || lower.starts_with("rem ")
        || trimmed.starts_with("::")
    {
        return None;
    }
    let mut search = 0;
    while let Some(pos) = line[search..].find(name) {
        let after = search + pos + name.len();
        let rest = line[after..].trim_start();
        if let Some(value) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':')) {
            let value = value.trim_start();
            let value = if let Some(q) = value.strip_prefix('"') {
                q.split('"').next().unwrap_or("")
            } else if let Some(q) = value.strip_prefix('\'') {
                q.split('\'').next().unwrap_or("")
            } else {
                value
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .unwrap_or("")
            };
            if !value.is_empty() {
                return Some(value.to_string());
            }
        }
        search = after;
    }
    None
}

/// Expands %PIMSYNC_HOME%, $PIMSYNC_HOME and ${PIMSYNC_HOME}, turns backslashes into the
/// platform separator, and makes a relative path relative to the installation.
pub fn expand_pimsync_path(value: &str, home: &Path) -> PathBuf {
    let home_s = home.to_string_lossy();
    let mut v = value.to_string();
    for var in ["%PIMSYNC_HOME%", "${PIMSYNC_HOME}", "$PIMSYNC_HOME"] {
        v = v.replace(var, &home_s);
    }
    // Either separator may be written; the path keeps only the platform's.
    let v = if cfg!(windows) {
        v.replace('/', "\\")
    } else {
        v.replace('\\', "/")
    };
    let p = PathBuf::from(&v);
    let looks_absolute = p.is_absolute() || v.starts_with('/') || v.chars().nth(1) == Some(':');
    if looks_absolute {
        p
    } else {
        home.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_truststore_in_jvm_options() {
        assert_eq!(
            truststore_in_line(
                r#"set JAVA_OPTS=-Xmx1g -Djavax.net.ssl.trustStore="%PIMSYNC_HOME%\keystore\trust.jks" -Dx=y"#
            ),
            Some(r"%PIMSYNC_HOME%\keystore\trust.jks".to_string())
        );
        assert_eq!(
            truststore_in_line("javax.net.ssl.trustStore = keystore/trust.jks"),
            Some("keystore/trust.jks".to_string())
        );
        assert_eq!(
            truststore_in_line("-Djavax.net.ssl.trustStorePassword=secret"),
            None
        );
        assert_eq!(truststore_in_line("# -Djavax.net.ssl.trustStore=/x"), None);
        assert_eq!(
            truststore_in_line("REM -Djavax.net.ssl.trustStore=/x"),
            None
        );
    }

    #[test]
    fn finds_the_companion_settings() {
        let line = r#"set JAVA_OPTS=-Djavax.net.ssl.trustStore=k.jks -Djavax.net.ssl.trustStorePassword="s3 cret" -Djavax.net.ssl.trustStoreType=PKCS12"#;
        assert_eq!(
            setting_in_line(line, PASSWORD_SETTING).as_deref(),
            Some("s3 cret")
        );
        assert_eq!(
            setting_in_line(line, TYPE_SETTING).as_deref(),
            Some("PKCS12")
        );
        assert_eq!(setting_in_line(line, SETTING).as_deref(), Some("k.jks"));
        let shown = format!(
            "{:?}",
            JvmTrustSettings {
                password: Some("s3cret".into()),
                ..JvmTrustSettings::default()
            }
        );
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn knows_the_os_managed_stores() {
        assert_eq!(
            Managed::of_real_path(Path::new("/etc/ssl/certs/java/cacerts")),
            Some(Managed::Debian)
        );
        assert_eq!(
            Managed::of_real_path(Path::new("/etc/pki/ca-trust/extracted/java/cacerts")),
            Some(Managed::Rhel)
        );
        assert_eq!(Managed::of_real_path(Path::new("/tmp/cacerts")), None);
    }

    /// A PIMSYNC installation whose `bin/startup.bat` holds `line`, encoded as given.
    fn pimsync_with_startup(bytes: &[u8]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("bin")).unwrap();
        std::fs::create_dir_all(d.path().join("jre")).unwrap();
        std::fs::write(d.path().join("bin").join("startup.bat"), bytes).unwrap();
        d
    }

    #[test]
    fn a_cp932_startup_file_names_a_japanese_folder() {
        let line = "@echo off\r\nrem 起動スクリプト\r\nset JAVA_OPTS=-Djavax.net.ssl.trustStore=\"%PIMSYNC_HOME%\\信頼ストア\\trust.jks\" -Djavax.net.ssl.trustStorePassword=\"パス word\"\r\n";
        let (cp932, _, unmappable) = encoding_rs::SHIFT_JIS.encode(line);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&cp932).is_err(), "really not UTF-8");
        for bytes in [cp932.as_ref(), line.as_bytes()] {
            let d = pimsync_with_startup(bytes);
            let found = resolve_pimsync(d.path()).unwrap();
            assert_eq!(
                found.path,
                d.path().join("信頼ストア").join("trust.jks"),
                "{found:?}"
            );
            assert!(matches!(found.how, FoundBy::TrustStoreSetting { .. }));
            assert_eq!(found.jvm.password.as_deref(), Some("パス word"));
        }
    }

    #[test]
    fn found_paths_have_only_the_platform_separator() {
        let foreign = if cfg!(windows) { '/' } else { '\\' };
        let d = pimsync_with_startup(
            b"set X=-Djavax.net.ssl.trustStore=%PIMSYNC_HOME%/keystore\\sub/trust.jks\r\n",
        );
        let found = resolve_pimsync(d.path()).unwrap();
        assert!(!found.path.to_string_lossy().contains(foreign), "{found:?}");
        let jre = d.path().join("jre");
        let cacerts = cacerts_under(&jre);
        assert!(!cacerts.to_string_lossy().contains(foreign), "{cacerts:?}");
        assert!(cacerts.ends_with(Path::new("lib").join("security").join("cacerts")));
    }

    #[test]
    fn expands_windows_style_paths() {
        let home = Path::new("/opt/pimsync");
        let p = expand_pimsync_path(r"%PIMSYNC_HOME%\keystore\trust.jks", home);
        if !cfg!(windows) {
            assert_eq!(p, PathBuf::from("/opt/pimsync/keystore/trust.jks"));
            assert_eq!(
                expand_pimsync_path("keystore/t.jks", home),
                PathBuf::from("/opt/pimsync/keystore/t.jks")
            );
            assert_eq!(
                expand_pimsync_path(r"C:\x\t.jks", home),
                PathBuf::from("C:/x/t.jks")
            );
        }
    }
}
