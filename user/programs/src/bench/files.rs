//! Files: reading a cached file (`file-read-4k`), and what writes to the
//! disk — creating and deleting a file (`create-delete`), overwriting a
//! cached block (`file-write-4k`), and 8 MiB written and read sequentially
//! (`seq-write-8m`, `seq-read-8m`).
//!
//! Both kernels write every change through to the disk before the call
//! returns (each file-system call ends with `Ext2::sync`), so every
//! benchmark here but `file-read-4k` waits for QEMU's disk, which finishes
//! in host time: those figures change from run to run (see
//! docs/performance.md).

use super::{BenchResult, Context, Plan, Runs, SCRATCH_DIR, measure, since, start};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use ulib::{Errno, O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY, close, open, read, stat, unlink, write};

/// The 64 KiB file `file-read-4k` and `file-write-4k` use.
const DATA_BYTES: usize = 64 * 1024;
/// One transfer of `file-read-4k` and `file-write-4k`.
const BLOCK: usize = 4096;
/// One `read` or `write` of the sequential benchmarks.
const SEQ_CHUNK: usize = 64 * 1024;

fn scratch(name: &str) -> String {
    format!("{SCRATCH_DIR}/{name}")
}

/// Makes `path` a file of `bytes` bytes, unless it already is one.
fn make_file(path: &str, bytes: usize) -> BenchResult<()> {
    if stat(path).is_ok_and(|st| st.size == bytes as u64) {
        return Ok(());
    }
    let fd = open(path, O_CREATE | O_WRONLY | O_TRUNC).context(&format!("create {path}"))?;
    let chunk = vec![0x42u8; SEQ_CHUNK.min(bytes)];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        if write(fd, &chunk[..n]).context(&format!("write {path}"))? != n {
            return Err(format!("write {path}: short write (disk full?)"));
        }
        left -= n;
    }
    close(fd).context("close")
}

/// Reading 4 KiB of a file whose blocks are in the buffer cache: a run
/// opens the 64 KiB file (untimed) and reads it in 16 `read`s of 4 KiB.
pub fn read_cached(plan: &Plan) -> BenchResult<u64> {
    let path = scratch("data");
    make_file(&path, DATA_BYTES)?;
    let ops = plan.ops((DATA_BYTES / BLOCK) as u64);
    let mut buffer = vec![0u8; BLOCK];
    measure(plan, Runs::STANDARD, ops, || {
        let fd = open(&path, O_RDONLY).context("open")?;
        let started = start()?;
        for _ in 0..ops {
            if read(fd, &mut buffer).context("read")? != BLOCK {
                return Err(format!("{path} is shorter than {DATA_BYTES} bytes"));
            }
        }
        let ticks = since(started);
        close(fd).context("close")?;
        Ok(ticks)
    })
}

/// Overwriting 4 KiB of a file whose blocks are in the buffer cache (no
/// block is allocated): a run opens the 64 KiB file (untimed) and writes
/// it again in 16 `write`s of 4 KiB. Each write reaches the disk before it
/// returns.
pub fn write_cached(plan: &Plan) -> BenchResult<u64> {
    let path = scratch("data");
    make_file(&path, DATA_BYTES)?;
    let ops = plan.ops((DATA_BYTES / BLOCK) as u64);
    let buffer = vec![0x17u8; BLOCK];
    measure(plan, Runs::STANDARD, ops, || {
        let fd = open(&path, O_WRONLY).context("open")?;
        let started = start()?;
        for _ in 0..ops {
            if write(fd, &buffer).context("write")? != BLOCK {
                return Err(format!("write {path}: short write"));
            }
        }
        let ticks = since(started);
        close(fd).context("close")?;
        Ok(ticks)
    })
}

/// Creating an empty file and deleting it: `open(O_CREATE)`, `close`,
/// `unlink`. 50 per run.
pub fn create_delete(plan: &Plan) -> BenchResult<u64> {
    let path = scratch("new");
    let ops = plan.ops(50);
    measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            let fd = open(&path, O_CREATE | O_WRONLY).context("create")?;
            close(fd).context("close")?;
            unlink(&path).context("unlink")?;
        }
        Ok(since(started))
    })
}

/// The size of the sequential file: 8 MiB, sixteen times the buffer cache
/// (512 blocks of 1 KiB in both kernels), so reading it back finds nothing
/// in the cache.
fn seq_bytes(plan: &Plan) -> usize {
    plan.pick(8 << 20, 256 << 10)
}

/// Writing a new 8 MiB file in 64 KiB `write`s (create, write, close),
/// block allocation included. One file per run; the previous one is
/// deleted first, untimed. The last one stays for `seq-read-8m`.
pub fn seq_write(plan: &Plan) -> BenchResult<u64> {
    let path = scratch("seq");
    let bytes = seq_bytes(plan);
    let chunk = vec![0x3cu8; SEQ_CHUNK];
    measure(plan, Runs::FEW, 1, || {
        match unlink(&path) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(e).context("unlink the previous file"),
        }
        let started = start()?;
        let fd = open(&path, O_CREATE | O_WRONLY).context("create")?;
        for _ in 0..bytes / SEQ_CHUNK {
            if write(fd, &chunk).context("write")? != SEQ_CHUNK {
                return Err(format!("write {path}: short write (disk full?)"));
            }
        }
        close(fd).context("close")?;
        Ok(since(started))
    })
}

/// Reading the 8 MiB file in 64 KiB `read`s, from the disk (the cache holds
/// a sixteenth of it, and reading from the start evicts what it holds
/// before it is reached). One whole read per run.
pub fn seq_read(plan: &Plan) -> BenchResult<u64> {
    let path = scratch("seq");
    let bytes = seq_bytes(plan);
    make_file(&path, bytes)?;
    let mut chunk = vec![0u8; SEQ_CHUNK];
    measure(plan, Runs::FEW, 1, || {
        let fd = open(&path, O_RDONLY).context("open")?;
        let started = start()?;
        let mut total = 0;
        loop {
            match read(fd, &mut chunk).context("read")? {
                0 => break,
                n => total += n,
            }
        }
        let ticks = since(started);
        close(fd).context("close")?;
        if total != bytes {
            return Err(format!("read {total} bytes of {path}, not {bytes}"));
        }
        Ok(ticks)
    })
}
