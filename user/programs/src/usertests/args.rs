//! Bad-argument tests: every system call must reject nonsense with a clear
//! error (and change nothing), never crash the kernel or hang.

use super::util::{Context, expect_errno, expect_one_of, in_child, remove, write_file};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::vec::Vec;
use ulib::{
    Errno, Fd, ForkResult, O_CREATE, O_RDONLY, O_RDWR, O_WRONLY, close, dup, exit, fork, fstat,
    getdents, kill, mknod, open, read, sys, uptime, write,
};

pub const TESTS: &[Test] = &[
    Test::quick("bad_fds", bad_fds),
    Test::quick("open_bad_flags", open_bad_flags),
    Test::quick("open_missing", open_missing),
    Test::quick("wrong_access_mode", wrong_access_mode),
    Test::quick("kill_bad_pid", kill_bad_pid),
    Test::quick("exec_bad_argv", exec_bad_argv),
    Test::quick("exec_too_many_args", exec_too_many_args),
    Test::quick("bad_pointer_out_args", bad_pointer_out_args),
    Test::quick("path_too_long", path_too_long),
    Test::quick("path_bad_pointers", path_bad_pointers),
    Test::quick("mknod_exists", mknod_exists),
    Test::quick("zero_length_io", zero_length_io),
    Test::quick("sleep_and_uptime", sleep_and_uptime),
];

/// A kernel address: never a valid user pointer.
const KERNEL_ADDRESS: u64 = 0xffff_ffff_8000_0000;

fn bad_fds() -> TestResult {
    let mut buf = [0u8; 16];
    for fd in [-1, 57, 1000, i32::MAX, i32::MIN] {
        let what = |call: &str| format!("{call}(fd {fd})");
        expect_errno(read(Fd(fd), &mut buf), Errno::EBADF, &what("read"))?;
        expect_errno(write(Fd(fd), b"x"), Errno::EBADF, &what("write"))?;
        expect_errno(close(Fd(fd)), Errno::EBADF, &what("close"))?;
        expect_errno(fstat(Fd(fd)), Errno::EBADF, &what("fstat"))?;
        expect_errno(dup(Fd(fd)), Errno::EBADF, &what("dup"))?;
        expect_errno(getdents(Fd(fd), &mut buf), Errno::EBADF, &what("getdents"))?;
    }
    // A descriptor that was open and has been closed.
    let path = "ut-badfd";
    write_file(path, b"data")?;
    let fd = open(path, O_RDONLY).context("open")?;
    close(fd).context("close")?;
    expect_errno(read(fd, &mut buf), Errno::EBADF, "read(closed fd)")?;
    expect_errno(close(fd), Errno::EBADF, "close(closed fd)")?;
    remove(path);
    Ok(())
}

fn open_bad_flags() -> TestResult {
    let path = "ut-badflags";
    for flags in [0x8000_0000u32, 0x100, 0x10_0000] {
        expect_errno(
            open(path, flags | O_CREATE),
            Errno::EINVAL,
            &format!("open flags {flags:#x}"),
        )?;
    }
    expect_errno(
        open(path, O_RDONLY),
        Errno::ENOENT,
        "the rejected opens created the file",
    )
}

fn open_missing() -> TestResult {
    expect_errno(
        open("ut-no-such-file", O_RDONLY),
        Errno::ENOENT,
        "open missing file",
    )?;
    expect_errno(
        open("ut-no-such-dir/x", O_CREATE | O_RDWR),
        Errno::ENOENT,
        "create in missing dir",
    )?;
    expect_errno(open("", O_RDONLY), Errno::ENOENT, "open(\"\")")?;
    expect_errno(open("/", O_RDWR), Errno::EISDIR, "open / for writing")?;
    expect_errno(open("/", O_WRONLY), Errno::EISDIR, "open / write-only")
}

fn wrong_access_mode() -> TestResult {
    let path = "ut-accmode";
    write_file(path, b"hello")?;
    let fd = open(path, O_RDONLY).context("open read-only")?;
    let w = write(fd, b"x");
    close(fd).context("close")?;
    expect_errno(w, Errno::EBADF, "write to a read-only descriptor")?;
    let fd = open(path, O_WRONLY).context("open write-only")?;
    let mut buf = [0u8; 8];
    let r = read(fd, &mut buf);
    close(fd).context("close")?;
    expect_errno(r, Errno::EBADF, "read from a write-only descriptor")?;
    remove(path);
    Ok(())
}

fn kill_bad_pid() -> TestResult {
    expect_errno(kill(999_999), Errno::ESRCH, "kill(999999)")?;
    expect_errno(kill(0), Errno::ESRCH, "kill(0)")?;
    expect_one_of(sys::kill(-1), &[Errno::ESRCH, Errno::EINVAL], "kill(-1)")
}

/// Runs `body` (which calls exec with bad arguments) in a child: if the
/// kernel wrongly accepted the exec, only the child is replaced.
fn exec_in_child(
    body: impl FnOnce() -> Result<u64, Errno>,
    expected: &[Errno],
    what: &str,
) -> TestResult {
    let status = in_child(|| match body() {
        Err(e) if expected.contains(&e) => 0,
        Err(e) => 100 + e as i32,
        Ok(_) => 99,
    })?;
    ensure!(
        status == 0,
        "{}: expected {:?}, child reported status {}",
        what,
        expected,
        status
    );
    Ok(())
}

fn exec_bad_argv() -> TestResult {
    let path = b"/bin/echo\0";
    let arg = b"echo\0";
    exec_in_child(
        // SAFETY: the kernel must refuse the bad argv pointer.
        || unsafe { sys::exec(path.as_ptr(), KERNEL_ADDRESS as *const *const u8) },
        &[Errno::EFAULT],
        "exec with argv in kernel memory",
    )?;
    let argv_with_bad_string = [arg.as_ptr(), KERNEL_ADDRESS as *const u8, core::ptr::null()];
    exec_in_child(
        // SAFETY: the kernel must refuse the bad string pointer.
        || unsafe { sys::exec(path.as_ptr(), argv_with_bad_string.as_ptr()) },
        &[Errno::EFAULT],
        "exec with a bad argument string",
    )?;
    exec_in_child(
        // SAFETY: the kernel must refuse the bad path pointer.
        || unsafe { sys::exec(KERNEL_ADDRESS as *const u8, argv_with_bad_string.as_ptr()) },
        &[Errno::EFAULT],
        "exec with a bad path",
    )
}

fn exec_too_many_args() -> TestResult {
    let path = b"/bin/echo\0";
    let word = b"x\0";
    // MAX_ARGS + 1 pointers, then the terminating null: the kernel must count.
    let mut argv: Vec<*const u8> = (0..=ulib::MAX_ARGS).map(|_| word.as_ptr()).collect();
    argv.push(core::ptr::null());
    exec_in_child(
        // SAFETY: a valid, null-terminated argv with too many entries.
        || unsafe { sys::exec(path.as_ptr(), argv.as_ptr()) },
        &[Errno::E2BIG],
        "exec with MAX_ARGS + 1 arguments",
    )?;
    // Few arguments, but too many bytes of them.
    let mut long = alloc::vec![b'y'; ulib::MAX_ARG_BYTES / 2];
    long.push(0);
    let argv = [
        long.as_ptr(),
        long.as_ptr(),
        long.as_ptr(),
        core::ptr::null(),
    ];
    exec_in_child(
        // SAFETY: a valid, null-terminated argv whose strings are too long.
        || unsafe { sys::exec(path.as_ptr(), argv.as_ptr()) },
        &[Errno::E2BIG],
        "exec with more than MAX_ARG_BYTES of arguments",
    )?;
    // ulib itself refuses before asking the kernel.
    let many: Vec<&str> = (0..=ulib::MAX_ARGS).map(|_| "x").collect();
    ensure!(
        ulib::exec("/bin/echo", &many) == Errno::E2BIG,
        "ulib::exec accepted too many arguments"
    );
    Ok(())
}

/// Calls that write results through a pointer must refuse bad pointers,
/// and must not leave anything half-done behind (no leaked descriptors).
fn bad_pointer_out_args() -> TestResult {
    let bad = KERNEL_ADDRESS;
    // SAFETY: the kernel must refuse the bad pointer.
    expect_errno(
        unsafe { sys::fstat(0, bad as *mut _) },
        Errno::EFAULT,
        "fstat(bad)",
    )?;
    let probe = open("/", O_RDONLY).context("open /")?;
    close(probe).context("close")?;
    // SAFETY: the kernel must refuse the bad pointer.
    expect_errno(
        unsafe { sys::pipe(bad as *mut [i32; 2]) },
        Errno::EFAULT,
        "pipe(bad)",
    )?;
    let after = open("/", O_RDONLY).context("open / again")?;
    close(after).context("close")?;
    ensure!(
        after == probe,
        "pipe(bad) leaked descriptors: next free fd {} became {}",
        probe.0,
        after.0
    );
    let dir = open("/", O_RDONLY).context("open /")?;
    // SAFETY: the kernel must refuse the bad pointer.
    let r = unsafe { sys::getdents(dir.0, bad as *mut u8, 1024) };
    close(dir).context("close")?;
    expect_errno(r, Errno::EFAULT, "getdents(bad)")?;
    // wait with a bad status pointer: the call must fail cleanly.
    match fork().context("fork")? {
        ForkResult::Child => exit(0),
        ForkResult::Parent(_) => {}
    }
    // SAFETY: the kernel must refuse the bad pointer.
    let r = unsafe { sys::wait(bad as *mut i32) };
    // Whether or not the child was collected by the failed call, collect it now.
    let _ = ulib::wait();
    expect_errno(r, Errno::EFAULT, "wait(bad)")
}

fn path_too_long() -> TestResult {
    let long = "a".repeat(ulib::MAX_PATH + 1);
    expect_errno(
        open(&long, O_CREATE | O_RDWR),
        Errno::ENAMETOOLONG,
        "ulib open(long path)",
    )?;
    let mut raw = long.into_bytes();
    raw.push(0);
    // SAFETY: NUL-terminated path.
    let r = unsafe { sys::open(raw.as_ptr(), O_CREATE | O_RDWR) };
    expect_errno(r, Errno::ENAMETOOLONG, "open(MAX_PATH + 1 bytes)")?;
    // SAFETY: NUL-terminated path.
    let r = unsafe { sys::mkdir(raw.as_ptr()) };
    expect_errno(r, Errno::ENAMETOOLONG, "mkdir(MAX_PATH + 1 bytes)")
}

fn mknod_exists() -> TestResult {
    let path = "ut-mknod";
    write_file(path, b"")?;
    let r = mknod(path, 1, 0);
    remove(path);
    expect_errno(r, Errno::EEXIST, "mknod over an existing file")
}

fn zero_length_io() -> TestResult {
    let path = "ut-zerolen";
    let fd = open(path, O_CREATE | O_RDWR).context("create")?;
    let w = write(fd, &[]);
    let mut empty = [0u8; 0];
    let r = read(fd, &mut empty);
    close(fd).context("close")?;
    remove(path);
    ensure!(w == Ok(0), "write of 0 bytes returned {:?}", w);
    ensure!(r == Ok(0), "read of 0 bytes returned {:?}", r);
    Ok(())
}

fn sleep_and_uptime() -> TestResult {
    let before = uptime().context("uptime")?;
    ulib::sleep(0).context("sleep(0)")?;
    ulib::sleep(3).context("sleep(3)")?;
    let after = uptime().context("uptime")?;
    ensure!(
        after >= before + 3,
        "uptime went from {} to {} across sleep(3)",
        before,
        after
    );
    Ok(())
}

/// Every call that takes a path refuses a bad path pointer with EFAULT
/// (xv6's validatetest).
fn path_bad_pointers() -> TestResult {
    let bad = KERNEL_ADDRESS as *const u8;
    let good: *const u8 = c"ut-validate".as_ptr().cast();
    // SAFETY (all calls below): the kernel must refuse the bad pointer
    // without reading through it; the good path is NUL-terminated.
    unsafe {
        expect_errno(
            sys::open(bad, O_CREATE | O_RDWR),
            Errno::EFAULT,
            "open(bad)",
        )?;
        // The path is checked before the flags, on both kernels.
        expect_errno(
            sys::open(bad, u32::MAX),
            Errno::EFAULT,
            "open(bad, bad flags)",
        )?;
        expect_errno(sys::mkdir(bad), Errno::EFAULT, "mkdir(bad)")?;
        expect_errno(sys::chdir(bad), Errno::EFAULT, "chdir(bad)")?;
        expect_errno(sys::unlink(bad), Errno::EFAULT, "unlink(bad)")?;
        expect_errno(sys::mknod(bad, 1, 0), Errno::EFAULT, "mknod(bad)")?;
        expect_errno(sys::link(bad, good), Errno::EFAULT, "link(bad, good)")?;
        expect_errno(sys::link(good, bad), Errno::EFAULT, "link(good, bad)")?;
        expect_errno(sys::rename(bad, good), Errno::EFAULT, "rename(bad, good)")?;
    }
    write_file("ut-validate", b"")?;
    // SAFETY: as above.
    let link_result = unsafe { sys::link(good, bad) };
    // SAFETY: as above.
    let rename_result = unsafe { sys::rename(good, bad) };
    let still_there = ulib::stat("ut-validate").is_ok();
    remove("ut-validate");
    expect_errno(link_result, Errno::EFAULT, "link(existing, bad)")?;
    expect_errno(rename_result, Errno::EFAULT, "rename(existing, bad)")?;
    ensure!(still_there, "a failed rename removed the source");
    Ok(())
}
