//! What a test is: a name, its points, the kernels it runs on, what it
//! needs first, and a function that drives a booted [`Session`].
//!
//! Tests are plain values built with `const` builder methods, so a suite
//! reads like a table:
//!
//! ```
//! use grading::{Failure, Kernel, Session, Test};
//!
//! fn hello(session: &mut Session) -> Result<(), Failure> {
//!     session.expect_prompt()?;
//!     let output = session.run_command("echo hello")?;
//!     Failure::ensure(output == "hello\n", || format!("echo printed {output:?}"))
//! }
//!
//! let tests = [
//!     Test::new("echo-hello", 2, hello).depends_on("boot"),
//!     Test::new("ipc-echo", 3, hello).only_on(Kernel::Micro),
//! ];
//! assert_eq!(tests[0].instance_name(Kernel::Mono), "echo-hello/mono");
//! ```
//!
//! The runner boots the kernel and waits for its banner before calling the
//! function; it runs each test once per kernel, as `NAME/mono` and
//! `NAME/micro`, and awards `points` for each kernel it passes on.

use crate::failure::Failure;
use crate::patterns::{HOST_COMMAND_TIME_LIMIT, TEST_TIME_LIMIT, USERTEST_TIME_LIMIT};
use crate::qemu::Kernel;
use crate::session::Session;
use std::time::Duration;

/// The body of a test: drives a session that has booted to its banner.
pub type TestFn = fn(&mut Session) -> Result<(), Failure>;

/// What a test does.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    /// Drives a booted session ([`Test::new`]).
    Session(TestFn),
    /// Types `usertests NAME` at the prompt and passes if that test printed
    /// `OK` and the run ended with `ALL TESTS PASSED` (no memory leaked)
    /// ([`Test::usertest`]).
    Usertest(&'static str),
    /// Runs every usertest in one boot and scores each test on its own:
    /// one outcome per test the usertests source defines
    /// ([`crate::usertest_names::usertests`]), plus its leak check
    /// ([`Test::all_usertests`]).
    AllUsertests,
    /// Runs a shell command in the repository root, without QEMU; passes
    /// if it exits with status 0 and, when `expect` is given, its output
    /// matches that regular expression ([`Test::host`]).
    Host {
        /// The command, run by `sh -c`.
        command: &'static str,
        /// A regular expression its output must match.
        expect: Option<&'static str>,
    },
}

/// One test, to be run on each kernel it applies to.
#[derive(Clone, Copy, Debug)]
pub struct Test {
    /// A short name, unique across all suites (`boot`, `pipe-wc`).
    pub name: &'static str,
    /// Points awarded on each kernel it passes on.
    pub points: u32,
    /// The kernels it runs on (both, unless restricted).
    pub kernels: &'static [Kernel],
    /// A test that must pass (on the same kernel) for this one to be run.
    pub depends_on: Option<&'static str>,
    /// The kernel command line to boot with (`-append`).
    pub kernel_cmdline: Option<&'static str>,
    /// The test provokes a kernel crash on purpose, so a panic or exception
    /// banner must not fail it automatically.
    pub expects_crash: bool,
    /// Boot with `-icount shift=0,sleep=off`, so `rdtsc` counts guest
    /// instructions deterministically (benchmarks; see
    /// [`crate::qemu::Machine::icount`]).
    pub icount: bool,
    /// With `icount`: a waiting guest's clock runs with the host's
    /// (`sleep=on`), for benchmarks that wait for the disk.
    pub icount_host_idle: bool,
    /// The longest the whole test may take, boot included.
    pub time_limit: Duration,
    /// A hidden test of a lab: graded by the staff after the due date, not
    /// in a student's `make grade LAB=...` (results.json visibility
    /// `after_due_date`).
    pub hidden: bool,
    /// The test itself.
    pub body: Body,
}

impl Test {
    /// A test worth `points` on each kernel, run on both kernels.
    pub const fn new(name: &'static str, points: u32, run: TestFn) -> Test {
        Test::with_body(name, points, Body::Session(run))
    }

    /// A test of any kind, on both kernels.
    pub const fn with_body(name: &'static str, points: u32, body: Body) -> Test {
        Test {
            name,
            points,
            kernels: &Kernel::ALL,
            depends_on: None,
            kernel_cmdline: None,
            expects_crash: false,
            icount: false,
            icount_host_idle: false,
            time_limit: TEST_TIME_LIMIT,
            hidden: false,
            body,
        }
    }

    /// The usertest `usertest`, run alone (`usertests NAME`), worth
    /// `points` on each kernel.
    pub const fn usertest(name: &'static str, points: u32, usertest: &'static str) -> Test {
        Test::with_body(name, points, Body::Usertest(usertest)).time_limit(USERTEST_TIME_LIMIT)
    }

    /// Every usertest in one boot, each worth `points` on each kernel.
    pub const fn all_usertests(name: &'static str, points: u32) -> Test {
        Test::with_body(name, points, Body::AllUsertests)
    }

    /// A command run on the host in the repository root (once, not per
    /// kernel; its name is `NAME/host`).
    pub const fn host(name: &'static str, points: u32, command: &'static str) -> Test {
        Test::with_body(
            name,
            points,
            Body::Host {
                command,
                expect: None,
            },
        )
        .time_limit(HOST_COMMAND_TIME_LIMIT)
    }

    /// A host command must also print something that matches the regular
    /// expression `text` to pass (so that a `cargo test` filter that
    /// selects no test does not pass).
    pub const fn expecting(mut self, text: &'static str) -> Test {
        if let Body::Host { command, .. } = self.body {
            self.body = Body::Host {
                command,
                expect: Some(text),
            };
        }
        self
    }

    /// Marks the test hidden (see [`Test::hidden`]).
    pub const fn hidden(mut self) -> Test {
        self.hidden = true;
        self
    }

    /// Whether the test runs on the host rather than in QEMU.
    pub const fn on_host(&self) -> bool {
        matches!(self.body, Body::Host { .. })
    }

    /// Runs the test on one kernel only.
    pub const fn only_on(mut self, kernel: Kernel) -> Test {
        self.kernels = match kernel {
            Kernel::Mono => &[Kernel::Mono],
            Kernel::Micro => &[Kernel::Micro],
        };
        self
    }

    /// Runs the test only if the test named `name` passed on the same kernel
    /// (or was not selected to run).
    pub const fn depends_on(mut self, name: &'static str) -> Test {
        self.depends_on = Some(name);
        self
    }

    /// Boots with this kernel command line.
    pub const fn kernel_cmdline(mut self, cmdline: &'static str) -> Test {
        self.kernel_cmdline = Some(cmdline);
        self
    }

    /// Marks the test as crashing the kernel on purpose.
    pub const fn expects_crash(mut self) -> Test {
        self.expects_crash = true;
        self
    }

    /// Boots with `-icount shift=0,sleep=off` (deterministic instruction
    /// counts).
    pub const fn icount(mut self) -> Test {
        self.icount = true;
        self
    }

    /// Boots with `-icount shift=0`: instruction counts while the guest
    /// runs, host time while it waits (for the disk benchmarks).
    pub const fn icount_host_idle(mut self) -> Test {
        self.icount = true;
        self.icount_host_idle = true;
        self
    }

    /// Sets the test's overall time limit.
    pub const fn time_limit(mut self, limit: Duration) -> Test {
        self.time_limit = limit;
        self
    }

    /// Whether the test runs on `kernel`.
    pub fn runs_on(&self, kernel: Kernel) -> bool {
        self.kernels.contains(&kernel)
    }

    /// The name of its run on `kernel`: `boot/mono` (`NAME/host` for a
    /// host command).
    pub fn instance_name(&self, kernel: Kernel) -> String {
        if self.on_host() {
            format!("{}/host", self.name)
        } else {
            format!("{}/{}", self.name, kernel.name())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: &mut Session) -> Result<(), Failure> {
        Ok(())
    }

    #[test]
    fn builder_sets_each_field() {
        let test = Test::new("fault", 3, nothing)
            .only_on(Kernel::Micro)
            .depends_on("boot")
            .kernel_cmdline("fault-test")
            .expects_crash()
            .icount()
            .time_limit(Duration::from_secs(9));
        assert!(test.runs_on(Kernel::Micro) && !test.runs_on(Kernel::Mono));
        assert_eq!(test.depends_on, Some("boot"));
        assert_eq!(test.kernel_cmdline, Some("fault-test"));
        assert!(test.expects_crash && test.icount && !test.icount_host_idle);
        assert!(Test::new("disk", 0, nothing).icount_host_idle().icount);
        assert_eq!(test.time_limit, Duration::from_secs(9));
        assert_eq!(test.instance_name(Kernel::Micro), "fault/micro");
    }

    #[test]
    fn new_tests_run_on_both_kernels() {
        let test = Test::new("boot", 1, nothing);
        assert!(Kernel::ALL.iter().all(|&kernel| test.runs_on(kernel)));
        assert!(!test.expects_crash && !test.icount && test.depends_on.is_none());
        assert!(!test.hidden && !test.on_host());
    }

    #[test]
    fn usertest_host_and_hidden_tests() {
        let test = Test::usertest("getppid", 4, "syscall_getppid").hidden();
        assert!(matches!(test.body, Body::Usertest("syscall_getppid")));
        assert!(test.hidden && test.time_limit == USERTEST_TIME_LIMIT);
        let host = Test::host("proto", 5, "cargo test").expecting("1 passed");
        assert!(host.on_host());
        assert!(matches!(
            host.body,
            Body::Host {
                command: "cargo test",
                expect: Some("1 passed")
            }
        ));
        assert_eq!(host.instance_name(Kernel::Micro), "proto/host");
    }
}
