//! `trace`: records what the kernel (and, on the micro-kernel, the
//! servers) do while commands run, and prints it (`docs/trace.md`).
//!
//! ```text
//! trace on          start recording (forgets the last trace)
//! trace off         stop recording
//! trace dump        print the events, one `@trace` line each
//! trace CMD ARGS... trace on, run CMD, trace off (then `trace dump`)
//! ```
//!
//! A pipeline is traced with `trace on; echo hi | cat; trace off` at the
//! shell prompt (the shell's own work is in the trace too).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use ulib::{Args, ForkResult, eprintln, exit, fork, println, wait};

/// Events read per `trace(READ)` call.
const BATCH: usize = 256;

fn main(args: Args) -> i32 {
    let Some(command) = args.get(1) else {
        eprintln!("usage: trace on | off | dump | CMD ARGS...");
        return 1;
    };
    let result = match command {
        "on" => ulib::trace::on(),
        "off" => ulib::trace::off().map(|count| {
            if count as usize >= 16 * 1024 {
                eprintln!("trace: the trace is full: later events were dropped");
            }
        }),
        "dump" => dump(),
        _ => run(&args),
    };
    match result {
        Ok(()) => 0,
        Err(errno) => {
            eprintln!("trace: {}", errno.message());
            1
        }
    }
}

/// Prints every recorded event.
fn dump() -> Result<(), ulib::Errno> {
    let mut line = String::new();
    loop {
        let events = ulib::trace::read(BATCH)?;
        if events.is_empty() {
            return Ok(());
        }
        for event in events {
            line.clear();
            let _ = event.write_line(&mut line);
            ulib::print!("{line}");
        }
    }
}

/// `trace CMD ARGS...`: runs the command with tracing on.
fn run(args: &Args) -> Result<(), ulib::Errno> {
    let argv: alloc::vec::Vec<&str> = (1..args.len()).filter_map(|i| args.get(i)).collect();
    ulib::trace::on()?;
    match fork()? {
        ForkResult::Child => {
            let error = ulib::exec(argv[0], &argv);
            eprintln!("trace: cannot run {}: {}", argv[0], error.message());
            exit(127);
        }
        ForkResult::Parent(_) => {
            let _ = wait();
        }
    }
    ulib::trace::off()?;
    println!("trace: recorded; `trace dump` prints it");
    Ok(())
}

ulib::entry!(main);
