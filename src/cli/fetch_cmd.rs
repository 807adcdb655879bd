//! `azure-cacerts fetch`. STUB: being written.
use clap::Args;

use super::args::{GlobalOpts, SourceOpts};
use crate::error::CliResult;

#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub source: SourceOpts,
}

pub fn run(_args: &FetchArgs, _g: &GlobalOpts) -> CliResult<i32> {
    Err(super::unimplemented_command("fetch"))
}
