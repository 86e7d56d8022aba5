//! Processes and memory: `fork`, `fork-exec`, `page-fault` and `matmul`.
//!
//! The two kernels make memory differently. The mono-kernel copies every
//! page at `fork` and maps `sbrk` memory at once; the micro-kernel's proc
//! server shares pages copy-on-write after `fork` and maps `sbrk` memory a
//! page at a time, when it is first touched (a page fault, sent to the
//! pager as an IPC). `page-fault` and `matmul` show that second difference.

use super::{BenchResult, Context, Plan, Runs, measure, since, start};
use ulib::{ForkResult, exec, exit, fork, sbrk, wait};

/// The program `fork-exec` runs: it exits at once.
const TRUE_PATH: &str = "/bin/true";

/// Page size.
const PAGE: usize = 4096;

/// `fork()` of a child that exits at once, and `wait` for it. 20 per run.
pub fn fork_exit(plan: &Plan) -> BenchResult<u64> {
    let ops = plan.ops(20);
    measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            match fork().context("fork")? {
                ForkResult::Child => exit(0),
                ForkResult::Parent(_) => {
                    wait().context("wait")?;
                }
            }
        }
        Ok(since(started))
    })
}

/// `fork()` of a child that runs `/bin/true` with `exec`, and `wait` for
/// it. 10 per run.
pub fn fork_exec(plan: &Plan) -> BenchResult<u64> {
    let ops = plan.ops(10);
    measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            match fork().context("fork")? {
                ForkResult::Child => {
                    exec(TRUE_PATH, &["true"]);
                    exit(127);
                }
                ForkResult::Parent(_) => {
                    let (_, status) = wait().context("wait")?;
                    if status != 0 {
                        return Err(alloc::format!("{TRUE_PATH} exited with status {status}"));
                    }
                }
            }
        }
        Ok(since(started))
    })
}

/// Grows the heap by `bytes` (whole pages); returns the new memory.
fn grow(bytes: usize) -> BenchResult<*mut u8> {
    // SAFETY: growing the break hands us new memory and changes nothing
    // anyone uses; the allocator copes with memory taken behind its back
    // (ulib's heap.rs).
    unsafe { sbrk(bytes as isize) }.context("sbrk")
}

/// Gives back the `bytes` that [`grow`] just gave.
fn shrink(bytes: usize) -> BenchResult<()> {
    // SAFETY: the caller took exactly these bytes with `grow`, nothing was
    // allocated behind them since, and nothing uses them any more.
    unsafe { sbrk(-(bytes as isize)) }
        .map(|_| ())
        .context("sbrk (give back)")
}

/// Getting a new page ready to use: `sbrk` of 64 pages, then one byte
/// written in each; per page. (The pages are given back after each run,
/// untimed.)
pub fn page_fault(plan: &Plan) -> BenchResult<u64> {
    let pages = plan.ops(64) as usize;
    measure(plan, Runs::STANDARD, pages as u64, || {
        let started = start()?;
        let memory = grow(pages * PAGE)?;
        for page in 0..pages {
            // SAFETY: `memory` is the start of `pages` new pages of ours.
            unsafe { memory.add(page * PAGE).write_volatile(1) };
        }
        let ticks = since(started);
        shrink(pages * PAGE)?;
        Ok(ticks)
    })
}

/// The virtual-memory test: three fresh `n`×`n` matrices of 64-bit
/// integers from `sbrk` (`n` = 128: 128 KiB, 32 pages each), filled, and
/// multiplied the plain way (row by column, so `b` is walked down its
/// columns, 1 KiB a step, across all its pages for every element of `c`).
/// One multiplication per run, the first touch of its memory included.
pub fn matmul(plan: &Plan) -> BenchResult<u64> {
    let n = plan.pick(128usize, 16);
    let bytes = (3 * n * n * 8).next_multiple_of(PAGE);
    measure(plan, Runs::STANDARD, 1, || {
        let started = start()?;
        let memory = grow(bytes)?.cast::<u64>();
        // SAFETY: `memory` is `bytes` of new, zeroed, page-aligned memory of
        // ours, room for three n×n u64 matrices; the three slices do not
        // overlap and are dropped before the memory is given back.
        let (a, b, c) = unsafe {
            (
                core::slice::from_raw_parts_mut(memory, n * n),
                core::slice::from_raw_parts_mut(memory.add(n * n), n * n),
                core::slice::from_raw_parts_mut(memory.add(2 * n * n), n * n),
            )
        };
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (i + j) as u64;
                b[i * n + j] = (i ^ j) as u64;
            }
        }
        for i in 0..n {
            for j in 0..n {
                let mut sum = 0u64;
                for k in 0..n {
                    sum = sum.wrapping_add(a[i * n + k].wrapping_mul(b[k * n + j]));
                }
                c[i * n + j] = sum;
            }
        }
        core::hint::black_box(&*c);
        let ticks = since(started);
        shrink(bytes)?;
        Ok(ticks)
    })
}
