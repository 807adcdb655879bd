//! `azure-cacerts doctor`: renders the checks of [`crate::doctor`] for people or scripts.
//! Exit 1 when a check found a problem, 0 otherwise (unknowns alone are not problems).

use std::path::PathBuf;

use clap::Args;

use std::fmt::Write as _;

use super::args::{Format, GlobalOpts, PasswordOpts};
use super::failure::{CliResult, Failure};
use super::output;
use crate::doctor::{self, Check, Report, Status};
use crate::ops::OpenError;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The PIMSYNC installation directory (the one holding bin/, config/, jre/ and log/).
    /// Default: env PIMSYNC_HOME.
    #[arg(long, value_name = "DIR")]
    pub pimsync_home: Option<PathBuf>,
    /// The truststore's password, when it is not changeit.
    #[command(flatten)]
    pub password: PasswordOpts,
}

pub fn run(args: &DoctorArgs, g: &GlobalOpts) -> CliResult<i32> {
    let home = match args
        .pimsync_home
        .clone()
        .or_else(super::args::pimsync_home_from_env)
    {
        Some(h) => super::args::check_pimsync_home(&h)?,
        None => {
            return Err(Failure::usage(
                "no PIMSYNC installation given",
                "doctor needs the PIMSYNC directory",
                "Name it with --pimsync-home DIR or set PIMSYNC_HOME.",
            ))
        }
    };
    // The password options mean what they mean for every other command.
    let password = args.password.source()?;
    // A password option that cannot be read is a usage error, not a finding.
    password
        .resolve()
        .map_err(|e| Failure::from(OpenError::from(e)))?;
    let mut opts = doctor::Options::new(home);
    opts.password = password;
    let report = doctor::diagnose(&opts);
    match g.format {
        Format::Json => output::print_json(&report)?,
        Format::Text => output::emit(&text(g, &report))?,
    }
    Ok(if report.problems > 0 { 1 } else { 0 })
}

fn status_word(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Ok => ("OK", "32"),
        Status::Problem => ("PROBLEM", "31;1"),
        Status::Unknown => ("UNKNOWN", "33"),
    }
}

/// A check as text: the status, the id and the detail wrapped at 100 columns, then the fix
/// on its own line(s), indented under the detail.
fn line(color: bool, c: &Check) -> String {
    let (word, code) = status_word(c.status);
    let flat = |s: &str| s.replace(['\n', '\r'], " ");
    // Wrap without colour codes (they have no width), then paint the status word.
    let plain = format!("{word:<7}  {:<10}  {}", c.id.as_str(), flat(&c.detail));
    let mut s = super::render::wrap(&plain, 21);
    if let Some(rest) = s.strip_prefix(&format!("{word:<7}")) {
        s = format!(
            "{}{rest}",
            output::paint(color, code, &format!("{word:<7}"))
        );
    }
    if let Some(fix) = &c.fix {
        s.push('\n');
        s.push_str(&super::render::wrap(
            &format!("{:21}fix: {}", "", flat(fix)),
            26,
        ));
    }
    s
}

fn text(g: &GlobalOpts, report: &Report) -> String {
    let mut out = String::new();
    let color = output::use_color(g);
    if g.quiet {
        // Quiet: the problems only, for schedulers that mail what is printed.
        for c in report.checks.iter().filter(|c| c.status == Status::Problem) {
            let _ = writeln!(out, "{}", line(color, c));
        }
        return out;
    }
    let _ = writeln!(out, "PIMSYNC installation: {}", report.pimsync_home);
    for c in &report.checks {
        let _ = writeln!(out, "{}", line(color, c));
    }
    let unknown = report.count(Status::Unknown);
    let ok = report.count(Status::Ok);
    let summary = format!(
        "Summary: {} problem{}, {unknown} unknown, {ok} ok",
        report.problems,
        if report.problems == 1 { "" } else { "s" }
    );
    let code = if report.problems > 0 { "31;1" } else { "32" };
    let _ = writeln!(out, "{}", output::paint(color, code, &summary));
    out
}
