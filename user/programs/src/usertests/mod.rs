//! usertests: the system-call test suite, in the spirit of xv6's usertests.
//!
//! Every test is a function returning [`TestResult`]. The runner
//! (`src/bin/usertests.rs`) forks a child per test, so a test that crashes
//! fails alone; tests that *expect* a crash (touching kernel memory, say)
//! fork again and check that the grandchild was killed.
//!
//! | module      | what is tested                                          |
//! |-------------|---------------------------------------------------------|
//! | [`memory`]  | sbrk, bad pointers (copyin/copyout), protection, out of memory |
//! | [`cow`]     | copy-on-write fork: private writes, free memory, system calls into shared pages |
//! | [`mmap`]    | mmap and munmap: anonymous and file mappings, laziness, errors, fork and exit |
//! | [`args`]    | bad arguments: descriptors, flags, pids, exec argument lists |
//! | [`process`] | fork, exit, wait, reparenting, zombies, kill, preemption, exec |
//! | [`pipes`]   | pipes between processes, large transfers, end of file, errors |
//! | [`files`]   | reading and writing files, shared offsets, big files, unlink |
//! | [`dirs`]    | directories, links, long names, rename, concurrent creation |
//! | [`disk`]    | filling the disk and the inode table, then cleaning up  |
//! | [`isolation`] | one program may not hurt another: kernel resources (threads) on the micro-kernel, what a server does with a stranger's message |
//! | [`syscall`] | lab `syscall`: `getppid` and `sysinfo`                  |
//! | [`nonblock`] | lab `pipe`: non-blocking pipes, `pipe2(O_NONBLOCK)`     |
//! | [`symlinks`] | lab `fs`: symbolic links, `symlink` and `readlink`      |
//!
//! Helpers shared by the tests are in [`util`]. Test files are created in the
//! current directory with names starting `ut-`, and every test removes what
//! it created.

pub mod args;
pub mod cow;
pub mod dirs;
pub mod disk;
pub mod files;
pub mod isolation;
pub mod memory;
pub mod mmap;
pub mod nonblock;
pub mod pipes;
pub mod process;
pub mod symlinks;
pub mod syscall;
pub mod util;

use alloc::string::String;

/// What a test returns: `Err` carries the reason it failed.
pub type TestResult = Result<(), String>;

/// One test.
pub struct Test {
    /// The name printed in `test NAME: OK`, and used by `usertests NAME`.
    pub name: &'static str,
    /// The test itself; runs in a child process of the runner.
    pub run: fn() -> TestResult,
    /// Slow tests (filling the disk, ...) are skipped by `usertests -q`.
    pub slow: bool,
    /// A check of a fix that is not in yet (it fails until then): run only
    /// when named, `usertests NAME`.
    pub pending: bool,
}

impl Test {
    /// A test that runs in every run.
    pub const fn quick(name: &'static str, run: fn() -> TestResult) -> Test {
        Test {
            name,
            run,
            slow: false,
            pending: false,
        }
    }

    /// A slow test: skipped by `usertests -q`.
    pub const fn slow(name: &'static str, run: fn() -> TestResult) -> Test {
        Test {
            name,
            run,
            slow: true,
            pending: false,
        }
    }

    /// A test of a fix not made yet: it runs only when named. (No test is
    /// pending now; a known bug's test starts here until its fix is in.)
    #[allow(dead_code)]
    pub const fn pending(name: &'static str, run: fn() -> TestResult) -> Test {
        Test {
            name,
            run,
            slow: false,
            pending: true,
        }
    }
}

/// Every group of tests, in the order they run. A lab's tests are a group
/// of their own (`syscall`), named `LAB_...`.
pub const GROUPS: &[&[Test]] = &[
    memory::TESTS,
    cow::TESTS,
    mmap::TESTS,
    args::TESTS,
    process::TESTS,
    pipes::TESTS,
    files::TESTS,
    dirs::TESTS,
    isolation::TESTS,
    syscall::TESTS,
    nonblock::TESTS,
    symlinks::TESTS,
    disk::TESTS,
];

/// Every test, in order.
pub fn all_tests() -> impl Iterator<Item = &'static Test> {
    GROUPS.iter().flat_map(|group| group.iter())
}
