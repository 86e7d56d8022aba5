//! `ln old new`: gives the file `old` a second name, `new` (a hard link).
//! `ln -s target new`: makes `new` a symbolic link whose contents are
//! `target` (lab `fs`); the target is not looked up, and may name nothing.
#![no_std]
#![no_main]

use ulib::{Args, eprintln, link};

fn main(args: Args) -> i32 {
    let symbolic = args.get(1) == Some("-s");
    let first = if symbolic { 2 } else { 1 };
    let (Some(old), Some(new), true) = (
        args.get(first),
        args.get(first + 1),
        args.len() == first + 2,
    ) else {
        eprintln!("usage: ln old new | ln -s target new");
        return 1;
    };
    let made = if symbolic {
        ulib::symlink(old, new)
    } else {
        link(old, new)
    };
    match made {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ln: {} -> {}: {}", old, new, e.message());
            1
        }
    }
}

ulib::entry!(main);
