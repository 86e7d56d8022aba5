//! `date`: prints the date and time, in UTC, from the real-time clock:
//!
//! ```text
//! $ date
//! Fri 2026-01-02 03:04:05 UTC
//! ```
//!
//! `date -s` prints the seconds since 1970-01-01 00:00:00 UTC instead
//! (what the `time` system call returns). The clock is read by the shared
//! driver `common::drivers::rtc`: in the mono-kernel behind the `time`
//! system call, on the micro-kernel in the rtc server (`docs/drivers.md`).
#![no_std]
#![no_main]

use common::time::DateTime;
use ulib::{Args, println};

fn main(args: Args) -> i32 {
    let seconds_only = match args.get(1) {
        None => false,
        Some("-s") if args.len() == 2 => true,
        Some(_) => {
            ulib::eprintln!("usage: date [-s]");
            return 2;
        }
    };
    let seconds = match ulib::time() {
        Ok(seconds) => seconds,
        Err(errno) => {
            ulib::eprintln!(
                "date: cannot read the clock: {} ({errno:?})",
                errno.message()
            );
            return 1;
        }
    };
    if seconds_only {
        println!("{seconds}");
        return 0;
    }
    match DateTime::from_unix_seconds(seconds) {
        Some(now) => {
            println!("{now}");
            0
        }
        None => {
            ulib::eprintln!("date: {seconds} seconds is past the year 65535");
            1
        }
    }
}

ulib::entry!(main);
