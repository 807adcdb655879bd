//! What makes a folder a Java runtime, and what its `release` file says about it.

use std::path::{Path, PathBuf};

use crate::doctor::java::release_field;

/// A `release` file is a few KiB; anything larger is not one.
const RELEASE_LIMIT: u64 = 256 << 10;

/// Whether `dir` holds a Java runtime: a `java` launcher beside the runtime's own files
/// (its `release`, its cacerts, or the class library of Java 8 or 9+). A folder with only a
/// `bin/java` script is not one.
pub fn is_java_home(dir: &Path) -> bool {
    let launcher = ["bin/java", "bin/java.exe"]
        .iter()
        .any(|l| dir.join(l).is_file());
    launcher
        && [
            "release",
            "lib/security/cacerts",
            "jre/lib/security/cacerts",
            "lib/modules",
            "lib/rt.jar",
        ]
        .iter()
        .any(|f| dir.join(f).exists())
}

/// A JDK 8's `jre` folder is the same runtime as the JDK around it: one entry, the JDK.
pub fn normalize_home(home: PathBuf) -> PathBuf {
    let is_jre = home
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("jre"));
    match home.parent() {
        Some(parent) if is_jre && is_java_home(parent) => parent.to_path_buf(),
        _ => home,
    }
}

/// The runtime a binary belongs to: the folder above its `bin` (`.../bin/java`,
/// `.../jre/bin/server/jvm.dll`).
pub fn home_of_binary(binary: &Path) -> Option<PathBuf> {
    binary
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n.eq_ignore_ascii_case("bin")))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

/// Vendor and version, as the runtime's `release` file states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// `IMPLEMENTOR` ("Eclipse Adoptium", "Debian", "Azul Systems, Inc.").
    pub vendor: Option<String>,
    /// `JAVA_VERSION` ("17.0.15", "1.8.0_392").
    pub version: Option<String>,
}

pub fn release_info(home: &Path) -> ReleaseInfo {
    let Ok(bytes) = crate::fsio::read_regular_bounded(&home.join("release"), RELEASE_LIMIT) else {
        return ReleaseInfo::default();
    };
    let text = String::from_utf8_lossy(&bytes);
    ReleaseInfo {
        vendor: release_field(&text, "IMPLEMENTOR"),
        version: release_field(&text, "JAVA_VERSION"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homes_of_binaries() {
        assert_eq!(
            home_of_binary(Path::new("/usr/lib/jvm/jdk/bin/java")),
            Some(PathBuf::from("/usr/lib/jvm/jdk"))
        );
        assert_eq!(
            home_of_binary(Path::new("/c/Java/jre1.8/BIN/server/jvm.dll")),
            Some(PathBuf::from("/c/Java/jre1.8"))
        );
        assert_eq!(home_of_binary(Path::new("/usr/local/java")), None);
    }

    #[test]
    fn a_jdk8_jre_is_its_jdk() {
        let d = tempfile::tempdir().unwrap();
        let jdk = d.path().join("jdk8");
        for f in [
            "bin/java",
            "jre/bin/java",
            "jre/lib/security/cacerts",
            "release",
        ] {
            let p = jdk.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(
                &p,
                "IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"1.8.0_391\"\n",
            )
            .unwrap();
        }
        assert!(is_java_home(&jdk));
        assert!(is_java_home(&jdk.join("jre")));
        assert_eq!(normalize_home(jdk.join("jre")), jdk);
        assert_eq!(normalize_home(jdk.clone()), jdk);
        let info = release_info(&jdk);
        assert_eq!(info.vendor.as_deref(), Some("Oracle Corporation"));
        assert_eq!(info.version.as_deref(), Some("1.8.0_391"));
        // A bin/java script alone is no runtime.
        let script = d.path().join("app");
        std::fs::create_dir_all(script.join("bin")).unwrap();
        std::fs::write(script.join("bin/java"), "#!/bin/sh\n").unwrap();
        assert!(!is_java_home(&script));
    }
}
