//! Helpers shared by the tests: checks, child processes, small file I/O.

use super::TestResult;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;
use ulib::{
    Errno, Fd, ForkResult, KILLED_STATUS, O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY, Pid, close, exit,
    fork, open, read, unlink, wait, write,
};

/// Fails the test with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($reason)+));
        }
    };
}

/// Turns a system-call error into a test failure that says what was done.
pub trait Context<T> {
    /// `open("x", ...).context("open x")?` fails with `open x: <message>`.
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T> Context<T> for Result<T, Errno> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{}: {} ({:?})", what, e.message(), e))
    }
}

/// Checks that a call failed with exactly `expected`.
pub fn expect_errno<T: Debug>(result: Result<T, Errno>, expected: Errno, what: &str) -> TestResult {
    match result {
        Err(e) if e == expected => Ok(()),
        Err(e) => Err(format!("{}: expected {:?}, got {:?}", what, expected, e)),
        Ok(v) => Err(format!(
            "{}: expected {:?}, but it succeeded ({:?})",
            what, expected, v
        )),
    }
}

/// Checks that a call failed with one of `allowed`.
pub fn expect_one_of<T: Debug>(
    result: Result<T, Errno>,
    allowed: &[Errno],
    what: &str,
) -> TestResult {
    match result {
        Err(e) if allowed.contains(&e) => Ok(()),
        Err(e) => Err(format!(
            "{}: expected one of {:?}, got {:?}",
            what, allowed, e
        )),
        Ok(v) => Err(format!(
            "{}: expected an error, but it succeeded ({:?})",
            what, v
        )),
    }
}

/// Forks a child that runs `body` and exits with its return value.
/// Returns the child's pid (in the parent).
pub fn spawn(body: impl FnOnce() -> i32) -> Result<Pid, String> {
    match fork().context("fork")? {
        ForkResult::Child => exit(body()),
        ForkResult::Parent(pid) => Ok(pid),
    }
}

/// Waits for the specific child `pid`; returns its exit status. Any other
/// child that exits meanwhile is an error (tests wait for their own).
pub fn wait_for(pid: Pid) -> Result<i32, String> {
    let (got, status) = wait().context("wait")?;
    ensure!(got == pid, "wait returned pid {}, expected {}", got, pid);
    Ok(status)
}

/// Runs `body` in a child and returns the child's exit status.
pub fn in_child(body: impl FnOnce() -> i32) -> Result<i32, String> {
    let pid = spawn(body)?;
    wait_for(pid)
}

/// Runs `body` in a child, which must be killed by the kernel before it
/// returns (because `body` does something a process may not do).
pub fn expect_killed(what: &str, body: impl FnOnce()) -> TestResult {
    let status = in_child(|| {
        body();
        0
    })?;
    ensure!(
        status == KILLED_STATUS,
        "{}: the process was not killed (exit status {}, expected {})",
        what,
        status,
        KILLED_STATUS
    );
    Ok(())
}

/// Runs `body` in a child; the child must exit with status 0.
pub fn expect_child_ok(what: &str, body: impl FnOnce() -> i32) -> TestResult {
    let status = in_child(body)?;
    ensure!(status == 0, "{}: child exited with status {}", what, status);
    Ok(())
}

/// Creates (or truncates) `path` and writes `data` to it.
pub fn write_file(path: &str, data: &[u8]) -> TestResult {
    let fd = open(path, O_CREATE | O_WRONLY | O_TRUNC).context(&format!("create {path}"))?;
    let result = write_all_checked(fd, data, path);
    close(fd).context("close")?;
    result
}

/// Writes all of `data`; a short write is a failure.
pub fn write_all_checked(fd: Fd, data: &[u8], what: &str) -> TestResult {
    let mut done = 0;
    while done < data.len() {
        let n = write(fd, &data[done..]).context(&format!("write {what}"))?;
        ensure!(n > 0, "write {}: wrote 0 bytes", what);
        done += n;
    }
    Ok(())
}

/// Reads the whole file at `path`.
pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    let fd = open(path, O_RDONLY).context(&format!("open {path}"))?;
    let result = read_to_end(fd, path);
    close(fd).context("close")?;
    result
}

/// Reads `fd` to end of file.
pub fn read_to_end(fd: Fd, what: &str) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let n = read(fd, &mut chunk).context(&format!("read {what}"))?;
        if n == 0 {
            return Ok(data);
        }
        data.extend_from_slice(&chunk[..n]);
    }
}

/// Removes `path`, ignoring errors (for cleaning up before and after a test).
pub fn remove(path: &str) {
    let _ = unlink(path);
}

/// A small deterministic pseudo-random generator (xorshift), for test data
/// and for choosing operations in the concurrency tests.
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Xorshift {
        Xorshift(seed | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// The byte at position `i` of a test pattern tagged `tag`.
pub fn pattern_byte(tag: u8, i: usize) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(tag)
}

pub use ulib::remove_tree;

/// Removes everything in the current directory whose name starts with
/// `ut-`: what an interrupted earlier run may have left behind.
pub fn remove_leftovers() {
    let mut leftovers = Vec::new();
    if let Ok(entries) = ulib::read_dir(".") {
        for entry in entries.flatten() {
            if entry.name.starts_with("ut-") {
                leftovers.push(entry.name);
            }
        }
    }
    for name in &leftovers {
        remove_tree(name);
    }
}
