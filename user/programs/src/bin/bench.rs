//! `bench [name...]`: micro-benchmarks of the system-call path.
//!
//! Each benchmark repeats one operation many times between two `rdtsc`
//! readings and reports the average, e.g.
//!
//! ```text
//! bench getpid: 412 ticks/op
//! ```
//!
//! | name     | one operation                                            |
//! |----------|----------------------------------------------------------|
//! | `getpid` | the cheapest system call: into the kernel and back       |
//! | `pipe`   | a 1-byte round trip: write to a child through one pipe, read its echo from another (two context switches) |
//! | `fork`   | fork a child that exits at once, and wait for it         |
//!
//! Under QEMU with `-icount shift=0` the time-stamp counter advances with
//! guest instructions, so the numbers are deterministic path lengths; on
//! hardware (KVM) they are real cycles. The same binary runs on both kernels:
//! comparing the numbers is the point (see docs/user-programs.md).
#![no_std]
#![no_main]

use ulib::{
    Args, Errno, Fd, ForkResult, close, eprintln, exit, fork, getpid, pipe, println, rdtsc, read,
    wait, write,
};

/// Repetitions for each benchmark.
const GETPID_ROUNDS: u64 = 100_000;
const PIPE_ROUNDS: u64 = 10_000;
const FORK_ROUNDS: u64 = 200;

/// A benchmark: runs its operation many times and returns ticks per op.
type Benchmark = fn() -> Result<u64, Errno>;

/// Every benchmark, by name.
const BENCHMARKS: [(&str, Benchmark); 3] = [
    ("getpid", bench_getpid),
    ("pipe", bench_pipe),
    ("fork", bench_fork),
];

fn bench_getpid() -> Result<u64, Errno> {
    let start = rdtsc();
    for _ in 0..GETPID_ROUNDS {
        getpid()?;
    }
    Ok((rdtsc() - start) / GETPID_ROUNDS)
}

fn bench_pipe() -> Result<u64, Errno> {
    let (to_child_read, to_child_write) = pipe()?;
    let (to_parent_read, to_parent_write) = pipe()?;
    match fork()? {
        ForkResult::Child => {
            let _ = close(to_child_write);
            let _ = close(to_parent_read);
            // Echo every byte back until the parent closes its end.
            let mut byte = [0u8; 1];
            while let Ok(1) = read(to_child_read, &mut byte) {
                if write(to_parent_write, &byte) != Ok(1) {
                    break;
                }
            }
            exit(0);
        }
        ForkResult::Parent(_) => {
            let _ = close(to_child_read);
            let _ = close(to_parent_write);
        }
    }
    let result = ping_pong(to_child_write, to_parent_read);
    let _ = close(to_child_write);
    let _ = close(to_parent_read);
    wait()?;
    result
}

/// The parent's half of the pipe benchmark.
fn ping_pong(to_child: Fd, from_child: Fd) -> Result<u64, Errno> {
    let mut byte = [0x5au8; 1];
    let start = rdtsc();
    for _ in 0..PIPE_ROUNDS {
        if write(to_child, &byte)? != 1 || read(from_child, &mut byte)? != 1 {
            return Err(Errno::EIO);
        }
    }
    Ok((rdtsc() - start) / PIPE_ROUNDS)
}

fn bench_fork() -> Result<u64, Errno> {
    let start = rdtsc();
    for _ in 0..FORK_ROUNDS {
        match fork()? {
            ForkResult::Child => exit(0),
            ForkResult::Parent(_) => {
                wait()?;
            }
        }
    }
    Ok((rdtsc() - start) / FORK_ROUNDS)
}

fn main(args: Args) -> i32 {
    let mut status = 0;
    let chosen = args.len() > 1;
    for word in args.iter().skip(1) {
        if !BENCHMARKS.iter().any(|(name, _)| *name == word) {
            eprintln!(
                "usage: bench [getpid|pipe|fork]...   (unknown benchmark '{}')",
                word
            );
            return 1;
        }
    }
    for (name, run) in BENCHMARKS {
        if chosen && !args.iter().skip(1).any(|w| w == name) {
            continue;
        }
        match run() {
            Ok(ticks) => println!("bench {}: {} ticks/op", name, ticks),
            Err(e) => {
                eprintln!("bench {}: failed: {}", name, e.message());
                status = 1;
            }
        }
    }
    status
}

ulib::entry!(main);
