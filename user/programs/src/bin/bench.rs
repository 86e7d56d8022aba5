//! `bench [-q] [-v] [name...]`: lmbench-style benchmarks of the operating
//! system, and an application workload — one source, run on both kernels.
//!
//! Each benchmark prints one line, ticks of the time-stamp counter per
//! operation (the median of 9 runs after a warm-up run), and for the
//! bandwidths the bytes one operation moves and what that makes per second
//! if a tick is a nanosecond:
//!
//! ```text
//! bench getpid: 153 ticks/op
//! bench pipe-bw-4k: 5012 ticks/op (4096 bytes: 817 MB/s at 1 GHz)
//! ```
//!
//! Under QEMU with `-icount shift=0` a tick *is* a nanosecond of guest time
//! and one guest instruction, so the figures are path lengths; on hardware
//! (KVM) they are cycles. `make bench` runs this on both kernels and puts
//! the figures side by side (docs/performance.md says what each measures
//! and how). `-q` (quick) runs each benchmark once with a few operations:
//! a check that everything works, not a measurement (`make test`). `-v`
//! also prints the fastest and slowest run of each. Names choose
//! benchmarks (`bench getpid pipe`); `bench -l` lists them.
//!
//! The benchmarks are in `src/bench/`, one module per area.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../bench/mod.rs"]
mod bench;

use bench::{BenchResult, Context, Plan, SCRATCH_DIR};
use ulib::{Args, Errno, eprintln, mkdir, println, unlink};

/// One benchmark: its name, what one operation is, and how many bytes it
/// moves (0 for a latency).
struct Benchmark {
    name: &'static str,
    what: &'static str,
    bytes: u64,
    run: fn(&Plan) -> BenchResult<u64>,
}

/// Every benchmark, in the order they run: those that never wait for the
/// disk first, then those that do.
const BENCHMARKS: [Benchmark; 16] = [
    Benchmark {
        name: "getpid",
        what: "getpid(): the null system call",
        bytes: 0,
        run: bench::calls::getpid_call,
    },
    Benchmark {
        name: "null-read",
        what: "read 1 byte from /dev/null",
        bytes: 0,
        run: bench::calls::null_read,
    },
    Benchmark {
        name: "pipe",
        what: "1-byte round trip to a child through two pipes",
        bytes: 0,
        run: bench::pipes::round_trip,
    },
    Benchmark {
        name: "pipe-bw-4k",
        what: "4 KiB through a pipe to a child (one write)",
        bytes: 4096,
        run: bench::pipes::bandwidth_4k,
    },
    Benchmark {
        name: "pipe-bw-64k",
        what: "64 KiB through a pipe to a child (one write)",
        bytes: 64 * 1024,
        run: bench::pipes::bandwidth_64k,
    },
    Benchmark {
        name: "ctxsw",
        what: "one switch between two processes (lmbench lat_ctx)",
        bytes: 0,
        run: bench::pipes::context_switch,
    },
    Benchmark {
        name: "fork",
        what: "fork + exit + wait",
        bytes: 0,
        run: bench::process::fork_exit,
    },
    Benchmark {
        name: "fork-exec",
        what: "fork + exec /bin/true + exit + wait",
        bytes: 0,
        run: bench::process::fork_exec,
    },
    Benchmark {
        name: "page-fault",
        what: "sbrk a page and touch it (per page, 64 at a time)",
        bytes: 0,
        run: bench::process::page_fault,
    },
    Benchmark {
        name: "matmul",
        what: "128x128 matrix multiplication in fresh sbrk memory",
        bytes: 0,
        run: bench::process::matmul,
    },
    Benchmark {
        name: "file-read-4k",
        what: "read 4 KiB of a cached file",
        bytes: 4096,
        run: bench::files::read_cached,
    },
    Benchmark {
        name: "aim",
        what: "a 16-line shell script of pipelines, end to end",
        bytes: 0,
        run: bench::workload::aim,
    },
    Benchmark {
        name: "create-delete",
        what: "create an empty file, close it, delete it (disk)",
        bytes: 0,
        run: bench::files::create_delete,
    },
    Benchmark {
        name: "file-write-4k",
        what: "overwrite 4 KiB of a cached file (written through to disk)",
        bytes: 4096,
        run: bench::files::write_cached,
    },
    Benchmark {
        name: "seq-write-8m",
        what: "write a new 8 MiB file in 64 KiB writes (disk)",
        bytes: 8 << 20,
        run: bench::files::seq_write,
    },
    Benchmark {
        name: "seq-read-8m",
        what: "read an 8 MiB file in 64 KiB reads (disk)",
        bytes: 8 << 20,
        run: bench::files::seq_read,
    },
];

/// The usage line.
const USAGE: &str = "usage: bench [-q] [-v] [-l] [name...]";

fn main(args: Args) -> i32 {
    let mut plan = Plan {
        quick: false,
        verbose: false,
    };
    let mut chosen = [false; BENCHMARKS.len()];
    let mut any_chosen = false;
    for word in args.iter().skip(1) {
        match word {
            "-q" => plan.quick = true,
            "-v" => plan.verbose = true,
            "-l" => {
                for benchmark in &BENCHMARKS {
                    println!("{:<14} {}", benchmark.name, benchmark.what);
                }
                return 0;
            }
            name => match BENCHMARKS.iter().position(|b| b.name == name) {
                Some(index) => {
                    chosen[index] = true;
                    any_chosen = true;
                }
                None => {
                    eprintln!(
                        "{}   (unknown benchmark '{}'; bench -l lists them)",
                        USAGE, name
                    );
                    return 1;
                }
            },
        }
    }
    if let Err(reason) = make_scratch_dir() {
        eprintln!("bench: {}", reason);
        return 1;
    }
    let mut status = 0;
    for (index, benchmark) in BENCHMARKS.iter().enumerate() {
        if any_chosen && !chosen[index] {
            continue;
        }
        match (benchmark.run)(&plan) {
            Ok(ticks) => report(benchmark, plan.pick(benchmark.bytes, 0), ticks),
            Err(reason) => {
                println!("bench {}: FAILED: {}", benchmark.name, reason);
                status = 1;
            }
        }
    }
    remove_scratch_dir();
    status
}

/// Prints `bench NAME: N ticks/op`, and for a bandwidth the bytes and MB/s
/// (10^6 bytes a second) at one tick a nanosecond.
fn report(benchmark: &Benchmark, bytes: u64, ticks: u64) {
    if bytes == 0 || ticks == 0 {
        println!("bench {}: {} ticks/op", benchmark.name, ticks);
    } else {
        println!(
            "bench {}: {} ticks/op ({} bytes: {} MB/s at 1 GHz)",
            benchmark.name,
            ticks,
            bytes,
            bytes * 1000 / ticks
        );
    }
}

fn make_scratch_dir() -> BenchResult<()> {
    match mkdir(SCRATCH_DIR) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e).context(&alloc::format!("mkdir {SCRATCH_DIR}")),
    }
}

/// Removes what the benchmarks left in the scratch directory, and it.
fn remove_scratch_dir() {
    for name in ["data", "new", "seq", "aim.sh"] {
        let _ = unlink(&alloc::format!("{SCRATCH_DIR}/{name}"));
    }
    if let Err(e) = unlink(SCRATCH_DIR) {
        eprintln!("bench: cannot remove {}: {}", SCRATCH_DIR, e.message());
    }
}

ulib::entry!(main);
