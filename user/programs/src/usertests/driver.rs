//! Lab `driver`'s tests (`labs/driver/handout.md`): the `time` call, which
//! reads the real-time clock through the shared driver
//! (`common::drivers::rtc`) — in the mono-kernel, or in the micro-kernel's
//! rtc server. In the lab's starter `time` answers `ENOSYS` and these
//! tests fail until the student writes the driver and both paths to it.
//!
//! | test | what |
//! |------|------|
//! | [`driver_time`] | `time()` gives a moment of this century, and two calls in a row agree |
//! | [`driver_time_ticks`] | the clock advances, one second at a time, and never goes back (a reading torn by a tick would) |
//! | [`driver_rtc_bad_requests`] | micro-kernel: the rtc server answers a malformed request with an error and keeps serving (mono-kernel: nothing to test) |

use super::util::Context;
use super::{Test, TestResult};
use crate::ensure;
use common::time::DateTime;
use ulib::{time, uptime};

pub const TESTS: &[Test] = &[
    Test::quick("driver_time", driver_time),
    Test::quick("driver_time_ticks", driver_time_ticks),
    Test::quick("driver_rtc_bad_requests", driver_rtc_bad_requests),
];

/// 2000-01-01 00:00:00 UTC.
const YEAR_2000: u64 = 946_684_800;
/// 2100-01-01 00:00:00 UTC.
const YEAR_2100: u64 = 4_102_444_800;

/// `time()` is a moment between 2000 and 2100, a real date, and the next
/// call gives the same second or a later one (by a second or two: the
/// clock ticks, the process may be preempted).
fn driver_time() -> TestResult {
    let first = time().context("time")?;
    ensure!(
        (YEAR_2000..YEAR_2100).contains(&first),
        "time() = {} is not a moment between 2000 and 2100",
        first
    );
    ensure!(
        DateTime::from_unix_seconds(first).is_some(),
        "time() = {} is no date",
        first
    );
    let second = time().context("time, again")?;
    ensure!(
        (first..=first + 2).contains(&second),
        "time() gave {} and then {}",
        first,
        second
    );
    Ok(())
}

/// Calls `time()` until the clock has ticked twice: every value is the one
/// before or one to five seconds later (never earlier: a reading torn by
/// an update — 59 seconds, then the next minute — would be a minute
/// ahead and then go back). Gives up after 5 s of uptime.
fn driver_time_ticks() -> TestResult {
    let start = uptime().context("uptime")?;
    let mut previous = time().context("time")?;
    let mut ticks = 0;
    let mut calls = 0u64;
    while ticks < 2 {
        let now = time().context("time")?;
        calls += 1;
        ensure!(
            now >= previous,
            "the clock went back from {} to {} (after {} calls)",
            previous,
            now,
            calls
        );
        ensure!(
            now <= previous + 5,
            "the clock jumped from {} to {} (after {} calls)",
            previous,
            now,
            calls
        );
        if now > previous {
            ticks += 1;
        }
        previous = now;
        let waited = uptime().context("uptime")? - start;
        ensure!(
            waited < 500,
            "the clock ticked {} times in 5 s of uptime ({} calls)",
            ticks,
            calls
        );
    }
    Ok(())
}

#[cfg(not(feature = "micro"))]
fn driver_rtc_bad_requests() -> TestResult {
    Ok(())
}

/// Any program may send the rtc server any message: one with a label no
/// protocol has, one of another server's protocol (proc's `Getpid`), and
/// the highest label a program may use, each get an error reply (`ENOSYS`), and the server goes on answering
/// `time`.
#[cfg(feature = "micro")]
fn driver_rtc_bad_requests() -> TestResult {
    use super::util::expect_errno;
    use alloc::format;
    use common::abi::proto::proc::ProcOp;
    use common::abi::proto::rtc::RtcOp;
    use l4::{Message, ThreadId, rpc};
    use ulib::Errno;

    let rtc = ThreadId(ulib::sys::rtc_thread());
    // The last is the highest label a program may send (from
    // `label::KERNEL_FIRST` on they are the kernel's).
    let highest = common::abi::micro::label::KERNEL_FIRST - 1;
    for label in [RtcOp::Time.label() + 1, ProcOp::Getpid.label(), highest] {
        let reply = rpc::call(rtc, &Message::new(label, &[1, 2, 3]));
        expect_errno(
            reply,
            Errno::ENOSYS,
            &format!("a message with label {label:#x}, which the rtc server does not know"),
        )?;
        time().context("time, after a bad request")?;
    }
    Ok(())
}
