//! `grade`: boots the Diptych kernels under QEMU, runs the test suites on
//! each, and reports a score (see `docs/grading.md`, and `grade --help`).
//!
//! Everything happens in [`grading::cli::main`]; this file only passes it
//! the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    grading::cli::main(&args)
}
