//! The command line: parses arguments, runs one command, maps failures to exit codes.
//! Commands never parse keystore or certificate bytes themselves; they call the library.

//! Layout: `args` (option groups and their translation into library requests), `failure`
//! (the one place library errors become an error line and an exit code), `render` (the
//! JSON and text views commands share), `output` (stdout, stderr, colour, progress), and one
//! module per command. Command modules use those four and the library, never each other.

pub mod all_found;
pub mod args;
mod catalog_cmd;
mod check_cmd;
mod diff;
mod docs_cmd;
mod doctor_cmd;
pub mod failure;
mod fetch_cmd;
mod import;
mod list;
pub mod output;
mod prometheus;
mod refresh;
mod render;
mod scan_cmd;

use std::ffi::OsString;
use std::io::Write as _;

use clap::{CommandFactory, Parser, Subcommand};

use args::GlobalOpts;
use failure::{CliResult, Failure};

#[derive(Debug, Parser)]
#[command(
    name = "azure-cacerts",
    version,
    about = "Keep a Java keystore's trust anchors in step with Microsoft's Azure CA list",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the entries of a keystore.
    List(list::ListArgs),
    /// Print the Azure CA catalog in use.
    Catalog(catalog_cmd::CatalogArgs),
    /// Download and verify the Azure CAs; --out DIR writes an offline bundle.
    Fetch(fetch_cmd::FetchArgs),
    /// Dry run: which Azure CAs the keystore lacks, has, skips or holds expired.
    Diff(args::TargetOpts),
    /// Add the missing Azure CAs (backup, atomic write, verified).
    Import(import::ImportArgs),
    /// Import for schedulers: live catalog, lock, optional prune, quiet when nothing changed.
    Refresh(refresh::RefreshArgs),
    /// Would Java trust these servers with this keystore? Explains a PKIX failure.
    Check(check_cmd::CheckArgs),
    /// Find every Java runtime and truststore on this machine, and which lack Azure CAs.
    Scan(scan_cmd::ScanArgs),
    /// Diagnose a PIMSYNC installation: runtime, truststore, patch, logs.
    Doctor(doctor_cmd::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(docs_cmd::CompletionsArgs),
    /// Print the manual page (roff).
    Man(docs_cmd::ManArgs),
}

/// keytool's single-dash options, as administrators type them out of habit: the ones that
/// mean the same here are rewritten, the others get a one-line hint.
fn keytool_spellings(args: Vec<OsString>) -> Result<Vec<OsString>, Failure> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    // PowerShell passes "" for an unset "$env:PIMSYNC_HOME", which clap would call a
    // missing value.
    let mut after_pimsync_home = false;
    for (i, arg) in args.into_iter().enumerate() {
        if std::mem::take(&mut after_pimsync_home) || arg.to_str() == Some("--pimsync-home=") {
            args::check_pimsync_home(std::path::Path::new(
                arg.to_str()
                    .unwrap_or("x")
                    .trim_start_matches("--pimsync-home="),
            ))?;
        }
        after_pimsync_home = !rest && arg.to_str() == Some("--pimsync-home");
        let Some(s) = arg.to_str().filter(|_| i > 0 && !rest) else {
            out.push(arg);
            continue;
        };
        if s == "--" {
            rest = true;
        }
        let same = match s {
            "-keystore" => Some("--keystore"),
            "-storepass" => Some("--storepass"),
            "-storetype" => Some("--storetype"),
            "-cacerts" => Some("--cacerts"),
            "-storepass:env" => Some("--storepass-env"),
            "-storepass:file" => Some("--storepass-file"),
            _ => None,
        };
        if let Some(long) = same {
            out.push(OsString::from(long));
            continue;
        }
        // keytool asks "Trust this certificate?"; azure-cacerts never asks.
        if s == "-noprompt" {
            continue;
        }
        let hint = match s {
            "-alias" => Some("azure-cacerts names each entry itself (azure-ca-<name>); change the prefix with --alias-prefix PREFIX"),
            "-list" => Some("use the command `azure-cacerts list -k FILE`"),
            "-importcert" | "-import" => Some("use the command `azure-cacerts import -k FILE`: it adds the missing Azure CAs; `--pem CERTFILE` adds the CA certificates of a file too"),
            "-file" => Some("a certificate file is imported with `azure-cacerts import -k KEYSTORE --pem FILE` (every CA certificate in it), or checked with `azure-cacerts check -k KEYSTORE --chain FILE`"),
            "-keypass" | "-srcstorepass" | "-deststorepass" => Some("only the store password is needed: --storepass-file FILE, --storepass-env VAR or --storepass"),
            _ => None,
        };
        if let Some(hint) = hint {
            return Err(Failure::usage(
                format!("keytool option {s}"),
                "azure-cacerts is not keytool",
                format!("{}.", hint),
            ));
        }
        out.push(arg);
    }
    Ok(out)
}

/// A clap usage error as one line, the contract's shape, with clap's tip and where to read
/// more.
fn usage_line(e: &clap::Error, args: &[OsString]) -> String {
    let text = e.render().to_string();
    let mut why = Vec::new();
    let mut tips = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Usage:") || t.starts_with("For more information") {
            break;
        }
        if t.is_empty() {
            continue;
        }
        match t.strip_prefix("tip:") {
            Some(tip) => tips.push(tip.trim().to_string()),
            None => why.push(t.strip_prefix("error:").unwrap_or(t).trim().to_string()),
        }
    }
    let sub = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find(|a| Cli::command().find_subcommand(a).is_some());
    let help = match sub {
        Some(s) => format!("See `azure-cacerts {s} --help`."),
        None => "See `azure-cacerts --help`.".to_string(),
    };
    let mut fix = tips
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if let Some(c) = t.get(..1) {
                t.replace_range(..1, &c.to_uppercase());
            }
            format!("{}.", t.trim_end_matches('.'))
        })
        .collect::<Vec<_>>()
        .join(" ");
    if !fix.is_empty() {
        fix.push(' ');
    }
    fix.push_str(&help);
    let command = match sub {
        Some(s) => format!("azure-cacerts {s}"),
        None => "azure-cacerts".to_string(),
    };
    Failure::new(
        failure::ExitKind::Usage,
        "usage error",
        command,
        why.join(" "),
        fix,
    )
    .to_string()
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let args = match keytool_spellings(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(failure) => {
            output::error(&failure);
            return failure.exit_code();
        }
    };
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            // clap prints help/version to stdout (exit 0); help for a missing subcommand
            // stays whole; every other usage error is one line (exit 2).
            if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return if e.use_stderr() { 2 } else { 0 };
            }
            let line = usage_line(&e, &args);
            let _ = writeln!(std::io::stderr().lock(), "error: {line}");
            return 2;
        }
    };
    cli.global.settle();
    output::init_logging(&cli.global);
    match run(&cli) {
        Ok(code) => code,
        Err(failure) => {
            output::error(&failure);
            failure.exit_code()
        }
    }
}

fn run(cli: &Cli) -> CliResult<i32> {
    let g = &cli.global;
    let monitors = match &cli.command {
        Command::Diff(_) | Command::Scan(_) => true,
        Command::Import(a) => a.dry_run,
        _ => false,
    };
    if g.prometheus() && !monitors {
        return Err(Failure::usage(
            "--format prometheus",
            "metrics are written by diff, import --dry-run and scan",
            "Use --format text or --format json with this command.",
        ));
    }
    match &cli.command {
        Command::List(a) => list::run(a, g),
        Command::Catalog(a) => catalog_cmd::run(a, g),
        Command::Fetch(a) => fetch_cmd::run(a, g),
        Command::Diff(a) => diff::run(a, g),
        // A dry run is a diff: same output, same exit code; over every store found, a scan.
        Command::Import(a) if a.dry_run && a.found.all_found => {
            scan_cmd::run(&scan_cmd::ScanArgs::of(&a.target, &a.found)?, g)
        }
        Command::Import(a) if a.dry_run => {
            a.found.check()?;
            diff::run(&a.target, g)
        }
        Command::Import(a) => import::run(a, g),
        Command::Refresh(a) => refresh::run(a, g),
        Command::Check(a) => check_cmd::run(a, g),
        Command::Scan(a) => scan_cmd::run(a, g),
        Command::Doctor(a) => doctor_cmd::run(a, g),
        Command::Completions(a) => docs_cmd::completions(a, g),
        Command::Man(a) => docs_cmd::man(a, g),
    }
}
