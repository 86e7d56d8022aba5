//! The CMOS real-time clock (a Motorola MC146818 and its descendants): the
//! battery-backed clock that knows the date while the machine is off.
//!
//! The clock is a small memory of registers behind two I/O ports: write a
//! register's number to [`INDEX_PORT`] (0x70), then read its value from
//! [`DATA_PORT`] (0x71). The registers this driver reads:
//!
//! | register | number | holds |
//! |---|---|---|
//! | seconds, minutes | 0x00, 0x02 | 0-59 |
//! | hours | 0x04 | 0-23, or 1-12 with bit 7 for PM (12-hour mode) |
//! | day of month, month, year | 0x07, 0x08, 0x09 | 1-31, 1-12, 0-99 |
//! | status A | 0x0A | bit 7: an update is in progress |
//! | status B | 0x0B | bit 1: 24-hour mode; bit 2: binary, not BCD |
//! | century | 0x32 | 19, 20, ... (named by ACPI's FADT; QEMU has it) |
//!
//! Three things make reading it more than six port reads:
//!
//! 1. **The clock ticks while you read.** Once a second the chip updates
//!    its registers, and while it does (status A's bit 7, *update in
//!    progress*) they may hold anything. And even between updates, a
//!    reading that straddles one is torn: 59 seconds, then the minute
//!    that follows them. So [`Rtc::read`] waits until no update is in
//!    progress, reads every register, and does it again until two
//!    readings in a row agree.
//! 2. **The numbers may be BCD.** In BCD mode (status B's bit 2 clear, the
//!    PC's default) each decimal digit takes four bits: 59 is `0x59`.
//!    [`bcd_to_binary`] converts.
//! 3. **The hour may be on a 12-hour dial.** With status B's bit 1 clear,
//!    hours run 12, 1, ..., 11, and bit 7 of the hour register means PM:
//!    12 AM is midnight (hour 0), 12 PM is noon.
//!
//! [`decode`] turns a reading ([`Registers`]) into a [`DateTime`], refusing
//! values that are no date (a clock that was never set, or no clock: a
//! port nobody answers reads `0xFF`). The driver never waits forever: a
//! clock stuck in an update, or one whose readings never agree, is an
//! error ([`RtcError`]), which the kernels turn into `EIO`.
//!
//! The same driver runs in the mono-kernel (`mono-kernel/src/rtc.rs`,
//! ring 0) and as the micro-kernel's `rtc` server (`micro-kernel/user/rtc`,
//! ring 3, with ports 0x70-0x71 granted by root). `docs/drivers.md` has
//! the chapter.

use crate::abi::errno::Errno;
use crate::port::PortIo;
use crate::time::DateTime;

/// The port a register's number is written to.
pub const INDEX_PORT: u16 = 0x70;
/// The port the selected register is read from.
pub const DATA_PORT: u16 = 0x71;

/// The registers' numbers.
pub mod register {
    /// Seconds, 0-59.
    pub const SECONDS: u8 = 0x00;
    /// Minutes, 0-59.
    pub const MINUTES: u8 = 0x02;
    /// Hours: 0-23, or 1-12 with [`super::HOUR_PM`] in 12-hour mode.
    pub const HOURS: u8 = 0x04;
    /// Day of the month, 1-31.
    pub const DAY: u8 = 0x07;
    /// Month, 1-12.
    pub const MONTH: u8 = 0x08;
    /// Year of the century, 0-99.
    pub const YEAR: u8 = 0x09;
    /// Status register A ([`super::STATUS_A_UPDATING`]).
    pub const STATUS_A: u8 = 0x0a;
    /// Status register B ([`super::STATUS_B_24_HOUR`], [`super::STATUS_B_BINARY`]).
    pub const STATUS_B: u8 = 0x0b;
    /// The century, 19-20 (the register ACPI's FADT names on a PC).
    pub const CENTURY: u8 = 0x32;
}

/// Status A, bit 7: the clock is updating its registers (do not read them).
pub const STATUS_A_UPDATING: u8 = 0x80;
/// Status B, bit 1: hours run 0-23 (clear: 12-hour mode).
pub const STATUS_B_24_HOUR: u8 = 0x02;
/// Status B, bit 2: the registers hold binary numbers (clear: BCD).
pub const STATUS_B_BINARY: u8 = 0x04;
/// In 12-hour mode, bit 7 of the hour register: the hour is PM.
pub const HOUR_PM: u8 = 0x80;

/// The century assumed when the century register holds no sensible
/// value (a machine without one).
pub const DEFAULT_CENTURY: u16 = 20;

/// How many times [`Rtc::wait_while_updating`] reads status A before it
/// gives up. An update takes about 2 ms; each read takes at least a
/// microsecond, so this is well over 100 ms.
pub const UPDATE_POLLS: u32 = 100_000;

/// How many readings [`Rtc::read`] takes, at most, to get two in a row
/// that agree (two suffice unless a second ends between them).
pub const MAX_READINGS: u32 = 8;

/// What went wrong reading the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcError {
    /// An update stayed in progress through [`UPDATE_POLLS`] reads.
    StuckUpdating,
    /// No two readings in a row agreed in [`MAX_READINGS`] readings.
    Unstable,
    /// A register holds no date or time (not BCD when it should be, a
    /// 13th month, a 25th hour): the clock is not set, or not there.
    BadValue,
    /// The driver does not do this yet (what lab `driver`'s starter
    /// code returns).
    NotImplemented,
}

impl RtcError {
    /// The error a system call reports for it: `ENOSYS` for
    /// [`RtcError::NotImplemented`], `EIO` (the device failed) otherwise.
    pub fn errno(self) -> Errno {
        match self {
            RtcError::NotImplemented => Errno::ENOSYS,
            _ => Errno::EIO,
        }
    }
}

/// One reading of the clock: the registers as they were, still in the
/// clock's format (BCD or binary, 12- or 24-hour, as `status_b` says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registers {
    /// Register 0x00.
    pub seconds: u8,
    /// Register 0x02.
    pub minutes: u8,
    /// Register 0x04 (bit 7 is PM in 12-hour mode).
    pub hours: u8,
    /// Register 0x07.
    pub day: u8,
    /// Register 0x08.
    pub month: u8,
    /// Register 0x09.
    pub year: u8,
    /// Register 0x32.
    pub century: u8,
    /// Status register B: the format of the others.
    pub status_b: u8,
}

/// The value of a BCD byte (`0x59` is 59), or `None` if a digit is not
/// 0-9 (`0x5A`: not BCD).
pub fn bcd_to_binary(bcd: u8) -> Option<u8> {
    // LAB driver BEGIN
    let (tens, ones) = (bcd >> 4, bcd & 0x0f);
    (tens <= 9 && ones <= 9).then_some(tens * 10 + ones)
    // LAB driver STUB
    //~ let _ = bcd;
    //~ None
    // LAB driver END
}

/// The date and time a reading holds, in the format its `status_b`
/// gives: every field converted from BCD unless [`STATUS_B_BINARY`] is
/// set; the hour from the 12-hour dial unless [`STATUS_B_24_HOUR`] is set
/// (12 AM is 0, 1 PM is 13, 12 PM is 12); the year from the century
/// register (or [`DEFAULT_CENTURY`] if that holds no number from 19 to
/// 99) and the year register. A field that is not a valid number, or a
/// date that does not exist (see [`DateTime::new`]), is
/// [`RtcError::BadValue`].
pub fn decode(registers: &Registers) -> Result<DateTime, RtcError> {
    // LAB driver BEGIN
    let binary = registers.status_b & STATUS_B_BINARY != 0;
    let number = |raw: u8| -> Result<u8, RtcError> {
        if binary {
            Ok(raw)
        } else {
            bcd_to_binary(raw).ok_or(RtcError::BadValue)
        }
    };
    let hour = if registers.status_b & STATUS_B_24_HOUR != 0 {
        number(registers.hours)?
    } else {
        // 12, 1, 2, ..., 11 on the dial are hours 0, 1, ..., 11 (AM) or
        // 12, 13, ..., 23 (PM).
        let dial = number(registers.hours & !HOUR_PM)?;
        if !(1..=12).contains(&dial) {
            return Err(RtcError::BadValue);
        }
        let pm = registers.hours & HOUR_PM != 0;
        dial % 12 + if pm { 12 } else { 0 }
    };
    let century = match number(registers.century) {
        Ok(century @ 19..=99) => u16::from(century),
        _ => DEFAULT_CENTURY,
    };
    let year = number(registers.year)?;
    if year > 99 {
        return Err(RtcError::BadValue);
    }
    DateTime::new(
        century * 100 + u16::from(year),
        number(registers.month)?,
        number(registers.day)?,
        hour,
        number(registers.minutes)?,
        number(registers.seconds)?,
    )
    .ok_or(RtcError::BadValue)
    // LAB driver STUB
    //~ let _ = registers;
    //~ Err(RtcError::NotImplemented)
    // LAB driver END
}

/// The clock, reached through `P` (the real ports, or a fake one in
/// tests).
#[derive(Debug)]
pub struct Rtc<P: PortIo> {
    ports: P,
}

impl<P: PortIo> Rtc<P> {
    /// The clock behind `ports`. Touches no port.
    pub const fn new(ports: P) -> Self {
        Rtc { ports }
    }

    /// The ports (for tests that look at what the driver did).
    pub fn ports(&self) -> &P {
        &self.ports
    }

    /// Reads register `number`: selects it, then reads it. (Bit 7 of the
    /// index port masks the non-maskable interrupt on a real PC; the
    /// driver leaves it clear, as Linux does.)
    pub fn register(&mut self, number: u8) -> u8 {
        self.ports.write_u8(INDEX_PORT, number & 0x7f);
        self.ports.read_u8(DATA_PORT)
    }

    /// Every register of a reading, one after the other, as they are now.
    pub fn read_registers(&mut self) -> Registers {
        Registers {
            seconds: self.register(register::SECONDS),
            minutes: self.register(register::MINUTES),
            hours: self.register(register::HOURS),
            day: self.register(register::DAY),
            month: self.register(register::MONTH),
            year: self.register(register::YEAR),
            century: self.register(register::CENTURY),
            status_b: self.register(register::STATUS_B),
        }
    }

    /// Returns once status A says no update is in progress, reading it at
    /// most [`UPDATE_POLLS`] times ([`RtcError::StuckUpdating`] after that).
    pub fn wait_while_updating(&mut self) -> Result<(), RtcError> {
        // LAB driver BEGIN
        for _ in 0..UPDATE_POLLS {
            if self.register(register::STATUS_A) & STATUS_A_UPDATING == 0 {
                return Ok(());
            }
        }
        Err(RtcError::StuckUpdating)
        // LAB driver STUB
        //~ Err(RtcError::NotImplemented)
        // LAB driver END
    }

    /// The date and time now: waits until no update is in progress, takes
    /// a reading, and repeats until two readings in a row are the same
    /// (at most [`MAX_READINGS`] readings, then [`RtcError::Unstable`]);
    /// then decodes it.
    pub fn read(&mut self) -> Result<DateTime, RtcError> {
        // LAB driver BEGIN
        let mut previous: Option<Registers> = None;
        for _ in 0..MAX_READINGS {
            self.wait_while_updating()?;
            let reading = self.read_registers();
            if previous == Some(reading) {
                return decode(&reading);
            }
            previous = Some(reading);
        }
        Err(RtcError::Unstable)
        // LAB driver STUB
        //~ Err(RtcError::NotImplemented)
        // LAB driver END
    }

    /// Seconds since the epoch, now (what the `time` system call returns).
    pub fn unix_seconds(&mut self) -> Result<u64, RtcError> {
        self.read().map(|now| now.to_unix_seconds())
    }
}

#[cfg(test)]
#[path = "rtc_tests.rs"]
mod tests;
