//! A fake CMOS real-time clock for host tests of `drivers::rtc`: a register
//! file behind the index and data ports, with an update in progress and a
//! clock that ticks in the middle of a reading, on request.
//!
//! It is public (for host builds only) so that other host tests — the
//! grader's tests of lab `driver` — can drive the real driver against it.

use alloc::collections::VecDeque;

use super::rtc::{DATA_PORT, INDEX_PORT, Registers, STATUS_A_UPDATING, register};
use crate::port::PortIo;

/// A clock with 128 bytes of CMOS memory.
#[derive(Debug, Clone)]
pub struct FakeCmos {
    /// The registers, by number.
    memory: [u8; 128],
    /// The register the index port selects.
    index: u8,
    /// How many more reads of status A report an update in progress.
    updating_reads: u32,
    /// Whether the last read of status A reported an update in progress.
    updating: bool,
    /// Changes to come: after that many more data-port reads, the time
    /// registers take these values (the clock ticked).
    changes: VecDeque<(u32, Registers)>,
    /// Data-port reads so far.
    data_reads: u32,
    /// Reads of a time register made while the last read of status A said
    /// an update was in progress (a driver must make none).
    reads_while_updating: u32,
}

impl FakeCmos {
    /// A clock whose registers hold `now`, not updating.
    pub fn new(now: Registers) -> Self {
        let mut cmos = FakeCmos {
            memory: [0; 128],
            index: 0,
            updating_reads: 0,
            updating: false,
            changes: VecDeque::new(),
            data_reads: 0,
            reads_while_updating: 0,
        };
        cmos.set(&now);
        cmos
    }

    /// Puts `now` in the registers.
    pub fn set(&mut self, now: &Registers) {
        self.memory[usize::from(register::SECONDS)] = now.seconds;
        self.memory[usize::from(register::MINUTES)] = now.minutes;
        self.memory[usize::from(register::HOURS)] = now.hours;
        self.memory[usize::from(register::DAY)] = now.day;
        self.memory[usize::from(register::MONTH)] = now.month;
        self.memory[usize::from(register::YEAR)] = now.year;
        self.memory[usize::from(register::CENTURY)] = now.century;
        self.memory[usize::from(register::STATUS_B)] = now.status_b;
    }

    /// The next `reads` reads of status A say an update is in progress.
    pub fn updating_for(&mut self, reads: u32) {
        self.updating_reads = reads;
    }

    /// After `reads` more reads of the data port (counted from the last
    /// change queued, or from now), the registers become `then`.
    pub fn change_after(&mut self, reads: u32, then: Registers) {
        self.changes.push_back((reads, then));
    }

    /// Reads of the data port so far.
    pub fn data_reads(&self) -> u32 {
        self.data_reads
    }

    /// Reads of a date or time register made while status A, when last
    /// read, said an update was in progress.
    pub fn reads_while_updating(&self) -> u32 {
        self.reads_while_updating
    }
}

impl PortIo for FakeCmos {
    fn read_u8(&mut self, port: u16) -> u8 {
        if port != DATA_PORT {
            return 0xff; // nobody answers
        }
        self.data_reads += 1;
        let value = if self.index == register::STATUS_A {
            self.updating = self.updating_reads > 0;
            self.updating_reads = self.updating_reads.saturating_sub(1);
            let rate = self.memory[usize::from(register::STATUS_A)] & !STATUS_A_UPDATING;
            if self.updating {
                rate | STATUS_A_UPDATING
            } else {
                rate
            }
        } else {
            if self.updating && self.index != register::STATUS_B {
                self.reads_while_updating += 1;
            }
            self.memory[usize::from(self.index & 0x7f)]
        };
        if let Some((reads, then)) = self.changes.front_mut() {
            *reads = reads.saturating_sub(1);
            if *reads == 0 {
                let then = *then;
                self.changes.pop_front();
                self.set(&then);
            }
        }
        value
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        if port == INDEX_PORT {
            self.index = value & 0x7f;
        }
    }

    fn read_u16(&mut self, _port: u16) -> u16 {
        0xffff
    }

    fn write_u16(&mut self, _port: u16, _value: u16) {}
}
