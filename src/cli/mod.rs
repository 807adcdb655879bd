//! The command line: parses arguments, runs one command, maps failures to exit codes.
//! Commands never parse keystore or certificate bytes themselves; they call the library.

//! Layout: `args` (option groups and their translation into library requests), `failure`
//! (the one place library errors become an error line and an exit code), `render` (the
//! JSON and text views commands share), `output` (stdout, stderr, colour, progress), and one
//! module per command. Command modules use those four and the library, never each other.

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
mod refresh;
mod render;

use clap::{Parser, Subcommand};

use args::GlobalOpts;
use failure::CliResult;

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
    /// Diagnose a PIMSYNC installation: runtime, truststore, patch, logs.
    Doctor(doctor_cmd::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(docs_cmd::CompletionsArgs),
    /// Print the manual page (roff).
    Man(docs_cmd::ManArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
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
    match &cli.command {
        Command::List(a) => list::run(a, g),
        Command::Catalog(a) => catalog_cmd::run(a, g),
        Command::Fetch(a) => fetch_cmd::run(a, g),
        Command::Diff(a) => diff::run(a, g),
        // A dry run is a diff: same output, same exit code.
        Command::Import(a) if a.dry_run => diff::run(&a.target, g),
        Command::Import(a) => import::run(a, g),
        Command::Refresh(a) => refresh::run(a, g),
        Command::Check(a) => check_cmd::run(a, g),
        Command::Doctor(a) => doctor_cmd::run(a, g),
        Command::Completions(a) => docs_cmd::completions(a, g),
        Command::Man(a) => docs_cmd::man(a, g),
    }
}
