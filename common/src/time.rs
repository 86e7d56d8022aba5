//! Wall-clock time: a calendar date and time of day ([`DateTime`]), and
//! its conversion to and from *seconds since the epoch* (1970-01-01
//! 00:00:00 UTC, what the `time` system call returns).
//!
//! The real-time clock (`drivers::rtc`) gives a date and a time of day;
//! the kernels hand user programs one number, the seconds since the
//! epoch; `date` turns that number back into a date to print it. Both
//! directions are here, once, for the kernels, the servers and user
//! programs alike.
//!
//! The calendar is the proleptic Gregorian one in UTC: no time zones, no
//! leap seconds (as in POSIX time, every day has 86,400 seconds). The
//! day-count conversions are Howard Hinnant's `days_from_civil` and
//! `civil_from_days`: they count in *eras* of 400 years (146,097 days),
//! after which the Gregorian calendar repeats, with years that start on
//! 1 March so that the leap day is the last day of its year.

use core::fmt;

/// Seconds in a day (no leap seconds).
pub const SECONDS_PER_DAY: u64 = 86_400;

/// A date and a time of day, in UTC. A value made by [`DateTime::new`] or
/// [`DateTime::from_unix_seconds`] is always a real moment: the month is
/// 1..=12, the day exists in that month, the hour is 0..=23 and so on,
/// and the year is 1970 or later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime {
    /// The year, e.g. 2026.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31 (as many as the month has).
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
}

/// The names of the week's days, Monday first (ISO 8601 numbers them 1-7).
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Whether `year` has a 29 February.
pub const fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// How many days `month` (1..=12) of `year` has (0 for a month that does
/// not exist).
pub const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl DateTime {
    /// The moment given by its fields, or `None` if they do not name one
    /// (month 13, 30 February, minute 60, a year before 1970).
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let valid = year >= 1970
            && (1..=12).contains(&month)
            && day >= 1
            && u32::from(day) <= days_in_month(u32::from(year), u32::from(month))
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub fn to_unix_seconds(&self) -> u64 {
        let days = days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        );
        // `new` refuses years before 1970, so `days` is not negative.
        days as u64 * SECONDS_PER_DAY
            + u64::from(self.hour) * 3600
            + u64::from(self.minute) * 60
            + u64::from(self.second)
    }

    /// The moment `seconds` after the epoch (`None` past the year 65535).
    pub fn from_unix_seconds(seconds: u64) -> Option<Self> {
        let days = i64::try_from(seconds / SECONDS_PER_DAY).ok()?;
        let of_day = seconds % SECONDS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        Some(DateTime {
            year: u16::try_from(year).ok()?,
            month: month as u8,
            day: day as u8,
            hour: (of_day / 3600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
        })
    }

    /// The day of the week, 0 = Monday .. 6 = Sunday (1970-01-01 was a
    /// Thursday).
    pub fn weekday(&self) -> usize {
        let days = self.to_unix_seconds() / SECONDS_PER_DAY;
        ((days + 3) % 7) as usize
    }
}

impl fmt::Display for DateTime {
    /// `Fri 2026-01-02 03:04:05 UTC`: what `date` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            WEEKDAYS[self.weekday()],
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// Days from 1970-01-01 to `year-month-day` (negative before it).
/// `month` is 1..=12 and `day` 1..=31.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Count years from 1 March: January and February belong to the
    // year before, so the leap day ends its year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400); // 0..=399
    let month_from_march = (i64::from(month) + 9) % 12; // March = 0 .. February = 11
    // Days before the month's first day, counted from 1 March: the
    // months' lengths 31 30 31 30 31 31 30 31 30 31 31 28 follow this line.
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days lie between 0000-03-01 and 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` days after 1970-01-01: `(year, month, day)`, the
/// inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097); // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_day_zero_a_thursday() {
        let epoch = DateTime::new(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(epoch.to_unix_seconds(), 0);
        assert_eq!(WEEKDAYS[epoch.weekday()], "Thu");
        assert_eq!(DateTime::from_unix_seconds(0), Some(epoch));
    }

    #[test]
    fn known_moments_match_their_seconds() {
        // Each checked with `date -u -d @SECONDS` on a Linux host.
        for (seconds, fields, text) in [
            (
                1_767_323_045,
                (2026, 1, 2, 3, 4, 5),
                "Fri 2026-01-02 03:04:05 UTC",
            ),
            (
                946_684_799,
                (1999, 12, 31, 23, 59, 59),
                "Fri 1999-12-31 23:59:59 UTC",
            ),
            (
                951_782_400,
                (2000, 2, 29, 0, 0, 0),
                "Tue 2000-02-29 00:00:00 UTC",
            ),
            (
                4_107_542_399,
                (2100, 2, 28, 23, 59, 59),
                "Sun 2100-02-28 23:59:59 UTC",
            ),
        ] {
            let (year, month, day, hour, minute, second) = fields;
            let moment = DateTime::new(year, month, day, hour, minute, second).unwrap();
            assert_eq!(moment.to_unix_seconds(), seconds, "{text}");
            assert_eq!(DateTime::from_unix_seconds(seconds), Some(moment));
            assert_eq!(moment.to_string(), text);
        }
    }

    #[test]
    fn every_day_for_five_centuries_round_trips() {
        let mut previous = None;
        for days in 0..(530 * 366) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            assert!(day >= 1 && day <= days_in_month(year as u32, month));
            if let Some((y, m, d)) = previous {
                // The next day of (y, m, d): the day after, or the 1st of
                // the next month, or 1 January.
                let expected = if d < days_in_month(y as u32, m) {
                    (y, m, d + 1)
                } else if m < 12 {
                    (y, m + 1, 1)
                } else {
                    (y + 1, 1, 1)
                };
                assert_eq!((year, month, day), expected);
            }
            previous = Some((year, month, day));
        }
    }

    #[test]
    fn impossible_moments_are_refused() {
        assert_eq!(DateTime::new(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(DateTime::new(2026, 0, 1, 0, 0, 0), None);
        assert_eq!(DateTime::new(2026, 2, 29, 0, 0, 0), None);
        assert!(DateTime::new(2028, 2, 29, 0, 0, 0).is_some());
        assert_eq!(DateTime::new(1900, 2, 29, 0, 0, 0), None);
        assert_eq!(DateTime::new(2026, 4, 31, 0, 0, 0), None);
        assert_eq!(DateTime::new(2026, 1, 0, 0, 0, 0), None);
        assert_eq!(DateTime::new(2026, 1, 1, 24, 0, 0), None);
        assert_eq!(DateTime::new(2026, 1, 1, 0, 60, 0), None);
        assert_eq!(DateTime::new(2026, 1, 1, 0, 0, 60), None);
        assert_eq!(DateTime::new(1969, 12, 31, 23, 59, 59), None);
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        assert!(is_leap_year(2024) && is_leap_year(2000) && is_leap_year(2400));
        assert!(!is_leap_year(2026) && !is_leap_year(1900) && !is_leap_year(2100));
    }
}
