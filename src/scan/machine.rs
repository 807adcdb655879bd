//! The machine a scan looks at: its operating system, its file tree, its environment and
//! (on Windows) its registry. Every source reads through this, so a test can hand it a
//! fake tree, environment and registry, and `--root DIR` can look at a system image
//! mounted elsewhere.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use super::registry::{NoRegistry, Registry};

/// Which family of sources applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and other Unix systems: /usr/lib/jvm, /opt, alternatives, systemd.
    Unix,
    /// Windows: the registry, Program Files, services.
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else {
            Os::Unix
        }
    }

    /// The file name of the `java` launcher.
    pub fn java_exe(self) -> &'static str {
        match self {
            Os::Unix => "java",
            Os::Windows => "java.exe",
        }
    }
}

/// How many symbolic links one path may go through before it is taken as a loop (Linux's
/// own limit).
const MAX_LINK_HOPS: usize = 40;

pub struct Machine {
    os: Os,
    /// Where the machine's `/` (or `C:\`) is; None: this machine, paths as they are.
    root: Option<PathBuf>,
    env: BTreeMap<String, OsString>,
    registry: Box<dyn Registry>,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("os", &self.os)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// The machine this process runs on: its environment, and its registry on Windows.
    pub fn this() -> Machine {
        Machine {
            os: Os::current(),
            root: None,
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
            registry: super::registry::system(),
        }
    }

    /// A system installed under `root` (a mounted image, a test tree): absolute paths met in
    /// files, settings and the environment are taken inside it, and so are links.
    pub fn at_root(root: &Path, os: Os, env: BTreeMap<String, OsString>) -> Machine {
        // Canonical, so that the paths links resolve to can be compared with it.
        let root = crate::write::real_path(root).unwrap_or_else(|_| root.to_path_buf());
        Machine {
            os,
            root: Some(root),
            env,
            registry: Box::new(NoRegistry),
        }
    }

    /// The same machine with this registry (tests: a fake one).
    pub fn with_registry(mut self, registry: Box<dyn Registry>) -> Machine {
        self.registry = registry;
        self
    }

    pub fn os(&self) -> Os {
        self.os
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    pub fn registry(&self) -> &dyn Registry {
        self.registry.as_ref()
    }

    /// An environment variable; names are case-insensitive on Windows (`Path`, `PATH`).
    pub fn var(&self, name: &str) -> Option<&OsStr> {
        let found = match self.os {
            Os::Unix => self.env.get(name),
            Os::Windows => self
                .env
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
        };
        found.map(OsString::as_os_str).filter(|v| !v.is_empty())
    }

    /// A path as the machine writes it (in a unit file, the registry, a variable) as a path
    /// to open here: unchanged on this machine; inside the root otherwise, with a drive
    /// letter as a folder (`C:\Java` -> `ROOT/C/Java`). None for a relative path in a tree
    /// (it has no meaning there) and for an empty one.
    pub fn path(&self, text: &str) -> Option<PathBuf> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let Some(root) = &self.root else {
            return Some(PathBuf::from(text));
        };
        let (drive, rest) = split_drive(text);
        if drive.is_none() && !rest.starts_with(['/', '\\']) {
            return None;
        }
        let mut out = root.clone();
        if let Some(d) = drive {
            out.push(d.to_ascii_uppercase().to_string());
        }
        for part in rest
            .split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
        {
            if part == ".." {
                if out != *root {
                    out.pop();
                }
            } else {
                out.push(part);
            }
        }
        Some(out)
    }

    /// [`Machine::path`] for a path that may already be local (what the locate module
    /// returns for a setting's value): a path inside the root stays as it is.
    pub fn local(&self, path: &Path) -> PathBuf {
        match &self.root {
            Some(root) if !path.starts_with(root) => self
                .path(&path.to_string_lossy())
                .unwrap_or_else(|| path.to_path_buf()),
            _ => path.to_path_buf(),
        }
    }

    /// The path as the machine itself sees it (`/etc/ssl/...` for `ROOT/etc/ssl/...`): what
    /// the OS-managed store check compares.
    pub fn inside(&self, local: &Path) -> PathBuf {
        match self.root.as_deref().map(|r| local.strip_prefix(r)) {
            Some(Ok(rest)) => Path::new("/").join(rest),
            _ => local.to_path_buf(),
        }
    }

    /// The file a local path means once every symbolic link is followed. In a tree, an
    /// absolute link target is taken inside the root: a mounted image's
    /// `lib/security/cacerts -> /etc/ssl/...` is the image's file, never this machine's.
    /// The path itself when it cannot be resolved (a loop, a missing file).
    pub fn real_path(&self, path: &Path) -> PathBuf {
        match &self.root {
            None => crate::write::real_path(path).unwrap_or_else(|_| path.to_path_buf()),
            Some(root) => resolve_in(root, path).unwrap_or_else(|| path.to_path_buf()),
        }
    }

    /// The directories of PATH (local paths), in order.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        let Some(value) = self.var("PATH") else {
            return Vec::new();
        };
        let sep = match self.os {
            Os::Unix => ':',
            Os::Windows => ';',
        };
        value
            .to_string_lossy()
            .split(sep)
            .filter_map(|d| self.path(d.trim_matches('"')))
            .collect()
    }

    /// Replaces `%NAME%` (Windows) and `${NAME}` / `$NAME` (Unix) with the environment's
    /// values; unknown names stay as they are.
    pub fn expand(&self, text: &str) -> String {
        expand_vars(text, self.os, |name| {
            self.var(name).map(|v| v.to_string_lossy().into_owned())
        })
    }
}

/// `C:` and the rest of a Windows path.
fn split_drive(text: &str) -> (Option<char>, &str) {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(d), Some(':')) if d.is_ascii_alphabetic() => (Some(d), &text[2..]),
        _ => (None, text),
    }
}

/// Follows the links of `path` one component at a time, an absolute target restarting at
/// `root`, `..` never leaving it.
fn resolve_in(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let mut pending: Vec<OsString> = components(rel);
    pending.reverse();
    let mut out = root.to_path_buf();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            if out != root {
                out.pop();
            }
            continue;
        }
        let next = out.join(&part);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return None;
                }
                let target = std::fs::read_link(&next).ok()?;
                if target.has_root() {
                    out = root.to_path_buf();
                }
                let mut parts = components(&target);
                parts.reverse();
                pending.extend(parts);
            }
            _ => out = next,
        }
    }
    Some(out)
}

/// The named parts of a path (`..` kept, `.` and the root dropped).
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Variable expansion as the machine's shell or service manager does it, for the forms
/// that name a Java runtime or a truststore (`%JAVA_HOME%\bin\java.exe`,
/// `${JAVA_HOME}/bin/java`).
pub fn expand_vars(text: &str, os: Os, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '(' || c == ')';
    while let Some(c) = rest.chars().next() {
        match (os, c) {
            (Os::Windows, '%') => {
                if let Some(end) = rest[1..].find('%') {
                    let name = &rest[1..1 + end];
                    if !name.is_empty() && name.chars().all(is_name) {
                        if let Some(v) = lookup(name) {
                            out.push_str(&v);
                            rest = &rest[end + 2..];
                            continue;
                        }
                    }
                }
            }
            (Os::Unix, '$') => {
                let (name, len) = if let Some(braced) = rest[1..].strip_prefix('{') {
                    match braced.find('}') {
                        Some(end) => (&braced[..end], end + 3),
                        None => ("", 0),
                    }
                } else {
                    let n = rest[1..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len() - 1);
                    (&rest[1..1 + n], n + 1)
                };
                if !name.is_empty() {
                    if let Some(v) = lookup(name) {
                        out.push_str(&v);
                        rest = &rest[len..];
                        continue;
                    }
                }
            }
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_machine(os: Os) -> (tempfile::TempDir, Machine) {
        let dir = tempfile::tempdir().unwrap();
        let m = Machine::at_root(dir.path(), os, BTreeMap::new());
        (dir, m)
    }

    #[test]
    fn paths_are_taken_inside_the_root() {
        let (_d, m) = tree_machine(Os::Unix);
        let root = m.root().unwrap().to_path_buf();
        assert_eq!(m.path("/usr/lib/jvm").unwrap(), root.join("usr/lib/jvm"));
        assert_eq!(m.path("/../../etc").unwrap(), root.join("etc"));
        assert_eq!(m.path("relative/x"), None);
        assert_eq!(m.path("  "), None);
        assert_eq!(
            m.path(r"c:\Program Files\Java\jre\").unwrap(),
            root.join("C/Program Files/Java/jre")
        );
        assert_eq!(
            m.inside(&root.join("etc/ssl/certs/java/cacerts")),
            PathBuf::from("/etc/ssl/certs/java/cacerts")
        );
        let this = Machine::this();
        assert_eq!(this.path("/x/y").unwrap(), PathBuf::from("/x/y"));
    }

    #[cfg(unix)]
    #[test]
    fn absolute_links_stay_inside_the_root() {
        let (_d, m) = tree_machine(Os::Unix);
        let root = m.root().unwrap().to_path_buf();
        std::fs::create_dir_all(root.join("etc/ssl/certs/java")).unwrap();
        std::fs::write(root.join("etc/ssl/certs/java/cacerts"), b"x").unwrap();
        let sec = root.join("usr/lib/jvm/jdk/lib/security");
        std::fs::create_dir_all(&sec).unwrap();
        std::os::unix::fs::symlink("/etc/ssl/certs/java/cacerts", sec.join("cacerts")).unwrap();
        std::os::unix::fs::symlink("jdk", root.join("usr/lib/jvm/default")).unwrap();
        assert_eq!(
            m.real_path(&root.join("usr/lib/jvm/default/lib/security/cacerts")),
            root.join("etc/ssl/certs/java/cacerts")
        );
        // A loop is given up, not followed for ever.
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert_eq!(m.real_path(&root.join("loop")), root.join("loop"));
    }

    #[test]
    fn variables_expand_as_the_os_does() {
        let lookup = |n: &str| match n {
            "JAVA_HOME" => Some("/opt/jdk".to_string()),
            "ProgramFiles(x86)" => Some(r"C:\PF86".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_vars("${JAVA_HOME}/bin/java $JAVA_HOME $NOPE", Os::Unix, lookup),
            "/opt/jdk/bin/java /opt/jdk $NOPE"
        );
        assert_eq!(
            expand_vars(
                r"%JAVA_HOME%\bin %ProgramFiles(x86)%\x 100% %NOPE%",
                Os::Windows,
                lookup
            ),
            r"/opt/jdk\bin C:\PF86\x 100% %NOPE%"
        );
        assert_eq!(expand_vars("$", Os::Unix, lookup), "$");
        assert_eq!(expand_vars("${unclosed", Os::Unix, lookup), "${unclosed");
    }
}
