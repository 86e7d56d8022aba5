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
//! | [`proc_stray_map`] | a map item sent to proc (which takes none) is the sender's error alone: proc does not kill a process whose page fault it had just answered |
//! | [`granted_page_revoked`] | a page a process maps or grants to another is taken from the receiver when the giver exits: proc revokes frames before it reuses them |
//! | [`shared_page_revoked`] | a page shared copy-on-write, granted away by one sharer that then exits, is taken from the receiver before the other sharer writes into it |
//! | [`forged_fault_refused`] | a message with a label only the kernel may send (a forged page fault, on a copy-on-write page) is refused: proc never sees it |

use super::{Test, TestResult};

pub const TESTS: &[Test] = &[
    Test::quick("thread_limit", thread_limit),
    Test::quick("thread_quota", thread_quota),
    Test::quick("proc_stray_map", proc_stray_map),
    Test::quick("granted_page_revoked", granted_page_revoked),
    Test::quick("shared_page_revoked", shared_page_revoked),
    Test::quick("forged_fault_refused", forged_fault_refused),
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

#[cfg(not(feature = "micro"))]
fn granted_page_revoked() -> TestResult {
    Ok(())
}

#[cfg(not(feature = "micro"))]
fn forged_fault_refused() -> TestResult {
    Ok(())
}

#[cfg(not(feature = "micro"))]
fn shared_page_revoked() -> TestResult {
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
        // The same process: a fault answered, then its own stray map item,
        // which is refused — to the sender, the one that made the mistake.
        expect_child_ok("a page fault, a stray map item, a page fault", || {
            if touch_fresh_pages(1).is_err() {
                return 2;
            }
            let page = &0u8 as *const u8 as u64 & !0xfff;
            if stray_map(proc, page) != Err(Error::NoReceiveWindow) {
                return 4;
            }
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

#[cfg(feature = "micro")]
mod micro_memory {
    //! The tests of what one process's memory can do to another's.

    use super::super::util::{Context, spawn, wait_for};
    use super::TestResult;
    use crate::ensure;
    use alloc::format;
    use l4::{Error, MapItem, Message, ThreadId, Timeout, fault_access, label};
    use ulib::{Errno, Fd, ForkResult, Pid, close, exit, fork, pipe, read, sbrk, write};

    /// Where the receiving process takes the page: far above any heap it
    /// will grow, below the mmap area, in no region proc knows of.
    const WINDOW: u64 = 0x6000_0000_0000;
    /// The label of the message carrying the page (any label of no protocol).
    const GIFT: u64 = 0x4711;
    /// What the giver writes into its page.
    const MARKER: u64 = 0x5afe_9a9e_0f0f_1234;

    /// Reads exactly `N` bytes from `fd`.
    fn read_exactly<const N: usize>(fd: Fd) -> Result<[u8; N], Errno> {
        let mut bytes = [0u8; N];
        let mut done = 0;
        while done < N {
            match read(fd, &mut bytes[done..])? {
                0 => return Err(Errno::EIO),
                n => done += n,
            }
        }
        Ok(bytes)
    }

    /// Whether this process's page at `address` is mapped for it: a
    /// `write` from it succeeds. The kernel checks the memory a message
    /// names; a page that is not mapped is asked of proc, which knows no
    /// such page and answers without one, so the call fails with `EFAULT`.
    fn readable(address: u64) -> Result<bool, Errno> {
        let (r, w) = pipe()?;
        // SAFETY: the kernel checks the pointer (a bad one is `EFAULT`);
        // nothing of ours is read through it here.
        let written = unsafe { ulib::sys::write(w.0, address as *const u8, 8) };
        let _ = close(r);
        let _ = close(w);
        match written {
            Ok(_) => Ok(true),
            Err(Errno::EFAULT) => Ok(false),
            Err(errno) => Err(errno),
        }
    }

    /// The receiver: takes one page at [`WINDOW`] from anyone, says so,
    /// and once told its giver is gone, checks that the page went too.
    /// Exit status: 0 if it did, 1 if the page is still mapped, more for
    /// a broken step.
    fn receiver(id_out: Fd, got_out: Fd, go_in: Fd) -> i32 {
        // SAFETY: a window of one page that nothing of ours uses; no buffer.
        if unsafe { l4::memory::set_receive_window(0, 0, WINDOW, 1) }.is_err() {
            return 10;
        }
        let (me, _) = l4::task::whoami();
        if write(id_out, &me.0.to_le_bytes()).is_err() {
            return 11;
        }
        let Ok(message) = l4::ipc::receive(ThreadId::ANY, Timeout::Ticks(1000)) else {
            return 12;
        };
        if message.label() != GIFT || message.mapped().map(|(page, _)| page) != Some(WINDOW) {
            return 13;
        }
        // SAFETY: the page just mapped here.
        let seen = unsafe { core::ptr::read_volatile(WINDOW as *const u64) };
        if seen != MARKER || write(got_out, b"g").is_err() {
            return 14;
        }
        if read_exactly::<1>(go_in).is_err() {
            return 15;
        }
        match readable(WINDOW) {
            Ok(false) => 0,
            Ok(true) => 1,
            Err(_) => 16,
        }
    }

    /// The page a giver passes on.
    #[derive(Clone, Copy)]
    enum Gift {
        /// A fresh heap page of its own, mapped (`false`) or granted.
        Own { grant: bool },
        /// The page at this address, which it shares copy-on-write with
        /// its parent (the test): granted, read-only as it has it.
        Shared(u64),
    }

    /// The giver: passes a page with [`MARKER`] in it to `to`; then it
    /// waits until `hold` says it may exit (or is closed), so the receiver
    /// can look at the page first.
    fn giver(to: ThreadId, gift: Gift, hold: Fd) -> i32 {
        let (page, rights, grant) = match gift {
            Gift::Own { grant } => {
                // SAFETY: growing the heap; the memory is ours and unused.
                let Ok(start) = (unsafe { sbrk(2 * 4096) }) else {
                    return 20;
                };
                // A whole page inside the new memory, whatever the old break was.
                let page = (start as u64 + 0xfff) & !0xfff;
                // SAFETY: inside the memory just given to us.
                unsafe { core::ptr::write_volatile(page as *mut u64, MARKER) };
                (page, l4::rights::READ | l4::rights::WRITE, grant)
            }
            Gift::Shared(page) => {
                // SAFETY: our copy of the parent's page: reading it maps it
                // here, read-only (shared).
                if unsafe { core::ptr::read_volatile(page as *const u64) } != MARKER {
                    return 22;
                }
                (page, l4::rights::READ, true)
            }
        };
        let item = MapItem {
            page,
            count: 1,
            rights,
            window_offset: 0,
        };
        let message = Message::new(GIFT, &[]).with_map(item, grant);
        let sent = l4::ipc::send(to, &message, Timeout::Ticks(1000));
        let _ = read_exactly::<1>(hold);
        if sent.is_ok() { 0 } else { 21 }
    }

    /// One process gives a page to another ([`receiver`]) and exits; then
    /// `after_exit` runs, and the receiver checks that the page is gone.
    /// `Err` for a broken step; `Ok(true)` if the page stayed mapped.
    fn give_then_exit(
        gift: Gift,
        after_exit: impl FnOnce(),
    ) -> Result<bool, alloc::string::String> {
        let (id_in, id_out) = pipe().context("pipe")?;
        let (got_in, got_out) = pipe().context("pipe")?;
        let (go_in, go_out) = pipe().context("pipe")?;
        let receiving = spawn(|| {
            for fd in [id_in, got_in, go_out] {
                let _ = close(fd);
            }
            receiver(id_out, got_out, go_in)
        })?;
        // Only the receiver holds these now: a receiver that dies early
        // makes our reads end instead of wait.
        for fd in [id_out, got_out, go_in] {
            close(fd).context("close")?;
        }
        let (hold_in, hold_out) = pipe().context("pipe")?;
        let id = read_exactly::<8>(id_in);
        let to = ThreadId(u64::from_le_bytes(id.unwrap_or([0; 8])));
        let giving = spawn(|| {
            for fd in [id_in, got_in, go_out, hold_out] {
                let _ = close(fd);
            }
            giver(to, gift, hold_in)
        })?;
        close(hold_in).context("close")?;
        // The receiver has the page (or is gone); the giver may exit
        // (closing the pipe tells it so either way).
        let got = read_exactly::<1>(got_in);
        close(hold_out).context("close")?;
        // Once the giver is gone, the receiver checks its page (told by a
        // byte; a closed pipe without one stops it).
        let (given, received) =
            wait_one_then_tell(giving, receiving, go_out, got.is_ok(), after_exit)?;
        for fd in [id_in, got_in] {
            close(fd).context("close")?;
        }
        ensure!(id.is_ok(), "the receiver did not say who it is");
        ensure!(given == 0, "the giver exited with {}", given);
        ensure!(received <= 1, "the receiver exited with {}", received);
        Ok(received == 1)
    }

    /// One process maps (or grants) a page of its own to another and
    /// exits. The receiver must lose the page: proc frees the giver's
    /// frames, and hands them to the next process that needs memory. A
    /// mapped page goes with the giver's space; a *granted* one left that
    /// space, so proc must revoke the frame itself. (Before it did, the
    /// receiver kept read/write access to a frame that became another
    /// process's memory.)
    pub fn granted_page_revoked() -> TestResult {
        for grant in [false, true] {
            let what = if grant { "granted" } else { "mapped" };
            let stayed =
                give_then_exit(Gift::Own { grant }, || ()).map_err(|e| format!("{what}: {e}"))?;
            ensure!(
                !stayed,
                "a page {} to another process stayed mapped there after its giver exited",
                what
            );
        }
        Ok(())
    }

    /// A page shared copy-on-write (this test's, and its child's after
    /// fork): the child grants its read-only mapping to a third process and
    /// exits. The frame is ours alone now, and our next write goes into it
    /// (no copy is needed any more) — so the third process must not keep
    /// it, or it would read what we write.
    pub fn shared_page_revoked() -> TestResult {
        // 8 KiB hold a whole page; it lives as long as the test.
        let buffer = alloc::boxed::Box::new([0u64; 1024]);
        let address = (buffer.as_ptr() as u64 + 0xfff) & !0xfff;
        // SAFETY: inside our own box (a page from its first page boundary).
        unsafe { core::ptr::write_volatile(address as *mut u64, MARKER) };
        let stayed = give_then_exit(Gift::Shared(address), || {
            // SAFETY: inside our own box, as above.
            unsafe { core::ptr::write_volatile(address as *mut u64, !MARKER) };
        })?;
        drop(buffer);
        ensure!(
            !stayed,
            "a page shared copy-on-write, granted away by a child that then exited, stayed mapped in the other process while this one wrote into it"
        );
        Ok(())
    }

    /// Waits for `giving` to exit, runs `after_exit`, then tells the
    /// receiver to look (if `tell`) and closes `go`; returns both exit
    /// statuses. (A receiver that failed early may exit first.)
    fn wait_one_then_tell(
        giving: Pid,
        receiving: Pid,
        go: Fd,
        tell: bool,
        after_exit: impl FnOnce(),
    ) -> Result<(i32, i32), alloc::string::String> {
        let (pid, status) = ulib::wait().context("wait")?;
        let (given, received) = if pid == giving {
            after_exit();
            if tell {
                write(go, b"g").context("write")?;
            }
            close(go).context("close")?;
            let received = wait_for(receiving)?;
            (status, received)
        } else {
            ensure!(
                pid == receiving,
                "wait returned pid {}, not a child of this test",
                pid
            );
            close(go).context("close")?;
            (wait_for(giving)?, status)
        };
        Ok((given, received))
    }

    /// A process may send proc a message with the label of a page fault —
    /// a forged write fault on a page it shares copy-on-write, say, which
    /// would make proc copy the page and release the frame the forger
    /// still maps. The kernel refuses every label it sends itself
    /// (`InvalidArgument`), from every thread, so proc never sees one.
    pub fn forged_fault_refused() -> TestResult {
        let (proc, _) = ulib::sys::server_threads();
        let proc = ThreadId(proc);
        let shared = alloc::boxed::Box::new(MARKER);
        let address = &*shared as *const u64 as u64;
        // A child: its heap is shared with ours, copy-on-write.
        let child = match fork().context("fork")? {
            ForkResult::Child => {
                let forged = [
                    Message::new(
                        label::PAGE_FAULT,
                        &[address, fault_access::WRITE | fault_access::PRESENT, 0],
                    ),
                    Message::new(label::EXCEPTION, &[14, 7, 0, 0, 0, address]),
                    Message::new(label::INTERRUPT, &[1]),
                    Message::new(label::KERNEL_LAST, &[]),
                ];
                for (n, message) in forged.iter().enumerate() {
                    if l4::ipc::call(proc, message).map(|_| ()) != Err(Error::InvalidArgument) {
                        exit(2 + n as i32);
                    }
                }
                // Still alive, and the page is what it was.
                // SAFETY: our copy of the parent's box.
                let seen = unsafe { core::ptr::read_volatile(address as *const u64) };
                exit(if seen == MARKER { 0 } else { 9 })
            }
            ForkResult::Parent(pid) => pid,
        };
        let status = wait_for(child)?;
        ensure!(
            *shared == MARKER,
            "the parent's copy of a shared page changed"
        );
        ensure!(
            status == 0,
            "a forged kernel message: the child exited with status {} (2-5: a label not refused, 9: its page changed)",
            status
        );
        Ok(())
    }
}

#[cfg(feature = "micro")]
pub use micro_memory::{forged_fault_refused, granted_page_revoked, shared_page_revoked};
