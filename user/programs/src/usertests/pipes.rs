//! Pipe tests: data between processes arrives complete and in order, end of
//! file and broken pipes are reported, descriptors run out cleanly.

use super::util::{Context, Xorshift, expect_one_of, spawn, wait_for};
use super::{Test, TestResult};
use crate::ensure;
use alloc::vec;
use alloc::vec::Vec;
use ulib::{Errno, Fd, FileType, ForkResult, close, dup, exit, fork, fstat, pipe, read, write};

pub const TESTS: &[Test] = &[
    Test::quick("pipe_sequence", pipe_sequence),
    Test::quick("pipe_checksum", pipe_checksum),
    Test::quick("pipe_eof", pipe_eof),
    Test::quick("pipe_no_readers", pipe_no_readers),
    Test::quick("pipe_reader_killed", pipe_reader_killed),
    Test::quick("pipe_large_write", pipe_large_write),
    Test::quick("pipe_many_writers", pipe_many_writers),
    Test::quick("pipe_chain", pipe_chain),
    Test::quick("pipe_fstat", pipe_fstat),
    Test::quick("pipe_fd_limit", pipe_fd_limit),
];

/// FNV-1a, a simple checksum over bytes.
fn checksum(state: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(state, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}
const CHECKSUM_START: u64 = 0xcbf2_9ce4_8422_2325;

/// xv6's pipe1: the child writes numbered bytes in odd-sized pieces; the
/// parent reads them back with growing buffer sizes.
fn pipe_sequence() -> TestResult {
    const PIECES: usize = 5;
    const PIECE: usize = 1033;
    let (read_end, write_end) = pipe().context("pipe")?;
    let writer = spawn(|| {
        let _ = close(read_end);
        let mut sequence = 0usize;
        let mut piece = [0u8; PIECE];
        for _ in 0..PIECES {
            for b in piece.iter_mut() {
                *b = sequence as u8;
                sequence += 1;
            }
            if write(write_end, &piece) != Ok(PIECE) {
                return 1;
            }
        }
        0
    })?;
    close(write_end).context("close")?;
    let mut total = 0usize;
    let mut want = 1usize;
    let mut buf = [0u8; 8192];
    loop {
        let n = read(read_end, &mut buf[..want]).context("read")?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            ensure!(
                b == total as u8,
                "byte {} is {}, expected {}",
                total,
                b,
                total as u8
            );
            total += 1;
        }
        want = (want * 2).min(buf.len());
    }
    close(read_end).context("close")?;
    ensure!(wait_for(writer)? == 0, "the writer failed");
    ensure!(
        total == PIECES * PIECE,
        "read {} bytes, expected {}",
        total,
        PIECES * PIECE
    );
    Ok(())
}

/// 256 KiB of pseudo-random data through a pipe, compared by checksum.
fn pipe_checksum() -> TestResult {
    const TOTAL: usize = 256 * 1024;
    let expected = {
        let mut rng = Xorshift::new(42);
        let data: Vec<u8> = (0..TOTAL).map(|_| rng.next_u64() as u8).collect();
        checksum(CHECKSUM_START, &data)
    };
    let (read_end, write_end) = pipe().context("pipe")?;
    let writer = spawn(|| {
        let _ = close(read_end);
        let mut rng = Xorshift::new(42);
        let mut sent = 0;
        let mut chunk = [0u8; 1000];
        while sent < TOTAL {
            let len = chunk.len().min(TOTAL - sent);
            for b in &mut chunk[..len] {
                *b = rng.next_u64() as u8;
            }
            if ulib::write_all(write_end, &chunk[..len]).is_err() {
                return 1;
            }
            sent += len;
        }
        0
    })?;
    close(write_end).context("close")?;
    let mut sum = CHECKSUM_START;
    let mut received = 0;
    let mut buf = [0u8; 777];
    loop {
        let n = read(read_end, &mut buf).context("read")?;
        if n == 0 {
            break;
        }
        sum = checksum(sum, &buf[..n]);
        received += n;
    }
    close(read_end).context("close")?;
    ensure!(wait_for(writer)? == 0, "the writer failed");
    ensure!(
        received == TOTAL,
        "received {} bytes, expected {}",
        received,
        TOTAL
    );
    ensure!(
        sum == expected,
        "checksum mismatch: data was corrupted or reordered"
    );
    Ok(())
}

fn pipe_eof() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    ensure!(write(write_end, b"0123456789") == Ok(10), "write to a pipe");
    close(write_end).context("close")?;
    let mut buf = [0u8; 32];
    let n = read(read_end, &mut buf).context("read")?;
    ensure!(
        n == 10 && &buf[..10] == b"0123456789",
        "read back {:?}",
        &buf[..n]
    );
    let n = read(read_end, &mut buf).context("read at end")?;
    ensure!(
        n == 0,
        "read after the writer closed returned {} instead of 0",
        n
    );
    close(read_end).context("close")?;
    Ok(())
}

/// Writing to a pipe nobody can read fails with EPIPE (there are no
/// signals in Diptych) instead of blocking forever.
fn pipe_no_readers() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    close(read_end).context("close")?;
    let w = write(write_end, b"lost");
    close(write_end).context("close")?;
    expect_one_of(w, &[Errno::EPIPE], "write with no readers")?;
    // A writer blocked on a full pipe is woken when the last reader goes.
    let (read_end, write_end) = pipe().context("pipe")?;
    let writer = spawn(|| {
        let _ = close(read_end);
        // Larger than any pipe buffer, so the write must block.
        let big = vec![1u8; 1 << 20];
        match write(write_end, &big) {
            Err(Errno::EPIPE) => 0,
            Ok(n) if n < big.len() => 0, // partial progress, then the reader left
            _ => 1,
        }
    })?;
    close(write_end).context("close")?;
    let mut some = [0u8; 100];
    read(read_end, &mut some).context("read")?;
    close(read_end).context("close")?;
    ensure!(
        wait_for(writer)? == 0,
        "the blocked writer was not told that the reader left"
    );
    Ok(())
}

/// A writer blocked on a full pipe whose only reader is *killed* (not a
/// close: its exit closes the read end) is woken and told, with `EPIPE` or
/// the count written so far; nothing is left waiting.
fn pipe_reader_killed() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    let (ready_read, ready_write) = pipe().context("pipe")?;
    // The reader holds the read end and never reads.
    let reader = spawn(|| {
        let _ = close(write_end);
        let _ = write(ready_write, b"r");
        let _ = ulib::sleep(1_000_000);
        0
    })?;
    let writer = spawn(|| {
        let _ = close(read_end);
        let big = vec![2u8; 1 << 20];
        match write(write_end, &big) {
            Err(Errno::EPIPE) => 0,
            Ok(n) if n < big.len() => 0,
            _ => 1,
        }
    })?;
    close(read_end).context("close")?;
    close(write_end).context("close")?;
    let mut byte = [0u8; 1];
    read(ready_read, &mut byte).context("read readiness")?;
    close(ready_read).context("close")?;
    close(ready_write).context("close")?;
    // Let the writer fill the pipe and block, then kill the reader.
    ulib::sleep(5).context("sleep")?;
    ulib::kill(reader).context("kill the reader")?;
    let mut writer_status = None;
    for _ in 0..2 {
        let (pid, status) = ulib::wait().context("wait")?;
        ensure!(
            pid == reader || pid == writer,
            "wait returned pid {}, not a child of this test",
            pid
        );
        if pid == writer {
            writer_status = Some(status);
        }
    }
    ensure!(
        writer_status == Some(0),
        "the writer blocked on the full pipe was not told that its reader died (status {:?})",
        writer_status
    );
    Ok(())
}

/// One `write` much larger than the pipe's buffer completes once the reader
/// has drained it.
fn pipe_large_write() -> TestResult {
    const SIZE: usize = 64 * 1024;
    let (read_end, write_end) = pipe().context("pipe")?;
    let reader = spawn(|| {
        let _ = close(write_end);
        let mut total = 0;
        let mut buf = [0u8; 100];
        while let Ok(n) = read(read_end, &mut buf) {
            if n == 0 {
                break;
            }
            if buf[..n].iter().any(|&b| b != 0x77) {
                return 1;
            }
            total += n;
        }
        if total == SIZE { 0 } else { 2 }
    })?;
    close(read_end).context("close")?;
    let data = vec![0x77u8; SIZE];
    let n = write(write_end, &data).context("write 64 KiB")?;
    close(write_end).context("close")?;
    ensure!(n == SIZE, "write returned {}, expected {}", n, SIZE);
    let status = wait_for(reader)?;
    ensure!(status == 0, "the reader saw wrong data (status {})", status);
    Ok(())
}

/// Four writers share one pipe; every byte arrives exactly once.
fn pipe_many_writers() -> TestResult {
    const WRITERS: u8 = 4;
    const PER_WRITER: usize = 8000;
    let (read_end, write_end) = pipe().context("pipe")?;
    let mut writers = Vec::new();
    for tag in 1..=WRITERS {
        writers.push(spawn(move || {
            let _ = close(read_end);
            let chunk = [tag; 40];
            for _ in 0..PER_WRITER / chunk.len() {
                if ulib::write_all(write_end, &chunk).is_err() {
                    return 1;
                }
            }
            0
        })?);
    }
    close(write_end).context("close")?;
    let mut counts = [0usize; WRITERS as usize + 1];
    let mut buf = [0u8; 512];
    loop {
        let n = read(read_end, &mut buf).context("read")?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            ensure!((1..=WRITERS).contains(&b), "unexpected byte {}", b);
            counts[b as usize] += 1;
        }
    }
    close(read_end).context("close")?;
    for _ in &writers {
        let (_, status) = ulib::wait().context("wait")?;
        ensure!(status == 0, "a writer failed");
    }
    for (tag, &count) in counts.iter().enumerate().skip(1) {
        ensure!(
            count == PER_WRITER,
            "writer {} delivered {} bytes",
            tag,
            count
        );
    }
    Ok(())
}

/// Eight processes in a row, each copying its standard input to its
/// standard output, like `cat | cat | ... | cat`.
fn pipe_chain() -> TestResult {
    const STAGES: usize = 8;
    const TOTAL: usize = 20_000;
    let (first_read, first_write) = pipe().context("pipe")?;
    let mut upstream = first_read;
    for _ in 0..STAGES {
        let (next_read, next_write) = pipe().context("pipe")?;
        match fork().context("fork")? {
            ForkResult::Child => {
                let _ = close(first_write);
                let _ = close(next_read);
                let mut buf = [0u8; 300];
                loop {
                    match read(upstream, &mut buf) {
                        Ok(0) => exit(0),
                        Ok(n) => {
                            if ulib::write_all(next_write, &buf[..n]).is_err() {
                                exit(1);
                            }
                        }
                        Err(_) => exit(2),
                    }
                }
            }
            ForkResult::Parent(_) => {
                close(upstream).context("close")?;
                close(next_write).context("close")?;
                upstream = next_read;
            }
        }
    }
    let mut rng = Xorshift::new(7);
    let data: Vec<u8> = (0..TOTAL).map(|_| rng.next_u64() as u8).collect();
    // Write from a child so the parent can read the other end at the same time.
    let _feeder = spawn(|| {
        let _ = close(upstream);
        if ulib::write_all(first_write, &data).is_ok() {
            0
        } else {
            1
        }
    })?;
    close(first_write).context("close")?;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = read(upstream, &mut buf).context("read")?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    close(upstream).context("close")?;
    for _ in 0..=STAGES {
        let (_, status) = ulib::wait().context("wait")?;
        ensure!(status == 0, "a stage failed with status {}", status);
    }
    ensure!(
        received.len() == TOTAL,
        "received {} bytes, expected {}",
        received.len(),
        TOTAL
    );
    ensure!(
        received == data,
        "the data changed on its way through the chain"
    );
    Ok(())
}

fn pipe_fstat() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    let st = fstat(read_end).context("fstat")?;
    let copy = dup(write_end).context("dup")?;
    for fd in [read_end, write_end, copy] {
        close(fd).context("close")?;
    }
    ensure!(
        st.kind == FileType::Pipe as u32,
        "fstat of a pipe says kind {}",
        st.kind
    );
    Ok(())
}

/// Create pipes until the process runs out of descriptors: the error is
/// EMFILE (or ENFILE), and closing them makes room again.
fn pipe_fd_limit() -> TestResult {
    let mut fds: Vec<Fd> = Vec::new();
    let error = loop {
        match pipe() {
            Ok((r, w)) => {
                fds.push(r);
                fds.push(w);
                if fds.len() > 10_000 {
                    break None;
                }
            }
            Err(e) => break Some(e),
        }
    };
    for &fd in &fds {
        close(fd).context("close")?;
    }
    match error {
        Some(e) => expect_one_of::<()>(
            Err(e),
            &[Errno::EMFILE, Errno::ENFILE],
            "pipe when out of fds",
        )?,
        None => return Err("created 5000 pipes without running out of descriptors".into()),
    }
    ensure!(
        fds.len() >= 6,
        "only {} descriptors could be opened",
        fds.len()
    );
    let (r, w) = pipe().context("pipe after closing everything")?;
    close(r).context("close")?;
    close(w).context("close")?;
    Ok(())
}
