//! Why a test failed, said precisely enough that a student can act on it.
//!
//! Every way a test can go wrong is one variant of [`Failure`]; its `Display`
//! is the message printed after `FAIL` and put in the Gradescope output. The
//! messages carry the evidence: which pattern was awaited and for how long,
//! the last lines the kernel printed, QEMU's exit status and stderr.

use crate::qemu::ExitStatus;
use std::fmt;
use std::time::Duration;

/// How many lines of serial output a failure message quotes.
pub const TAIL_LINES: usize = 20;

/// A failed test, or a failed step of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The awaited pattern did not appear in time.
    Timeout {
        /// How long the harness waited.
        waited: Duration,
        /// The pattern, as displayed (`"text"` or `/regex/`).
        pattern: String,
        /// The test's overall time limit ran out (rather than this step's timeout).
        test_time_limit: bool,
        /// The last lines of serial output.
        tail: String,
    },
    /// The kernel printed a panic or CPU exception banner.
    KernelCrashed {
        /// The report, from the banner line on.
        report: String,
    },
    /// QEMU ended while the test was waiting for output.
    EmulatorExited {
        /// How it ended.
        status: ExitStatus,
        /// The pattern the test was waiting for.
        pattern: String,
        /// QEMU's standard error.
        stderr: String,
        /// The last lines of serial output.
        tail: String,
    },
    /// The kernel did not print its boot banner.
    NoBootBanner {
        /// The banner text expected.
        banner: String,
        /// What happened instead.
        cause: Box<Failure>,
    },
    /// Output that must not appear did.
    UnexpectedOutput {
        /// The forbidden pattern.
        pattern: String,
        /// The line it was found on.
        line: String,
    },
    /// QEMU ended, but not the way the test expected.
    WrongExitStatus {
        /// What the test expected, in words.
        expected: String,
        /// What happened.
        got: ExitStatus,
        /// The last lines of serial output.
        tail: String,
    },
    /// A check written in the test failed; the message says which.
    Check(String),
    /// A test used a regular expression that does not compile.
    BadPattern(String),
    /// The harness could not run the test: a missing file, QEMU would not start.
    Setup(String),
    /// The test was not run because a test it depends on failed.
    DependencyFailed {
        /// The full name of that test (`boot/mono`).
        dependency: String,
    },
}

impl Failure {
    /// A failed check with this message, for use in tests:
    /// `return Err(Failure::check(format!("expected 3 files, saw {n}")))`.
    pub fn check(message: impl Into<String>) -> Failure {
        Failure::Check(message.into())
    }

    /// Fails with `message` unless `condition` holds.
    pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), Failure> {
        if condition {
            Ok(())
        } else {
            Err(Failure::Check(message()))
        }
    }
}

/// Quotes serial output, each line indented with `| ` so it stands apart
/// from the harness's own words.
fn write_quoted(f: &mut fmt::Formatter<'_>, heading: &str, text: &str) -> fmt::Result {
    if text.trim().is_empty() {
        return write!(f, "\n  ({heading}: nothing)");
    }
    write!(f, "\n  {heading}:")?;
    for line in text.trim_end_matches('\n').lines() {
        write!(f, "\n  | {line}")?;
    }
    Ok(())
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail_heading = format!("last {TAIL_LINES} lines of serial output");
        match self {
            Failure::Timeout {
                waited,
                pattern,
                test_time_limit,
                tail,
            } => {
                let why = if *test_time_limit {
                    " (the test's time limit)"
                } else {
                    ""
                };
                write!(
                    f,
                    "timed out after {}{why} waiting for {pattern}",
                    format_duration(*waited)
                )?;
                write_quoted(f, &tail_heading, tail)
            }
            Failure::KernelCrashed { report } => {
                write!(f, "the kernel crashed")?;
                write_quoted(f, "its report", report)
            }
            Failure::EmulatorExited {
                status,
                pattern,
                stderr,
                tail,
            } => {
                write!(f, "QEMU exited ({status}) while waiting for {pattern}")?;
                write_quoted(f, &tail_heading, tail)?;
                if !stderr.trim().is_empty() {
                    write_quoted(f, "QEMU stderr", stderr)?;
                }
                Ok(())
            }
            Failure::NoBootBanner { banner, cause } => {
                write!(f, "no boot banner ({banner:?}): {cause}")
            }
            Failure::UnexpectedOutput { pattern, line } => {
                write!(f, "unexpected output matching {pattern}: {:?}", line)
            }
            Failure::WrongExitStatus {
                expected,
                got,
                tail,
            } => {
                write!(f, "expected {expected}, but {got}")?;
                write_quoted(f, &tail_heading, tail)
            }
            Failure::Check(message) => f.write_str(message),
            Failure::BadPattern(message) => write!(f, "bug in the test: {message}"),
            Failure::Setup(message) => write!(f, "could not run the test: {message}"),
            Failure::DependencyFailed { dependency } => {
                write!(f, "not run: it needs {dependency}, which failed")
            }
        }
    }
}

impl std::error::Error for Failure {}

/// `1.5s`, `30s`, `250ms`: short and readable.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{seconds:.1}s")
    }
}

/// The last `count` lines of `text`.
pub fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_pattern_duration_and_output() {
        let failure = Failure::Timeout {
            waited: Duration::from_secs(30),
            pattern: r"/(?m)^\$ /".into(),
            test_time_limit: false,
            tail: "init: starting sh\nsh: cannot open console".into(),
        };
        let message = failure.to_string();
        assert!(
            message.starts_with(r"timed out after 30s waiting for /(?m)^\$ /"),
            "{message}"
        );
        assert!(
            message.contains("last 20 lines of serial output:"),
            "{message}"
        );
        assert!(message.contains("  | sh: cannot open console"), "{message}");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn ensure_passes_or_fails_with_the_message() {
        assert_eq!(Failure::ensure(true, || unreachable!()), Ok(()));
        assert_eq!(
            Failure::ensure(false, || "3 != 4".into()),
            Err(Failure::Check("3 != 4".into()))
        );
    }
}
