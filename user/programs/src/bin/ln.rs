//! `ln old new`: gives the file `old` a second name, `new` (a hard link).
#![no_std]
#![no_main]

use ulib::{Args, eprintln, link};

fn main(args: Args) -> i32 {
    let (Some(old), Some(new), 3) = (args.get(1), args.get(2), args.len()) else {
        eprintln!("usage: ln old new");
        return 1;
    };
    match link(old, new) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ln: {} -> {}: {}", old, new, e.message());
            1
        }
    }
}

ulib::entry!(main);
