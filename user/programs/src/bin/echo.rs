//! `echo [word...]`: prints its arguments separated by spaces, then a newline.
//!
//! The output is assembled first and written with one `write`, so `echo` in
//! a pipeline delivers its line in one piece.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use ulib::{Args, Errno, Fd, write_all};

fn main(args: Args) -> i32 {
    let mut line: Vec<u8> = Vec::new();
    for (i, word) in args.iter().skip(1).enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        line.extend_from_slice(word.as_bytes());
    }
    line.push(b'\n');
    match write_all(Fd::STDOUT, &line) {
        Ok(()) => 0,
        // The reader of our pipe has gone: nobody wants the output.
        Err(Errno::EPIPE) => 1,
        Err(e) => {
            ulib::eprintln!("echo: write error: {}", e.message());
            1
        }
    }
}

ulib::entry!(main);
