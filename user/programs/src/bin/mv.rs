//! `mv old new`: renames `old` to `new` (with the `rename` system call).
#![no_std]
#![no_main]

use ulib::{Args, eprintln, rename};

fn main(args: Args) -> i32 {
    let (Some(old), Some(new), 3) = (args.get(1), args.get(2), args.len()) else {
        eprintln!("usage: mv old new");
        return 1;
    };
    match rename(old, new) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("mv: {} -> {}: {}", old, new, e.message());
            1
        }
    }
}

ulib::entry!(main);
