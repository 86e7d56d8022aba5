//! Lab `pipe`'s tests (`labs/pipe/handout.md`): non-blocking pipes made by
//! `pipe2(O_NONBLOCK)`, the same on both kernels. In the lab's starter
//! `pipe2` answers `ENOSYS`, and these tests fail until the student writes
//! it.

use super::util::{Context, expect_errno, spawn, wait_for};
// LAB pipe BEGIN
use super::util::expect_child_ok;
// LAB pipe STUB
// LAB pipe END
use super::{Test, TestResult};
use crate::ensure;
use alloc::vec;
use ulib::{Errno, O_NONBLOCK, close, pipe2, read, sleep, write};

pub const TESTS: &[Test] = &[
    Test::quick("pipe_nonblock_read", pipe_nonblock_read),
    Test::quick("pipe_nonblock_write", pipe_nonblock_write),
    Test::quick("pipe_nonblock_flags", pipe_nonblock_flags),
    // LAB pipe BEGIN
    Test::quick("pipe_nonblock_shared", pipe_nonblock_shared),
    // LAB pipe STUB
    // LAB pipe END
];

/// Bytes a pipe holds (`common::pipe::PIPE_SIZE`).
const PIPE_SIZE: usize = 4096;

/// A read of an empty non-blocking pipe is `EAGAIN`, not a wait; data is
/// read at once; with the write end closed the empty pipe is end of file.
fn pipe_nonblock_read() -> TestResult {
    let (read_end, write_end) = pipe2(O_NONBLOCK).context("pipe2(O_NONBLOCK)")?;
    let mut buf = [0u8; 8];
    expect_errno(
        read(read_end, &mut buf),
        Errno::EAGAIN,
        "read of an empty pipe",
    )?;
    ensure!(
        write(write_end, b"ab").context("write")? == 2,
        "write of 2 bytes was short"
    );
    let n = read(read_end, &mut buf).context("read after write")?;
    ensure!(&buf[..n] == b"ab", "read {:?}, expected \"ab\"", &buf[..n]);
    expect_errno(read(read_end, &mut buf), Errno::EAGAIN, "read once drained")?;
    close(write_end).context("close write end")?;
    let n = read(read_end, &mut buf).context("read with no writer")?;
    ensure!(
        n == 0,
        "read with no writer gave {} bytes, not end of file",
        n
    );
    close(read_end).context("close read end")?;
    Ok(())
}

/// A write to a full non-blocking pipe is `EAGAIN`; a write of at most
/// 512 bytes (`PIPE_BUF`) is atomic, so it is `EAGAIN` if it does not all
/// fit; a larger one returns what fitted.
fn pipe_nonblock_write() -> TestResult {
    let (read_end, write_end) = pipe2(O_NONBLOCK).context("pipe2(O_NONBLOCK)")?;
    let data: alloc::vec::Vec<u8> = (0..PIPE_SIZE + 904).map(|i| (i % 251) as u8).collect();
    let n = write(write_end, &data).context("write of 5000 bytes into an empty pipe")?;
    ensure!(
        n == PIPE_SIZE,
        "wrote {} of 5000 bytes, expected {}",
        n,
        PIPE_SIZE
    );
    expect_errno(
        write(write_end, b"x"),
        Errno::EAGAIN,
        "write to a full pipe",
    )?;
    let mut buf = vec![0u8; PIPE_SIZE];
    let n = read(read_end, &mut buf[..100]).context("read 100")?;
    ensure!(
        n == 100 && buf[..100] == data[..100],
        "read {} bytes, expected the first 100 written",
        n
    );
    expect_errno(
        write(write_end, &data[..200]),
        Errno::EAGAIN,
        "atomic write of 200 bytes with room for 100",
    )?;
    let n = write(write_end, &data[..1000]).context("write of 1000 bytes with room for 100")?;
    ensure!(n == 100, "wrote {} bytes with room for 100", n);
    // The pipe is full again: the rest of the first write, then 100 bytes.
    let mut got = 0;
    while got < PIPE_SIZE {
        let n = read(read_end, &mut buf[got..]).context("read the rest")?;
        ensure!(n > 0, "read 0 bytes from a full pipe");
        got += n;
    }
    ensure!(
        buf[..PIPE_SIZE - 100] == data[100..PIPE_SIZE],
        "the bytes read back differ from those written"
    );
    ensure!(
        buf[PIPE_SIZE - 100..] == data[..100],
        "the last 100 bytes differ"
    );
    expect_errno(read(read_end, &mut buf), Errno::EAGAIN, "read once drained")?;
    close(write_end).context("close")?;
    close(read_end).context("close")?;
    Ok(())
}

/// `pipe2(0)` is a blocking pipe: a read waits for a writer that comes
/// later. An unknown flag is `EINVAL`, and uses no descriptor.
fn pipe_nonblock_flags() -> TestResult {
    let (read_end, write_end) = pipe2(0).context("pipe2(0)")?;
    let writer = spawn(|| {
        let _ = sleep(3);
        match write(write_end, b"late") {
            Ok(4) => 0,
            _ => 1,
        }
    })?;
    close(write_end).context("close write end")?;
    let mut buf = [0u8; 8];
    let n = read(read_end, &mut buf).context("blocking read")?;
    ensure!(&buf[..n] == b"late", "blocking read gave {:?}", &buf[..n]);
    ensure!(wait_for(writer)? == 0, "the writer failed");
    close(read_end).context("close read end")?;
    expect_errno(pipe2(0x4_0000), Errno::EINVAL, "pipe2 with an unknown flag")?;
    let (again, other) = pipe2(0).context("pipe2(0) again")?;
    ensure!(
        again == read_end,
        "the refused pipe2 used a descriptor: got {:?}, expected {:?}",
        again,
        read_end
    );
    close(again).context("close")?;
    close(other).context("close")?;
    Ok(())
}

// LAB pipe BEGIN
/// The mode belongs to the open file: a forked child's copy of the end is
/// non-blocking too. End of file and `EPIPE` are the same as for a
/// blocking pipe. A bad `fds` pointer is `EFAULT`.
fn pipe_nonblock_shared() -> TestResult {
    let (read_end, write_end) = pipe2(O_NONBLOCK).context("pipe2(O_NONBLOCK)")?;
    expect_child_ok("child's read of the empty pipe is EAGAIN", || {
        let mut buf = [0u8; 4];
        match read(read_end, &mut buf) {
            Err(Errno::EAGAIN) => 0,
            _ => 1,
        }
    })?;
    close(read_end).context("close read end")?;
    expect_errno(write(write_end, b"x"), Errno::EPIPE, "write with no reader")?;
    close(write_end).context("close write end")?;
    // SAFETY: a kernel address: the kernel must refuse it, not write it.
    let bad = unsafe { ulib::sys::pipe2(0xffff_8000_0000_0000 as *mut [i32; 2], O_NONBLOCK) };
    expect_errno(bad, Errno::EFAULT, "pipe2 with a kernel address")?;
    let (again, other) = pipe2(O_NONBLOCK).context("pipe2 after EFAULT")?;
    ensure!(
        again == read_end,
        "the refused pipe2 left descriptors behind: got {:?}, expected {:?}",
        again,
        read_end
    );
    close(again).context("close")?;
    close(other).context("close")?;
    Ok(())
}
// LAB pipe STUB
// LAB pipe END
