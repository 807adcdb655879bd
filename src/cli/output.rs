//! Where text goes: results to stdout, diagnostics to stderr, JSON as one document.
//!
//! Encoding: a console gets Unicode whatever its code page (Rust writes to a Windows console
//! with WriteConsoleW). Text redirected to a file or pipe on Windows is written in the
//! console's code page (`chcp`: 932 on Japanese Windows), which is what `type`, `more` and
//! PowerShell 5.1's `$out = & azure-cacerts.exe ...` read it as; `chcp 65001` (or
//! PowerShell's `[Console]::OutputEncoding = [Text.Encoding]::UTF8`) makes it UTF-8. JSON,
//! completion scripts and the man page are UTF-8 always. Elsewhere everything is UTF-8.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use serde::Serialize;

use super::args::{ColorChoice, Format, GlobalOpts};
use super::failure::{ExitKind, Failure};
use crate::catalog::{Progress, SourceSpec};

pub fn init_logging(g: &GlobalOpts) {
    let level = if g.verbose {
        tracing::Level::DEBUG
    } else if g.quiet {
        tracing::Level::ERROR
    } else {
        tracing::Level::WARN
    };
    // Our own diagnostics only: the HTTP and TLS crates' debug events are Rust debug text
    // (`Some("...")`, struct dumps) that tells an administrator nothing.
    use tracing_subscriber::layer::SubscriberExt as _;
    let ours = tracing_subscriber::filter::Targets::new().with_target("azure_cacerts", level);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(|| StderrText(Vec::new()))
        .with_target(false)
        .without_time()
        .finish()
        .with(ours);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The encoding text for people is written in on a stream: None for UTF-8 (a console, any
/// stream off Windows, a code page that is UTF-8 or that encoding_rs cannot write), else
/// the console's code page, on Windows when the stream is redirected.
fn redirected_encoding(is_terminal: bool) -> Option<&'static encoding_rs::Encoding> {
    if !cfg!(windows) || is_terminal {
        return None;
    }
    console_code_page::output_code_page().and_then(crate::text::code_page_encoding)
}

/// `text` as the bytes to write on a stream (see [`redirected_encoding`]).
fn text_bytes(text: &str, is_terminal: bool) -> Cow<'_, [u8]> {
    match redirected_encoding(is_terminal) {
        Some(encoding) => Cow::Owned(crate::text::encode_lossy(text, encoding)),
        None => Cow::Borrowed(text.as_bytes()),
    }
}

/// One `-v` diagnostic event for stderr, converted like every other stderr line when it is
/// written out (the formatter writes an event in pieces).
struct StderrText(Vec<u8>);

impl Write for StderrText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for StderrText {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let stderr = std::io::stderr();
        let bytes = text_bytes(&text, stderr.is_terminal());
        let _ = stderr.lock().write_all(&bytes);
    }
}

/// Writes a diagnostic line to stderr. A stderr that cannot be written (closed, /dev/full)
/// has nowhere left to report to: the exit code still tells.
fn diagnostic(line: std::fmt::Arguments<'_>) {
    let stderr = std::io::stderr();
    let text = format!("{line}\n");
    let bytes = text_bytes(&text, stderr.is_terminal());
    let _ = stderr.lock().write_all(&bytes);
}

/// A usage error line that clap's parsing produced (already `error: ...`).
pub fn usage_error(line: &str) {
    diagnostic(format_args!("{line}"));
}

pub fn error(failure: &Failure) {
    diagnostic(format_args!("error: {failure}"));
}

/// A warning on stderr; shown even with --quiet (the contract keeps warnings visible).
pub fn warn(msg: impl std::fmt::Display) {
    diagnostic(format_args!("warning: {msg}"));
}

/// A note on stderr for people; hidden by --quiet and in JSON mode it still goes to stderr.
pub fn note(g: &GlobalOpts, msg: impl std::fmt::Display) {
    if !g.quiet {
        diagnostic(format_args!("{msg}"));
    }
}

/// The reminder to restart Java after a change: on stderr, and the one line `-q` keeps.
pub fn restart_notice(msg: &str) {
    diagnostic(format_args!("{}", super::render::wrap(msg, 0)));
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(ExitKind::Usage, "cannot write JSON", "stdout", e, ""))?;
    text.push('\n');
    // UTF-8 whatever the console: JSON is for programs (RFC 8259).
    emit_bytes(text.as_bytes())
}

/// Writes rendered text to stdout in one go, in the console's code page when redirected on
/// Windows (see the module comment). A closed pipe (`| head`) ends the output quietly, as
/// cat and grep do; any other write error is a failure.
pub fn emit(text: &str) -> Result<(), Failure> {
    emit_bytes(&text_bytes(text, std::io::stdout().is_terminal()))
}

/// [`emit`] for bytes written as they are (JSON, completion scripts, the man page).
pub fn emit_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(
            ExitKind::Usage,
            "cannot write the output",
            "stdout",
            e,
            "Check where the output is redirected (a full disk?).",
        )),
    }
}

/// Whether to colour text on stdout. A Windows console shows escape codes as text unless
/// its virtual terminal processing is on: it is turned on here, and where that fails (the
/// legacy console) `auto` means no colour.
pub fn use_color(g: &GlobalOpts) -> bool {
    match g.color {
        ColorChoice::Always => {
            let _ = anstyle_query::windows::enable_ansi_colors();
            true
        }
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
                && anstyle_query::windows::enable_ansi_colors().unwrap_or(true)
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

/// A progress bar for downloads: only on a terminal, never with --quiet or JSON, and only
/// when something is downloaded at all.
pub struct DownloadBar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    enabled: bool,
}

impl DownloadBar {
    pub fn new(g: &GlobalOpts, spec: &SourceSpec) -> DownloadBar {
        let enabled = spec.is_online()
            && !g.quiet
            && g.format == Format::Text
            && std::io::stderr().is_terminal();
        DownloadBar {
            bar: Mutex::new(None),
            enabled,
        }
    }
}

impl Progress for DownloadBar {
    fn begin(&self, total: usize) {
        if !self.enabled || total == 0 {
            return;
        }
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix("Downloading");
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, what: &str) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_message(what.to_string());
                bar.inc(1);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// Loads the catalog a SOURCE names, with the progress bar, showing its warnings.
pub fn load_catalog(
    g: &GlobalOpts,
    spec: &SourceSpec,
) -> Result<crate::catalog::Obtained, Failure> {
    let bar = DownloadBar::new(g, spec);
    let obtained = crate::catalog::load_with(spec, &bar)?;
    for w in &obtained.warnings {
        warn(w);
    }
    Ok(obtained)
}
