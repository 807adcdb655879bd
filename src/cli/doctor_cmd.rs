//! `azure-cacerts doctor`. STUB: being written.
use clap::Args;

use super::args::GlobalOpts;
use crate::error::CliResult;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {}

pub fn run(_args: &DoctorArgs, _g: &GlobalOpts) -> CliResult<i32> {
    Err(super::unimplemented_command("doctor"))
}
