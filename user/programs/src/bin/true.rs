//! `true`: does nothing, successfully (exit status 0).
//!
//! For shell scripts, and the smallest program there is to `exec`: `bench
//! fork-exec` runs it to measure what starting a program costs.
#![no_std]
#![no_main]

use ulib::Args;

fn main(_args: Args) -> i32 {
    0
}

ulib::entry!(main);
