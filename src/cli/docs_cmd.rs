//! `completions SHELL` and `man`: generated from the clap model, so they never drift from
//! the real options.

use clap::{Args, CommandFactory, ValueEnum};

use super::args::GlobalOpts;
use super::failure::{CliResult, ExitKind, Failure};
use super::output;
use super::Cli;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {}

pub fn completions(args: &CompletionsArgs, _g: &GlobalOpts) -> CliResult<i32> {
    let mut cmd = Cli::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "azure-cacerts", &mut script);
    if args.shell == Shell::Bash {
        script = fix_bash(&script);
    }
    output::emit_bytes(&script)?;
    Ok(0)
}

/// clap_complete's bash script names the state of `azure-cacerts import` as
/// `azure__cacerts__subcmd__import` where it sets it but `azure__subcmd__cacerts__subcmd__import`
/// in the case labels that look it up (the hyphen of the binary name is taken for a
/// subcommand separator), so only subcommand names ever completed. One spelling for both.
fn fix_bash(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("azure__subcmd__cacerts", "azure__cacerts")
        .into_bytes()
}

pub fn man(_args: &ManArgs, _g: &GlobalOpts) -> CliResult<i32> {
    let cmd = Cli::command();
    let mut page = Vec::new();
    let write_err = |e: std::io::Error| {
        Failure::new(
            ExitKind::Usage,
            "cannot write the man page",
            "stdout",
            e,
            "",
        )
    };
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(write_err)?;
    // clap_mangen points at one page per command (azure-cacerts-list(1)); this is one
    // page with a section per command: point there instead.
    let mut text = String::from_utf8_lossy(&page).into_owned();
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        text = text.replace(
            &format!("azure\\-cacerts\\-{name}(1)"),
            &format!(
                "azure\\-cacerts {name} (section COMMAND: {})",
                name.to_uppercase()
            ),
        );
    }
    let text = text.replace("azure\\-cacerts\\-help(1)", "azure\\-cacerts help COMMAND");
    let mut page = text.into_bytes();
    // One page for the whole tool: each command's synopsis and options follow as a section.
    for sub in cmd.get_subcommands() {
        let full = sub
            .clone()
            .bin_name(format!("azure-cacerts {}", sub.get_name()));
        let _ = roff_section(
            &mut page,
            &format!("COMMAND: {}", sub.get_name().to_uppercase()),
        );
        let man = clap_mangen::Man::new(full);
        man.render_synopsis_section(&mut page).map_err(write_err)?;
        man.render_options_section(&mut page).map_err(write_err)?;
    }
    output::emit_bytes(&page)?;
    Ok(0)
}

fn roff_section(out: &mut Vec<u8>, title: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(out, ".SH \"{title}\"")
}
