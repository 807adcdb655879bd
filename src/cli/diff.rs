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
    let catalog = args.catalog(g)?;
    let (selection, loaded) = args.selection_with(OffsetDateTime::now_utc(), &catalog)?;
    for n in render::custom_notes(&loaded) {
        output::note(g, n);
    }
    let diff = match ops::diff(&request, &catalog, &selection) {
        Err(e) => match super::args::ask_after_default_failed(&e) {
            Some(password) => ops::diff(
                &ops::OpenRequest {
                    password,
                    ..request
                },
                &catalog,
                &selection,
            )?,
            None => return Err(e.into()),
        },
        Ok(d) => d,
    };
    for w in render::skip_warnings(&diff.plan) {
        output::warn(w);
    }
    for w in render::keystore_warnings(&diff.keystore, false) {
        output::warn(w);
    }
    let report = ReportJson::of_diff(&diff, &catalog);
    let missing = report.summary.missing;
    if g.prometheus() {
        let mut metrics = super::prometheus::Exposition::default();
        metrics.keystore(&report.keystore.path, &diff.plan, selection.now);
        metrics.catalog(&catalog, selection.now);
        output::emit(&metrics.render())?;
        return Ok(if missing > 0 { 1 } else { 0 });
    }
    match g.format {
        Format::Json => output::print_json(&report)?,
        // Quiet: the exit code says it all (1 = CAs missing); warnings still show.
        Format::Text if g.quiet => {}
        Format::Text => {
            let mut out = String::new();
            if !loaded.read.is_empty() {
                out.push_str(&render::custom_listing(&loaded));
            }
            render::report_table(
                &mut out,
                output::use_color(g),
                g.verbose,
                &diff.keystore,
                &report,
                false,
            );
            out.push('\n');
            let _ = writeln!(out, "Summary: {}", render::summary_line(&report.summary));
            if let Some(notice) = render::unavailable_notice(&diff.plan) {
                let _ = writeln!(out, "{notice}");
            }
            let custom = !args.custom.pem.is_empty() || args.custom.from_os_store;
            if missing > 0 && custom {
                // The import needs the same --pem / --from-os-store options.
                let _ = writeln!(
                    out,
                    "Run `azure-cacerts import` with the same options to add the {missing} missing CA(s)."
                );
            } else if missing > 0 {
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
