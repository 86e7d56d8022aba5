//! `trace`: records what the kernel (and, on the micro-kernel, the
//! servers) do while commands run, and prints it (`docs/trace.md`).
//!
//! ```text
//! trace on          start recording (forgets the last trace)
//! trace off         stop recording
//! trace dump        print the events, one `@trace` line each
//! trace -s          summarise the first pipe write in the events
//! trace CMD ARGS... trace on, run CMD, trace off (then `trace dump`)
//! ```
//!
//! A pipeline is traced with `trace on; echo hi | cat; trace off` at the
//! shell prompt (the shell's own work is in the trace too). `trace dump`
//! and `trace -s` each read the events the kernel holds, and reading
//! consumes them: run one or the other after a trace (`make trace` on the
//! host reads the dump and draws the whole picture).
//!
//! The summary is `common::trace::scene`'s analysis, the same the host's
//! `make trace` runs: which pipe write it follows, its steps with their
//! code and instruction counts, and the kernel entries, address-space
//! switches, copies of the data and instructions from the `write` to the
//! reader having the bytes.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use common::trace::Event;
use common::trace::scene::Scene;
use ulib::{Args, ForkResult, eprintln, exit, fork, println, wait};

/// Events read per `trace(READ)` call.
const BATCH: usize = 256;

fn main(args: Args) -> i32 {
    let Some(command) = args.get(1) else {
        eprintln!("usage: trace on | off | dump | -s | CMD ARGS...");
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
        "-s" => summarise(),
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

/// Prints every recorded event, a batch of lines per `write` (one write
/// per line would cost the micro-kernel a round of messages per line).
fn dump() -> Result<(), ulib::Errno> {
    let mut lines = String::new();
    loop {
        let events = ulib::trace::read(BATCH)?;
        if events.is_empty() {
            return Ok(());
        }
        lines.clear();
        for event in events {
            let _ = event.write_line(&mut lines);
        }
        ulib::write_all(ulib::Fd::STDOUT, lines.as_bytes())?;
    }
}

/// Prints the summary of the first pipe write in the recorded events.
fn summarise() -> Result<(), ulib::Errno> {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let batch = ulib::trace::read(BATCH)?;
        if batch.is_empty() {
            break;
        }
        events.extend(batch);
    }
    match Scene::find(&events) {
        Ok(scene) => {
            let text = common::trace::summary::summary(&scene);
            ulib::write_all(ulib::Fd::STDOUT, text.as_bytes())
        }
        Err(error) => {
            eprintln!("trace: {error}");
            exit(1);
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
