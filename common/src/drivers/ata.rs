//! ATA PIO disk driver for the primary IDE channel (QEMU's `-hda` disk).
//!
//! ## Registers
//!
//! | port  | read                 | write                               |
//! |-------|----------------------|-------------------------------------|
//! | 0x1F0 | data (16-bit words)  | data                                |
//! | 0x1F1 | error                | features                            |
//! | 0x1F2 | —                    | sector count (0 means 256)          |
//! | 0x1F3..=0x1F5 | —            | LBA bits 0-7, 8-15, 16-23           |
//! | 0x1F6 | —                    | drive select: 0xE0 = master, LBA mode, + LBA bits 24-27 |
//! | 0x1F7 | status (acknowledges the interrupt) | command              |
//! | 0x3F6 | alternate status (does not acknowledge) | device control: bit 1 = interrupts off, bit 2 = reset |
//!
//! "PIO" (programmed I/O) means the CPU moves every data word itself, 256
//! `in`/`out` instructions per 512-byte sector. The drive raises IRQ 14
//! when it wants attention.
//!
//! ## The state machine (sans-IO: the environment does the waiting)
//!
//! ```text
//!        start_read(lba, n)
//!  Idle ─────────────────────────▶ Reading ──┐ IRQ (DRQ): sector copied into buf,
//!   ▲ ▲                               ▲      │ event SectorRead{lba, done: false}
//!   │ │                               └──────┘ (one IRQ per sector)
//!   │ └──── SectorRead{lba, done: true} ◀── IRQ for the last sector
//!   │
//!   │    start_write(lba, n)                    write_sector(data)
//!   ├──────────────────────▶ WriteNeedsData ─────────────────────▶ WriteAwaitingIrq
//!   │                              ▲                                      │ IRQ
//!   │                              └─────── SendNextSector{lba} ◀─ more ──┤
//!   ├───────────── WriteDone ◀──────────────── IRQ after the last sector ─┘
//!   │
//!   │    start_flush(): FLUSH CACHE (0xE7)
//!   ├──────────────────────▶ Flushing ──┐ IRQ
//!   └───────────── Flushed ◀────────────┘
//!
//!  Any IRQ with ERR or DF in the status → Failed(Device{status, error}), back to Idle.
//!  An IRQ while Idle, or while the drive is still BUSY → Spurious (state unchanged).
//! ```
//!
//! After `start_read` / `start_write` the environment waits for IRQ 14 —
//! the mono-kernel sleeps the process on the request, the microkernel's disk
//! server waits for its IRQ message — then calls [`Ata::handle_irq`] and acts
//! on the [`AtaEvent`]. The first sector of a write is the exception ATA
//! makes: the drive asks for it without an interrupt, so
//! [`Ata::write_sector`] polls the status briefly (bounded) for DRQ.
//!
//! A write is done when the drive has the data, which may still be in its
//! cache: a power cut can lose it. [`Ata::start_flush`] asks the drive to
//! put everything it has on the medium; the file system's journal asks for
//! that (`BlockDevice::flush`) exactly where its crash safety needs an
//! order between writes — before a commit block and after it — rather
//! than the driver flushing after every write, which made writing many
//! times slower than reading.
//!
//! Every request is validated (drive identified, count 1..=256, range on
//! the disk, no request in flight) before a register is written: a bad
//! request changes nothing. Only LBA28 is implemented (disks up to 128 GiB);
//! a larger disk is used up to that limit.
//!
//! Before the first request, [`Ata::identify`] learns the disk's size
//! (polled, with the drive's interrupt off); [`Ata::reset`] recovers from a
//! drive that never interrupted. The tests in `ata_tests.rs` run the driver
//! against `FakeDrive`, a model of the drive's side of the protocol.
//!
//! `start_read` and `start_write` pass the disk's fault checkpoint
//! (`common::inject::checkpoint(Disk)`, `docs/fault-isolation.md`).

use crate::trace::{self, Kind, Shared};
use bitflags::bitflags;

use crate::port::PortIo;

/// Bytes in a sector.
pub const SECTOR_SIZE: usize = 512;
/// Command-block base port of the primary channel.
pub const PRIMARY_BASE: u16 = 0x1F0;
/// Control port of the primary channel.
pub const PRIMARY_CONTROL: u16 = 0x3F6;
/// Most sectors one request can move (the count register is 8 bits; 0 = 256).
pub const MAX_SECTORS_PER_REQUEST: u32 = 256;
/// First sector LBA28 cannot address.
pub const LBA28_LIMIT: u64 = 1 << 28;
/// How many status reads a bounded poll makes before reporting a timeout.
/// A healthy drive (and QEMU, always) needs a handful.
pub const STATUS_POLL_LIMIT: u32 = 100_000;

// Offsets from the base port.
const REG_DATA: u16 = 0;
const REG_ERROR: u16 = 1;
const REG_SECTOR_COUNT: u16 = 2;
const REG_LBA_LOW: u16 = 3;
const REG_LBA_MID: u16 = 4;
const REG_LBA_HIGH: u16 = 5;
const REG_DRIVE_SELECT: u16 = 6;
const REG_STATUS_COMMAND: u16 = 7;

const COMMAND_READ_SECTORS: u8 = 0x20;
const COMMAND_WRITE_SECTORS: u8 = 0x30;
const COMMAND_FLUSH_CACHE: u8 = 0xE7;
const COMMAND_IDENTIFY: u8 = 0xEC;

/// Drive select: bits 7 and 5 are always 1, bit 6 = LBA addressing, bit 4 = 0 for the master.
const SELECT_MASTER_LBA: u8 = 0xE0;
/// Device control bit 1 (nIEN): the drive raises no interrupts.
const CONTROL_INTERRUPTS_OFF: u8 = 0x02;
/// Device control bit 2 (SRST): software reset of both drives.
const CONTROL_RESET: u8 = 0x04;

bitflags! {
    /// The status register (0x1F7).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct AtaStatus: u8 {
        /// BSY: the drive is working; every other bit is meaningless.
        const BUSY = 0x80;
        /// DRDY: the drive is spun up and accepts commands.
        const READY = 0x40;
        /// DF: device fault.
        const DEVICE_FAULT = 0x20;
        /// DSC: seek complete (obsolete).
        const SEEK_DONE = 0x10;
        /// DRQ: the drive wants to send or receive a sector of data.
        const DATA_REQUEST = 0x08;
        /// CORR: a read error was corrected (obsolete).
        const CORRECTED = 0x04;
        /// IDX: index mark (obsolete).
        const INDEX = 0x02;
        /// ERR: the command failed; the error register says why.
        const ERROR = 0x01;
    }
}

bitflags! {
    /// The error register (0x1F1), valid when the status has ERR.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct AtaErrorBits: u8 {
        /// BBK: bad block.
        const BAD_BLOCK = 0x80;
        /// UNC: uncorrectable data error.
        const UNCORRECTABLE = 0x40;
        /// MC: media changed.
        const MEDIA_CHANGED = 0x20;
        /// IDNF: the sector does not exist.
        const ID_NOT_FOUND = 0x10;
        /// MCR: media change requested.
        const MEDIA_CHANGE_REQUEST = 0x08;
        /// ABRT: the command was aborted (unknown or not allowed now).
        const ABORTED = 0x04;
        /// TK0NF: track 0 not found.
        const TRACK0_NOT_FOUND = 0x02;
        /// AMNF: address mark not found.
        const ADDRESS_MARK_NOT_FOUND = 0x01;
    }
}

/// Everything that can go wrong, before or during a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtaError {
    /// Nothing answers on the channel (status reads 0x00 or 0xFF).
    NoDevice,
    /// The device is not an ATA disk (an ATAPI CD-ROM or SATA signature), or cannot do LBA.
    NotAtaDisk,
    /// A bounded status poll ran out: the drive stayed busy, or never asked for data.
    Timeout,
    /// A request is already in flight: wait for it to finish.
    Busy,
    /// [`Ata::identify`] has not succeeded yet, so the disk size is unknown.
    NotIdentified,
    /// The sector count must be 1..=256.
    BadCount(u32),
    /// The request runs past the end of the disk.
    OutOfRange { lba: u64, count: u32, capacity: u64 },
    /// [`Ata::write_sector`] was called when the drive was not waiting for data.
    NotExpectingData,
    /// The drive reported an error.
    Device {
        status: AtaStatus,
        error: AtaErrorBits,
    },
}

/// What [`Ata::identify`] learned about the drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriveInfo {
    /// Sectors addressable with LBA28.
    pub sectors: u64,
    /// Whether the drive supports LBA48 (not used by this driver).
    pub lba48: bool,
    /// The model string, ASCII padded with spaces.
    pub model: [u8; 40],
}

impl DriveInfo {
    /// The model name without its padding.
    pub fn model_name(&self) -> &str {
        let text = core::str::from_utf8(&self.model).unwrap_or("");
        text.trim_end_matches([' ', '\0'])
    }

    /// Decodes the 512-byte IDENTIFY DEVICE block.
    ///
    /// Returns [`AtaError::NotAtaDisk`] if the drive cannot do LBA (word 49 bit 9).
    pub fn parse(identify: &[u8; SECTOR_SIZE]) -> Result<Self, AtaError> {
        let word =
            |index: usize| u16::from_le_bytes([identify[2 * index], identify[2 * index + 1]]);
        if word(49) & (1 << 9) == 0 {
            return Err(AtaError::NotAtaDisk);
        }
        let sectors = u64::from(word(60)) | u64::from(word(61)) << 16;
        let lba48 = word(83) & (1 << 10) != 0;
        // Words 27..47: the model, two characters per word, first one in the high byte.
        let mut model = [b' '; 40];
        for (i, pair) in model.chunks_exact_mut(2).enumerate() {
            pair.copy_from_slice(&word(27 + i).to_be_bytes());
        }
        if !model.is_ascii() {
            model = [b'?'; 40];
        }
        Ok(Self {
            sectors: sectors.min(LBA28_LIMIT),
            lba48,
            model,
        })
    }
}

/// What an interrupt meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtaEvent {
    /// Sector `lba` of a read was copied into `buf`; `done` on the last one.
    SectorRead { lba: u32, done: bool },
    /// The drive accepted a sector and wants the data for `lba`: call
    /// [`Ata::write_sector`].
    SendNextSector { lba: u32 },
    /// The drive has every sector of the write (maybe only in its cache).
    WriteDone,
    /// The drive's cache is on the medium: every write before the flush
    /// survives a power cut.
    Flushed,
    /// Progress, nothing to do: wait for the next interrupt.
    Pending,
    /// The request failed and is over.
    Failed(AtaError),
    /// Not ours: no request in flight, or the drive is still busy.
    Spurious,
}

/// Where a request is. Invariant: `remaining >= 1` in `Reading` and
/// `WriteNeedsData`; `next_lba + remaining <= capacity` throughout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Reading {
        next_lba: u32,
        remaining: u32,
    },
    WriteNeedsData {
        next_lba: u32,
        remaining: u32,
    },
    /// A sector was sent; `remaining` sectors are still to send after its IRQ.
    WriteAwaitingIrq {
        next_lba: u32,
        remaining: u32,
    },
    Flushing,
}

/// The master drive of one ATA channel.
#[derive(Debug)]
pub struct Ata<P: PortIo> {
    ports: P,
    base: u16,
    control: u16,
    /// Sectors on the disk, known after `identify`.
    capacity: Option<u64>,
    state: State,
}

impl<P: PortIo> Ata<P> {
    /// The primary channel's master drive. Touches no hardware.
    pub const fn primary(ports: P) -> Self {
        Self {
            ports,
            base: PRIMARY_BASE,
            control: PRIMARY_CONTROL,
            capacity: None,
            state: State::Idle,
        }
    }

    /// The port bus (for tests).
    pub fn ports_mut(&mut self) -> &mut P {
        &mut self.ports
    }

    /// Sectors on the disk, once identified.
    pub fn capacity(&self) -> Option<u64> {
        self.capacity
    }

    /// Whether no request is in flight.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Asks the drive who it is (polling, with its interrupt off), records
    /// its size, and turns its interrupt on. `buf` receives the raw block.
    ///
    /// Call once at start-up, before any request. Errors: [`AtaError::Busy`]
    /// (a request is in flight), [`AtaError::NoDevice`], [`AtaError::NotAtaDisk`],
    /// [`AtaError::Timeout`], [`AtaError::Device`].
    pub fn identify(&mut self, buf: &mut [u8; SECTOR_SIZE]) -> Result<DriveInfo, AtaError> {
        if self.state != State::Idle {
            return Err(AtaError::Busy);
        }
        // Select our drive before looking at the status: the registers show
        // the *selected* drive, and firmware may have left the (absent)
        // slave selected, which reads as 0. No controller at all reads 0xFF.
        self.write_reg(REG_DRIVE_SELECT, SELECT_MASTER_LBA);
        self.settle();
        if matches!(self.read_reg(REG_STATUS_COMMAND), 0x00 | 0xFF) {
            return Err(AtaError::NoDevice);
        }
        self.ports.write_u8(self.control, CONTROL_INTERRUPTS_OFF);
        let result = self.identify_polled(buf);
        self.ports.write_u8(self.control, 0); // interrupts on again
        let info = result?;
        self.capacity = Some(info.sectors);
        Ok(info)
    }

    fn identify_polled(&mut self, buf: &mut [u8; SECTOR_SIZE]) -> Result<DriveInfo, AtaError> {
        self.select(0)?;
        for reg in [REG_SECTOR_COUNT, REG_LBA_LOW, REG_LBA_MID, REG_LBA_HIGH] {
            self.write_reg(reg, 0);
        }
        self.write_reg(REG_STATUS_COMMAND, COMMAND_IDENTIFY);
        if self.read_reg(REG_STATUS_COMMAND) == 0 {
            return Err(AtaError::NoDevice);
        }
        self.wait_not_busy()?;
        // ATAPI and SATA devices put a signature in the LBA mid/high registers.
        if self.read_reg(REG_LBA_MID) != 0 || self.read_reg(REG_LBA_HIGH) != 0 {
            return Err(AtaError::NotAtaDisk);
        }
        self.wait_data_request()?;
        self.read_sector_data(buf);
        DriveInfo::parse(buf)
    }

    /// Starts reading `count` sectors from `lba`. Each sector then arrives
    /// with an interrupt: call [`handle_irq`](Self::handle_irq) for each.
    ///
    /// Errors (nothing was started): `Busy`, `NotIdentified`, `BadCount`,
    /// `OutOfRange`, and `Timeout` if the drive stayed busy.
    pub fn start_read(&mut self, lba: u64, count: u32) -> Result<(), AtaError> {
        crate::inject::checkpoint(crate::abi::inject::Component::Disk);
        trace::point(
            Kind::Enter,
            Shared::DiskTransfer as u64,
            lba,
            u64::from(count),
        );
        let lba = self.check_request(lba, count)?;
        self.issue(COMMAND_READ_SECTORS, lba, count)?;
        self.state = State::Reading {
            next_lba: lba,
            remaining: count,
        };
        Ok(())
    }

    /// Starts writing `count` sectors at `lba`. Then call
    /// [`write_sector`](Self::write_sector) with the first sector's data at
    /// once, and with each further sector when an interrupt says
    /// [`AtaEvent::SendNextSector`].
    ///
    /// Errors: as [`start_read`](Self::start_read).
    pub fn start_write(&mut self, lba: u64, count: u32) -> Result<(), AtaError> {
        crate::inject::checkpoint(crate::abi::inject::Component::Disk);
        trace::point(
            Kind::Enter,
            Shared::DiskTransfer as u64,
            lba,
            u64::from(count) | 1 << 32,
        );
        let lba = self.check_request(lba, count)?;
        self.issue(COMMAND_WRITE_SECTORS, lba, count)?;
        self.state = State::WriteNeedsData {
            next_lba: lba,
            remaining: count,
        };
        Ok(())
    }

    /// Starts a cache flush: the drive writes everything it holds to the
    /// medium and interrupts ([`AtaEvent::Flushed`]).
    ///
    /// Errors: `NotIdentified`, `Busy` (a request is in flight), and the
    /// errors of issuing a command; nothing changes on an error.
    pub fn start_flush(&mut self) -> Result<(), AtaError> {
        if self.state != State::Idle {
            return Err(AtaError::Busy);
        }
        if self.capacity.is_none() {
            return Err(AtaError::NotIdentified);
        }
        self.select(0)?;
        self.write_reg(REG_STATUS_COMMAND, COMMAND_FLUSH_CACHE);
        self.state = State::Flushing;
        Ok(())
    }

    /// Hands the drive the next sector of a write.
    ///
    /// Errors: [`AtaError::NotExpectingData`] (state unchanged) if no write is
    /// waiting for data; `Timeout` or `Device` if the drive does not ask for
    /// it (the write is then abandoned and the driver idle).
    pub fn write_sector(&mut self, data: &[u8; SECTOR_SIZE]) -> Result<(), AtaError> {
        let State::WriteNeedsData {
            next_lba,
            remaining,
        } = self.state
        else {
            return Err(AtaError::NotExpectingData);
        };
        if let Err(error) = self.wait_data_request() {
            self.state = State::Idle;
            return Err(error);
        }
        for pair in data.chunks_exact(2) {
            self.ports
                .write_u16(self.base + REG_DATA, u16::from_le_bytes([pair[0], pair[1]]));
        }
        self.state = State::WriteAwaitingIrq {
            next_lba: next_lba + 1,
            remaining: remaining - 1,
        };
        Ok(())
    }

    /// Handles IRQ 14: reads the status (which acknowledges the interrupt)
    /// and advances the request. For a read, the sector lands in `buf`;
    /// otherwise `buf` is untouched.
    pub fn handle_irq(&mut self, buf: &mut [u8; SECTOR_SIZE]) -> AtaEvent {
        let status = AtaStatus::from_bits_retain(self.read_reg(REG_STATUS_COMMAND));
        if self.state == State::Idle || status.contains(AtaStatus::BUSY) {
            return AtaEvent::Spurious;
        }
        if status.intersects(AtaStatus::ERROR | AtaStatus::DEVICE_FAULT) {
            return self.fail(status);
        }
        match self.state {
            State::Idle => AtaEvent::Spurious,
            State::Reading {
                next_lba,
                remaining,
            } => {
                if !status.contains(AtaStatus::DATA_REQUEST) {
                    return self.fail(status);
                }
                self.read_sector_data(buf);
                let done = remaining == 1;
                self.state = if done {
                    State::Idle
                } else {
                    State::Reading {
                        next_lba: next_lba + 1,
                        remaining: remaining - 1,
                    }
                };
                AtaEvent::SectorRead {
                    lba: next_lba,
                    done,
                }
            }
            // The drive interrupted before we sent the sector: not the interrupt we wait for.
            State::WriteNeedsData { .. } => AtaEvent::Spurious,
            State::WriteAwaitingIrq { remaining: 0, .. } => {
                self.state = State::Idle;
                AtaEvent::WriteDone
            }
            State::WriteAwaitingIrq {
                next_lba,
                remaining,
            } => {
                if !status.contains(AtaStatus::DATA_REQUEST) {
                    return self.fail(status);
                }
                self.state = State::WriteNeedsData {
                    next_lba,
                    remaining,
                };
                AtaEvent::SendNextSector { lba: next_lba }
            }
            State::Flushing => {
                self.state = State::Idle;
                AtaEvent::Flushed
            }
        }
    }

    /// Resets the drive (SRST), abandoning any request; for when an
    /// expected interrupt never came (the environment's timer decides).
    /// The drive stays identified. Errors: `Timeout` if it stays busy.
    pub fn reset(&mut self) -> Result<(), AtaError> {
        self.state = State::Idle;
        self.ports.write_u8(self.control, CONTROL_RESET);
        self.settle();
        self.ports.write_u8(self.control, 0);
        self.wait_not_busy()
    }

    /// Check, then commit: everything a request needs, verified before any
    /// register is touched. Returns the LBA as the 28-bit value to program.
    fn check_request(&self, lba: u64, count: u32) -> Result<u32, AtaError> {
        if self.state != State::Idle {
            return Err(AtaError::Busy);
        }
        let capacity = self.capacity.ok_or(AtaError::NotIdentified)?;
        if count == 0 || count > MAX_SECTORS_PER_REQUEST {
            return Err(AtaError::BadCount(count));
        }
        // No overflow: lba is checked against capacity (<= 2^28) first.
        if lba >= capacity || lba + u64::from(count) > capacity {
            return Err(AtaError::OutOfRange {
                lba,
                count,
                capacity,
            });
        }
        // Invariant: capacity <= LBA28_LIMIT, so lba < 2^28 fits in u32.
        Ok(lba as u32)
    }

    /// Programs the task-file registers and writes the command.
    fn issue(&mut self, command: u8, lba: u32, count: u32) -> Result<(), AtaError> {
        self.select(lba)?;
        // 256 is written as 0: the truncation is the register's encoding.
        self.write_reg(REG_SECTOR_COUNT, count as u8);
        let [low, mid, high, _] = lba.to_le_bytes();
        self.write_reg(REG_LBA_LOW, low);
        self.write_reg(REG_LBA_MID, mid);
        self.write_reg(REG_LBA_HIGH, high);
        self.write_reg(REG_STATUS_COMMAND, command);
        Ok(())
    }

    /// Selects the master drive with LBA bits 24..28, after the drive is not busy.
    fn select(&mut self, lba: u32) -> Result<(), AtaError> {
        self.wait_not_busy()?;
        self.write_reg(
            REG_DRIVE_SELECT,
            SELECT_MASTER_LBA | ((lba >> 24) & 0x0F) as u8,
        );
        self.settle();
        Ok(())
    }

    /// The 400 ns a drive needs after a select or reset before its status
    /// means anything: four reads of the alternate status (~100 ns each).
    fn settle(&mut self) {
        for _ in 0..4 {
            self.ports.read_u8(self.control);
        }
    }

    fn wait_not_busy(&mut self) -> Result<(), AtaError> {
        for _ in 0..STATUS_POLL_LIMIT {
            if self.alt_status() & AtaStatus::BUSY.bits() == 0 {
                return Ok(());
            }
        }
        Err(AtaError::Timeout)
    }

    /// Waits (boundedly) for DRQ; an error status ends the wait.
    fn wait_data_request(&mut self) -> Result<(), AtaError> {
        for _ in 0..STATUS_POLL_LIMIT {
            let status = AtaStatus::from_bits_retain(self.alt_status());
            if status.contains(AtaStatus::BUSY) {
                continue;
            }
            if status.intersects(AtaStatus::ERROR | AtaStatus::DEVICE_FAULT) {
                let error = AtaErrorBits::from_bits_retain(self.read_reg(REG_ERROR));
                return Err(AtaError::Device { status, error });
            }
            if status.contains(AtaStatus::DATA_REQUEST) {
                return Ok(());
            }
        }
        Err(AtaError::Timeout)
    }

    fn fail(&mut self, status: AtaStatus) -> AtaEvent {
        let error = AtaErrorBits::from_bits_retain(self.read_reg(REG_ERROR));
        self.state = State::Idle;
        AtaEvent::Failed(AtaError::Device { status, error })
    }

    fn read_sector_data(&mut self, buf: &mut [u8; SECTOR_SIZE]) {
        for pair in buf.chunks_exact_mut(2) {
            pair.copy_from_slice(&self.ports.read_u16(self.base + REG_DATA).to_le_bytes());
        }
    }

    fn alt_status(&mut self) -> u8 {
        self.ports.read_u8(self.control)
    }

    fn read_reg(&mut self, offset: u16) -> u8 {
        self.ports.read_u8(self.base + offset)
    }

    fn write_reg(&mut self, offset: u16, value: u8) {
        self.ports.write_u8(self.base + offset, value);
    }
}

#[cfg(test)]
#[path = "ata_tests.rs"]
mod tests;
