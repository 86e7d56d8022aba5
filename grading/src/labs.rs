//! The labs' graded tests: one entry per lab in [`all`], the table that
//! `grade --lab NAME` (`make grade LAB=NAME`), `grade batch` and `grade
//! self-check` read. The format of a lab, its markers and how to add one
//! are in `labs/README.md`.
//!
//! A lab's tests are ordinary [`Test`]s of any kind: a usertest run alone
//! ([`Test::usertest`]), a function that drives a booted session
//! ([`Test::new`], the functions in `labs/NAME.rs`), or a host command
//! ([`Test::host`]). Points are per kernel; a test runs on the lab's
//! kernels unless it says otherwise; [`Test::hidden`] tests are run only
//! when asked for (`--hidden`: the staff's batch grading and the
//! self-check).

use crate::qemu::Kernel;
use crate::suites::Suite;
use crate::test::Test;

pub mod driver;
pub mod util;
// Labs cow, mmap and ipc.
pub mod cow;
pub mod ipc;

/// Every lab name a `LAB` marker may use, in the order of the semester
/// (`labs/README.md`'s table), the planned ones included.
pub const LAB_NAMES: [&str; 9] = [
    "tour", "util", "syscall", "pipe", "cow", "mmap", "ipc", "driver", "fs",
];

/// One lab.
#[derive(Clone, Debug)]
pub struct Lab {
    /// Its name: the folder `labs/NAME/`, the `LAB NAME` markers, `make
    /// grade LAB=NAME`.
    pub name: &'static str,
    /// A line saying what it is.
    pub title: &'static str,
    /// The kernels its tests run on.
    pub kernels: &'static [Kernel],
    /// Its graded tests.
    pub tests: Vec<Test>,
}

impl Lab {
    /// The lab's tests as a suite named after the lab, each restricted to
    /// the lab's kernels; hidden tests only if `hidden`.
    pub fn suite(&self, hidden: bool) -> Suite {
        let tests = self
            .tests
            .iter()
            .filter(|test| hidden || !test.hidden)
            .map(|test| {
                let mut test = *test;
                if self.kernels.len() == 1 {
                    test = test.only_on(self.kernels[0]);
                }
                test
            })
            .collect();
        Suite {
            name: self.name,
            tests,
            on_request: false,
        }
    }

    /// The most points the lab's tests give, counted on each kernel they
    /// run on (a host test once), hidden tests included.
    pub fn max_points(&self) -> u32 {
        self.suite(true)
            .tests
            .iter()
            .map(|test| {
                let kernels = if test.on_host() {
                    1
                } else {
                    Kernel::ALL.iter().filter(|&&k| test.runs_on(k)).count() as u32
                };
                test.points * kernels
            })
            .sum()
    }
}

/// One of the fs lab's host tests: the test function `test` of
/// `common/tests/ext2_symlinks.rs` alone, graded as `name`.
macro_rules! ext2_symlinks_test {
    ($name:literal, $points:literal, $test:literal) => {
        Test::host(
            $name,
            $points,
            concat!(
                "cargo test --release --quiet -p common --test ext2_symlinks ",
                $test,
                " -- --exact"
            ),
        )
        .expecting(r"test result: ok\. 1 passed")
    };
}

/// Every lab with graded tests.
pub fn all() -> Vec<Lab> {
    vec![
        Lab {
            name: "util",
            title: "user programs: pingpong, primes, find, xargs",
            kernels: &Kernel::ALL,
            tests: util::tests(),
        },
        Lab {
            name: "syscall",
            title: "system calls getppid and sysinfo on both kernels",
            kernels: &Kernel::ALL,
            tests: vec![
                Test::usertest("getppid", 4, "syscall_getppid"),
                Test::usertest("getppid-orphan", 4, "syscall_getppid_orphan"),
                Test::usertest("sysinfo", 5, "syscall_sysinfo"),
                Test::usertest("sysinfo-bad-pointer", 2, "syscall_sysinfo_bad_pointer").hidden(),
                Test::host(
                    "proc-protocol",
                    10,
                    "cargo test --release --quiet -p common --lib abi::proto::proc::tests::lab_syscall",
                )
                .expecting(r"test result: ok\. [1-9][0-9]* passed"),
            ],
        },
        Lab {
            name: "cow",
            title: "copy-on-write fork: the mono-kernel's page faults, the micro-kernel's pager",
            kernels: &Kernel::ALL,
            tests: cow::tests(),
        },
        Lab {
            name: "mmap",
            title: "mmap and munmap of files and anonymous memory on both kernels",
            kernels: &Kernel::ALL,
            tests: vec![
                Test::usertest("mmap-anonymous", 3, "mmap_anonymous"),
                Test::usertest("mmap-lazy", 4, "mmap_lazy"),
                Test::usertest("mmap-file", 4, "mmap_file"),
                Test::usertest("mmap-private-writes", 3, "mmap_private_writes"),
                Test::usertest("mmap-beyond-eof", 3, "mmap_beyond_eof"),
                Test::usertest("mmap-unlinked-file", 2, "mmap_unlinked_file").hidden(),
                Test::usertest("mmap-syscall-buffers", 4, "mmap_syscall_buffers"),
                Test::usertest("mmap-munmap-kills", 3, "mmap_munmap_kills"),
                Test::usertest("mmap-protection", 3, "mmap_protection"),
                Test::usertest("mmap-bad-args", 2, "mmap_bad_args"),
                Test::usertest("mmap-fork", 3, "mmap_fork"),
                Test::usertest("mmap-exit-frees", 3, "mmap_exit_frees"),
                Test::usertest("mmap-many", 3, "mmap_many"),
            ],
        },
        Lab {
            name: "ipc",
            title: "the micro-kernel's IPC fast path, checked and measured",
            kernels: &[Kernel::Micro],
            tests: ipc::tests(),
        },
        Lab {
            name: "pipe",
            title: "non-blocking pipes (pipe2, O_NONBLOCK) in the shared pipe, on both kernels",
            kernels: &Kernel::ALL,
            tests: vec![
                Test::usertest("nonblock-read", 4, "pipe_nonblock_read"),
                Test::usertest("nonblock-write", 5, "pipe_nonblock_write"),
                Test::usertest("nonblock-flags", 3, "pipe_nonblock_flags"),
                Test::usertest("nonblock-shared", 3, "pipe_nonblock_shared").hidden(),
                Test::host(
                    "pipe-mode",
                    5,
                    "cargo test --release --quiet -p common --lib pipe::mode::tests::lab_pipe",
                )
                .expecting(r"test result: ok\. [1-9][0-9]* passed"),
                Test::host(
                    "vfs-nonblock",
                    5,
                    "cd micro-kernel/user && cargo test --release --quiet -p vfs --lib \
                     --target x86_64-unknown-linux-gnu pipes::tests::lab_pipe",
                )
                .expecting(r"test result: ok\. [1-9][0-9]* passed"),
            ],
        },
        Lab {
            name: "fs",
            title: "symbolic links in the shared ext2 code, on both kernels",
            kernels: &Kernel::ALL,
            tests: vec![
                Test::usertest("symlink-files", 4, "symlink_files"),
                Test::usertest("symlink-dirs", 4, "symlink_dirs"),
                Test::usertest("symlink-errors", 3, "symlink_errors"),
                Test::usertest("symlink-exec", 2, "symlink_exec").hidden(),
                // The shared ext2 code on the host, one graded test each
                // (partial credit: one mistake costs its own points).
                ext2_symlinks_test!("ext2-fast-symlink", 3, "lab_fs_a_fast_symlink_reads_back_with_debugfs"),
                ext2_symlinks_test!("ext2-slow-symlink", 3, "lab_fs_a_slow_symlink_reads_back_with_debugfs"),
                ext2_symlinks_test!("ext2-follow-and-unlink", 2, "lab_fs_links_are_followed_and_unlinked"),
                ext2_symlinks_test!("ext2-loops", 2, "lab_fs_loops_end_in_eloop"),
                ext2_symlinks_test!("ext2-links-made-by-the-tools", 2, "lab_fs_links_made_by_the_tools_are_followed"),
                ext2_symlinks_test!("ext2-empty-target", 2, "lab_fs_an_empty_target_on_the_disk_names_nothing"),
            ],
        },
        Lab {
            name: "driver",
            title: "the CMOS real-time clock, one driver in the mono-kernel and as a server",
            kernels: &Kernel::ALL,
            tests: vec![
                Test::new("date", 6, driver::date).rtc_base(driver::BASE),
                Test::usertest("time", 3, "driver_time"),
                Test::usertest("time-ticks", 3, "driver_time_ticks"),
                Test::usertest("rtc-bad-requests", 2, "driver_rtc_bad_requests")
                    .only_on(Kernel::Micro),
                Test::host(
                    "rtc-driver",
                    12,
                    "cargo test --release --quiet -p common --lib drivers::rtc",
                )
                .expecting(r"test result: ok\. [1-9][0-9]* passed"),
                Test::new("date-1999", 3, driver::date_1999)
                    .rtc_base(driver::HIDDEN_BASE)
                    .hidden(),
                Test::host(
                    "rtc-driver-hidden",
                    6,
                    "cargo test --release --quiet -p grading --test lab_driver",
                )
                .expecting(r"test result: ok\. [1-9][0-9]* passed")
                .hidden(),
            ],
        },
    ]
}

/// The lab named `name`.
pub fn find(name: &str) -> Option<Lab> {
    all().into_iter().find(|lab| lab.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites;
    use std::collections::HashSet;

    #[test]
    fn labs_are_named_in_lab_names_and_test_names_are_unique() {
        let mut names: HashSet<&str> = suites::all()
            .iter()
            .flat_map(|suite| suite.tests.iter().map(|test| test.name))
            .collect();
        for lab in all() {
            assert!(
                LAB_NAMES.contains(&lab.name),
                "{} is not in LAB_NAMES",
                lab.name
            );
            assert!(!lab.tests.is_empty(), "lab {} has no tests", lab.name);
            for test in &lab.tests {
                assert!(names.insert(test.name), "two tests are named {}", test.name);
                assert!(test.depends_on.is_none(), "a lab test depends on nothing");
            }
        }
    }

    #[test]
    fn the_readme_table_gives_each_lab_its_points() {
        let readme = include_str!("../../labs/README.md");
        for lab in all() {
            let row = readme
                .lines()
                .find(|line| line.contains(&format!("[`{}`]", lab.name)))
                .unwrap_or_else(|| panic!("labs/README.md has no row for {}", lab.name));
            let points = row
                .trim_end_matches('|')
                .rsplit('|')
                .next()
                .unwrap_or("")
                .trim();
            assert_eq!(
                points,
                lab.max_points().to_string(),
                "labs/README.md gives lab {} {points} points; its tests give {}",
                lab.name,
                lab.max_points()
            );
        }
    }

    #[test]
    fn hidden_tests_are_left_out_unless_asked_for() {
        let syscall = find("syscall").unwrap();
        assert!(syscall.suite(true).tests.iter().any(|test| test.hidden));
        assert!(syscall.suite(false).tests.iter().all(|test| !test.hidden));
        assert_eq!(syscall.max_points(), 40);
        assert!(find("nonesuch").is_none());
    }
}
