//! bench: the benchmarks of `bench`, and how each is measured.
//!
//! Every benchmark is a function that sets its stage up (a child process
//! at the other end of a pipe, a file to read), then hands [`measure`] a
//! closure that performs one *run* — `ops` operations between two `rdtsc`
//! readings — and returns the ticks it took. [`measure`] runs it once to
//! warm up (caches filled, pages mapped, the child scheduled once) and
//! [`RUNS`] more times, and reports the median run divided by `ops`:
//! ticks per operation.
//!
//! Every run starts with [`start`], which sleeps until the next timer tick
//! before reading the counter. Under QEMU with `-icount shift=0,sleep=off`
//! a sleeping machine jumps straight to the tick, so each run starts the
//! same number of instructions after a tick, and the ticks that fall inside
//! a run fall on the same instructions every time: a run that touches no
//! disk takes the same number of instructions on every boot (see
//! docs/performance.md).
//!
//! | module       | benchmarks                                                  |
//! |--------------|-------------------------------------------------------------|
//! | [`calls`]    | `getpid`, `null-read`                                       |
//! | [`pipes`]    | `pipe`, `pipe-bw-4k`, `pipe-bw-64k`, `ctxsw`                |
//! | [`process`]  | `fork`, `fork-exec`, `page-fault`, `matmul`                 |
//! | [`files`]    | `file-read-4k`, `create-delete`, `file-write-4k`, `seq-write-8m`, `seq-read-8m` |
//! | [`workload`] | `aim`: a shell script of pipelines, timed end to end        |
//!
//! Files are made in [`SCRATCH_DIR`], which `bench` creates first and
//! removes at the end.

pub mod calls;
pub mod files;
pub mod pipes;
pub mod process;
pub mod workload;

use alloc::format;
use alloc::string::String;
use ulib::{Errno, rdtsc, sleep};

/// What a failed benchmark says: what it was doing and the error.
pub type BenchResult<T> = Result<T, String>;

/// Turns a system-call error into a message that says what was done.
pub trait Context<T> {
    /// `open(...).context("open /dev/null")?` fails with
    /// `open /dev/null: no such file or directory`.
    fn context(self, what: &str) -> BenchResult<T>;
}

impl<T> Context<T> for Result<T, Errno> {
    fn context(self, what: &str) -> BenchResult<T> {
        self.map_err(|e| format!("{}: {}", what, e.message()))
    }
}

/// The directory the file benchmarks work in.
pub const SCRATCH_DIR: &str = "/bench.d";

/// Timed runs per benchmark in a full measurement (odd: the median is one
/// of them).
pub const RUNS: usize = 9;

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// `-q`: one run of a few operations each, no warm-up: enough to see
    /// that every benchmark works (`make test`), not to measure.
    pub quick: bool,
    /// `-v`: print the fastest and slowest run of each benchmark too, as
    /// `  (9 runs of 1000 ops: 153 to 153 ticks/op)`.
    pub verbose: bool,
}

impl Plan {
    /// Operations per run: `full` when measuring, a few when quick.
    pub fn ops(&self, full: u64) -> u64 {
        if self.quick { full.div_ceil(64) } else { full }
    }

    /// `full` when measuring, `quick` otherwise (sizes, not counts).
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// How a benchmark is measured, beyond [`Plan`].
#[derive(Clone, Copy, Debug)]
pub struct Runs {
    /// Timed runs.
    pub count: usize,
    /// Whether an untimed run goes first.
    pub warm_up: bool,
}

impl Runs {
    /// [`RUNS`] timed runs after a warm-up: for everything cheap.
    pub const STANDARD: Runs = Runs {
        count: RUNS,
        warm_up: true,
    };
    /// Three timed runs, no warm-up: for runs that take seconds and have
    /// nothing to warm (the disk benchmarks).
    pub const FEW: Runs = Runs {
        count: 3,
        warm_up: false,
    };
}

/// Starts a timed region: sleeps until the next timer tick, then reads the
/// time-stamp counter.
pub fn start() -> BenchResult<u64> {
    sleep(1).context("sleep until the next tick")?;
    Ok(rdtsc())
}

/// Ticks since `started` (a value of [`start`]).
pub fn since(started: u64) -> u64 {
    rdtsc().wrapping_sub(started)
}

/// Runs `one_run` (which performs `ops` operations and returns the ticks
/// they took) as `runs` says — once only if the plan is quick — and
/// returns the median run's ticks divided by `ops`, rounded.
pub fn measure(
    plan: &Plan,
    runs: Runs,
    ops: u64,
    mut one_run: impl FnMut() -> BenchResult<u64>,
) -> BenchResult<u64> {
    let count = if plan.quick {
        1
    } else {
        runs.count.clamp(1, RUNS)
    };
    if runs.warm_up && !plan.quick {
        one_run()?;
    }
    let mut ticks = [0u64; RUNS];
    for slot in ticks.iter_mut().take(count) {
        *slot = one_run()?;
    }
    let ticks = &mut ticks[..count];
    ticks.sort_unstable();
    let ops = ops.max(1);
    let per_op = |ticks: u64| (ticks + ops / 2) / ops;
    if plan.verbose {
        ulib::println!(
            "  ({} runs of {} ops: {} to {} ticks/op)",
            count,
            ops,
            per_op(ticks[0]),
            per_op(ticks[count - 1])
        );
    }
    Ok(per_op(ticks[count / 2]))
}
