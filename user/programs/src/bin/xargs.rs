// LAB util BEGIN
//! `xargs COMMAND [ARG...]`: runs COMMAND once for each line of its
//! standard input, with the line's words after the ARGs (lab `util`, as
//! xv6's: one line, one run). A command without a `/` is looked for in
//! `/bin`, as the shell does. The exit status is 0 if every run exited 0.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use ulib::io::LineReader;
use ulib::{Args, Errno, Fd, ForkResult, MAX_ARGS, eprintln, exec, exit, fork, wait};

/// Runs `argv` in a child and waits for it: its exit status.
fn run(argv: &[&str]) -> i32 {
    match fork() {
        Ok(ForkResult::Child) => {
            let name = argv[0];
            let mut error = exec(name, argv);
            if error == Errno::ENOENT && !name.contains('/') {
                error = exec(&format!("/bin/{name}"), argv);
            }
            eprintln!("xargs: {}: {}", name, error.message());
            exit(127)
        }
        Ok(ForkResult::Parent(child)) => loop {
            match wait() {
                Ok((pid, status)) if pid == child => return status,
                Ok(_) => {}
                Err(_) => return 1,
            }
        },
        Err(e) => {
            eprintln!("xargs: fork: {}", e.message());
            1
        }
    }
}

fn main(args: Args) -> i32 {
    let fixed: Vec<&str> = args.iter().skip(1).collect();
    if fixed.is_empty() {
        eprintln!("usage: xargs COMMAND [ARG...]");
        return 2;
    }
    let mut reader = LineReader::new(Fd::STDIN);
    let mut line = Vec::new();
    let mut status = 0;
    loop {
        match reader.next_line(&mut line) {
            Ok(true) => {}
            Ok(false) => return status,
            Err(e) => {
                eprintln!("xargs: read: {}", e.message());
                return 1;
            }
        }
        let Ok(text) = core::str::from_utf8(&line) else {
            eprintln!("xargs: a line is not UTF-8");
            status = 1;
            continue;
        };
        let mut argv = fixed.clone();
        argv.extend(text.split_whitespace());
        if argv.len() > MAX_ARGS {
            eprintln!("xargs: more than {} arguments", MAX_ARGS);
            status = 1;
            continue;
        }
        if run(&argv) != 0 {
            status = 1;
        }
    }
}

ulib::entry!(main);
// LAB util STUB
//~ //! `xargs COMMAND [ARG...]`: runs COMMAND once for each line of its
//~ //! standard input (lab `util`: `labs/util/handout.md`).
//~ #![no_std]
//~ #![no_main]
//~
//~ use ulib::{Args, eprintln};
//~
//~ fn main(_args: Args) -> i32 {
//~     eprintln!("xargs: not written yet (lab util)");
//~     1
//~ }
//~
//~ ulib::entry!(main);
// LAB util END
