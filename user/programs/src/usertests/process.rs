//! Process tests: fork, exit, wait, reparenting, kill, preemption, exec.

use super::util::{
    Context, expect_errno, expect_one_of, in_child, read_file, remove, spawn, wait_for, write_file,
};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use ulib::{
    Args, Errno, Fd, ForkResult, KILLED_STATUS, O_CREATE, O_TRUNC, O_WRONLY, Pid, close, exec,
    exit, fork, getpid, kill, open, pipe, read, sbrk, sleep, wait, write,
};

pub const TESTS: &[Test] = &[
    Test::quick("exit_wait", exit_wait),
    Test::quick("wait_no_children", wait_no_children),
    Test::quick("wait_null_status", wait_null_status),
    Test::quick("getpid_fork", getpid_fork),
    Test::quick("fork_until_full", fork_until_full),
    Test::quick("fork_bomb", fork_bomb),
    Test::quick("forkfork", forkfork),
    Test::quick("forktree", forktree),
    Test::quick("twochildren", twochildren),
    Test::quick("reparent", reparent),
    Test::quick("kill_running", kill_running),
    Test::quick("kill_blocked", kill_blocked),
    Test::quick("kill_self", kill_self),
    Test::quick("kill_init", kill_init),
    Test::quick("preempt", preempt),
    Test::quick("exec_echo", exec_echo),
    Test::quick("exec_keeps_cwd", exec_keeps_cwd),
    Test::quick("exec_args", exec_args),
    Test::quick("exec_big_args", exec_big_args),
    Test::quick("exec_missing", exec_missing),
    Test::quick("exec_bad_elf", exec_bad_elf),
    Test::quick("exec_out_of_memory", exec_out_of_memory),
];

fn exit_wait() -> TestResult {
    let statuses = [0, 1, 42, 255, 256, -5, i32::MAX];
    let mut children: Vec<(Pid, i32)> = Vec::new();
    for &status in &statuses {
        children.push((spawn(move || status)?, status));
    }
    for _ in 0..children.len() {
        let (pid, status) = wait().context("wait")?;
        let Some(index) = children.iter().position(|&(p, _)| p == pid) else {
            return Err(format!("wait returned pid {pid}, which is not a child"));
        };
        let (_, expected) = children.swap_remove(index);
        ensure!(
            status == expected,
            "child exited with {} but wait reported {}",
            expected,
            status
        );
    }
    expect_errno(wait(), Errno::ECHILD, "wait after collecting every child")
}

fn wait_no_children() -> TestResult {
    expect_errno(wait(), Errno::ECHILD, "wait with no children")
}

fn getpid_fork() -> TestResult {
    let me = getpid().context("getpid")?;
    let (read_end, write_end) = pipe().context("pipe")?;
    let child = spawn(|| {
        let pid = getpid().unwrap_or(0);
        let _ = write(write_end, &pid.to_ne_bytes());
        0
    })?;
    close(write_end).context("close")?;
    let mut bytes = [0u8; 4];
    let n = ulib::read_full(read_end, &mut bytes).context("read")?;
    close(read_end).context("close")?;
    wait_for(child)?;
    ensure!(n == 4, "the child sent {} bytes", n);
    let reported = u32::from_ne_bytes(bytes);
    ensure!(
        reported == child,
        "fork returned {} but the child's getpid is {}",
        child,
        reported
    );
    ensure!(child != me, "the child has its parent's pid {}", me);
    ensure!(getpid().context("getpid")? == me, "getpid changed");
    Ok(())
}

/// xv6's forktest: fork until the kernel says no (a full process table or
/// no memory), which must be an error, not a crash; then clean up.
fn fork_until_full() -> TestResult {
    const LIMIT: usize = 1000;
    let (read_end, write_end) = pipe().context("pipe")?;
    let mut children = 0usize;
    let mut refusal = None;
    while children < LIMIT {
        match fork() {
            Ok(ForkResult::Child) => {
                // Stay alive (blocked on the pipe) until the parent is done.
                let _ = close(write_end);
                let mut byte = [0u8; 1];
                let _ = read(read_end, &mut byte);
                exit(0);
            }
            Ok(ForkResult::Parent(_)) => children += 1,
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    close(write_end).context("close")?; // every child now sees end of file
    close(read_end).context("close")?;
    for i in 0..children {
        wait().context(&format!("wait for child {i} of {children}"))?;
    }
    expect_errno(wait(), Errno::ECHILD, "wait after collecting every child")?;
    if let Some(e) = refusal {
        expect_one_of::<()>(Err(e), &[Errno::EAGAIN, Errno::ENOMEM], "the failed fork")?;
    }
    ensure!(children >= 8, "only {} forks succeeded", children);
    Ok(())
}

/// A fork bomb: every process forks until the kernel refuses, its children
/// too, so the process table fills from many processes at once. Every
/// refusal is a clean `EAGAIN` or `ENOMEM`; when the bomb is released,
/// each process collects its children and exits, and processes can be made
/// again. (The bomb runs in a child of the test, so that the test itself
/// is not part of it.)
fn fork_bomb() -> TestResult {
    /// Forks until refused; each child does the same. Returns the worst
    /// exit status seen (0: only clean refusals).
    fn bomb(hold: Fd, release: Fd) -> i32 {
        let mut status = 0;
        let mut children = 0;
        loop {
            match fork() {
                Ok(ForkResult::Child) => {
                    children = 0;
                    status = 0;
                    continue;
                }
                Ok(ForkResult::Parent(_)) => children += 1,
                Err(Errno::EAGAIN | Errno::ENOMEM) => break,
                Err(_) => {
                    status = 1;
                    break;
                }
            }
            if children >= 64 {
                break;
            }
        }
        // Wait for the release: the end of the pipe.
        let _ = close(release);
        let mut byte = [0u8; 1];
        let _ = read(hold, &mut byte);
        for _ in 0..children {
            match wait() {
                Ok((_, 0)) => {}
                Ok((_, other)) => status = status.max(other),
                Err(_) => status = 2,
            }
        }
        status
    }
    let (hold, release) = pipe().context("pipe")?;
    let root = spawn(|| bomb(hold, release))?;
    // The bomb goes off when every process of it has stopped forking and
    // this one has closed its end too.
    close(release).context("close")?;
    close(hold).context("close")?;
    let status = wait_for(root)?;
    ensure!(
        status == 0,
        "the bomb saw a fork fail uncleanly (status {})",
        status
    );
    // Processes can be made again.
    let child = spawn(|| 0)?;
    ensure!(wait_for(child)? == 0, "a process after the bomb failed");
    Ok(())
}

/// xv6's forkfork: several processes fork and wait at the same time.
fn forkfork() -> TestResult {
    const WORKERS: usize = 2;
    const ROUNDS: usize = 200;
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        workers.push(spawn(|| {
            for _ in 0..ROUNDS {
                match fork() {
                    Ok(ForkResult::Child) => exit(0),
                    Ok(ForkResult::Parent(_)) => {
                        if wait().is_err() {
                            return 1;
                        }
                    }
                    Err(_) => return 2,
                }
            }
            0
        })?);
    }
    for _ in &workers {
        let (_, status) = wait().context("wait")?;
        ensure!(status == 0, "a worker failed with status {}", status);
    }
    Ok(())
}

/// A binary tree of processes five levels deep (32 leaves); each process
/// waits for its two children and adds up the leaves they report.
fn forktree() -> TestResult {
    fn subtree(depth: u32) -> i32 {
        if depth == 0 {
            return 1;
        }
        let mut leaves = 0;
        for _ in 0..2 {
            match fork() {
                Ok(ForkResult::Child) => exit(subtree(depth - 1)),
                Ok(ForkResult::Parent(_)) => {}
                Err(_) => return -100,
            }
        }
        for _ in 0..2 {
            match wait() {
                Ok((_, status)) => leaves += status,
                Err(_) => return -200,
            }
        }
        leaves
    }
    let status = in_child(|| subtree(5))?;
    ensure!(
        status == 32,
        "the tree reported {} leaves, expected 32",
        status
    );
    Ok(())
}

fn twochildren() -> TestResult {
    for _ in 0..200 {
        let a = spawn(|| 0)?;
        let b = spawn(|| 0)?;
        let (first, _) = wait().context("wait")?;
        let (second, _) = wait().context("wait")?;
        ensure!(
            (first == a && second == b) || (first == b && second == a),
            "waited for {} and {}, children were {} and {}",
            first,
            second,
            a,
            b
        );
    }
    Ok(())
}

/// xv6's reparent: a child that exits before its own child hands the
/// grandchild to init; the parent's wait must see only its child.
fn reparent() -> TestResult {
    for _ in 0..200 {
        let child = spawn(|| {
            match fork() {
                Ok(ForkResult::Child) => exit(0),
                Ok(ForkResult::Parent(_)) => {}
                Err(_) => return 1,
            }
            0 // exit without waiting for the grandchild
        })?;
        let status = wait_for(child)?;
        ensure!(status == 0, "child failed with status {}", status);
        expect_errno(
            wait(),
            Errno::ECHILD,
            "wait after the child (grandchild belongs to init)",
        )?;
    }
    Ok(())
}

/// Spawns a child that runs forever, burning CPU.
fn spawn_spinner() -> Result<Pid, alloc::string::String> {
    spawn(|| {
        loop {
            core::hint::spin_loop();
        }
    })
}

/// xv6's killstatus: a killed process reports KILLED_STATUS.
fn kill_running() -> TestResult {
    for _ in 0..20 {
        let child = spawn_spinner()?;
        kill(child).context("kill")?;
        let status = wait_for(child)?;
        ensure!(
            status == KILLED_STATUS,
            "killed child exited with {}",
            status
        );
    }
    Ok(())
}

/// A process blocked in a system call (reading an empty pipe, sleeping)
/// can be killed too.
fn kill_blocked() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    let (ready_read, ready_write) = pipe().context("pipe")?;
    let reader = spawn(|| {
        let _ = write(ready_write, b"r");
        let mut byte = [0u8; 1];
        let _ = read(read_end, &mut byte); // blocks forever: nobody writes
        0
    })?;
    let sleeper = spawn(|| {
        let _ = write(ready_write, b"s");
        let _ = sleep(1_000_000);
        0
    })?;
    let mut ready = [0u8; 2];
    ulib::read_full(ready_read, &mut ready).context("read readiness")?;
    for pid in [reader, sleeper] {
        kill(pid).context("kill")?;
        let status = wait_for(pid)?;
        ensure!(
            status == KILLED_STATUS,
            "killed blocked child {} exited with {}",
            pid,
            status
        );
    }
    for fd in [read_end, write_end, ready_read, ready_write] {
        close(fd).context("close")?;
    }
    Ok(())
}

/// A process that kills itself dies on its way out of that very call:
/// nothing after `kill` runs. (On the mono-kernel this is the one kill
/// that lands while its target is on the CPU, the case the scheduler's
/// copy of the killed mark must catch.)
fn kill_self() -> TestResult {
    let (read_end, write_end) = pipe().context("pipe")?;
    let child = spawn(|| {
        if let Ok(me) = getpid() {
            let _ = kill(me);
        }
        let _ = write(write_end, b"alive after kill");
        7
    })?;
    close(write_end).context("close")?;
    let status = wait_for(child)?;
    let mut byte = [0u8; 1];
    let after = read(read_end, &mut byte).context("read")?;
    close(read_end).context("close")?;
    ensure!(
        status == KILLED_STATUS,
        "a process that killed itself exited with {}",
        status
    );
    ensure!(after == 0, "a process ran on after killing itself");
    Ok(())
}

/// Nobody may kill init (pid 1): it adopts orphans, and when it ends the
/// machine powers off. Both kernels refuse with `EPERM` (before the check,
/// `kill 1` at the shell switched the machine off).
fn kill_init() -> TestResult {
    expect_errno(kill(1), Errno::EPERM, "kill(1), init")
}

/// xv6's preempt: two processes spin forever; a third can still run and
/// write to a pipe, because the scheduler preempts the spinners.
fn preempt() -> TestResult {
    let first = spawn_spinner()?;
    let second = spawn_spinner()?;
    let (read_end, write_end) = pipe().context("pipe")?;
    let third = spawn(|| {
        let _ = close(read_end);
        let _ = write(write_end, b"x");
        loop {
            core::hint::spin_loop();
        }
    })?;
    close(write_end).context("close")?;
    let mut byte = [0u8; 1];
    let n = read(read_end, &mut byte).context("read from the third child")?;
    close(read_end).context("close")?;
    for pid in [first, second, third] {
        kill(pid).context("kill")?;
    }
    for _ in 0..3 {
        let (_, status) = wait().context("wait")?;
        ensure!(status == KILLED_STATUS, "a spinner exited with {}", status);
    }
    ensure!(n == 1, "the third child's byte never arrived");
    Ok(())
}

/// xv6's exectest: run echo with standard output redirected to a file.
fn exec_echo() -> TestResult {
    let path = "ut-echo-ok";
    let child = spawn(|| {
        let _ = close(Fd::STDOUT);
        match open(path, O_CREATE | O_WRONLY | O_TRUNC) {
            Ok(Fd::STDOUT) => {}
            _ => return 2,
        }
        let error = exec("/bin/echo", &["echo", "OK", "from", "exec"]);
        100 + error as i32
    })?;
    let status = wait_for(child)?;
    ensure!(status == 0, "echo exited with status {}", status);
    let output = read_file(path)?;
    remove(path);
    ensure!(
        output == b"OK from exec\n",
        "echo wrote {:?}",
        alloc::string::String::from_utf8_lossy(&output)
    );
    Ok(())
}

/// The arguments `exec_args` passes, checked by [`exec_probe`] in the new
/// program.
const PROBE_ARGS: [&str; 4] = [
    "a",
    "",
    "hello world",
    "0123456789abcdefghijklmnopqrstuvwxyz",
];

/// Entered when `usertests` is run as `usertests --exec-probe ...`: exits
/// with 0 if the arguments arrived exactly as `exec_args` sent them.
pub fn exec_probe(args: Args) -> i32 {
    let received: Vec<&str> = args.iter().collect();
    if args.get(1) == Some("--exec-probe-big") {
        let expected = big_argv();
        return if received == expected.iter().map(String::as_str).collect::<Vec<_>>() {
            0
        } else {
            1
        };
    }
    let mut expected = alloc::vec!["usertests", "--exec-probe"];
    expected.extend_from_slice(&PROBE_ARGS);
    if received != expected {
        return 1;
    }
    // The stack must be usable and aligned as the ABI promises.
    let marker = 0u128;
    let address = core::hint::black_box(&marker) as *const u128 as usize;
    if address.is_multiple_of(16) { 0 } else { 2 }
}

fn exec_args() -> TestResult {
    let status = in_child(|| {
        let mut argv = alloc::vec!["usertests", "--exec-probe"];
        argv.extend_from_slice(&PROBE_ARGS);
        100 + exec("/bin/usertests", &argv) as i32
    })?;
    ensure!(
        status == 0,
        "the exec'd program saw wrong arguments (status {})",
        status
    );
    Ok(())
}

fn exec_missing() -> TestResult {
    ensure!(
        exec("/ut-no-such-program", &["x"]) == Errno::ENOENT,
        "exec of a missing file"
    );
    ensure!(
        exec("/bin/ut-no-such-program", &["x"]) == Errno::ENOENT,
        "exec of a missing file in /bin"
    );
    Ok(())
}

/// A 64-bit ELF header plus one program header, built by hand.
fn elf_image(entry: u64, vaddr: u64, filesz: u64, memsz: u64, offset: u64) -> Vec<u8> {
    let mut image = Vec::new();
    image.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    image.extend_from_slice(&[0; 8]);
    image.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    image.extend_from_slice(&0x3eu16.to_le_bytes()); // x86-64
    image.extend_from_slice(&1u32.to_le_bytes()); // version
    image.extend_from_slice(&entry.to_le_bytes());
    image.extend_from_slice(&64u64.to_le_bytes()); // program headers follow
    image.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    image.extend_from_slice(&0u32.to_le_bytes()); // flags
    for half in [64u16, 56, 1, 64, 0, 0] {
        image.extend_from_slice(&half.to_le_bytes());
    }
    image.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    image.extend_from_slice(&5u32.to_le_bytes()); // R+X
    for word in [offset, vaddr, vaddr, filesz, memsz, 4096] {
        image.extend_from_slice(&word.to_le_bytes());
    }
    image
}

/// exec of files that are not valid programs fails with ENOEXEC, and the
/// calling program carries on.
fn exec_bad_elf() -> TestResult {
    let path = "ut-badelf";
    let cases: [(&str, Vec<u8>); 6] = [
        (
            "garbage",
            b"#!/bin/sh\necho this is not an ELF file\n".to_vec(),
        ),
        ("empty", Vec::new()),
        (
            "header only",
            elf_image(0x400000, 0, 0, 0, 0)[..40].to_vec(),
        ),
        (
            "segment in kernel memory",
            elf_image(0xffff_ffff_8000_0000, 0xffff_ffff_8000_0000, 120, 120, 0),
        ),
        (
            "file size above memory size",
            elf_image(0x400000, 0x400000, 8192, 4096, 0),
        ),
        (
            "segment beyond end of file",
            elf_image(0x400000, 0x400000, 4096, 4096, 1 << 20),
        ),
    ];
    for (what, bytes) in cases {
        write_file(path, &bytes)?;
        let status = in_child(|| 100 + exec(path, &["badelf"]) as i32)?;
        ensure!(
            status == 100 + Errno::ENOEXEC as i32,
            "exec of a bad ELF ({}): expected ENOEXEC, child status {}",
            what,
            status
        );
    }
    remove(path);
    let status = in_child(|| 100 + exec("/", &["dir"]) as i32)?;
    ensure!(
        [Errno::EACCES, Errno::EISDIR, Errno::ENOEXEC]
            .iter()
            .any(|&e| status == 100 + e as i32),
        "exec of a directory: child status {}",
        status
    );
    Ok(())
}

/// xv6's execout: exec while almost out of memory must either work or fail
/// cleanly.
fn exec_out_of_memory() -> TestResult {
    for pages_left in [0isize, 2, 8] {
        let status = in_child(|| {
            // SAFETY: growing only, until the kernel refuses.
            while unsafe { sbrk(64 * 4096) }.is_ok() {}
            // SAFETY: growing only, until the kernel refuses.
            while unsafe { sbrk(4096) }.is_ok() {}
            // SAFETY: giving back memory nothing refers to.
            let _ = unsafe { sbrk(-(pages_left * 4096)) };
            // Quiet: echo (if it starts) writes to a closed descriptor.
            let _ = close(Fd::STDOUT);
            let _ = close(Fd::STDERR);
            let _ = exec("/bin/echo", &["echo", "x"]);
            0
        })?;
        ensure!(
            status == 0 || status == 1,
            "with {} pages left: exit status {}",
            pages_left,
            status
        );
    }
    Ok(())
}

/// `wait` with a null status pointer collects the child without storing
/// its status.
fn wait_null_status() -> TestResult {
    let child = spawn(|| 3)?;
    // SAFETY: a null status pointer is allowed: nothing is written.
    let pid = unsafe { ulib::sys::wait(core::ptr::null_mut()) }.context("wait(NULL)")?;
    ensure!(
        pid as Pid == child,
        "wait(NULL) returned {}, the child is {}",
        pid,
        child
    );
    expect_errno(
        wait(),
        Errno::ECHILD,
        "wait after wait(NULL) collected the child",
    )
}

/// A program started by exec runs in the caller's current directory and
/// inherits its descriptors: `cat data` run from inside a directory.
fn exec_keeps_cwd() -> TestResult {
    let dir = "ut-execcwd";
    ulib::mkdir(dir).context("mkdir")?;
    let result = (|| {
        write_file("ut-execcwd/data", b"found by a relative path\n")?;
        let status = in_child(|| {
            if ulib::chdir(dir).is_err() {
                return 2;
            }
            let _ = close(Fd::STDOUT);
            match open("out", O_CREATE | O_WRONLY | O_TRUNC) {
                Ok(Fd::STDOUT) => {}
                _ => return 3,
            }
            100 + exec("/bin/cat", &["cat", "data"]) as i32
        })?;
        ensure!(status == 0, "cat exited with status {}", status);
        let output = read_file("ut-execcwd/out")?;
        ensure!(
            output == b"found by a relative path\n",
            "cat wrote {:?}",
            output
        );
        Ok(())
    })();
    remove("ut-execcwd/data");
    remove("ut-execcwd/out");
    remove(dir);
    result
}

/// The largest argument list exec accepts: `MAX_ARGS` arguments, nearly
/// `MAX_ARG_BYTES` bytes in all (xv6's bigargtest).
fn big_argv() -> Vec<String> {
    let mut argv = alloc::vec![String::from("usertests"), String::from("--exec-probe-big")];
    for i in 2..ulib::MAX_ARGS {
        let letter = (b'a' + (i % 26) as u8) as char;
        argv.push(core::iter::repeat_n(letter, 120).collect());
    }
    argv
}

fn exec_big_args() -> TestResult {
    let argv = big_argv();
    let total: usize = argv.iter().map(|a| a.len() + 1).sum();
    ensure!(
        argv.len() == ulib::MAX_ARGS && total <= ulib::MAX_ARG_BYTES,
        "bad test setup"
    );
    let status = in_child(|| {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        100 + exec("/bin/usertests", &words) as i32
    })?;
    ensure!(
        status == 0,
        "{} arguments of {} bytes did not arrive intact (status {})",
        argv.len(),
        total,
        status
    );
    Ok(())
}
