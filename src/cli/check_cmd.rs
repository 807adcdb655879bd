//! `azure-cacerts check`. STUB: being written.
use clap::Args;

use super::args::GlobalOpts;
use crate::error::CliResult;

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {}

pub fn run(_args: &CheckArgs, _g: &GlobalOpts) -> CliResult<i32> {
    Err(super::unimplemented_command("check"))
}
