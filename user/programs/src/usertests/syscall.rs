//! Lab `syscall`'s tests (`labs/syscall/handout.md`): `getppid` and
//! `sysinfo`, the same on both kernels. In the lab's starter the calls
//! answer `ENOSYS`, and these tests fail until the student writes them.

use super::util::{Context, expect_child_ok, spawn, wait_for};
use super::{Test, TestResult};
use crate::ensure;
use ulib::{
    ForkResult, SysInfo, close, exit, fork, freemem, getpid, getppid, pipe, read, sbrk, sleep,
    sysinfo, write,
};

pub const TESTS: &[Test] = &[
    Test::quick("syscall_getppid", syscall_getppid),
    Test::quick("syscall_getppid_orphan", syscall_getppid_orphan),
    Test::quick("syscall_sysinfo", syscall_sysinfo),
    // LAB syscall BEGIN
    Test::quick("syscall_sysinfo_bad_pointer", syscall_sysinfo_bad_pointer),
    // LAB syscall STUB
    // LAB syscall END
];

/// A child's `getppid` is its parent's `getpid`, on every fork.
fn syscall_getppid() -> TestResult {
    let me = getpid().context("getpid")?;
    let parent = getppid().context("getppid")?;
    ensure!(parent != me, "getppid() returned my own pid {}", me);
    for _ in 0..5 {
        expect_child_ok("child's getppid", || match getppid() {
            Ok(pid) if pid == me => 0,
            _ => 1,
        })?;
    }
    Ok(())
}

/// Once its parent has exited, an orphan's parent is init (pid 1).
fn syscall_getppid_orphan() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    let child = spawn(|| match fork() {
        Ok(ForkResult::Child) => {
            // The grandchild: wait (at most 5 s) for its parent to be gone.
            for _ in 0..500 {
                match getppid() {
                    Ok(1) => {
                        let _ = write(write_end, b"y");
                        exit(0);
                    }
                    Ok(_) => {}
                    Err(_) => {
                        let _ = write(write_end, b"e");
                        exit(1);
                    }
                }
                let _ = sleep(1);
            }
            let _ = write(write_end, b"n");
            exit(1)
        }
        Ok(ForkResult::Parent(_)) => 0, // exit at once: orphan the grandchild
        Err(_) => 1,
    })?;
    ensure!(wait_for(child)? == 0, "the child could not fork");
    close(write_end).context("close")?;
    let mut answer = [0u8; 1];
    let got = read(read_end, &mut answer).context("read from the grandchild")?;
    close(read_end).context("close")?;
    ensure!(
        !(got == 1 && answer[0] == b'e'),
        "the orphan's getppid() failed"
    );
    ensure!(
        got == 1 && answer[0] == b'y',
        "the orphan's getppid() never became 1 (init)"
    );
    Ok(())
}

/// `sysinfo` counts processes (one more after a fork, one fewer after its
/// wait) and free memory (what `freemem` counts, in bytes; less after
/// the heap grows into new pages).
fn syscall_sysinfo() -> TestResult {
    let before = sysinfo().context("sysinfo")?;
    ensure!(
        before.nproc >= 3,
        "nproc {} (init, sh and usertests run)",
        before.nproc
    );
    let pages = freemem().context("freemem")?;
    let difference = before.freemem.abs_diff(pages * 4096);
    ensure!(
        before.freemem % 4096 == 0 && difference <= 16 * 4096,
        "sysinfo says {} bytes free, freemem() {} pages ({} bytes)",
        before.freemem,
        pages,
        pages * 4096
    );
    let (read_end, write_end) = pipe().context("pipe")?;
    let child = spawn(|| {
        // Wait for the parent's word, then exit.
        let mut byte = [0u8; 1];
        let _ = read(read_end, &mut byte);
        0
    })?;
    let during: SysInfo = sysinfo().context("sysinfo with a child")?;
    write(write_end, b"x").context("write")?;
    wait_for(child)?;
    close(read_end).context("close")?;
    close(write_end).context("close")?;
    let after = sysinfo().context("sysinfo after wait")?;
    ensure!(
        during.nproc == before.nproc + 1 && after.nproc == before.nproc,
        "nproc {} before a fork, {} with the child, {} after its wait",
        before.nproc,
        during.nproc,
        after.nproc
    );
    // 1 MiB more heap, every page touched.
    const GROW: usize = 1 << 20;
    // SAFETY: growing the break hands us fresh memory nobody else uses.
    let start = unsafe { sbrk(GROW as isize) }.context("sbrk")?;
    for offset in (0..GROW).step_by(4096) {
        // SAFETY: inside the memory sbrk just gave us.
        unsafe { start.add(offset).write_volatile(1) };
    }
    let grown = sysinfo().context("sysinfo after sbrk")?;
    // SAFETY: nothing uses the memory given back.
    unsafe { sbrk(-(GROW as isize)) }.context("sbrk back")?;
    ensure!(
        grown.freemem + (GROW as u64) / 2 <= after.freemem,
        "1 MiB of new pages, yet free memory went only from {} to {} bytes",
        after.freemem,
        grown.freemem
    );
    Ok(())
}

// LAB syscall BEGIN
/// `sysinfo` with a pointer the caller may not write: `EFAULT`, on both
/// kernels, and the caller lives on.
fn syscall_sysinfo_bad_pointer() -> TestResult {
    use super::util::expect_errno;
    use ulib::Errno;
    for address in [
        0xffff_ffff_8000_0000u64,
        0x0000_8000_0000_0000,
        ulib::USER_TOP - 8,
    ] {
        // SAFETY: the kernel must refuse the address, not write there.
        let result = unsafe { ulib::sys::sysinfo(address as *mut SysInfo) };
        expect_errno(result, Errno::EFAULT, "sysinfo to a bad address")?;
    }
    Ok(())
}
// LAB syscall STUB
// LAB syscall END
