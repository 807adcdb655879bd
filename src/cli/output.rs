//! Where text goes: results to stdout, diagnostics to stderr, JSON as one document.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use super::args::{ColorChoice, GlobalOpts};
use crate::error::{ExitKind, Failure};

pub fn init_logging(g: &GlobalOpts) {
    let level = if g.verbose {
        tracing::Level::DEBUG
    } else if g.quiet {
        tracing::Level::ERROR
    } else {
        tracing::Level::WARN
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

pub fn error(failure: &Failure) {
    eprintln!("error: {failure}");
}

/// A warning on stderr; shown even with --quiet (the contract keeps warnings visible).
pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("warning: {msg}");
}

/// A note on stderr for people; hidden by --quiet and in JSON mode it still goes to stderr.
pub fn note(g: &GlobalOpts, msg: impl std::fmt::Display) {
    if !g.quiet {
        eprintln!("{msg}");
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(ExitKind::Usage, "cannot write JSON", "stdout", e, ""))?;
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// Whether to colour text on stdout.
pub fn use_color(g: &GlobalOpts) -> bool {
    match g.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// Wraps `text` in an ANSI colour when colour is on.
pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
