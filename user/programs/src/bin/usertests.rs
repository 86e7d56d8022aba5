//! `usertests [-q] [NAME...]`: the system-call test suite.
//!
//! Runs every test (or the named ones) and prints one line per test:
//!
//! ```text
//! test sbrk_grow: OK
//! test copyin_bad: FAILED (write from 0xffffffff80000000: expected EFAULT, got EIO)
//! ```
//!
//! then checks that no physical memory leaked (the number of free pages,
//! from `freemem`, must be the same after the run as before) and prints
//! `ALL TESTS PASSED` or `SOME TESTS FAILED`. `-q` skips the slow tests.
//! *Pending* tests — checks of a fix that is not in yet — run only when
//! named.
//!
//! Each test runs in its own child process, so a test that crashes, hangs
//! in a loop that gets killed, or corrupts its memory fails alone. The tests
//! themselves are in `src/usertests/` (one module per area).
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../usertests/mod.rs"]
mod usertests;

use ulib::{Args, ForkResult, exit, fork, freemem, println, wait};
use usertests::{Test, all_tests};

/// Exit status of a test process that printed its own failure line.
const REPORTED_FAILURE: i32 = 99;

/// Runs one test in a child process; returns whether it passed.
fn run_test(test: &Test) -> bool {
    let child = match fork() {
        Ok(ForkResult::Child) => match (test.run)() {
            Ok(()) => exit(0),
            Err(reason) => {
                println!("test {}: FAILED ({})", test.name, reason);
                exit(REPORTED_FAILURE);
            }
        },
        Ok(ForkResult::Parent(pid)) => pid,
        Err(e) => {
            println!("test {}: FAILED (fork: {})", test.name, e.message());
            return false;
        }
    };
    loop {
        match wait() {
            Ok((pid, status)) if pid == child => {
                return match status {
                    0 => {
                        println!("test {}: OK", test.name);
                        true
                    }
                    REPORTED_FAILURE => false,
                    ulib::KILLED_STATUS => {
                        println!("test {}: FAILED (the test process was killed)", test.name);
                        false
                    }
                    other => {
                        println!(
                            "test {}: FAILED (the test process exited with status {})",
                            test.name, other
                        );
                        false
                    }
                };
            }
            // A stray child of ours (there should be none): collected.
            Ok(_) => {}
            Err(e) => {
                println!("test {}: FAILED (wait: {})", test.name, e.message());
                return false;
            }
        }
    }
}

/// Collects any children still around, so that their memory is freed
/// before the leak check.
fn reap_all() {
    while wait().is_ok() {}
}

/// Exercises fork, files and pipes once before measuring free memory, so
/// that caches the kernel fills on first use are not counted as leaks.
fn warm_up() {
    if let Ok(ForkResult::Child) = fork() {
        let _ = ulib::open("ut-warmup", ulib::O_CREATE | ulib::O_RDWR).map(ulib::close);
        let _ = ulib::unlink("ut-warmup");
        let _ = ulib::pipe().map(|(r, w)| (ulib::close(r), ulib::close(w)));
        exit(0);
    }
    reap_all();
}

fn main(args: Args) -> i32 {
    // `exec_args` and `exec_big_args` start this program again to check
    // the arguments it receives.
    if args.get(1).is_some_and(|a| a.starts_with("--exec-probe")) {
        return usertests::process::exec_probe(args);
    }
    let mut quick = false;
    let mut names = alloc::vec::Vec::new();
    for word in args.iter().skip(1) {
        if word == "-q" {
            quick = true;
        } else if all_tests().any(|t| t.name == word) {
            names.push(word);
        } else {
            println!(
                "usage: usertests [-q] [NAME...]   (no test named '{}')",
                word
            );
            println!("tests:");
            for test in all_tests() {
                let note = match (test.slow, test.pending) {
                    (_, true) => " (pending: a fix not in yet; runs only when named)",
                    (true, _) => " (slow)",
                    _ => "",
                };
                println!("  {}{}", test.name, note);
            }
            return 1;
        }
    }
    // The tests use paths relative to the root directory.
    if let Err(e) = ulib::chdir("/") {
        println!("usertests: chdir /: {}", e.message());
        return 1;
    }
    println!("usertests starting");
    usertests::util::remove_leftovers();
    warm_up();
    let free_before = freemem();
    let mut failures = 0;
    let mut ran = 0;
    for test in all_tests() {
        let chosen = if names.is_empty() {
            !(test.pending || quick && test.slow)
        } else {
            names.contains(&test.name)
        };
        if chosen {
            ran += 1;
            if !run_test(test) {
                failures += 1;
            }
        }
    }
    reap_all();
    ran += 1; // the leak check counts as a test
    match (free_before, freemem()) {
        (Ok(before), Ok(after)) if after < before => {
            println!(
                "test leak_check: FAILED ({} free pages before the tests, {} after)",
                before, after
            );
            failures += 1;
        }
        (Ok(_), Ok(_)) => println!("test leak_check: OK"),
        (Err(e), _) | (_, Err(e)) => {
            println!("test leak_check: FAILED (freemem: {})", e.message());
            failures += 1;
        }
    }
    if failures == 0 {
        println!("{} tests: ALL TESTS PASSED", ran);
        0
    } else {
        println!("{} of {} tests failed: SOME TESTS FAILED", failures, ran);
        1
    }
}

ulib::entry!(main);
