//! The part of the Windows registry a scan reads (HKEY_LOCAL_MACHINE), behind a trait: the
//! real one on Windows (`windows-registry`), nothing elsewhere, and a map for tests, so the
//! logic that walks it is tested on every platform.

use std::collections::BTreeMap;

/// Which view of HKLM\SOFTWARE: 64-bit programs write the native one, 32-bit installers
/// the WOW6432Node one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum View {
    Native,
    Wow32,
}

impl View {
    pub const BOTH: [View; 2] = [View::Native, View::Wow32];

    pub fn as_str(self) -> &'static str {
        match self {
            View::Native => "64-bit",
            View::Wow32 => "32-bit",
        }
    }
}

/// Read-only access to HKEY_LOCAL_MACHINE. Paths are below HKLM (`SOFTWARE\JavaSoft`);
/// missing keys and values read as empty.
pub trait Registry {
    /// The names of the subkeys of `path`.
    fn subkeys(&self, view: View, path: &str) -> Vec<String>;
    /// A string value (REG_SZ or REG_EXPAND_SZ, not expanded).
    fn string(&self, view: View, path: &str, name: &str) -> Option<String>;
    /// A REG_MULTI_SZ value, one string per line (a plain string as one line).
    fn strings(&self, view: View, path: &str, name: &str) -> Vec<String>;
}

/// No registry (Unix).
#[derive(Debug, Default)]
pub struct NoRegistry;

impl Registry for NoRegistry {
    fn subkeys(&self, _: View, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn string(&self, _: View, _: &str, _: &str) -> Option<String> {
        None
    }
    fn strings(&self, _: View, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
}

#[derive(Debug, Default, Clone)]
struct MapKey {
    /// Subkey names as written (the map key is lower case).
    subkeys: BTreeMap<String, String>,
    values: BTreeMap<String, Vec<String>>,
}

/// A registry held in memory, case-insensitive like the real one: for tests, and for
/// looking at an exported one.
#[derive(Debug, Default, Clone)]
pub struct MapRegistry {
    keys: BTreeMap<(View, String), MapKey>,
}

fn norm(path: &str) -> String {
    path.trim_matches('\\').to_ascii_lowercase()
}

impl MapRegistry {
    pub fn new() -> MapRegistry {
        MapRegistry::default()
    }

    /// Creates `path` and every key above it.
    fn key_mut(&mut self, view: View, path: &str) -> &mut MapKey {
        let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
        for i in 0..parts.len() {
            let parent = parts[..i].join("\\");
            self.keys
                .entry((view, norm(&parent)))
                .or_default()
                .subkeys
                .entry(parts[i].to_ascii_lowercase())
                .or_insert_with(|| parts[i].to_string());
        }
        self.keys.entry((view, norm(path))).or_default()
    }

    pub fn set(&mut self, view: View, path: &str, name: &str, value: &str) -> &mut Self {
        self.set_lines(view, path, name, &[value])
    }

    pub fn set_lines(&mut self, view: View, path: &str, name: &str, lines: &[&str]) -> &mut Self {
        self.key_mut(view, path).values.insert(
            name.to_ascii_lowercase(),
            lines.iter().map(|s| s.to_string()).collect(),
        );
        self
    }

    fn key(&self, view: View, path: &str) -> Option<&MapKey> {
        self.keys.get(&(view, norm(path)))
    }
}

impl Registry for MapRegistry {
    fn subkeys(&self, view: View, path: &str) -> Vec<String> {
        self.key(view, path)
            .map(|k| k.subkeys.values().cloned().collect())
            .unwrap_or_default()
    }
    fn string(&self, view: View, path: &str, name: &str) -> Option<String> {
        self.key(view, path)?
            .values
            .get(&name.to_ascii_lowercase())?
            .first()
            .cloned()
    }
    fn strings(&self, view: View, path: &str, name: &str) -> Vec<String> {
        self.key(view, path)
            .and_then(|k| k.values.get(&name.to_ascii_lowercase()))
            .cloned()
            .unwrap_or_default()
    }
}

/// The registry of this machine.
pub fn system() -> Box<dyn Registry> {
    #[cfg(windows)]
    {
        Box::new(windows::SystemRegistry)
    }
    #[cfg(not(windows))]
    {
        Box::new(NoRegistry)
    }
}

#[cfg(windows)]
mod windows {
    use super::{Registry, View};

    /// KEY_WOW64_64KEY and KEY_WOW64_32KEY (winnt.h): which view a 64- or 32-bit process
    /// opens, whatever its own bitness.
    const KEY_WOW64_64KEY: u32 = 0x0100;
    const KEY_WOW64_32KEY: u32 = 0x0200;

    pub struct SystemRegistry;

    fn open(view: View, path: &str) -> Option<windows_registry::Key> {
        let flag = match view {
            View::Native => KEY_WOW64_64KEY,
            View::Wow32 => KEY_WOW64_32KEY,
        };
        windows_registry::LOCAL_MACHINE
            .options()
            .read()
            .access(flag)
            .open(path)
            .ok()
    }

    impl Registry for SystemRegistry {
        fn subkeys(&self, view: View, path: &str) -> Vec<String> {
            open(view, path)
                .and_then(|k| k.keys().ok().map(|it| it.collect()))
                .unwrap_or_default()
        }
        fn string(&self, view: View, path: &str, name: &str) -> Option<String> {
            open(view, path)?.get_string(name).ok()
        }
        fn strings(&self, view: View, path: &str, name: &str) -> Vec<String> {
            let Some(key) = open(view, path) else {
                return Vec::new();
            };
            key.get_multi_string(name)
                .ok()
                .or_else(|| key.get_string(name).ok().map(|s| vec![s]))
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_registry_is_case_insensitive_and_knows_its_parents() {
        let mut r = MapRegistry::new();
        r.set(
            View::Wow32,
            r"SOFTWARE\JavaSoft\Java Runtime Environment\1.8.0_391",
            "JavaHome",
            r"C:\Program Files (x86)\Java\jre1.8.0_391",
        );
        assert_eq!(
            r.subkeys(View::Wow32, r"software\javasoft"),
            vec!["Java Runtime Environment".to_string()]
        );
        assert_eq!(
            r.string(
                View::Wow32,
                r"SOFTWARE\JAVASOFT\java runtime environment\1.8.0_391",
                "javahome"
            )
            .as_deref(),
            Some(r"C:\Program Files (x86)\Java\jre1.8.0_391")
        );
        assert!(r.subkeys(View::Native, r"SOFTWARE\JavaSoft").is_empty());
        assert!(NoRegistry.subkeys(View::Native, "SOFTWARE").is_empty());
    }
}
