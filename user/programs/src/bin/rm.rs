//! `rm path...`: removes names (files, or empty directories).
#![no_std]
#![no_main]

use ulib::{Args, eprintln, unlink};

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: rm path...");
        return 1;
    }
    let mut status = 0;
    for path in args.iter().skip(1) {
        if let Err(e) = unlink(path) {
            eprintln!("rm: {}: {}", path, e.message());
            status = 1;
        }
    }
    status
}

ulib::entry!(main);
