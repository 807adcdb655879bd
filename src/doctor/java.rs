//! The version of PIMSYNC's bundled Java runtime: from `jre/release`, or from
//! `jre/bin/java -version` when that file is missing.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaVersion {
    /// As the runtime states it: "1.8.0_392", "11.0.21".
    pub text: String,
    /// 8 for "1.8.0_392", 11 for "11.0.21".
    pub major: u32,
    /// The update of a 1.x version (392 for "1.8.0_392", 0 for "1.8.0"); None from 9 on.
    pub update: Option<u32>,
}

fn leading_number(s: &str) -> Option<u32> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub fn parse_version(text: &str) -> Option<JavaVersion> {
    let text = text.trim();
    let (head, update) = match text.split_once('_') {
        Some((h, u)) => (h, Some(leading_number(u)?)),
        None => (text, None),
    };
    let mut parts = head.split('.');
    let first = leading_number(parts.next()?)?;
    let (major, update) = if first == 1 {
        // 1.x: the feature release is the second number, and "1.8.0" is 8u0.
        (leading_number(parts.next()?)?, Some(update.unwrap_or(0)))
    } else {
        (first, None)
    };
    Some(JavaVersion {
        text: text.to_string(),
        major,
        update,
    })
}

/// `JAVA_VERSION="1.8.0_392"` from the text of a `release` file.
pub fn version_in_release(text: &str) -> Option<String> {
    release_field(text, "JAVA_VERSION")
}

/// The value of `KEY="VALUE"` in the text of a runtime's `release` file (`IMPLEMENTOR`,
/// `JAVA_VERSION`); a longer key that starts with `key` does not count.
pub fn release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix(key)?.trim_start();
        let value = value.strip_prefix('=')?.trim();
        let value = value.trim_matches('"').trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The quoted version of `java version "1.8.0_392"` / `openjdk version "11.0.2" 2019-01-15`
/// in `java -version` output (other lines, such as "Picked up JAVA_TOOL_OPTIONS", ignored).
pub fn version_in_java_output(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let at = line.find(" version \"")?;
        let rest = &line[at + " version \"".len()..];
        let value = rest.split('"').next()?.trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Runs `exe -version` (and nothing else) and returns what it wrote on stderr. A runtime that
/// hangs is killed after `timeout`.
pub fn run_java_version(exe: &Path, timeout: Duration) -> Result<String, String> {
    let mut child = Command::new(exe)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    // Read on a thread so a chatty child can never block on a full pipe while we wait, and
    // so that a grandchild holding the pipe open cannot hold us past the deadline.
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut err).take(64 * 1024).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    let deadline = Instant::now() + timeout;
    let too_slow = || {
        format!(
            "{} -version did not finish within {} s",
            exe.display(),
            timeout.as_secs()
        )
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(too_slow());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for {}: {e}", exe.display())),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let stderr = rx
        .recv_timeout(left.max(Duration::from_millis(500)))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if !status.success() && version_in_java_output(&stderr).is_none() {
        return Err(format!("{} -version failed ({status})", exe.display()));
    }
    Ok(stderr)
}

/// What the runtime's files say about its generation: Java 8 has lib/rt.jar, 9+ lib/modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Java8,
    Java9Plus,
}

pub fn layout(jre: &Path) -> Option<Layout> {
    if jre.join("lib/rt.jar").is_file() || jre.join("jre/lib/rt.jar").is_file() {
        Some(Layout::Java8)
    } else if jre.join("lib/modules").is_file() {
        Some(Layout::Java9Plus)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = parse_version("1.8.0_392").unwrap();
        assert_eq!((v.major, v.update), (8, Some(392)));
        let v = parse_version("1.8.0_72-b15").unwrap();
        assert_eq!((v.major, v.update), (8, Some(72)));
        assert_eq!(parse_version("1.8.0").unwrap().update, Some(0));
        let v = parse_version("11.0.21").unwrap();
        assert_eq!((v.major, v.update), (11, None));
        assert_eq!(parse_version("17").unwrap().major, 17);
        assert_eq!(parse_version("1.7.0_80").unwrap().major, 7);
        assert!(parse_version("").is_none());
        assert!(parse_version("abc").is_none());
        assert!(parse_version("1.8.0_").is_none());
    }

    #[test]
    fn release_and_java_output() {
        let release =
            "IMPLEMENTOR=\"Oracle\"\r\nJAVA_VERSION=\"1.8.0_392\"\r\nOS_NAME=\"Linux\"\r\n";
        assert_eq!(version_in_release(release).as_deref(), Some("1.8.0_392"));
        assert_eq!(version_in_release("JAVA_VERSION_DATE=\"x\""), None);
        let out = "Picked up JAVA_TOOL_OPTIONS: -Dx=y\nopenjdk version \"1.8.0_72\"\nOpenJDK Runtime Environment (build 1.8.0_72-b15)\n";
        assert_eq!(version_in_java_output(out).as_deref(), Some("1.8.0_72"));
        assert_eq!(version_in_java_output("garbage"), None);
    }
}
