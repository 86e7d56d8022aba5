// LAB driver FILE
//! Lab `driver`'s hidden host tests: the shared real-time clock driver
//! (`common::drivers::rtc`) on readings and clocks the student's own tests
//! may not have tried — the ends of the 12-hour dial in binary, the
//! century register, a tick between the two readings that must agree, a
//! clock that reports an update more than once. Course-owned: this file is
//! left out of the lab's starter (`// LAB driver FILE`) and put back when
//! the staff grade (`make grade-batch`).

use common::drivers::fake_cmos::FakeCmos;
use common::drivers::rtc::{
    HOUR_PM, Registers, Rtc, RtcError, STATUS_B_24_HOUR, STATUS_B_BINARY, bcd_to_binary, decode,
};
use common::time::DateTime;

/// 2031-07-14 21:45:30, binary, 12-hour: 9 PM.
fn binary_evening() -> Registers {
    Registers {
        seconds: 30,
        minutes: 45,
        hours: HOUR_PM | 9,
        day: 14,
        month: 7,
        year: 31,
        century: 20,
        status_b: STATUS_B_BINARY,
    }
}

fn moment(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
    DateTime::new(year, month, day, hour, minute, second).expect("a real moment")
}

#[test]
fn every_bcd_byte_converts_or_is_refused() {
    for byte in 0..=255u8 {
        let (tens, ones) = (byte >> 4, byte & 0xf);
        let expected = (tens < 10 && ones < 10).then_some(tens * 10 + ones);
        assert_eq!(bcd_to_binary(byte), expected, "{byte:#04x}");
    }
}

#[test]
fn binary_12_hour_readings_decode() {
    assert_eq!(
        decode(&binary_evening()),
        Ok(moment(2031, 7, 14, 21, 45, 30))
    );
    let hour = |hours: u8| {
        decode(&Registers {
            hours,
            ..binary_evening()
        })
        .map(|time| time.hour)
    };
    assert_eq!(hour(12), Ok(0), "12 AM");
    assert_eq!(hour(1), Ok(1), "1 AM");
    assert_eq!(hour(11), Ok(11), "11 AM");
    assert_eq!(hour(HOUR_PM | 12), Ok(12), "12 PM");
    assert_eq!(hour(HOUR_PM | 1), Ok(13), "1 PM");
    assert_eq!(hour(13), Err(RtcError::BadValue), "13 on a 12-hour dial");
    assert_eq!(hour(HOUR_PM), Err(RtcError::BadValue), "0 PM");
}

#[test]
fn the_pm_bit_is_not_part_of_a_24_hour_hour() {
    let registers = Registers {
        hours: 0x80 | 0x05,
        status_b: STATUS_B_24_HOUR,
        ..Registers::default()
    };
    assert_eq!(decode(&registers), Err(RtcError::BadValue));
}

#[test]
fn the_century_comes_from_its_register() {
    // The other fields in BCD (they are below 10, so the same in binary).
    let at = |century: u8, year: u8, status_b: u8| {
        decode(&Registers {
            seconds: 0x01,
            minutes: 0x02,
            hours: 0x03,
            day: 0x04,
            month: 0x05,
            year,
            century,
            status_b: status_b | STATUS_B_24_HOUR,
        })
        .map(|time| time.year)
    };
    assert_eq!(at(0x19, 0x99, 0), Ok(1999), "BCD 19, 99");
    assert_eq!(at(0x20, 0x00, 0), Ok(2000), "BCD 20, 00");
    assert_eq!(at(21, 5, STATUS_B_BINARY), Ok(2105), "binary 21, 05");
    assert_eq!(at(0xff, 0x26, 0), Ok(2026), "no century register: 20");
    assert_eq!(at(0x00, 0x26, 0), Ok(2026), "century 0: 20");
    assert_eq!(
        at(20, 100, STATUS_B_BINARY),
        Err(RtcError::BadValue),
        "year 100"
    );
}

#[test]
fn a_tick_inside_the_second_reading_is_not_believed() {
    let bcd = |minutes: u8, seconds: u8| Registers {
        seconds,
        minutes,
        hours: 0x12,
        day: 0x01,
        month: 0x01,
        year: 0x00,
        century: 0x20,
        status_b: STATUS_B_24_HOUR,
    };
    let mut cmos = FakeCmos::new(bcd(0x00, 0x59));
    // One reading is status A and eight registers: the tick to 12:01:00
    // lands inside the second reading, after its seconds (59), so that
    // reading says 12:01:59 and differs from both its neighbours.
    cmos.change_after(9 + 2, bcd(0x01, 0x00));
    let mut rtc = Rtc::new(cmos);
    assert_eq!(rtc.read(), Ok(moment(2000, 1, 1, 12, 1, 0)));
}

#[test]
fn every_reading_waits_for_the_update_to_end() {
    let mut cmos = FakeCmos::new(binary_evening());
    cmos.updating_for(3);
    // The clock ticks (and updates again) between the readings.
    cmos.change_after(
        12,
        Registers {
            seconds: 31,
            ..binary_evening()
        },
    );
    let mut rtc = Rtc::new(cmos);
    let read = rtc.read();
    assert!(
        read == Ok(moment(2031, 7, 14, 21, 45, 30)) || read == Ok(moment(2031, 7, 14, 21, 45, 31)),
        "{read:?}"
    );
    assert_eq!(rtc.ports().reads_while_updating(), 0);
}

#[test]
fn a_missing_clock_is_an_error_not_a_hang() {
    // No device: every read of the data port is 0xFF, so status A says
    // "updating" forever.
    struct Nothing;
    impl common::port::PortIo for Nothing {
        fn read_u8(&mut self, _: u16) -> u8 {
            0xff
        }
        fn write_u8(&mut self, _: u16, _: u8) {}
        fn read_u16(&mut self, _: u16) -> u16 {
            0xffff
        }
        fn write_u16(&mut self, _: u16, _: u16) {}
    }
    assert_eq!(Rtc::new(Nothing).read(), Err(RtcError::StuckUpdating));
}
