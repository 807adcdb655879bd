//! `azure-cacerts diff`: which Azure CAs a keystore lacks. Changes nothing.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::args::{Format, GlobalOpts, TargetOpts};
use super::failure::CliResult;
use super::output;
use super::render::{self, ReportJson};
use crate::ops;

/// `diff`, and `import --dry-run`: exit 1 when CAs are missing.
pub fn run(args: &TargetOpts, g: &GlobalOpts) -> CliResult<i32> {
    let request = args.keystore.request()?;
    let catalog = output::load_catalog(g, &args.source.spec()?)?.catalog;
    let selection = args.select.selection(OffsetDateTime::now_utc());
    let diff = ops::diff(&request, &catalog, &selection)?;
    for w in render::skip_warnings(&diff.plan) {
        output::warn(w);
    }
    let report = ReportJson::of_diff(&diff, &catalog);
    let missing = report.summary.missing;
    match g.format {
        Format::Json => output::print_json(&report)?,
        Format::Text => {
            let mut out = String::new();
            if !g.quiet {
                render::report_table(&mut out, output::use_color(g), &diff.keystore, &report);
                out.push('\n');
            }
            let _ = writeln!(out, "Summary: {}", render::summary_line(&report.summary));
            if missing > 0 && !g.quiet {
                let hint = crate::suggest::command(
                    "import",
                    "-k",
                    &diff.keystore.path.display().to_string(),
                );
                let _ = writeln!(out, "Run `{hint}` to add the {missing} missing CA(s).");
            }
            output::emit(&out)?;
        }
    }
    Ok(if missing > 0 { 1 } else { 0 })
}
