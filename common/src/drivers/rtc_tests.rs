//! Host tests for the real-time clock driver: the conversions (BCD, the
//! 12-hour dial, the century) on readings written by hand, and the reading
//! protocol (wait for the update, read until two readings agree) against
//! `FakeCmos`. They are lab `driver`'s host tests (`cargo test -p common
//! --lib drivers::rtc`).

use super::*;
use crate::drivers::fake_cmos::FakeCmos;

/// Status B of a PC's clock as QEMU starts it: BCD, 24-hour.
const BCD_24: u8 = STATUS_B_24_HOUR;
/// Binary, 24-hour.
const BINARY_24: u8 = STATUS_B_24_HOUR | STATUS_B_BINARY;
/// BCD, 12-hour.
const BCD_12: u8 = 0;
/// Binary, 12-hour.
const BINARY_12: u8 = STATUS_B_BINARY;

/// 2026-01-02 03:04:05 in BCD, 24-hour.
fn reading() -> Registers {
    Registers {
        seconds: 0x05,
        minutes: 0x04,
        hours: 0x03,
        day: 0x02,
        month: 0x01,
        year: 0x26,
        century: 0x20,
        status_b: BCD_24,
    }
}

fn moment(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
    DateTime::new(year, month, day, hour, minute, second).expect("a real moment")
}

#[test]
fn bcd_digits_become_numbers() {
    assert_eq!(bcd_to_binary(0x00), Some(0));
    assert_eq!(bcd_to_binary(0x09), Some(9));
    assert_eq!(bcd_to_binary(0x10), Some(10));
    assert_eq!(bcd_to_binary(0x59), Some(59));
    assert_eq!(bcd_to_binary(0x99), Some(99));
}

#[test]
fn bytes_that_are_not_bcd_are_refused() {
    assert_eq!(bcd_to_binary(0x0a), None);
    assert_eq!(bcd_to_binary(0x5f), None);
    assert_eq!(bcd_to_binary(0xa0), None);
    assert_eq!(bcd_to_binary(0xff), None);
}

#[test]
fn a_bcd_24_hour_reading_decodes() {
    assert_eq!(decode(&reading()), Ok(moment(2026, 1, 2, 3, 4, 5)));
    let evening = Registers {
        seconds: 0x59,
        minutes: 0x58,
        hours: 0x23,
        day: 0x31,
        month: 0x12,
        year: 0x99,
        century: 0x19,
        status_b: BCD_24,
    };
    assert_eq!(decode(&evening), Ok(moment(1999, 12, 31, 23, 58, 59)));
}

#[test]
fn a_binary_24_hour_reading_decodes() {
    let binary = Registers {
        seconds: 45,
        minutes: 30,
        hours: 17,
        day: 28,
        month: 2,
        year: 26,
        century: 20,
        status_b: BINARY_24,
    };
    assert_eq!(decode(&binary), Ok(moment(2026, 2, 28, 17, 30, 45)));
}

#[test]
fn the_12_hour_dial_gives_24_hour_time() {
    let at = |hours: u8, status_b: u8| {
        decode(&Registers {
            hours,
            status_b,
            ..reading()
        })
        .map(|time| time.hour)
    };
    assert_eq!(at(0x03, BCD_12), Ok(3), "3 AM");
    assert_eq!(at(HOUR_PM | 0x03, BCD_12), Ok(15), "3 PM");
    assert_eq!(at(HOUR_PM | 0x11, BCD_12), Ok(23), "11 PM, BCD");
    assert_eq!(at(HOUR_PM | 11, BINARY_12), Ok(23), "11 PM, binary");
    assert_eq!(at(0x12, BCD_12), Ok(0), "12 AM is midnight");
    assert_eq!(at(HOUR_PM | 0x12, BCD_12), Ok(12), "12 PM is noon");
}

#[test]
fn readings_that_are_no_date_are_refused() {
    let bad = |change: fn(&mut Registers)| {
        let mut registers = reading();
        change(&mut registers);
        decode(&registers)
    };
    assert_eq!(
        bad(|r| r.seconds = 0x5a),
        Err(RtcError::BadValue),
        "not BCD"
    );
    assert_eq!(bad(|r| r.month = 0x13), Err(RtcError::BadValue), "month 13");
    assert_eq!(bad(|r| r.day = 0x00), Err(RtcError::BadValue), "day 0");
    assert_eq!(bad(|r| r.hours = 0x24), Err(RtcError::BadValue), "hour 24");
    assert_eq!(
        bad(|r| {
            r.status_b = BCD_12;
            r.hours = 0x00;
        }),
        Err(RtcError::BadValue),
        "no 0 on a 12-hour dial"
    );
    assert_eq!(
        bad(|r| *r = Registers {
            status_b: 0xff,
            ..Registers::default()
        }),
        Err(RtcError::BadValue),
        "no clock: every port reads 0xFF"
    );
}

#[test]
fn the_clock_is_read_when_no_update_is_in_progress() {
    let mut cmos = FakeCmos::new(reading());
    cmos.updating_for(5);
    let mut rtc = Rtc::new(cmos);
    assert_eq!(rtc.read(), Ok(moment(2026, 1, 2, 3, 4, 5)));
    assert_eq!(rtc.ports().reads_while_updating(), 0);
}

#[test]
fn a_reading_torn_by_a_tick_is_taken_again() {
    // The clock ticks from 03:04:59 to 03:05:00 after the driver has read
    // the seconds (59) of its first reading, so that reading says 03:05:59.
    let before = Registers {
        seconds: 0x59,
        ..reading()
    };
    let after = Registers {
        seconds: 0x00,
        minutes: 0x05,
        ..reading()
    };
    let mut cmos = FakeCmos::new(before);
    // Status A, then the seconds register: the tick comes after them.
    cmos.change_after(2, after);
    let mut rtc = Rtc::new(cmos);
    assert_eq!(rtc.read(), Ok(moment(2026, 1, 2, 3, 5, 0)));
}

#[test]
fn a_clock_that_never_stops_updating_is_an_error() {
    let mut cmos = FakeCmos::new(reading());
    cmos.updating_for(u32::MAX);
    let mut rtc = Rtc::new(cmos);
    assert_eq!(rtc.read(), Err(RtcError::StuckUpdating));
    assert_eq!(rtc.ports().reads_while_updating(), 0);
}

#[test]
fn readings_that_never_agree_are_an_error() {
    let mut cmos = FakeCmos::new(reading());
    // A tick after every read: no two readings are the same.
    for second in 0..200u8 {
        let seconds = ((second % 60 / 10) << 4) | (second % 10);
        cmos.change_after(
            1,
            Registers {
                seconds,
                ..reading()
            },
        );
    }
    let mut rtc = Rtc::new(cmos);
    assert_eq!(rtc.read(), Err(RtcError::Unstable));
}

#[test]
fn seconds_since_the_epoch() {
    let mut rtc = Rtc::new(FakeCmos::new(reading()));
    assert_eq!(rtc.unix_seconds(), Ok(1_767_323_045));
}
