//! The Diptych grading harness (host side).
//!
//! It boots each kernel under QEMU, types at the serial console, waits for
//! what the kernel prints, and scores the result. The pieces, in the order a
//! test meets them:
//!
//! - [`patterns`]: what kernels print and the exit codes they use: the
//!   contract with the kernel authors, in one place.
//! - [`qemu`]: the [`Machine`] to boot and the QEMU command line for it.
//! - [`console`]: the serial output and waiting for a pattern in it
//!   ([`utf8_stream`] turns its bytes into text).
//! - [`session`]: one boot of one kernel, driven by a test, on a private
//!   copy of the disk ([`scratch`]).
//! - [`failure`]: why a test failed, with the evidence.
//! - [`test`]: what a test is; [`suites`]: the tests themselves.
//! - [`runner`]: runs tests on both kernels, in parallel, saving logs.
//! - [`report`]: the console summary and Gradescope's `results.json`.
//! - [`bench_table`]: the table of benchmark figures `make bench` writes.
//!
//! `docs/grading.md` explains how to run the grader and write a test.

pub mod bench_table;
pub mod cli;
pub mod colocation_table;
pub mod console;
pub mod failure;
pub mod host;
pub mod labcmd;
pub mod labs;
pub mod pattern;
pub mod patterns;
pub mod qemu;
pub mod report;
pub mod runner;
pub mod scratch;
pub mod session;
pub mod starter;
pub mod suites;
pub mod targets_table;
pub mod test;
pub mod trace;
pub mod usertest_names;
pub mod utf8_stream;

pub use failure::Failure;
pub use pattern::{Found, Pattern};
pub use qemu::{Accel, ExitStatus, Kernel, Machine};
pub use session::Session;
pub use test::Test;
