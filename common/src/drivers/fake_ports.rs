//! A fake I/O-port bus for host tests: records every write, serves scripted reads.
//!
//! Every driver in [`crate::drivers`] reaches its hardware only through
//! [`PortIo`], so a test can hand it a [`FakePorts`] instead of the real
//! `in`/`out` instructions, run the driver, and then check exactly which
//! registers it wrote, in which order.
//!
//! Reads are answered, per port, from
//! 1. a queue of scripted values ([`FakePorts::script_reads`]), consumed in
//!    order; when the queue is empty,
//! 2. a fixed value ([`FakePorts::set_default`]); and when there is none,
//! 3. `0xFF` (`0xFFFF` for words): what a real PC's data bus reads when no
//!    device answers ("floating bus").
//!
//! It is public (for host builds only) so other host-side tests can reuse it.
//! Devices with real behaviour behind their ports (the ATA disk) get their own
//! fakes next to their tests.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::port::PortIo;

/// One port access, as recorded by [`FakePorts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAccess {
    /// `in al, dx`: a byte was read from `port` and `value` returned.
    Read8 { port: u16, value: u8 },
    /// `out dx, al`: `value` was written to `port`.
    Write8 { port: u16, value: u8 },
    /// `in ax, dx`.
    Read16 { port: u16, value: u16 },
    /// `out dx, ax`.
    Write16 { port: u16, value: u16 },
}

/// A recording, scriptable stand-in for the I/O-port bus.
#[derive(Debug, Default, Clone)]
pub struct FakePorts {
    /// Every access, oldest first.
    log: Vec<PortAccess>,
    /// Values the next reads of a port return, front first.
    scripted: BTreeMap<u16, VecDeque<u16>>,
    /// What a port returns once its script is used up.
    defaults: BTreeMap<u16, u16>,
}

impl FakePorts {
    /// A bus where no port has been scripted yet (every read returns `0xFF`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `values` as the results of the next reads of `port`.
    pub fn script_reads(&mut self, port: u16, values: &[u8]) {
        let queue = self.scripted.entry(port).or_default();
        queue.extend(values.iter().map(|&v| u16::from(v)));
    }

    /// Queues 16-bit `values` as the results of the next reads of `port`.
    pub fn script_reads_u16(&mut self, port: u16, values: &[u16]) {
        self.scripted
            .entry(port)
            .or_default()
            .extend(values.iter().copied());
    }

    /// Makes `port` return `value` whenever its script is empty.
    pub fn set_default(&mut self, port: u16, value: u16) {
        self.defaults.insert(port, value);
    }

    /// How many scripted reads of `port` have not happened yet.
    pub fn pending_reads(&self, port: u16) -> usize {
        self.scripted.get(&port).map_or(0, VecDeque::len)
    }

    /// Every access so far, oldest first.
    pub fn log(&self) -> &[PortAccess] {
        &self.log
    }

    /// Forgets the recorded accesses (scripts and defaults stay).
    pub fn clear_log(&mut self) {
        self.log.clear();
    }

    /// Every byte write so far, as `(port, value)` pairs in order.
    pub fn byte_writes(&self) -> Vec<(u16, u8)> {
        self.log
            .iter()
            .filter_map(|access| match *access {
                PortAccess::Write8 { port, value } => Some((port, value)),
                _ => None,
            })
            .collect()
    }

    /// The bytes written to one `port`, in order.
    pub fn writes_to(&self, port: u16) -> Vec<u8> {
        self.byte_writes()
            .into_iter()
            .filter(|&(p, _)| p == port)
            .map(|(_, value)| value)
            .collect()
    }

    /// How many times `port` was read (bytes or words).
    pub fn read_count(&self, port: u16) -> usize {
        self.log
            .iter()
            .filter(|access| {
                matches!(access, PortAccess::Read8 { port: p, .. } | PortAccess::Read16 { port: p, .. } if *p == port)
            })
            .count()
    }

    /// The next value for a read of `port` (see the module doc for the order).
    fn next_read(&mut self, port: u16, floating: u16) -> u16 {
        if let Some(value) = self.scripted.get_mut(&port).and_then(VecDeque::pop_front) {
            return value;
        }
        self.defaults.get(&port).copied().unwrap_or(floating)
    }
}

impl PortIo for FakePorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        // Truncation is intended: a byte read of a word-scripted port sees the low byte.
        let value = self.next_read(port, 0xFF) as u8;
        self.log.push(PortAccess::Read8 { port, value });
        value
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        self.log.push(PortAccess::Write8 { port, value });
    }

    fn read_u16(&mut self, port: u16) -> u16 {
        let value = self.next_read(port, 0xFFFF);
        self.log.push(PortAccess::Read16 { port, value });
        value
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        self.log.push(PortAccess::Write16 { port, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_then_default_then_floating() {
        let mut ports = FakePorts::new();
        ports.script_reads(0x60, &[1, 2]);
        ports.set_default(0x60, 9);
        assert_eq!(ports.read_u8(0x60), 1);
        assert_eq!(ports.read_u8(0x60), 2);
        assert_eq!(ports.read_u8(0x60), 9);
        assert_eq!(ports.read_u8(0x61), 0xFF);
        assert_eq!(ports.read_u16(0x62), 0xFFFF);
        assert_eq!(ports.read_count(0x60), 3);
    }

    #[test]
    fn records_writes_in_order() {
        let mut ports = FakePorts::new();
        ports.write_u8(0x43, 0x34);
        ports.write_u16(0x1F0, 0xBEEF);
        ports.write_u8(0x40, 7);
        assert_eq!(ports.byte_writes(), [(0x43, 0x34), (0x40, 7)]);
        assert_eq!(ports.writes_to(0x40), [7]);
        assert_eq!(
            ports.log()[1],
            PortAccess::Write16 {
                port: 0x1F0,
                value: 0xBEEF
            }
        );
    }
}
