//! One boot of one kernel: the QEMU process, its serial console, and a
//! private copy of the disk image.
//!
//! A test receives a `&mut Session` that has already booted to the kernel's
//! banner, and drives it like a person at a terminal:
//!
//! ```no_run
//! # use grading::{Session, Failure};
//! fn echo_works(session: &mut Session) -> Result<(), Failure> {
//!     session.expect_prompt()?;
//!     let output = session.run_command("echo hi")?;
//!     Failure::ensure(output == "hi\n", || format!("echo printed {output:?}"))
//! }
//! ```
//!
//! Every wait has a timeout and fails with a precise [`Failure`]. QEMU is
//! killed when a wait times out and when the session is dropped, so no test
//! leaves an emulator behind. Each session boots its own copy of the disk
//! image (in `build/grade-tmp/`), so tests can run in parallel, cannot see
//! each other's files, and can check the disk with `e2fsck` afterwards.

use crate::console::{ExpectError, SerialConsole};
use crate::failure::Failure;
use crate::pattern::{Found, Pattern};
use crate::patterns::{BOOT_TIMEOUT, COMMAND_TIMEOUT, PROMPT_REGEX};
use crate::qemu::{self, ExitStatus, Machine};
use crate::scratch::ScratchDir;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command};
use std::thread;
use std::time::{Duration, Instant};

/// After QEMU closes its stdout it is exiting; this is how long the harness
/// waits for the process to finish before killing it.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for the rest of QEMU's stderr once it has exited.
const STDERR_TIMEOUT: Duration = Duration::from_secs(1);

/// How long to wait, after killing QEMU, for the last of its output to be
/// read from the pipes (it is already there; this only lets the reader
/// threads catch up).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// A running (or finished) QEMU and the kernel inside it.
#[derive(Debug)]
pub struct Session {
    /// What was booted.
    machine: Machine,
    /// The exact command that was run, for logs.
    command_line: Vec<String>,
    /// The QEMU process. Invariant: `None` once it has been reaped, and
    /// then `exit_status` is `Some`.
    child: Option<Child>,
    /// QEMU's stdin: the serial port's input. `None` once QEMU is gone.
    input: Option<ChildStdin>,
    /// QEMU's stdout (the serial port's output) and stderr.
    console: SerialConsole,
    /// How QEMU ended, once it has.
    exit_status: Option<ExitStatus>,
    /// The private disk copy, deleted with the session.
    scratch: Option<ScratchDir>,
    /// The default timeout of [`Session::expect_prompt`] and [`Session::run_command`].
    pub command_timeout: Duration,
}

impl Session {
    /// Starts `machine` and waits for its boot banner.
    ///
    /// Fails with [`Failure::NoBootBanner`] if the banner does not appear
    /// within [`BOOT_TIMEOUT`] (saying what happened instead), or
    /// [`Failure::Setup`] if QEMU cannot be started.
    pub fn boot(machine: &Machine) -> Result<Session, Failure> {
        let mut session = Session::start(machine)?;
        session.expect_boot_banner()?;
        Ok(session)
    }

    /// Starts `machine` without waiting for anything: copies the disk image,
    /// spawns QEMU and starts reading its output.
    pub fn start(machine: &Machine) -> Result<Session, Failure> {
        let scratch = match &machine.disk_image {
            Some(image) => Some(ScratchDir::with_disk_copy(
                &machine.scratch_dir,
                machine.kernel.name(),
                image,
            )?),
            None => None,
        };
        let disk = scratch.as_ref().map(|scratch| scratch.disk());
        let command_line = machine.command_line(disk);
        let mut child = qemu::spawn(&command_line, disk).map_err(|error| {
            let program = command_line.first().map_or("", String::as_str);
            Failure::Setup(format!("cannot start {program:?}: {error}"))
        })?;
        let (Some(input), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            // `spawn` pipes all three; this cannot happen, but is not worth a panic.
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Setup("QEMU was started without pipes".into()));
        };
        Ok(Session {
            machine: machine.clone(),
            command_line,
            child: Some(child),
            input: Some(input),
            console: SerialConsole::attach_echoing(
                stdout,
                stderr,
                machine
                    .echo_serial
                    .then(|| Box::new(io::stdout()) as Box<dyn Write + Send>),
            ),
            exit_status: None,
            scratch,
            command_timeout: COMMAND_TIMEOUT,
        })
    }

    /// Waits for this kernel's boot banner (`Diptych mono-kernel` or
    /// `Diptych micro-kernel`).
    pub fn expect_boot_banner(&mut self) -> Result<Found, Failure> {
        let banner = self.machine.kernel.banner();
        self.expect(banner, BOOT_TIMEOUT)
            .map_err(|cause| Failure::NoBootBanner {
                banner: banner.to_string(),
                cause: Box::new(cause),
            })
    }

    /// The machine this session booted.
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The serial console, for finer control (crash watching, cursors).
    pub fn console(&mut self) -> &mut SerialConsole {
        &mut self.console
    }

    /// Turns crash detection off (for a test that crashes the kernel on
    /// purpose) or back on.
    pub fn watch_for_crashes(&mut self, on: bool) {
        self.console.watch_for_crashes(on);
    }

    /// No wait in this session goes past `deadline`.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.console.set_deadline(deadline);
    }

    /// Types `text` on the serial console (no newline added).
    ///
    /// QEMU takes input only as fast as the guest reads its UART; the pipe
    /// to it holds 64 KiB, so sending more than that to a kernel that is not
    /// reading would block. Tests type lines, far below that.
    pub fn send(&mut self, text: &str) -> Result<(), Failure> {
        let written = match &mut self.input {
            Some(input) => input
                .write_all(text.as_bytes())
                .and_then(|()| input.flush()),
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "QEMU has exited")),
        };
        match written {
            Ok(()) => Ok(()),
            // QEMU is gone (its stdin is closed): report how it ended.
            Err(_) => {
                let waiting_for = format!("the kernel to take the input {text:?}");
                self.console.wait_closed(REAP_TIMEOUT);
                Err(self.exited_failure(waiting_for, self.console.tail()))
            }
        }
    }

    /// Types `line` and a newline.
    pub fn send_line(&mut self, line: &str) -> Result<(), Failure> {
        self.send(&format!("{line}\n"))
    }

    /// Waits up to `timeout` for `pattern` (literal text, or a
    /// [`Pattern::regex`]) after the previous match, and returns the match
    /// with its capture groups. Like every wait in a session, the timeout is
    /// multiplied by the machine's `timeout_scale`.
    ///
    /// Fails at once if the kernel prints a panic or exception banner or
    /// QEMU exits; on timeout, QEMU is killed and the failure quotes the last
    /// lines of output.
    pub fn expect(
        &mut self,
        pattern: impl Into<Pattern>,
        timeout: Duration,
    ) -> Result<Found, Failure> {
        let pattern = pattern.into();
        let timeout = qemu::scale_timeout(timeout, self.machine.timeout_scale);
        match self.console.expect(&pattern, timeout) {
            Ok(found) => Ok(found),
            Err(ExpectError::StreamClosed { pattern, tail }) => {
                Err(self.exited_failure(pattern, tail))
            }
            Err(ExpectError::Failed(failure)) => {
                if matches!(failure, Failure::Timeout { .. }) {
                    self.kill();
                }
                Err(failure)
            }
        }
    }

    /// Waits for the shell prompt (`$ ` at the start of a line).
    pub fn expect_prompt(&mut self) -> Result<(), Failure> {
        self.expect(Pattern::regex(PROMPT_REGEX), self.command_timeout)
            .map(|_| ())
    }

    /// Runs a shell command and returns its output: everything between the
    /// echo of the command line and the next prompt. The previous prompt
    /// must already have been consumed (call [`Session::expect_prompt`]
    /// once after boot; each `run_command` consumes the prompt after it).
    pub fn run_command(&mut self, command: &str) -> Result<String, Failure> {
        self.run_command_with_timeout(command, self.command_timeout)
    }

    /// [`Session::run_command`] with its own timeout (for each of the two
    /// waits: the echo, then the prompt).
    pub fn run_command_with_timeout(
        &mut self,
        command: &str,
        timeout: Duration,
    ) -> Result<String, Failure> {
        self.send_line(command)?;
        let echo = self.expect(format!("{command}\n"), timeout)?;
        let prompt = self.expect(Pattern::regex(PROMPT_REGEX), timeout)?;
        Ok(self.console.output_between(echo.end, prompt.start))
    }

    /// Fails if `pattern` occurs anywhere in the output so far.
    pub fn expect_not(&self, pattern: impl Into<Pattern>) -> Result<(), Failure> {
        self.console.expect_not(&pattern.into())
    }

    /// Waits up to `timeout` for QEMU to exit and returns how it ended
    /// (a kernel powers off by writing to the isa-debug-exit port).
    /// On timeout QEMU is killed.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, Failure> {
        if let Some(status) = self.exit_status {
            return Ok(status);
        }
        let timeout = qemu::scale_timeout(timeout, self.machine.timeout_scale);
        let started = Instant::now();
        if self.console.wait_closed(timeout) {
            Ok(self.reap())
        } else {
            let tail = self.console.tail();
            self.kill();
            // Cut short by the test's time limit, or the full timeout.
            let test_time_limit = started.elapsed() < timeout;
            Err(Failure::Timeout {
                waited: if test_time_limit {
                    started.elapsed()
                } else {
                    timeout
                },
                pattern: "QEMU to exit".into(),
                test_time_limit,
                tail,
            })
        }
    }

    /// Waits for QEMU to exit with `expected`; fails if it ends any other way.
    pub fn expect_exit(&mut self, expected: ExitStatus, timeout: Duration) -> Result<(), Failure> {
        let status = self.wait_exit(timeout)?;
        if status == expected {
            Ok(())
        } else {
            Err(Failure::WrongExitStatus {
                expected: expected.to_string(),
                got: status,
                tail: self.console.tail(),
            })
        }
    }

    /// Kills QEMU (if it is still running) and returns how it ended.
    /// Afterwards the serial log holds everything QEMU printed.
    pub fn kill(&mut self) -> ExitStatus {
        self.input = None;
        if let Some(child) = &mut self.child {
            // Fails only if it has already exited, which `reap` handles.
            let _ = child.kill();
        }
        let status = self.reap();
        // The reader threads still have to read what was left in the pipes.
        self.console.wait_drained(DRAIN_TIMEOUT);
        status
    }

    /// Cuts the power: kills QEMU, then boots the same kernel again on the
    /// same private disk copy (as it was left) and waits for the banner.
    /// The serial log starts afresh.
    pub fn power_cycle(&mut self) -> Result<(), Failure> {
        self.kill();
        let disk = self.disk_path().map(Path::to_path_buf);
        let command_line = self.machine.command_line(disk.as_deref());
        let mut child = qemu::spawn(&command_line, disk.as_deref())
            .map_err(|error| Failure::Setup(format!("cannot start QEMU again: {error}")))?;
        let (Some(input), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::Setup("QEMU was started without pipes".into()));
        };
        self.console = SerialConsole::attach_echoing(
            stdout,
            stderr,
            self.machine
                .echo_serial
                .then(|| Box::new(io::stdout()) as Box<dyn Write + Send>),
        );
        self.child = Some(child);
        self.input = Some(input);
        self.exit_status = None;
        self.command_line = command_line;
        self.expect_boot_banner().map(|_| ())
    }

    /// How QEMU ended, if it has been seen to end.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.exit_status
    }

    /// The session's private copy of the disk image, if it has a disk.
    pub fn disk_path(&self) -> Option<&Path> {
        self.scratch.as_ref().map(|scratch| scratch.disk())
    }

    /// Runs `e2fsck -fn` on the private disk copy; fails with its report if
    /// it finds anything wrong. QEMU must have exited first (power the
    /// kernel off and [`Session::wait_exit`]), so the image is quiescent.
    ///
    /// An ext3 image whose kernel was killed (every test kills it) may have
    /// committed transactions in its journal, as after a power cut: real
    /// `e2fsck -y -E journal_only` replays them first (and changes nothing
    /// else), then `e2fsck -fn` judges the result.
    pub fn check_disk(&mut self) -> Result<(), Failure> {
        if self.exit_status.is_none() {
            return Err(Failure::check(
                "bug in the test: check_disk needs QEMU to have exited (call wait_exit or kill first)",
            ));
        }
        let Some(disk) = self.disk_path() else {
            return Err(Failure::Setup("this session has no disk image".into()));
        };
        check_image(disk, true)
    }

    /// Runs `e2fsck` on a copy of the private disk as it is now — QEMU may
    /// be running, idle — replaying its journal first if `replay`, else
    /// `e2fsck -fn` alone (to judge what the kernel's own recovery left).
    pub fn check_disk_copy(&self, replay: bool) -> Result<(), Failure> {
        let Some(disk) = self.disk_path() else {
            return Err(Failure::Setup("this session has no disk image".into()));
        };
        let copy = disk.with_extension("check.img");
        std::fs::copy(disk, &copy)
            .map_err(|error| Failure::Setup(format!("cannot copy the disk: {error}")))?;
        let result = check_image(&copy, replay);
        let _ = std::fs::remove_file(&copy);
        result
    }

    /// Everything the kernel printed so far.
    pub fn serial_log(&self) -> String {
        self.console.output()
    }

    /// Writes the whole serial log to `path`, followed by a trailer saying
    /// which test it was, the QEMU command, how QEMU ended, QEMU's stderr
    /// and the failure.
    pub fn save_log(&self, path: &Path, test_name: &str, failure: &Failure) -> io::Result<()> {
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory)?;
        }
        let mut log = self.serial_log();
        if !log.ends_with('\n') {
            log.push('\n');
        }
        let status = self
            .exit_status
            .map_or("still running (killed after the test)".into(), |s| {
                s.to_string()
            });
        log.push_str(&format!(
            "==== end of serial output ====\ntest: {test_name}\ncommand: {}\nQEMU: {status}\nfailure: {failure}\n==== QEMU stderr ====\n{}",
            self.command_line.join(" "),
            self.console.stderr()
        ));
        if !log.ends_with('\n') {
            log.push('\n');
        }
        std::fs::write(path, log)
    }

    /// The failure for "QEMU exited while waiting for `pattern`".
    fn exited_failure(&mut self, pattern: String, tail: String) -> Failure {
        let status = self.reap();
        let stderr = self.console.stderr_after_exit(STDERR_TIMEOUT);
        Failure::EmulatorExited {
            status,
            pattern,
            stderr,
            tail,
        }
    }

    /// Collects QEMU's exit status, killing it if it does not finish within
    /// [`REAP_TIMEOUT`]. Call only when QEMU has exited or been killed.
    fn reap(&mut self) -> ExitStatus {
        self.input = None;
        let Some(mut child) = self.child.take() else {
            return self.exit_status.unwrap_or(ExitStatus::Code(-1));
        };
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break ExitStatus::from_std(status),
                Ok(None) if started.elapsed() < REAP_TIMEOUT => {
                    // QEMU closed its output and is finishing its exit; this
                    // short backoff only runs in that window.
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                _ => {
                    let _ = child.kill();
                    break child
                        .wait()
                        .map(ExitStatus::from_std)
                        .unwrap_or(ExitStatus::Code(-1));
                }
            }
        };
        self.exit_status = Some(status);
        status
    }
}

impl Drop for Session {
    /// Kills QEMU; the scratch directory deletes itself.
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
    }
}

/// `e2fsck -y -E journal_only` if `replay` (real e2fsck replays the
/// journal, changing nothing else), then `e2fsck -fn` on `disk`.
fn check_image(disk: &Path, replay: bool) -> Result<(), Failure> {
    let e2fsck = find_e2fsck()
        .ok_or_else(|| Failure::Setup("cannot run e2fsck (install e2fsprogs)".into()))?;
    if replay {
        let replayed = Command::new(&e2fsck)
            .args(["-y", "-E", "journal_only"])
            .arg(disk)
            .output()
            .map_err(|error| Failure::Setup(format!("cannot run e2fsck: {error}")))?;
        // 0: nothing to do, 1: the journal was replayed.
        if !matches!(replayed.status.code(), Some(0 | 1)) {
            return Err(Failure::check(format!(
                "e2fsck could not replay the journal ({}):\n{}{}",
                replayed.status,
                String::from_utf8_lossy(&replayed.stdout),
                String::from_utf8_lossy(&replayed.stderr)
            )));
        }
    }
    let output = Command::new(&e2fsck)
        .arg("-fn")
        .arg(disk)
        .output()
        .map_err(|error| Failure::Setup(format!("cannot run e2fsck: {error}")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Failure::check(format!(
        "e2fsck -fn found a damaged file system ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}

/// Finds `e2fsck`, which lives in `/sbin` and may not be on `PATH`.
fn find_e2fsck() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|directory| directory.join("e2fsck"));
    on_path
        .chain(["/usr/sbin/e2fsck", "/sbin/e2fsck"].map(PathBuf::from))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::{GUEST_EXIT_FAILURE, GUEST_EXIT_SUCCESS};
    use crate::qemu::Kernel;

    const LONG: Duration = Duration::from_secs(20);

    /// A fake kernel: prints the mono banner, then runs `rest` (shell).
    fn fake(rest: &str) -> Machine {
        Machine::fake(
            Kernel::Mono,
            &format!("printf 'Diptych mono-kernel 0.1\\r\\n'; {rest}"),
        )
    }

    /// A fake shell: echoes each line it reads, runs `echo` commands, and
    /// prints a prompt; `halt` powers off with status 33.
    const FAKE_SHELL: &str = r#"
        printf '$ '
        while IFS= read -r line; do
            printf '%s\n' "$line"
            case "$line" in
                halt) exit 33 ;;
                panic) printf 'KERNEL PANIC: asked to\n'; exit 35 ;;
                echo\ *) printf '%s\n' "${line#echo }" ;;
            esac
            printf '$ '
        done
    "#;

    #[test]
    fn boots_runs_commands_and_powers_off() {
        let mut session = Session::boot(&fake(FAKE_SHELL)).unwrap();
        session.expect_prompt().unwrap();
        assert_eq!(session.run_command("echo hi there").unwrap(), "hi there\n");
        assert_eq!(session.run_command("true").unwrap(), "");
        session.send_line("halt").unwrap();
        session
            .expect_exit(ExitStatus::GuestExit(GUEST_EXIT_SUCCESS), LONG)
            .unwrap();
        assert!(
            session
                .serial_log()
                .starts_with("Diptych mono-kernel 0.1\n$ echo hi there\n")
        );
    }

    #[test]
    fn missing_banner_is_reported_as_such() {
        let machine = Machine::fake(Kernel::Micro, "printf 'Diptych mono-kernel\\n'; exit 35");
        match Session::boot(&machine) {
            Err(Failure::NoBootBanner { banner, cause }) => {
                assert_eq!(banner, "Diptych micro-kernel");
                assert!(matches!(
                    *cause,
                    Failure::EmulatorExited {
                        status: ExitStatus::GuestExit(GUEST_EXIT_FAILURE),
                        ..
                    }
                ));
            }
            other => panic!("expected no boot banner, got {other:?}"),
        }
    }

    #[test]
    fn early_exit_reports_status_and_stderr() {
        let mut session =
            Session::boot(&fake("echo 'qemu: could not open disk' >&2; exit 1")).unwrap();
        match session.expect_prompt() {
            Err(Failure::EmulatorExited { status, stderr, .. }) => {
                assert_eq!(status, ExitStatus::Code(1));
                assert_eq!(stderr, "qemu: could not open disk\n");
            }
            other => panic!("expected QEMU to have exited, got {other:?}"),
        }
    }

    #[test]
    fn triple_fault_looks_like_a_reset() {
        let mut session = Session::boot(&fake("exit 0")).unwrap();
        let failure = session.expect_prompt().unwrap_err();
        assert!(failure.to_string().contains("triple fault"), "{failure}");
    }

    #[test]
    fn panic_fails_at_once_even_while_qemu_keeps_running() {
        // The fake kernel panics and then hangs instead of powering off.
        let mut session =
            Session::boot(&fake("printf 'KERNEL PANIC: oops\\n'; exec sleep 60")).unwrap();
        let started = Instant::now();
        let failure = session.expect_prompt().unwrap_err();
        assert_eq!(
            failure,
            Failure::KernelCrashed {
                report: "KERNEL PANIC: oops".into()
            }
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn timeout_kills_qemu_and_quotes_the_output() {
        let mut session =
            Session::boot(&fake("printf 'init: no shell\\n'; exec sleep 60")).unwrap();
        // Make sure the line has arrived, so the timeout below must quote it.
        session.expect("no shell\n", LONG).unwrap();
        session.command_timeout = Duration::from_millis(300);
        let failure = session.expect_prompt().unwrap_err();
        let message = failure.to_string();
        assert!(
            message.starts_with(r"timed out after 300ms waiting for /(?m)^\$ /"),
            "{message}"
        );
        assert!(message.contains("| init: no shell"), "{message}");
        assert!(matches!(session.exit_status(), Some(ExitStatus::Signal(9))));
    }

    #[test]
    fn timeouts_are_scaled_by_the_machine() {
        let mut machine = fake("exec sleep 60");
        machine.timeout_scale = 0.5;
        let mut session = Session::boot(&machine).unwrap();
        let failure = session
            .expect("never", Duration::from_millis(400))
            .unwrap_err();
        assert!(
            failure.to_string().starts_with("timed out after 200ms"),
            "{failure}"
        );
    }

    #[test]
    fn an_emulator_that_cannot_start_is_a_setup_failure() {
        let mut machine = fake("");
        machine.command_override = Some(vec!["/nonexistent/qemu".into()]);
        match Session::boot(&machine) {
            Err(Failure::Setup(message)) => {
                assert!(message.contains("/nonexistent/qemu"), "{message}")
            }
            other => panic!("expected a setup failure, got {other:?}"),
        }
        machine.command_override = Some(Vec::new());
        assert!(matches!(Session::boot(&machine), Err(Failure::Setup(_))));
    }

    #[test]
    fn wrong_exit_status_is_a_failure() {
        let mut session = Session::boot(&fake(FAKE_SHELL)).unwrap();
        session.send_line("panic").unwrap();
        let failure = session
            .expect_exit(ExitStatus::GuestExit(GUEST_EXIT_SUCCESS), LONG)
            .unwrap_err();
        assert!(matches!(
            failure,
            Failure::WrongExitStatus {
                got: ExitStatus::GuestExit(GUEST_EXIT_FAILURE),
                ..
            }
        ));
    }

    #[test]
    fn sending_to_an_exited_qemu_fails_cleanly() {
        let mut session = Session::boot(&fake("exit 33")).unwrap();
        session.wait_exit(LONG).unwrap();
        assert!(matches!(
            session.send_line("ls"),
            Err(Failure::EmulatorExited { .. })
        ));
    }

    #[test]
    fn dropping_a_session_kills_qemu() {
        let mut session = Session::boot(&fake("echo pid=$$; exec sleep 60")).unwrap();
        let found = session
            .expect(Pattern::regex(r"pid=(\d+)\n"), LONG)
            .unwrap();
        let pid: i32 = found.group(1).unwrap().parse().unwrap();
        drop(session);
        // SAFETY: signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "QEMU (pid {pid}) survived its session");
    }

    #[test]
    fn disk_copy_is_private_and_removed_afterwards() {
        let scratch = std::env::temp_dir().join(format!("grading-test-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let image = scratch.join("base.img");
        std::fs::write(&image, b"original").unwrap();
        let mut machine = fake(r#"printf 'changed' > "$GRADE_DISK"; exit 33"#);
        machine.disk_image = Some(image.clone());
        machine.scratch_dir = scratch.join("tmp");
        let mut session = Session::boot(&machine).unwrap();
        assert!(session.wait_exit(LONG).unwrap().is_success());
        let copy = session.disk_path().unwrap().to_path_buf();
        assert_eq!(std::fs::read(&copy).unwrap(), b"changed");
        assert_eq!(std::fs::read(&image).unwrap(), b"original");
        drop(session);
        assert!(!copy.exists());
        std::fs::remove_dir_all(&scratch).unwrap();
    }

    /// Makes an empty 1 MiB ext2 image with mke2fs, or `None` if e2fsprogs
    /// is not installed.
    fn make_ext2_image(path: &Path) -> Option<()> {
        let mke2fs = ["/usr/sbin/mke2fs", "/sbin/mke2fs"]
            .into_iter()
            .find(|p| Path::new(p).is_file())?;
        let status = Command::new(mke2fs)
            .args(["-q", "-F", "-t", "ext2", "-b", "1024"])
            .arg(path)
            .arg("1024")
            .status()
            .ok()?;
        status.success().then_some(())
    }

    #[test]
    fn check_disk_runs_e2fsck_on_the_private_copy() {
        let scratch = std::env::temp_dir().join(format!("grading-fsck-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let image = scratch.join("fs.img");
        if make_ext2_image(&image).is_none() {
            eprintln!("mke2fs not installed: check_disk not tested");
            return;
        }
        let mut machine = fake("exit 33");
        machine.disk_image = Some(image.clone());
        machine.scratch_dir = scratch.join("tmp");

        let mut session = Session::boot(&machine).unwrap();
        assert!(
            matches!(session.check_disk(), Err(Failure::Check(message)) if message.contains("bug in the test"))
        );
        session.wait_exit(LONG).unwrap();
        assert_eq!(session.check_disk(), Ok(()));

        // A fake kernel that scribbles over the block bitmap area.
        let mut machine = fake(
            r#"printf 'garbage%.0s' $(seq 200) | dd of="$GRADE_DISK" bs=1 seek=3072 conv=notrunc 2>/dev/null; exit 33"#,
        );
        machine.disk_image = Some(image);
        machine.scratch_dir = scratch.join("tmp");
        let mut session = Session::boot(&machine).unwrap();
        session.wait_exit(LONG).unwrap();
        match session.check_disk() {
            Err(Failure::Check(message)) => assert!(
                message.contains("e2fsck -fn found a damaged file system"),
                "{message}"
            ),
            other => panic!("expected e2fsck to find damage, got {other:?}"),
        }
        drop(session);
        std::fs::remove_dir_all(&scratch).unwrap();
    }

    #[test]
    fn save_log_writes_output_and_the_reason() {
        let mut session =
            Session::boot(&fake("printf 'hello\\n'; echo warn >&2; exit 35")).unwrap();
        let failure = session.expect_prompt().unwrap_err();
        let path = std::env::temp_dir().join(format!("grading-log-{}/x.log", std::process::id()));
        session.save_log(&path, "boot/mono", &failure).unwrap();
        let log = std::fs::read_to_string(&path).unwrap();
        assert!(
            log.starts_with("Diptych mono-kernel 0.1\nhello\n==== end of serial output ====\n"),
            "{log}"
        );
        assert!(log.contains("test: boot/mono\ncommand: sh -c"), "{log}");
        assert!(log.contains("QEMU: guest exit 0x11"), "{log}");
        assert!(log.ends_with("==== QEMU stderr ====\nwarn\n"), "{log}");
        assert!(log.contains("\nhello\n"), "{log}");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
