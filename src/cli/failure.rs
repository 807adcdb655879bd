//! The user-facing failure: one line, an exit code from the contract.
//!
//! Library modules have their own precise error enums; the command layer turns them into a
//! [`Failure`] that names the file or CA and says what to do.

use std::fmt;

/// Exit codes of the contract (../shared/CONTRACT.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 2: the command line is wrong.
    Usage,
    /// 3: keystore unreadable, wrong password, corrupt, unsupported, not writable.
    Keystore,
    /// 4: a network error stopped the job.
    Network,
    /// 5: thumbprint mismatch, bad signature, malformed certificate.
    Verification,
}

impl ExitKind {
    pub fn code(self) -> i32 {
        match self {
            ExitKind::Usage => 2,
            ExitKind::Keystore => 3,
            ExitKind::Network => 4,
            ExitKind::Verification => 5,
        }
    }
}

/// `error: <what> (<file or CA>): <why>. <what to do>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ExitKind,
    pub what: String,
    pub subject: String,
    pub why: String,
    pub fix: String,
}

impl Failure {
    pub fn new(
        kind: ExitKind,
        what: impl Into<String>,
        subject: impl Into<String>,
        why: impl fmt::Display,
        fix: impl Into<String>,
    ) -> Self {
        Failure {
            kind,
            what: what.into(),
            subject: subject.into(),
            why: why.to_string(),
            fix: fix.into(),
        }
    }

    pub fn usage(what: impl Into<String>, why: impl fmt::Display, fix: impl Into<String>) -> Self {
        Failure::new(ExitKind::Usage, what, "command line", why, fix)
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.code()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it on one line whatever the parts contain: scripts grep stderr.
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        let why = one_line(&self.why);
        let why = why.trim_end_matches('.');
        write!(
            f,
            "{} ({}): {}.",
            one_line(&self.what),
            one_line(&self.subject),
            why
        )?;
        if !self.fix.is_empty() {
            write!(f, " {}", one_line(&self.fix))?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

pub type CliResult<T> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_contract_shape_on_one_line() {
        let f = Failure::new(
            ExitKind::Keystore,
            "cannot read keystore",
            "/tmp/x.jks",
            "wrong password or tampered keystore\n(digest mismatch).",
            "Pass the store password with --storepass-file.",
        );
        assert_eq!(
            f.to_string(),
            "cannot read keystore (/tmp/x.jks): wrong password or tampered keystore (digest mismatch). Pass the store password with --storepass-file."
        );
        assert_eq!(f.exit_code(), 3);
    }
}
