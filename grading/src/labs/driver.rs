//! Lab `driver`'s session tests: `date` on each kernel, with QEMU's
//! real-time clock started at a known moment (`-rtc base=...`), its output
//! read back into a moment and compared with that one.
//!
//! QEMU's clock starts at the base and from there runs with the host's
//! clock, so by the time the kernel has booted and `date` runs it is some
//! seconds later: the test accepts any moment from the base to
//! [`WINDOW_SECONDS`] after it (the test's own time limit is shorter).
//! The date is checked field by field against a calendar written here,
//! independently of the one in `common::time`, weekday included.

use crate::failure::Failure;
use crate::session::Session;
use regex::Regex;

/// Where the clock starts for the visible test.
pub const BASE: &str = "2026-01-02T03:04:05";
/// [`BASE`] in seconds since the epoch (`date -u -d 2026-01-02T03:04:05Z +%s`).
pub const BASE_SECONDS: u64 = 1_767_323_045;
/// Where the clock starts for the hidden test: 15 seconds before 2000,
/// in a century of its own (the century register says 19, the year
/// register 99, the hours 23: BCD digits above 9 everywhere).
pub const HIDDEN_BASE: &str = "1999-12-31T23:59:45";
/// [`HIDDEN_BASE`] in seconds since the epoch.
pub const HIDDEN_BASE_SECONDS: u64 = 946_684_785;
/// How far past the base the clock may be when `date` runs.
pub const WINDOW_SECONDS: u64 = 600;

/// `date` with the clock started at [`BASE`].
pub fn date(session: &mut Session) -> Result<(), Failure> {
    date_near(session, BASE_SECONDS)
}

/// `date` with the clock started at [`HIDDEN_BASE`].
pub fn date_1999(session: &mut Session) -> Result<(), Failure> {
    date_near(session, HIDDEN_BASE_SECONDS)
}

/// Runs `date` and `date -s`: the first must print one line, `Www
/// YYYY-MM-DD hh:mm:ss UTC`, of a moment from `base` to `base +
/// WINDOW_SECONDS`, with the right weekday; the second that moment's
/// seconds since the epoch, or a second or two later.
fn date_near(session: &mut Session, base: u64) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("date")?;
    let shown = parse_date(&output).ok_or_else(|| {
        Failure::check(format!(
            "`date` printed {output:?}, expected one line like \"Fri 2026-01-02 03:04:05 UTC\""
        ))
    })?;
    Failure::ensure((base..=base + WINDOW_SECONDS).contains(&shown), || {
        format!(
            "`date` printed {output:?}: {} seconds after 1970, expected a moment from {} to {} \
             (the clock started at {})",
            shown,
            format_seconds(base),
            format_seconds(base + WINDOW_SECONDS),
            format_seconds(base)
        )
    })?;
    let output = session.run_command("date -s")?;
    let seconds: Option<u64> = output.strip_suffix('\n').and_then(|line| line.parse().ok());
    Failure::ensure(
        seconds.is_some_and(|seconds| (shown..=shown + 5).contains(&seconds)),
        || {
            format!(
                "`date -s` printed {output:?}, expected the seconds since 1970, {shown} or a few more"
            )
        },
    )?;
    session.expect_not("KERNEL PANIC")?;
    session.kill();
    Ok(())
}

/// The weekdays, as `date` abbreviates them, Monday first.
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The seconds since the epoch of a `date` line, if it is one line of the
/// right form, names a real moment, and its weekday is that moment's.
fn parse_date(output: &str) -> Option<u64> {
    let pattern = Regex::new(
        r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC\n$",
    )
    .expect("a valid pattern");
    let captures = pattern.captures(output)?;
    let field = |index: usize| -> u64 { captures[index].parse().expect("digits") };
    let (year, month, day) = (field(2), field(3), field(4));
    let (hour, minute, second) = (field(5), field(6), field(7));
    if year < 1970
        || !(1..=12).contains(&month)
        || day < 1
        || day > month_days(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    // 1970-01-01 was a Thursday.
    if WEEKDAYS[((days + 3) % 7) as usize] != &captures[1] {
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `seconds` since the epoch as `YYYY-MM-DD hh:mm:ss` (for messages).
fn format_seconds(seconds: u64) -> String {
    let (mut days, of_day) = (seconds / 86_400, seconds % 86_400);
    let mut year = 1970;
    while days >= year_days(year) {
        days -= year_days(year);
        year += 1;
    }
    let mut month = 1;
    while days >= month_days(year, month) {
        days -= month_days(year, month);
        month += 1;
    }
    format!(
        "{year:04}-{month:02}-{:02} {:02}:{:02}:{:02}",
        days + 1,
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Whether `year` has a 29 February.
fn leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn year_days(year: u64) -> u64 {
    if leap(year) { 366 } else { 365 }
}

fn month_days(year: u64, month: u64) -> u64 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date, counted a year and a month at a time.
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let years: u64 = (1970..year).map(year_days).sum();
    let months: u64 = (1..month).map(|m| month_days(year, m)).sum();
    years + months + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bases_are_the_seconds_they_say() {
        assert_eq!(
            parse_date("Fri 2026-01-02 03:04:05 UTC\n"),
            Some(BASE_SECONDS)
        );
        assert_eq!(
            parse_date("Fri 1999-12-31 23:59:45 UTC\n"),
            Some(HIDDEN_BASE_SECONDS)
        );
        assert_eq!(format_seconds(BASE_SECONDS), "2026-01-02 03:04:05");
        assert_eq!(
            format_seconds(HIDDEN_BASE_SECONDS + 15),
            "2000-01-01 00:00:00"
        );
        assert!(BASE.starts_with("2026-01-02T") && HIDDEN_BASE.starts_with("1999-12-31T"));
    }

    #[test]
    fn wrong_lines_are_not_dates() {
        for line in [
            "Sat 2026-01-02 03:04:05 UTC\n", // wrong weekday
            "Fri 2026-01-02 03:04:05 UTC",   // no newline
            "Fri 2026-01-02 03:04:05 UTC\nmore\n",
            "Fri 2026-02-30 03:04:05 UTC\n",
            "Fri 2026-01-02 24:04:05 UTC\n",
            "date: cannot read the clock: input/output error (EIO)\n",
            "",
        ] {
            assert_eq!(parse_date(line), None, "{line:?}");
        }
    }
}
