//! The cheapest calls: `getpid` (the null system call) and a 1-byte read
//! from the null device (the null I/O call).
//!
//! On the mono-kernel both are a trip into the kernel and back; on the
//! micro-kernel `getpid` is an IPC to the proc server and `read` one to the
//! vfs server, each answered at once — the L4Linux paper's Table 2.

use super::{BenchResult, Context, Plan, Runs, measure, since, start};
use ulib::{Errno, Fd, NULL_MAJOR, O_RDWR, close, getpid, mkdir, mknod, open, read};

/// Where the null device is (`scripts/make-disk.sh` makes it).
const NULL_PATH: &str = "/dev/null";

/// `getpid()`, 1,000 per run.
pub fn getpid_call(plan: &Plan) -> BenchResult<u64> {
    let ops = plan.ops(1000);
    measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            getpid().context("getpid")?;
        }
        Ok(since(started))
    })
}

/// `read(fd, buf, 1)` on `/dev/null` (which returns 0: end of file),
/// 1,000 per run.
pub fn null_read(plan: &Plan) -> BenchResult<u64> {
    let fd = open_null()?;
    let ops = plan.ops(1000);
    let mut byte = [0u8; 1];
    let result = measure(plan, Runs::STANDARD, ops, || {
        let started = start()?;
        for _ in 0..ops {
            read(fd, &mut byte).context("read /dev/null")?;
        }
        Ok(since(started))
    });
    close(fd).context("close /dev/null")?;
    result
}

/// Opens `/dev/null`, making it first if the disk has none (an image made
/// before the null device existed).
pub fn open_null() -> BenchResult<Fd> {
    match open(NULL_PATH, O_RDWR) {
        Err(Errno::ENOENT) => {
            match mkdir("/dev") {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e).context("mkdir /dev"),
            }
            mknod(NULL_PATH, NULL_MAJOR, 0).context("mknod /dev/null")?;
            open(NULL_PATH, O_RDWR).context("open /dev/null")
        }
        opened => opened.context("open /dev/null"),
    }
}
