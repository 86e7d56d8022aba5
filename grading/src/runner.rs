//! Running tests: choosing which to run, booting a fresh machine for each,
//! running several at once, honouring dependencies, and saving the serial
//! log of every failure.
//!
//! A [`TestCase`] is one test on one kernel (`boot/mono`). The [`Runner`]
//! hands cases to `jobs` worker threads. A case whose dependency (the test it
//! `depends_on`, on the same kernel) has not finished waits; if the
//! dependency failed, the case is not run and fails with
//! [`Failure::DependencyFailed`]. Cases are independent otherwise: each
//! boots its own QEMU with its own copy of the disk.

use crate::failure::Failure;
use crate::qemu::{Kernel, Machine};
use crate::session::Session;
use crate::suites::Suite;
use crate::test::{Body, Test};
use crate::usertest_names;
use crate::{host, suites::usertests};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// One test on one kernel.
#[derive(Clone, Copy, Debug)]
pub struct TestCase {
    /// The suite the test belongs to.
    pub suite: &'static str,
    /// The test.
    pub test: Test,
    /// The kernel it runs on.
    pub kernel: Kernel,
}

impl TestCase {
    /// `boot/mono`.
    pub fn name(&self) -> String {
        self.test.instance_name(self.kernel)
    }
}

/// Which cases to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these kernels (all if empty).
    pub kernels: Vec<Kernel>,
    /// Only the suite with this name.
    pub suite: Option<String>,
    /// Only cases whose name (`boot/mono`) contains this text.
    pub name_contains: Option<String>,
}

impl Selection {
    /// The selected cases, suite by suite, each test on mono then micro.
    /// A suite marked `on_request` is selected only by name.
    pub fn cases(&self, suites: &[Suite]) -> Vec<TestCase> {
        let mut cases = Vec::new();
        for suite in suites {
            let wanted = match self.suite.as_deref() {
                Some(name) => name == suite.name,
                None => !suite.on_request,
            };
            if !wanted {
                continue;
            }
            for test in &suite.tests {
                let mut host_case_made = false;
                for kernel in Kernel::ALL {
                    let case = TestCase {
                        suite: suite.name,
                        test: *test,
                        kernel,
                    };
                    let kernel_wanted = self.kernels.is_empty() || self.kernels.contains(&kernel);
                    let name_wanted = self
                        .name_contains
                        .as_deref()
                        .is_none_or(|text| case.name().contains(text));
                    if test.runs_on(kernel) && kernel_wanted && name_wanted {
                        // A host command runs once, whatever the kernels.
                        if test.on_host() && std::mem::replace(&mut host_case_made, true) {
                            continue;
                        }
                        cases.push(case);
                    }
                }
            }
        }
        cases
    }
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The case's name, `boot/mono`.
    pub name: String,
    /// The case's suite.
    pub suite: &'static str,
    /// Points it was worth.
    pub max_points: u32,
    /// Points earned: all or nothing.
    pub points: u32,
    /// Passed, or why not.
    pub result: Result<(), Failure>,
    /// How long it took, boot included.
    pub duration: Duration,
    /// Where the serial log of a failed run was saved.
    pub log: Option<PathBuf>,
    /// A hidden test (Gradescope visibility `after_due_date`).
    pub hidden: bool,
}

impl Outcome {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }

    fn new(
        case: &TestCase,
        result: Result<(), Failure>,
        duration: Duration,
        log: Option<PathBuf>,
    ) -> Outcome {
        Outcome::named(case.name(), case, case.test.points, result, duration, log)
    }

    /// An outcome of `case` under another name (one usertest of a run of
    /// them all) and worth `max_points`.
    pub fn named(
        name: String,
        case: &TestCase,
        max_points: u32,
        result: Result<(), Failure>,
        duration: Duration,
        log: Option<PathBuf>,
    ) -> Outcome {
        Outcome {
            name,
            suite: case.suite,
            max_points,
            points: if result.is_ok() { max_points } else { 0 },
            result,
            duration,
            log,
            hidden: case.test.hidden,
        }
    }
}

/// Runs cases on a set of machines.
#[derive(Clone, Debug)]
pub struct Runner {
    /// The machine to boot for each kernel (the test may add a command line).
    pub machines: Vec<Machine>,
    /// How many cases run at once.
    pub jobs: usize,
    /// Where failed cases' serial logs go (`build/grade-logs`).
    pub log_dir: PathBuf,
    /// Where host commands run: the repository root.
    pub workdir: PathBuf,
}

/// Where each case stands, shared by the worker threads.
#[derive(Debug)]
enum Slot {
    Waiting,
    Running,
    Finished { passed: bool },
}

/// What a worker should do next.
enum Next {
    Run(usize),
    Skip { case: usize, failure: Failure },
    Wait,
    AllDone,
}

impl Runner {
    /// Runs `cases`, `jobs` at a time, calling `on_done` as each finishes,
    /// and returns the outcomes in the order of `cases`.
    pub fn run(&self, cases: &[TestCase], on_done: &(dyn Fn(&Outcome) + Sync)) -> Vec<Outcome> {
        let dependencies = dependency_indexes(cases);
        let slots = Mutex::new((0..cases.len()).map(|_| Slot::Waiting).collect::<Vec<_>>());
        let outcomes: Mutex<Vec<Vec<Outcome>>> = Mutex::new(vec![Vec::new(); cases.len()]);
        let changed = Condvar::new();
        let worker = || {
            let mut board = slots.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                match next_job(&board, &dependencies, cases) {
                    Next::AllDone => return,
                    Next::Wait => {
                        board = changed.wait(board).unwrap_or_else(PoisonError::into_inner)
                    }
                    Next::Skip { case, failure } => {
                        let outcome =
                            Outcome::new(&cases[case], Err(failure), Duration::ZERO, None);
                        on_done(&outcome);
                        board[case] = Slot::Finished { passed: false };
                        outcomes.lock().unwrap_or_else(PoisonError::into_inner)[case] =
                            vec![outcome];
                        changed.notify_all();
                    }
                    Next::Run(case) => {
                        board[case] = Slot::Running;
                        drop(board);
                        let results = self.run_case(&cases[case]);
                        results.iter().for_each(on_done);
                        let passed = results.iter().all(Outcome::passed);
                        outcomes.lock().unwrap_or_else(PoisonError::into_inner)[case] = results;
                        board = slots.lock().unwrap_or_else(PoisonError::into_inner);
                        board[case] = Slot::Finished { passed };
                        changed.notify_all();
                    }
                }
            }
        };
        thread::scope(|scope| {
            for _ in 0..self.jobs.max(1) {
                scope.spawn(worker);
            }
        });
        outcomes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .into_iter()
            .flatten()
            .collect()
    }

    /// Runs one case: its outcome, or (a run of every usertest) one
    /// outcome per usertest.
    pub fn run_case(&self, case: &TestCase) -> Vec<Outcome> {
        match case.test.body {
            Body::Host { command, expect } => vec![self.run_host(case, command, expect)],
            Body::AllUsertests => self.run_all_usertests(case),
            Body::Session(_) | Body::Usertest(_) => vec![self.run_one(case)],
        }
    }

    /// Runs a case that drives a session: boots a fresh machine, waits for
    /// the banner, runs the test, and saves the serial log if it failed.
    pub fn run_one(&self, case: &TestCase) -> Outcome {
        let started = Instant::now();
        let (result, log) = self.boot_and_run(case, started, &mut |session| match case.test.body {
            Body::Session(run) => run(session),
            Body::Usertest(name) => usertests::run_one(session, name),
            Body::AllUsertests | Body::Host { .. } => Err(Failure::Setup(format!(
                "{} is not a session test",
                case.name()
            ))),
        });
        Outcome::new(case, result, started.elapsed(), log)
    }

    /// Runs every usertest in one boot: one outcome per usertest (named
    /// `TEST/USERTEST/KERNEL`, worth the test's points), and one for the
    /// run itself (`TEST/KERNEL`, worth nothing: it fails if the kernel
    /// crashed or the disk was left damaged).
    fn run_all_usertests(&self, case: &TestCase) -> Vec<Outcome> {
        let started = Instant::now();
        let mut lines = Vec::new();
        let (result, log) = self.boot_and_run(case, started, &mut |session| {
            usertests::run_all(session, &mut lines)
        });
        let duration = started.elapsed();
        let mut outcomes: Vec<Outcome> = usertest_names::usertests()
            .into_iter()
            .map(|name| {
                let part = match lines.iter().find(|(line_name, _)| line_name == name) {
                    Some((_, verdict)) => verdict.clone().map_err(Failure::check),
                    None => Err(Failure::check(match &result {
                        Err(failure) => format!("not run: the usertests run stopped: {failure}"),
                        Ok(()) => "usertests printed no line for it".to_string(),
                    })),
                };
                let part_log = if part.is_err() { log.clone() } else { None };
                let full_name = format!("{}/{name}/{}", case.test.name, case.kernel.name());
                Outcome::named(full_name, case, case.test.points, part, duration, part_log)
            })
            .collect();
        outcomes.push(Outcome::named(case.name(), case, 0, result, duration, log));
        outcomes
    }

    /// Boots `case`'s machine, runs `body` on the session, saves the log of
    /// a failure: the result and where the log went.
    fn boot_and_run(
        &self,
        case: &TestCase,
        started: Instant,
        body: &mut dyn FnMut(&mut Session) -> Result<(), Failure>,
    ) -> (Result<(), Failure>, Option<PathBuf>) {
        let Some(base) = self
            .machines
            .iter()
            .find(|machine| machine.kernel == case.kernel)
        else {
            let failure = Failure::Setup(format!("no {} kernel was configured", case.kernel));
            return (Err(failure), None);
        };
        if let Some(missing) = base.missing_input() {
            return (Err(Failure::Setup(missing)), None);
        }
        let mut machine = base.clone();
        if let Some(cmdline) = case.test.kernel_cmdline {
            machine.kernel_cmdline = Some(cmdline.to_string());
        }
        if let Some(base) = case.test.rtc_base {
            machine.rtc_base = Some(base.to_string());
        }
        machine.icount |= case.test.icount;
        machine.icount_host_idle |= case.test.icount_host_idle;
        if machine.echo_serial {
            // The serial output follows on the terminal: say whose it is.
            println!("==== {} ====", case.name());
        }
        let mut session = match Session::start(&machine) {
            Ok(session) => session,
            Err(failure) => return (Err(failure), None),
        };
        let time_limit = crate::qemu::scale_timeout(case.test.time_limit, machine.timeout_scale);
        session.set_deadline(started.checked_add(time_limit));
        session.watch_for_crashes(!case.test.expects_crash);
        let result = session
            .expect_boot_banner()
            .and_then(|_| body(&mut session))
            .map_err(|failure| with_tail(failure, &session.serial_log()));
        let path = self.log_dir.join(log_file_name(case));
        let log = match &result {
            Ok(()) => {
                // A log left by an earlier failed run would mislead.
                let _ = std::fs::remove_file(&path);
                None
            }
            Err(failure) => {
                // Stop QEMU first so the log has everything it printed.
                session.kill();
                match session.save_log(&path, &case.name(), failure) {
                    Ok(()) => Some(path),
                    Err(error) => {
                        eprintln!(
                            "grade: cannot save the log of {} to {}: {error}",
                            case.name(),
                            path.display()
                        );
                        None
                    }
                }
            }
        };
        (result, log)
    }

    /// Runs a host command in the work directory: passes if it exits with
    /// status 0 (and prints the expected text). Its output goes to
    /// `log_dir/NAME-host.log` if it fails.
    fn run_host(&self, case: &TestCase, command: &str, expect: Option<&str>) -> Outcome {
        let started = Instant::now();
        let limit = self
            .machines
            .first()
            .map(|machine| crate::qemu::scale_timeout(case.test.time_limit, machine.timeout_scale))
            .unwrap_or(case.test.time_limit);
        let result = host::run(command, &self.workdir, limit).and_then(|output| match expect {
            Some(text) => match regex::Regex::new(text) {
                Ok(pattern) if pattern.is_match(&output) => Ok(output),
                Ok(_) => Err(Failure::check(format!(
                    "`{command}` printed nothing matching /{text}/\n{}",
                    host::last_lines(&output, 20)
                ))),
                Err(error) => Err(Failure::BadPattern(format!("{text}: {error}"))),
            },
            None => Ok(output),
        });
        let (result, log) = match result {
            Ok(_) => {
                let _ = std::fs::remove_file(self.log_dir.join(log_file_name(case)));
                (Ok(()), None)
            }
            Err(failure) => {
                let path = self.log_dir.join(log_file_name(case));
                let saved = std::fs::create_dir_all(&self.log_dir)
                    .and_then(|()| std::fs::write(&path, failure.to_string()));
                (Err(failure), saved.ok().map(|()| path))
            }
        };
        Outcome::new(case, result, started.elapsed(), log)
    }
}

/// A failure that says only what was wrong (a check, unexpected output)
/// gets the end of the serial output too, as timeouts and crashes already
/// have.
fn with_tail(failure: Failure, output: &str) -> Failure {
    match failure {
        Failure::Check(message) => {
            let tail = crate::failure::last_lines(output, TAIL_LINES);
            let quoted: Vec<String> = tail.lines().map(|line| format!("  | {line}")).collect();
            Failure::Check(format!(
                "{message}\n  last {TAIL_LINES} lines of serial output:\n{}",
                quoted.join("\n")
            ))
        }
        other => other,
    }
}

/// Lines of serial output a failed check quotes.
const TAIL_LINES: usize = 10;

/// The log file of a failed case: `boot-mono.log`. Characters that do not
/// belong in a file name become `_`.
pub fn log_file_name(case: &TestCase) -> String {
    let name: String = case
        .test
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if case.test.on_host() {
        format!("{name}-host.log")
    } else {
        format!("{name}-{}.log", case.kernel.name())
    }
}

/// For each case, the index of the case it depends on (same kernel), if
/// that case is among `cases`. A dependency that was not selected is ignored.
fn dependency_indexes(cases: &[TestCase]) -> Vec<Option<usize>> {
    cases
        .iter()
        .map(|case| {
            let wanted = case.test.depends_on?;
            cases
                .iter()
                .position(|other| other.test.name == wanted && other.kernel == case.kernel)
        })
        .collect()
}

/// Chooses the next job: the first waiting case whose dependency has
/// finished.
fn next_job(slots: &[Slot], dependencies: &[Option<usize>], cases: &[TestCase]) -> Next {
    let mut any_waiting = false;
    for (case, slot) in slots.iter().enumerate() {
        if !matches!(slot, Slot::Waiting) {
            continue;
        }
        any_waiting = true;
        match dependencies[case].map(|dependency| (dependency, &slots[dependency])) {
            None | Some((_, Slot::Finished { passed: true })) => return Next::Run(case),
            Some((dependency, Slot::Finished { passed: false })) => {
                let dependency = cases[dependency].name();
                return Next::Skip {
                    case,
                    failure: Failure::DependencyFailed { dependency },
                };
            }
            Some(_) => {}
        }
    }
    let any_running = slots.iter().any(|slot| matches!(slot, Slot::Running));
    match (any_waiting, any_running) {
        (false, _) => Next::AllDone,
        (true, true) => Next::Wait,
        // Everything left waits on something that waits: a cycle.
        (true, false) => {
            let case = slots
                .iter()
                .position(|slot| matches!(slot, Slot::Waiting))
                .unwrap_or(0);
            Next::Skip {
                case,
                failure: Failure::Setup(format!(
                    "{} is part of a dependency cycle",
                    cases[case].name()
                )),
            }
        }
    }
}

/// The directory for logs under the repository root.
pub fn default_log_dir(root: &Path) -> PathBuf {
    root.join("build/grade-logs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::GUEST_EXIT_SUCCESS;
    use crate::qemu::ExitStatus;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pass(session: &mut Session) -> Result<(), Failure> {
        session.expect_exit(
            ExitStatus::GuestExit(GUEST_EXIT_SUCCESS),
            Duration::from_secs(20),
        )
    }

    fn fail(session: &mut Session) -> Result<(), Failure> {
        session
            .expect("this text never comes", Duration::from_secs(20))
            .map(|_| ())
    }

    /// Fake kernels that print their banner, a line, and power off.
    fn fake_runner(log_dir: PathBuf) -> Runner {
        let machines = Kernel::ALL
            .iter()
            .map(|&kernel| {
                Machine::fake(
                    kernel,
                    &format!("printf '{}\\nbye\\n'; exit 33", kernel.banner()),
                )
            })
            .collect();
        Runner {
            machines,
            jobs: 2,
            log_dir,
            workdir: std::env::temp_dir(),
        }
    }

    fn suites() -> Vec<Suite> {
        vec![Suite {
            name: "demo",
            tests: vec![
                Test::new("first", 2, pass),
                Test::new("broken", 3, fail),
                Test::new("after-broken", 1, pass).depends_on("broken"),
                Test::new("after-first", 1, pass)
                    .depends_on("first")
                    .only_on(Kernel::Micro),
            ],
            on_request: false,
        }]
    }

    #[test]
    fn selection_filters_by_kernel_suite_and_name() {
        let suites = suites();
        let all = Selection::default().cases(&suites);
        let names: Vec<String> = all.iter().map(TestCase::name).collect();
        assert_eq!(
            names,
            [
                "first/mono",
                "first/micro",
                "broken/mono",
                "broken/micro",
                "after-broken/mono",
                "after-broken/micro",
                "after-first/micro"
            ]
        );
        let micro_first = Selection {
            kernels: vec![Kernel::Micro],
            name_contains: Some("first".into()),
            ..Selection::default()
        };
        assert_eq!(micro_first.cases(&suites).len(), 2);
        let other_suite = Selection {
            suite: Some("shell".into()),
            ..Selection::default()
        };
        assert!(other_suite.cases(&suites).is_empty());
    }

    #[test]
    fn suites_on_request_run_only_when_named() {
        let mut suites = suites();
        suites.push(Suite {
            name: "measure",
            tests: vec![Test::new("long", 0, pass)],
            on_request: true,
        });
        let everything = Selection::default().cases(&suites);
        assert!(everything.iter().all(|case| case.suite == "demo"));
        let named = Selection {
            suite: Some("measure".into()),
            ..Selection::default()
        };
        let names: Vec<String> = named.cases(&suites).iter().map(TestCase::name).collect();
        assert_eq!(names, ["long/mono", "long/micro"]);
    }

    #[test]
    fn runs_in_parallel_with_dependencies_and_saves_failure_logs() {
        let log_dir = std::env::temp_dir().join(format!("grading-runner-{}", std::process::id()));
        let runner = fake_runner(log_dir.clone());
        let cases = Selection::default().cases(&suites());
        let reported = AtomicUsize::new(0);
        let outcomes = runner.run(&cases, &|_| {
            reported.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(reported.load(Ordering::Relaxed), cases.len());

        let by_name = |name: &str| {
            outcomes
                .iter()
                .find(|outcome| outcome.name == name)
                .unwrap()
        };
        assert!(by_name("first/mono").passed());
        assert_eq!(by_name("first/micro").points, 2);
        assert!(by_name("after-first/micro").passed());

        let broken = by_name("broken/mono");
        assert_eq!(broken.points, 0);
        assert!(matches!(broken.result, Err(Failure::EmulatorExited { .. })));
        let log = std::fs::read_to_string(broken.log.as_ref().unwrap()).unwrap();
        assert!(log.starts_with("Diptych mono-kernel\nbye\n"), "{log}");
        assert_eq!(
            broken.log.as_ref().unwrap(),
            &log_dir.join("broken-mono.log")
        );

        assert_eq!(
            by_name("after-broken/micro").result,
            Err(Failure::DependencyFailed {
                dependency: "broken/micro".into()
            })
        );
        std::fs::remove_dir_all(&log_dir).unwrap();
    }

    #[test]
    fn missing_kernel_and_wrong_banner_fail() {
        let mut runner = fake_runner(
            std::env::temp_dir().join(format!("grading-runner2-{}", std::process::id())),
        );
        runner.machines[1] =
            Machine::fake(Kernel::Micro, "printf 'Diptych mono-kernel\\n'; exit 33");
        let cases = Selection::default().cases(&[Suite {
            name: "s",
            tests: vec![Test::new("t", 1, pass)],
            on_request: false,
        }]);
        let outcomes = runner.run(&cases, &|_| {});
        assert!(outcomes[0].passed());
        assert!(matches!(
            outcomes[1].result,
            Err(Failure::NoBootBanner { .. })
        ));
        runner.machines.truncate(1);
        assert!(matches!(
            runner.run_one(&cases[1]).result,
            Err(Failure::Setup(_))
        ));
        let _ = std::fs::remove_dir_all(&runner.log_dir);
    }

    /// A fake kernel that answers `usertests ...` with `output`.
    fn usertests_runner(output: &str) -> Runner {
        // Inside the script's single quotes, a quote is '\''.
        let output = output.replace('\'', "'\\''");
        let script = format!(
            "printf 'Diptych mono-kernel\\n$ '; read line; printf '{output}\\n$ '; read line"
        );
        Runner {
            machines: vec![Machine::fake(Kernel::Mono, &script)],
            jobs: 1,
            log_dir: std::env::temp_dir().join(format!("grading-ut-{}", std::process::id())),
            workdir: std::env::temp_dir(),
        }
    }

    #[test]
    fn a_usertests_run_is_scored_test_by_test() {
        let runner = usertests_runner(
            "usertests starting\\ntest sbrk_grow: OK\\ntest exit_wait: FAILED (status 3)\\n\\
             1 of 2 tests failed: SOME TESTS FAILED",
        );
        let cases = Selection {
            kernels: vec![Kernel::Mono],
            ..Selection::default()
        }
        .cases(&[Suite {
            name: "usertests",
            tests: vec![Test::all_usertests("usertests", 1)],
            on_request: false,
        }]);
        let outcomes = runner.run(&cases, &|_| {});
        let names = usertest_names::usertests();
        assert_eq!(
            outcomes.len(),
            names.len() + 1,
            "one per usertest, and the run"
        );
        let by_name = |name: &str| outcomes.iter().find(|o| o.name == name).unwrap();
        assert_eq!(by_name("usertests/sbrk_grow/mono").points, 1);
        let failed = by_name("usertests/exit_wait/mono");
        assert_eq!((failed.points, failed.max_points), (0, 1));
        assert!(
            failed
                .result
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("status 3")
        );
        let never = by_name("usertests/leak_check/mono");
        assert!(!never.passed(), "a test that printed no line fails");
        let run = by_name("usertests/mono");
        assert_eq!(run.max_points, 0, "the run itself is worth nothing");
        let _ = std::fs::remove_dir_all(&runner.log_dir);
    }

    #[test]
    fn one_usertest_passes_only_with_its_ok_line_and_no_leak() {
        let case = |name: &'static str| TestCase {
            suite: "lab",
            test: Test::usertest(name, 3, name),
            kernel: Kernel::Mono,
        };
        let leaked = usertests_runner(
            "test syscall_getppid: OK\\ntest leak_check: FAILED (3 pages)\\n1 of 2 tests failed: SOME TESTS FAILED",
        );
        let outcome = leaked.run_one(&case("syscall_getppid"));
        let why = outcome.result.unwrap_err().to_string();
        assert!(
            why.contains("passed, but") && why.contains("leak_check"),
            "{why}"
        );
        let failed = usertests_runner(
            "test syscall_getppid: FAILED (getppid: ENOSYS)\\n1 of 2 tests failed: SOME TESTS FAILED",
        );
        let why = failed
            .run_one(&case("syscall_getppid"))
            .result
            .unwrap_err()
            .to_string();
        assert!(why.contains("getppid: ENOSYS"), "{why}");
        assert!(why.contains("last 10 lines of serial output"), "{why}");
        let unknown = usertests_runner("usage: usertests [-q] [NAME...]   (no test named 'nope')");
        let why = unknown
            .run_one(&case("nope"))
            .result
            .unwrap_err()
            .to_string();
        assert!(why.contains("has no test named nope"), "{why}");
        // In a starter tree a hidden test is missing by design: say so.
        assert!(why.contains("hidden test is not in its starter"), "{why}");
        // A test that passed is judged on the disk it leaves, after `sync`
        // (else what the kernel still held in memory, an unlinked file it
        // never released, would go unseen). The fake machine has no disk,
        // so the check itself fails; its log shows whether `sync` came first.
        let script = "printf 'Diptych mono-kernel\\n$ '; read line; \
             printf 'test syscall_getppid: OK\\ntest leak_check: OK\\n2 tests: ALL TESTS PASSED\\n$ '; \
             read line; printf \"typed: %s\\n$ \" \"$line\"; read line";
        let synced = Runner {
            machines: vec![Machine::fake(Kernel::Mono, script)],
            ..usertests_runner("")
        };
        let outcome = synced.run_one(&case("syscall_getppid"));
        let why = outcome.result.unwrap_err().to_string();
        assert!(why.contains("no disk image"), "{why}");
        let log = std::fs::read_to_string(outcome.log.expect("a failure's log")).unwrap();
        assert!(log.contains("typed: sync"), "{log}");
        let _ = std::fs::remove_dir_all(&leaked.log_dir);
    }

    #[test]
    fn host_commands_run_once_and_check_their_output() {
        let runner = usertests_runner("");
        let suite = Suite {
            name: "lab",
            tests: vec![
                Test::host("ok", 5, "echo 'test result: ok. 2 passed'")
                    .expecting(r"ok\. [1-9]\d* passed"),
                Test::host("none", 5, "echo 'test result: ok. 0 passed'")
                    .expecting(r"ok\. [1-9]\d* passed"),
                Test::host("fails", 5, "exit 4"),
            ],
            on_request: false,
        };
        let cases = Selection::default().cases(&[suite]);
        assert_eq!(cases.len(), 3, "once each, not once per kernel");
        let outcomes = runner.run(&cases, &|_| {});
        assert_eq!(outcomes[0].name, "ok/host");
        assert!(outcomes[0].passed());
        assert!(!outcomes[1].passed() && !outcomes[2].passed());
        assert!(
            outcomes[2]
                .log
                .as_ref()
                .unwrap()
                .ends_with("fails-host.log")
        );
        let _ = std::fs::remove_dir_all(&runner.log_dir);
    }

    #[test]
    fn dependency_cycles_do_not_hang() {
        let cases = Selection::default().cases(&[Suite {
            name: "s",
            tests: vec![
                Test::new("a", 1, pass).depends_on("b"),
                Test::new("b", 1, pass).depends_on("a"),
            ],
            on_request: false,
        }]);
        let runner = fake_runner(std::env::temp_dir());
        let outcomes = runner.run(&cases, &|_| {});
        assert_eq!(outcomes.len(), 4);
        assert!(outcomes.iter().all(|outcome| !outcome.passed()));
    }
}
