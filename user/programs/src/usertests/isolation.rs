//! Fault isolation: one program may not hurt another.
//!
//! On the micro-kernel a user program may use the microkernel's own calls
//! and send any message to any server, so these tests use `l4` directly;
//! on the mono-kernel there is nothing of the kind to test, and they pass.
//!
//! | test | what |
//! |------|------|
//! | [`thread_limit`] | creating threads until the kernel says no: a clean error, and every thread comes back (destroyed, or when the process exits) |
//! | [`thread_quota`] | while one process holds every thread it can get (its quota), another can still fork |
//! | [`proc_stray_map`] | *pending* (proc's reply-and-receive): a map item sent to proc must not make it kill a process whose page fault it had just answered |

use super::{Test, TestResult};

pub const TESTS: &[Test] = &[
    Test::quick("thread_limit", thread_limit),
    Test::quick("thread_quota", thread_quota),
    Test::pending("proc_stray_map", proc_stray_map),
];

#[cfg(not(feature = "micro"))]
fn thread_limit() -> TestResult {
    Ok(())
}

#[cfg(not(feature = "micro"))]
fn thread_quota() -> TestResult {
    Ok(())
}

#[cfg(not(feature = "micro"))]
fn proc_stray_map() -> TestResult {
    Ok(())
}

#[cfg(feature = "micro")]
pub use micro::{proc_stray_map, thread_limit, thread_quota};

#[cfg(feature = "micro")]
mod micro {
    use super::super::util::{Context, expect_child_ok, spawn, wait_for};
    use super::TestResult;
    use crate::ensure;
    use alloc::format;
    use alloc::vec::Vec;
    use l4::{Error, MapItem, Message, ThreadId, Timeout};
    use ulib::{Errno, ForkResult, close, exit, fork, pipe, read, sbrk, write};

    /// The priority of user threads (proc's `USER_PRIORITY`): a thread may
    /// create threads of at most its own priority.
    const USER_PRIORITY: u64 = 14;
    /// More threads than the kernel has: a safety stop.
    const MOST_THREADS: usize = 1024;

    /// Creates halted threads in this process's own space until the kernel
    /// refuses; returns them and the refusal.
    fn create_threads_until_refused() -> (Vec<ThreadId>, Option<Error>) {
        let (_, space) = l4::task::whoami();
        let mut threads = Vec::with_capacity(MOST_THREADS);
        while threads.len() < MOST_THREADS {
            match l4::task::thread_create(space, ThreadId::NIL, ThreadId::NIL, USER_PRIORITY) {
                Ok(thread) => threads.push(thread),
                Err(error) => return (threads, Some(error)),
            }
        }
        (threads, None)
    }

    /// A process that creates threads until the kernel refuses gets a
    /// clean error (no space left, or its quota); destroying them gives
    /// every one back, and so does exiting without destroying them.
    pub fn thread_limit() -> TestResult {
        expect_child_ok("threads until refused, then destroyed", || {
            let (threads, refusal) = create_threads_until_refused();
            if !matches!(refusal, Some(Error::OutOfResources | Error::NoPermission)) {
                return 2;
            }
            if threads.is_empty() {
                return 3;
            }
            for &thread in &threads {
                if l4::task::thread_destroy(thread).is_err() {
                    return 4;
                }
            }
            // As many as before can be had again.
            let (again, _) = create_threads_until_refused();
            if again.len() != threads.len() {
                return 5;
            }
            0
        })?;
        // A process that exits holding them all: its threads go with its
        // address space, and processes can be made again.
        expect_child_ok("threads until refused, then exit", || {
            let _ = create_threads_until_refused();
            0
        })?;
        expect_child_ok("a process after the hog", || 0)
    }

    /// While one process holds every thread the kernel lets it have,
    /// another process can still be made: a per-space quota keeps the
    /// kernel's thread table from being one program's to exhaust. (Before
    /// the quotas the hog took the whole table, and every `fork` in the
    /// system failed with `EAGAIN` until it exited.)
    pub fn thread_quota() -> TestResult {
        let (ready_read, ready_write) = pipe().context("pipe")?;
        let (done_read, done_write) = pipe().context("pipe")?;
        let hog = spawn(|| {
            let (threads, _) = create_threads_until_refused();
            let _ = write(ready_write, &[threads.len().min(255) as u8]);
            let mut byte = [0u8; 1];
            let _ = read(done_read, &mut byte);
            0
        })?;
        let mut held = [0u8; 1];
        read(ready_read, &mut held).context("read")?;
        let forked = match fork() {
            Ok(ForkResult::Child) => exit(0),
            Ok(ForkResult::Parent(pid)) => Ok(pid),
            Err(errno) => Err(errno),
        };
        write(done_write, b"d").context("write")?;
        for fd in [ready_read, ready_write, done_read, done_write] {
            close(fd).context("close")?;
        }
        let children = if forked.is_ok() { 2 } else { 1 };
        for _ in 0..children {
            let (pid, _) = ulib::wait().context("wait")?;
            ensure!(
                pid == hog || forked == Ok(pid),
                "wait returned pid {}, not a child of this test",
                pid
            );
        }
        match forked {
            Ok(_) => Ok(()),
            Err(errno) => Err(format!(
                "fork while another process held {} threads: {errno:?}",
                held[0]
            )),
        }
    }

    /// Sends proc a message with a map item (proc has no receive window,
    /// so the kernel fails it); the answer does not matter.
    fn stray_map(proc: ThreadId, page: u64) -> Result<(), Error> {
        let item = MapItem {
            page,
            count: 1,
            rights: l4::rights::READ,
            window_offset: 0,
        };
        let message = Message::new(0x307, &[]).with_map(item, false);
        l4::ipc::send(proc, &message, Timeout::Ticks(100))
    }

    /// Touches `pages` fresh pages of a new heap area, one page fault each.
    fn touch_fresh_pages(pages: u64) -> Result<(), Errno> {
        // SAFETY: growing the heap; the memory is ours and unused.
        let start = unsafe { sbrk((pages * 4096) as isize) }? as u64;
        for page in 0..pages {
            // SAFETY: inside the memory just given to us.
            unsafe { core::ptr::write_volatile((start + page * 4096) as *mut u8, 1) };
        }
        Ok(())
    }

    /// proc answers a page fault with a mapping in the same system call as
    /// it waits for its next message (reply and receive). If that receive
    /// fails — a map item from anyone, which proc cannot take — proc must
    /// not blame the reply and kill the process whose fault it answered.
    /// Once it did: any process could have proc kill any other one that
    /// was taking page faults at the time.
    pub fn proc_stray_map() -> TestResult {
        let (proc, _) = ulib::sys::server_threads();
        let proc = ThreadId(proc);
        // The same process: a fault answered, then its own stray map item.
        expect_child_ok("a page fault, a stray map item, a page fault", || {
            if touch_fresh_pages(1).is_err() {
                return 2;
            }
            let page = &0u8 as *const u8 as u64 & !0xfff;
            let _ = stray_map(proc, page);
            if touch_fresh_pages(1).is_err() {
                return 3;
            }
            0
        })?;
        // Another process: it takes page faults while this one sends.
        let victim = spawn(|| {
            for _ in 0..64 {
                if touch_fresh_pages(16).is_err() {
                    return 2;
                }
            }
            0
        })?;
        let page = &0u8 as *const u8 as u64 & !0xfff;
        for _ in 0..100 {
            let _ = stray_map(proc, page);
        }
        let status = wait_for(victim)?;
        ensure!(
            status == 0,
            "a process taking page faults ended with status {} while another sent proc map items",
            status
        );
        Ok(())
    }
}
