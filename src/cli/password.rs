//! The store password from --storepass, --storepass-env or --storepass-file.

use super::args::PasswordOpts;
use crate::error::{CliResult, ExitKind, Failure};

/// The JDK's default cacerts password, used when none is given (contract).
pub const DEFAULT_STOREPASS: &str = "changeit";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePassword {
    pub value: String,
    /// False when the value is the `changeit` default rather than something the user gave.
    pub explicit: bool,
}

pub fn resolve(opts: &PasswordOpts) -> CliResult<StorePassword> {
    if let Some(p) = &opts.storepass {
        return Ok(StorePassword {
            value: p.clone(),
            explicit: true,
        });
    }
    if let Some(var) = &opts.storepass_env {
        return match std::env::var(var) {
            Ok(v) => Ok(StorePassword {
                value: v,
                explicit: true,
            }),
            Err(_) => Err(Failure::new(
                ExitKind::Usage,
                "no store password",
                format!("environment variable {var}"),
                "the variable is not set or not valid Unicode",
                format!("Set {var}, or pass --storepass-file FILE."),
            )),
        };
    }
    if let Some(path) = &opts.storepass_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                ExitKind::Usage,
                "cannot read the store password file",
                path.display().to_string(),
                e,
                "Check the path and its permissions.",
            )
        })?;
        // The first line, without its line ending: files written by `echo` or Notepad end in one.
        let first = text.lines().next().unwrap_or("");
        let first = first.strip_prefix('\u{feff}').unwrap_or(first);
        return Ok(StorePassword {
            value: first.to_string(),
            explicit: true,
        });
    }
    Ok(StorePassword {
        value: DEFAULT_STOREPASS.to_string(),
        explicit: false,
    })
}
