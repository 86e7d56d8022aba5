//! `mkdir dir...`: creates directories.
#![no_std]
#![no_main]

use ulib::{Args, eprintln, mkdir};

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: mkdir dir...");
        return 1;
    }
    let mut status = 0;
    for path in args.iter().skip(1) {
        if let Err(e) = mkdir(path) {
            eprintln!("mkdir: {}: {}", path, e.message());
            status = 1;
        }
    }
    status
}

ulib::entry!(main);
