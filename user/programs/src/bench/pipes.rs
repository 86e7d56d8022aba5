//! Pipes: latency (`pipe`), bandwidth (`pipe-bw-4k`, `pipe-bw-64k`) and
//! the context switch measured with them (`ctxsw`), as lmbench's
//! `lat_pipe`, `bw_pipe` and `lat_ctx` measure them.

use super::{BenchResult, Context, Plan, Runs, measure, since, start};
use alloc::vec;
use ulib::{Fd, ForkResult, close, exit, fork, pipe, read, wait, write, write_all};

/// A child process that writes back every byte it reads, until end of
/// file: the other end of the latency benchmarks.
struct Echo {
    /// Our end of the pipe to the child.
    to_child: Fd,
    /// Our end of the pipe from the child.
    from_child: Fd,
}

impl Echo {
    /// Starts the child.
    fn spawn() -> BenchResult<Echo> {
        let (to_child_read, to_child_write) = pipe().context("pipe")?;
        let (to_parent_read, to_parent_write) = pipe().context("pipe")?;
        match fork().context("fork")? {
            ForkResult::Child => {
                let _ = close(to_child_write);
                let _ = close(to_parent_read);
                let mut byte = [0u8; 1];
                while let Ok(1) = read(to_child_read, &mut byte) {
                    if write(to_parent_write, &byte) != Ok(1) {
                        break;
                    }
                }
                exit(0);
            }
            ForkResult::Parent(_) => {
                close(to_child_read).context("close")?;
                close(to_parent_write).context("close")?;
                Ok(Echo {
                    to_child: to_child_write,
                    from_child: to_parent_read,
                })
            }
        }
    }

    /// `ops` round trips of one byte; returns the ticks they took.
    fn round_trips(&self, ops: u64) -> BenchResult<u64> {
        let mut byte = [0x5au8; 1];
        let started = start()?;
        for _ in 0..ops {
            if write(self.to_child, &byte).context("write to the child")? != 1
                || read(self.from_child, &mut byte).context("read from the child")? != 1
            {
                return Err("the echo child went away".into());
            }
        }
        Ok(since(started))
    }

    /// Closes the pipes (the child sees end of file and exits) and waits
    /// for the child.
    fn finish(self) -> BenchResult<()> {
        close(self.to_child).context("close")?;
        close(self.from_child).context("close")?;
        wait().context("wait for the echo child")?;
        Ok(())
    }
}

/// A 1-byte round trip: write a byte to the child through one pipe, read
/// its echo from another. 500 per run.
pub fn round_trip(plan: &Plan) -> BenchResult<u64> {
    let echo = Echo::spawn()?;
    let ops = plan.ops(500);
    let result = measure(plan, Runs::STANDARD, ops, || echo.round_trips(ops));
    echo.finish()?;
    result
}

/// Moving `chunk` bytes from this process to a child: one `write` of
/// `chunk` bytes here, as many `read`s as it takes there. A run moves
/// 1 MiB and ends when the child says (one byte back) that it has read all
/// of it.
pub fn bandwidth(plan: &Plan, chunk: usize) -> BenchResult<u64> {
    let ops = plan.ops((1 << 20) / chunk as u64);
    let run_bytes = ops * chunk as u64;
    let mut buffer = vec![0x5au8; chunk];
    let (data_read, data_write) = pipe().context("pipe")?;
    let (ack_read, ack_write) = pipe().context("pipe")?;
    match fork().context("fork")? {
        ForkResult::Child => {
            let _ = close(data_write);
            let _ = close(ack_read);
            loop {
                let mut got = 0;
                while got < run_bytes {
                    match read(data_read, &mut buffer) {
                        Ok(0) | Err(_) => exit(0),
                        Ok(n) => got += n as u64,
                    }
                }
                if write(ack_write, b"k") != Ok(1) {
                    exit(1);
                }
            }
        }
        ForkResult::Parent(_) => {
            close(data_read).context("close")?;
            close(ack_write).context("close")?;
        }
    }
    let result = measure(plan, Runs::STANDARD, ops, || {
        let mut ack = [0u8; 1];
        let started = start()?;
        for _ in 0..ops {
            write_all(data_write, &buffer).context("write to the child")?;
        }
        if read(ack_read, &mut ack).context("read the child's answer")? != 1 {
            return Err("the reading child went away".into());
        }
        Ok(since(started))
    });
    close(data_write).context("close")?;
    close(ack_read).context("close")?;
    wait().context("wait for the reading child")?;
    result
}

/// `pipe-bw-4k`.
pub fn bandwidth_4k(plan: &Plan) -> BenchResult<u64> {
    bandwidth(plan, 4096)
}

/// `pipe-bw-64k`.
pub fn bandwidth_64k(plan: &Plan) -> BenchResult<u64> {
    bandwidth(plan, 64 * 1024)
}

/// One context switch between two processes, lmbench's way (`lat_ctx`
/// with two processes and no working set): a byte passed back and forth
/// through pipes (the `pipe` round trip: two switches), minus what passing
/// it through a pipe costs when no switch is needed (a `write` and a `read`
/// of the same pipe in one process, twice), halved.
pub fn context_switch(plan: &Plan) -> BenchResult<u64> {
    let ops = plan.ops(500);
    let (own_read, own_write) = pipe().context("pipe")?;
    let mut byte = [0x5au8; 1];
    let in_one_process = measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            write(own_write, &byte).context("write")?;
            read(own_read, &mut byte).context("read")?;
        }
        Ok(since(started))
    });
    close(own_read).context("close")?;
    close(own_write).context("close")?;
    let echo = Echo::spawn()?;
    let round_trip = measure(plan, Runs::STANDARD, ops, || echo.round_trips(ops));
    echo.finish()?;
    Ok(round_trip?.saturating_sub(2 * in_one_process?) / 2)
}
