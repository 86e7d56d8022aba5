//! The serial console as the harness sees it: everything the kernel has
//! printed so far, and a way to wait for a pattern in it.
//!
//! QEMU runs with `-serial stdio`, so COM1's output is QEMU's stdout. A reader
//! thread appends each chunk to a shared buffer and signals a condition
//! variable; [`SerialConsole::expect`] sleeps on that condition variable until
//! the pattern shows up, the stream ends, or the deadline passes. Nothing here
//! sleeps for a fixed time: a test is exactly as slow as the kernel.
//!
//! ```text
//!   QEMU stdout ──reader thread──▶ text (Mutex) ──notify──▶ expect() waiting
//!                                   ▲ cursor: where the next expect starts
//! ```
//!
//! Reading is consuming: each successful `expect` moves a cursor past its
//! match, so `expect("ok")` twice needs two `ok`s, in order. While waiting,
//! the console also watches for a kernel's fatal-error banners
//! ([`crate::patterns::FATAL_BANNERS`]) and fails at once when one appears,
//! instead of letting the test sit out its timeout.

use crate::failure::{Failure, TAIL_LINES, last_lines};
use crate::pattern::{Found, Pattern};
use crate::patterns::FATAL_BANNERS;
use crate::utf8_stream::Utf8StreamDecoder;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// After a fatal banner, how long to keep collecting the rest of the crash
/// report (the kernel powers off right after it, which ends the wait sooner).
pub const CRASH_REPORT_GRACE: Duration = Duration::from_secs(2);

/// The longest any single wait may be: keeps `now + timeout` far from
/// overflowing whatever a test passes.
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How many lines of a crash report a failure quotes.
const CRASH_REPORT_LINES: usize = 40;

/// What the reader threads have collected. Shared between them and the
/// console, behind one mutex.
#[derive(Debug, Default)]
struct Streams {
    /// All serial output so far, decoded as UTF-8 (invalid bytes become
    /// U+FFFD) with carriage returns removed.
    /// Invariant: only ever appended to, so offsets into it stay valid.
    serial: String,
    /// QEMU closed its stdout: it has exited (or is exiting).
    serial_closed: bool,
    /// QEMU's standard error (warnings, "could not open disk", ...).
    stderr: String,
    /// QEMU closed its stderr.
    stderr_closed: bool,
}

/// The shared state and its change signal.
#[derive(Debug, Default)]
struct Shared {
    streams: Mutex<Streams>,
    /// Notified after every change to `streams`.
    changed: Condvar,
}

impl Shared {
    /// Locks the streams. A reader thread never panics while holding the
    /// lock, but if one did the data is still consistent (append-only), so
    /// poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Streams> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until a reader thread reports a change or `timeout` passes.
    fn wait_for_change<'a>(
        &self,
        streams: MutexGuard<'a, Streams>,
        timeout: Duration,
    ) -> MutexGuard<'a, Streams> {
        self.changed
            .wait_timeout(streams, timeout)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }
}

/// Why an [`SerialConsole::expect`] did not find its pattern.
#[derive(Debug, PartialEq, Eq)]
pub enum ExpectError {
    /// A failure the console could diagnose by itself (timeout, crash, bad pattern).
    Failed(Failure),
    /// The output ended (QEMU exited) before the pattern appeared. The
    /// session, which owns the QEMU process, turns this into a
    /// [`Failure::EmulatorExited`] with the exit status.
    StreamClosed {
        /// The pattern that was awaited.
        pattern: String,
        /// The last lines of serial output.
        tail: String,
    },
}

/// The serial output of one QEMU process and a cursor into it.
#[derive(Debug)]
pub struct SerialConsole {
    shared: Arc<Shared>,
    /// Where the next `expect` starts looking (a byte offset into the output).
    cursor: usize,
    /// Fail as soon as a fatal banner appears.
    watch_for_crashes: bool,
    /// The output before this offset has been checked for fatal banners.
    crash_scanned: usize,
    /// Where the first fatal banner seen while watching starts.
    crash_at: Option<usize>,
    /// The test's overall deadline: no wait goes past it.
    deadline: Option<Instant>,
}

impl SerialConsole {
    /// Starts reader threads on `serial` (QEMU's stdout) and `stderr`.
    ///
    /// The threads end when their stream does, which happens when QEMU
    /// exits; they are not joined, so a console never hangs on a stream that
    /// some stray process keeps open.
    pub fn attach(
        serial: impl Read + Send + 'static,
        stderr: impl Read + Send + 'static,
    ) -> SerialConsole {
        SerialConsole::attach_echoing(serial, stderr, None)
    }

    /// Like [`SerialConsole::attach`], and also copies the serial output,
    /// as it arrives, to `echo` (the terminal, for `grade --verbose`).
    pub fn attach_echoing(
        serial: impl Read + Send + 'static,
        stderr: impl Read + Send + 'static,
        echo: Option<Box<dyn Write + Send>>,
    ) -> SerialConsole {
        let shared = Arc::new(Shared::default());
        spawn_reader(
            Arc::clone(&shared),
            serial,
            echo,
            |streams, text| streams.serial.push_str(text),
            |streams| streams.serial_closed = true,
        );
        spawn_reader(
            Arc::clone(&shared),
            stderr,
            None,
            |streams, text| streams.stderr.push_str(text),
            |streams| streams.stderr_closed = true,
        );
        SerialConsole {
            shared,
            cursor: 0,
            watch_for_crashes: true,
            crash_scanned: 0,
            crash_at: None,
            deadline: None,
        }
    }

    /// Turns crash detection on or off. A test that provokes a crash on
    /// purpose turns it off and waits for the report itself. Turning it back
    /// on watches only output that arrives from now on.
    pub fn watch_for_crashes(&mut self, on: bool) {
        if on && !self.watch_for_crashes {
            self.crash_scanned = self.shared.lock().serial.len();
            self.crash_at = None;
        }
        self.watch_for_crashes = on;
    }

    /// No wait may go past `deadline` (the test's overall time limit).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Waits up to `timeout` for `pattern` to appear after the cursor, and
    /// moves the cursor past it.
    ///
    /// Fails with [`Failure::Timeout`] (quoting the last lines of output),
    /// [`Failure::KernelCrashed`] as soon as a fatal banner appears (if
    /// watching for crashes), [`Failure::BadPattern`], or
    /// [`ExpectError::StreamClosed`] if QEMU exits first.
    pub fn expect(&mut self, pattern: &Pattern, timeout: Duration) -> Result<Found, ExpectError> {
        if let Some(error) = pattern.compile_error() {
            return Err(ExpectError::Failed(Failure::BadPattern(error)));
        }
        let started = Instant::now();
        let (deadline, is_test_limit) = self.effective_deadline(timeout);
        // A handle of our own, so the lock guard does not borrow `self`.
        let shared = Arc::clone(&self.shared);
        let mut streams = shared.lock();
        // Invariant: the pattern does not occur in serial[cursor..searched_to].
        let mut searched_to = self.cursor;
        loop {
            if self.watch_for_crashes && self.crash_at.is_none() {
                self.crash_at = self.scan_for_crash(&streams.serial);
            }
            let crash_at = self.crash_at.filter(|_| self.watch_for_crashes);
            let found = pattern.find_new(&streams.serial, self.cursor, searched_to);
            searched_to = streams.serial.len();
            match (found, crash_at) {
                // Output before a crash still counts; the crash fails the
                // next wait.
                (Some(found), crash_at) if crash_at.is_none_or(|at| found.end <= at) => {
                    self.cursor = found.end;
                    return Ok(found);
                }
                (_, Some(banner_at)) => {
                    drop(streams);
                    return Err(ExpectError::Failed(self.crash_failure(banner_at)));
                }
                _ => {}
            }
            if streams.serial_closed {
                return Err(ExpectError::StreamClosed {
                    pattern: pattern.to_string(),
                    tail: last_lines(&streams.serial, TAIL_LINES),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ExpectError::Failed(Failure::Timeout {
                    // The time allowed, not the time measured (a few ms more).
                    waited: deadline.saturating_duration_since(started),
                    pattern: pattern.to_string(),
                    test_time_limit: is_test_limit,
                    tail: last_lines(&streams.serial, TAIL_LINES),
                }));
            }
            streams = shared.wait_for_change(streams, deadline - now);
        }
    }

    /// Fails if `pattern` occurs anywhere in the output so far (not only
    /// after the cursor), quoting the line it is on.
    pub fn expect_not(&self, pattern: &Pattern) -> Result<(), Failure> {
        self.expect_not_since(0, pattern)
    }

    /// Fails if `pattern` occurs in the output from byte offset `mark` on
    /// (a value of [`SerialConsole::cursor`] taken earlier).
    pub fn expect_not_since(&self, mark: usize, pattern: &Pattern) -> Result<(), Failure> {
        if let Some(error) = pattern.compile_error() {
            return Err(Failure::BadPattern(error));
        }
        let streams = self.shared.lock();
        match pattern.find_from(&streams.serial, mark.min(streams.serial.len())) {
            Some(found) => Err(Failure::UnexpectedOutput {
                pattern: pattern.to_string(),
                line: line_around(&streams.serial, found.start).to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Waits up to `timeout` for QEMU to close its stdout (it has exited).
    /// Returns whether it did. Ignores fatal banners: a caller waiting for
    /// the exit wants to see the exit status.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let (deadline, _) = self.effective_deadline(timeout);
        let shared = &self.shared;
        let mut streams = shared.lock();
        loop {
            if streams.serial_closed {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            streams = shared.wait_for_change(streams, deadline - now);
        }
    }

    /// Waits up to `timeout` for QEMU to close its stderr, then returns
    /// everything it wrote there.
    pub fn stderr_after_exit(&self, timeout: Duration) -> String {
        self.wait_for_streams(timeout, |streams| streams.stderr_closed);
        self.stderr()
    }

    /// Waits up to `timeout` for both of QEMU's output streams to close,
    /// so that everything it printed before it ended is in the buffer.
    /// Unlike [`SerialConsole::wait_closed`], ignores the test's deadline:
    /// it is for collecting a log after the test is over.
    pub fn wait_drained(&self, timeout: Duration) -> bool {
        self.wait_for_streams(timeout, |streams| {
            streams.serial_closed && streams.stderr_closed
        })
    }

    /// Waits up to `timeout` for `done` to hold; returns whether it does.
    fn wait_for_streams(&self, timeout: Duration, done: fn(&Streams) -> bool) -> bool {
        let deadline = Instant::now() + timeout.min(LONGEST_WAIT);
        let shared = &self.shared;
        let mut streams = shared.lock();
        loop {
            if done(&streams) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            streams = shared.wait_for_change(streams, deadline - now);
        }
    }

    /// All serial output so far.
    pub fn output(&self) -> String {
        self.shared.lock().serial.clone()
    }

    /// Serial output from byte offset `mark` to the cursor.
    pub fn output_since(&self, mark: usize) -> String {
        self.output_between(mark, self.cursor)
    }

    /// Serial output between two byte offsets (as found in [`Found`] or
    /// returned by [`SerialConsole::cursor`]); empty if they are out of order.
    pub fn output_between(&self, start: usize, end: usize) -> String {
        let streams = self.shared.lock();
        let end = end.min(streams.serial.len());
        streams
            .serial
            .get(start.min(end)..end)
            .unwrap_or_default()
            .to_string()
    }

    /// QEMU's standard error so far.
    pub fn stderr(&self) -> String {
        self.shared.lock().stderr.clone()
    }

    /// The last lines of serial output.
    pub fn tail(&self) -> String {
        last_lines(&self.shared.lock().serial, TAIL_LINES)
    }

    /// Where the next `expect` starts looking: a byte offset into the output.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Moves the cursor to the end of the output received so far, so the
    /// next `expect` only sees what arrives later.
    pub fn skip_to_end(&mut self) {
        self.cursor = self.shared.lock().serial.len();
    }

    /// When a wait of `timeout` from now must end: the earlier of its own
    /// end and the test's deadline, and whether the test's deadline is the
    /// one that applies.
    fn effective_deadline(&self, timeout: Duration) -> (Instant, bool) {
        let step_deadline = Instant::now() + timeout.min(LONGEST_WAIT);
        match self.deadline {
            Some(test_deadline) if test_deadline < step_deadline => (test_deadline, true),
            _ => (step_deadline, false),
        }
    }

    /// Looks for a fatal banner in output not yet scanned; returns where the
    /// first one starts.
    fn scan_for_crash(&mut self, serial: &str) -> Option<usize> {
        // Back up far enough to catch a banner split across two chunks.
        let longest_banner = FATAL_BANNERS
            .iter()
            .map(|banner| banner.len())
            .max()
            .unwrap_or(0);
        let mut from = self.crash_scanned.saturating_sub(longest_banner);
        while !serial.is_char_boundary(from) {
            from -= 1;
        }
        self.crash_scanned = serial.len();
        FATAL_BANNERS
            .iter()
            .filter_map(|banner| serial[from..].find(banner))
            .min()
            .map(|offset| from + offset)
    }

    /// Collects the crash report that starts at `banner_at`, giving the
    /// kernel a moment to finish printing it.
    fn crash_failure(&self, banner_at: usize) -> Failure {
        self.wait_closed(CRASH_REPORT_GRACE);
        let streams = self.shared.lock();
        let line_start = streams.serial[..banner_at]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let report: Vec<&str> = streams.serial[line_start..]
            .lines()
            .take(CRASH_REPORT_LINES)
            .collect();
        Failure::KernelCrashed {
            report: report.join("\n"),
        }
    }
}

/// The whole line of `text` that contains byte offset `at`.
fn line_around(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
    let end = text[at..]
        .find('\n')
        .map_or(text.len(), |newline| at + newline);
    &text[start..end]
}

/// Starts a thread that reads `stream` to its end, decoding and appending
/// each chunk with `append` (and copying it to `echo`, if given) and finally
/// calling `close`, notifying waiters after each.
fn spawn_reader(
    shared: Arc<Shared>,
    mut stream: impl Read + Send + 'static,
    mut echo: Option<Box<dyn Write + Send>>,
    append: fn(&mut Streams, &str),
    close: fn(&mut Streams),
) {
    thread::spawn(move || {
        let mut decoder = Utf8StreamDecoder::default();
        let mut chunk = [0u8; 4096];
        loop {
            let text = match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(count) => decoder.decode(&chunk[..count]),
            };
            if let Some(echo) = &mut echo {
                // Echoing is a convenience: a closed terminal must not stop grading.
                let _ = echo.write_all(text.as_bytes()).and_then(|()| echo.flush());
            }
            append(&mut shared.lock(), &text);
            shared.changed.notify_all();
        }
        let rest = decoder.finish();
        let mut streams = shared.lock();
        append(&mut streams, &rest);
        close(&mut streams);
        drop(streams);
        shared.changed.notify_all();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A console fed through a pipe the test writes to, like QEMU's stdout.
    fn piped_console() -> (SerialConsole, std::io::PipeWriter) {
        let (serial_reader, serial_writer) = std::io::pipe().unwrap();
        let console = SerialConsole::attach(serial_reader, std::io::empty());
        (console, serial_writer)
    }

    const SHORT: Duration = Duration::from_millis(200);
    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn expect_consumes_output_in_order() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"one ok\r\ntwo ok\n").unwrap();
        let first = console.expect(&Pattern::from("ok"), LONG).unwrap();
        let second = console.expect(&Pattern::from("ok"), LONG).unwrap();
        assert!(second.start > first.start);
        assert_eq!(console.output_since(first.end), "\ntwo ok");
        // There is no third "ok": this must time out.
        match console.expect(&Pattern::from("ok"), SHORT) {
            Err(ExpectError::Failed(Failure::Timeout { pattern, tail, .. })) => {
                assert_eq!(pattern, "\"ok\"");
                assert_eq!(tail, "one ok\ntwo ok");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn expect_wakes_up_for_output_that_arrives_later() {
        let (mut console, mut qemu) = piped_console();
        let writer = thread::spawn(move || {
            qemu.write_all(b"booting...\n").unwrap();
            qemu.write_all(b"pid 42 ready\n").unwrap();
            qemu
        });
        let found = console
            .expect(&Pattern::regex(r"pid (\d+) ready"), LONG)
            .unwrap();
        assert_eq!(found.group(1), Some("42"));
        drop(writer.join().unwrap());
    }

    #[test]
    fn fatal_banner_fails_at_once_with_the_report() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"boot ok\nKERNEL PANIC: out of frames\n  at mm/frame.rs:40\n")
            .unwrap();
        drop(qemu); // the kernel powers off after its report
        let started = Instant::now();
        match console.expect(&Pattern::from("never printed"), LONG) {
            Err(ExpectError::Failed(Failure::KernelCrashed { report })) => {
                assert_eq!(report, "KERNEL PANIC: out of frames\n  at mm/frame.rs:40");
            }
            other => panic!("expected a crash, got {other:?}"),
        }
        assert!(
            started.elapsed() < LONG / 2,
            "crash detection waited for the timeout"
        );
    }

    #[test]
    fn output_before_a_crash_still_matches_and_the_crash_fails_the_next_wait() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"Diptych mono-kernel\nKERNEL PANIC: early\n")
            .unwrap();
        drop(qemu);
        assert!(console.expect(&Pattern::from("Diptych"), LONG).is_ok());
        assert!(matches!(
            console.expect(&Pattern::from("early"), LONG),
            Err(ExpectError::Failed(Failure::KernelCrashed { .. }))
        ));
    }

    #[test]
    fn banner_split_across_chunks_is_still_seen() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"x CPU EXC").unwrap();
        assert!(console.expect(&Pattern::from("x"), LONG).is_ok());
        assert!(matches!(
            console.expect(&Pattern::from("y"), SHORT),
            Err(ExpectError::Failed(Failure::Timeout { .. }))
        ));
        qemu.write_all(b"EPTION #GP\n").unwrap();
        drop(qemu);
        assert!(matches!(
            console.expect(&Pattern::from("y"), LONG),
            Err(ExpectError::Failed(Failure::KernelCrashed { .. }))
        ));
    }

    #[test]
    fn crash_watch_can_be_turned_off_for_tests_that_crash_on_purpose() {
        let (mut console, mut qemu) = piped_console();
        console.watch_for_crashes(false);
        qemu.write_all(b"CPU EXCEPTION: #PF page fault\nCR2=0x10\n")
            .unwrap();
        assert!(
            console
                .expect(&Pattern::regex(r"CR2=(0x[0-9a-f]+)"), LONG)
                .is_ok()
        );
        // Turned back on, only new output counts.
        console.watch_for_crashes(true);
        qemu.write_all(b"still here\n").unwrap();
        assert!(console.expect(&Pattern::from("still here"), LONG).is_ok());
    }

    #[test]
    fn closed_stream_is_reported_without_waiting() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"last words\n").unwrap();
        drop(qemu);
        match console.expect(&Pattern::from("prompt"), LONG) {
            Err(ExpectError::StreamClosed { pattern, tail }) => {
                assert_eq!(pattern, "\"prompt\"");
                assert_eq!(tail, "last words");
            }
            other => panic!("expected the stream to be closed, got {other:?}"),
        }
        assert!(console.wait_closed(SHORT));
    }

    #[test]
    fn drained_means_both_streams_ended() {
        let (serial_reader, serial_writer) = std::io::pipe().unwrap();
        let (stderr_reader, stderr_writer) = std::io::pipe().unwrap();
        let console = SerialConsole::attach(serial_reader, stderr_reader);
        drop(serial_writer);
        assert!(console.wait_closed(LONG));
        assert!(!console.wait_drained(SHORT));
        drop(stderr_writer);
        assert!(console.wait_drained(LONG));
    }

    #[test]
    fn echoing_copies_the_serial_output() {
        let (serial_reader, mut serial_writer) = std::io::pipe().unwrap();
        let (mut echo_reader, echo_writer) = std::io::pipe().unwrap();
        let mut console = SerialConsole::attach_echoing(
            serial_reader,
            std::io::empty(),
            Some(Box::new(echo_writer)),
        );
        serial_writer.write_all(b"hello\r\n").unwrap();
        drop(serial_writer);
        assert!(console.expect(&Pattern::from("hello"), LONG).is_ok());
        assert!(console.wait_drained(LONG));
        drop(console);
        let mut echoed = String::new();
        echo_reader.read_to_string(&mut echoed).unwrap();
        assert_eq!(echoed, "hello\n");
    }

    #[test]
    fn test_deadline_cuts_a_long_step_timeout() {
        let (mut console, _qemu) = piped_console();
        console.set_deadline(Some(Instant::now() + SHORT));
        match console.expect(&Pattern::from("x"), Duration::from_secs(60)) {
            Err(ExpectError::Failed(Failure::Timeout {
                test_time_limit,
                waited,
                ..
            })) => {
                assert!(test_time_limit);
                assert!(waited < Duration::from_secs(5));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn an_enormous_timeout_is_not_an_overflow() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"ok\n").unwrap();
        assert!(console.expect(&Pattern::from("ok"), Duration::MAX).is_ok());
        drop(qemu);
        assert!(console.wait_closed(Duration::MAX));
    }

    #[test]
    fn an_expired_test_deadline_fails_at_once() {
        let (mut console, _qemu) = piped_console();
        console.set_deadline(Some(Instant::now() - Duration::from_secs(1)));
        assert!(matches!(
            console.expect(&Pattern::from("x"), LONG),
            Err(ExpectError::Failed(Failure::Timeout {
                test_time_limit: true,
                ..
            }))
        ));
    }

    #[test]
    fn expect_not_quotes_the_offending_line() {
        let (mut console, mut qemu) = piped_console();
        qemu.write_all(b"a\nusertests: FAILED\nb\n").unwrap();
        console.expect(&Pattern::from("b\n"), LONG).unwrap();
        assert_eq!(
            console.expect_not(&Pattern::from("FAILED")),
            Err(Failure::UnexpectedOutput {
                pattern: "\"FAILED\"".into(),
                line: "usertests: FAILED".into()
            })
        );
        assert_eq!(console.expect_not(&Pattern::from("PASSED")), Ok(()));
        assert_eq!(
            console.expect_not_since(console.cursor(), &Pattern::from("FAILED")),
            Ok(())
        );
    }

    #[test]
    fn bad_pattern_is_reported_not_panicked() {
        let (mut console, _qemu) = piped_console();
        assert!(matches!(
            console.expect(&Pattern::regex("(("), SHORT),
            Err(ExpectError::Failed(Failure::BadPattern(_)))
        ));
    }
}
