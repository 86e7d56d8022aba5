//! `trace`: records a command on both kernels and draws its pipe write
//! (`make trace`; see `grading::trace` and `docs/trace.md`, and
//! `trace --help`).
//!
//! Everything happens in [`grading::trace::cli::main`]; this file only
//! passes it the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    grading::trace::cli::main(&args)
}
