//! `kill pid...`: asks the kernel to kill processes.
#![no_std]
#![no_main]

use ulib::{Args, Pid, eprintln, kill};

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: kill pid...");
        return 1;
    }
    let mut status = 0;
    for word in args.iter().skip(1) {
        let Ok(pid) = word.parse::<Pid>() else {
            eprintln!("kill: {}: not a process id", word);
            status = 1;
            continue;
        };
        if let Err(e) = kill(pid) {
            eprintln!("kill: {}: {}", pid, e.message());
            status = 1;
        }
    }
    status
}

ulib::entry!(main);
