//! `sleep ticks`: waits for `ticks` clock ticks (a tick is 10 ms).
#![no_std]
#![no_main]

use ulib::{Args, eprintln, sleep};

fn main(args: Args) -> i32 {
    let ticks = match (args.get(1).map(str::parse::<u64>), args.len()) {
        (Some(Ok(ticks)), 2) => ticks,
        _ => {
            eprintln!("usage: sleep ticks   (a tick is 10 ms)");
            return 1;
        }
    };
    match sleep(ticks) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sleep: {}", e.message());
            1
        }
    }
}

ulib::entry!(main);
