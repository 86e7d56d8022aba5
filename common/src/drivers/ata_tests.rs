//! Host tests for the ATA driver, against `FakeDrive`: a small model of an
//! IDE disk behind the primary channel's ports.
//!
//! The fake behaves like the real protocol as far as the driver can see:
//! commands set DRQ and raise the interrupt line, the data port moves
//! 256-word sectors, reading the status register lowers the interrupt line,
//! reading the alternate status does not. Tests play the environment: they
//! wait for the line (`irq_pending`) and call `handle_irq`, like the trap
//! handler or the disk server would.

use super::*;
use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;

/// What the fake drive is doing with the data port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    None,
    /// Sending a sector (or the IDENTIFY block) to the host; more sectors after it.
    ToHost {
        lba: u32,
        remaining_after: u32,
    },
    /// Receiving a sector from the host.
    FromHost {
        lba: u32,
        remaining_after: u32,
    },
}

struct FakeDrive {
    sectors: Vec<[u8; SECTOR_SIZE]>,
    /// Reading one of these fails with ERR + UNC.
    bad_sectors: BTreeSet<u32>,
    /// The drive never leaves BSY (a hung device).
    stuck_busy: bool,
    status: u8,
    error: u8,
    count: u8,
    lba: [u8; 3],
    select: u8,
    control: u8,
    buffer: [u8; SECTOR_SIZE],
    position: usize,
    transfer: Transfer,
    irq_pending: bool,
    commands: Vec<u8>,
    flushes: u32,
}

const READY: u8 = 0x40;
const DRQ: u8 = 0x08;
const ERR: u8 = 0x01;

impl FakeDrive {
    fn new(sector_count: usize) -> Self {
        let sectors = (0..sector_count)
            .map(|n| [(n % 251) as u8; SECTOR_SIZE])
            .collect();
        Self {
            sectors,
            bad_sectors: BTreeSet::new(),
            stuck_busy: false,
            status: READY,
            error: 0,
            count: 0,
            lba: [0; 3],
            select: 0,
            control: 0,
            buffer: [0; SECTOR_SIZE],
            position: 0,
            transfer: Transfer::None,
            irq_pending: false,
            commands: Vec::new(),
            flushes: 0,
        }
    }

    fn raise_irq(&mut self) {
        if self.control & CONTROL_INTERRUPTS_OFF == 0 {
            self.irq_pending = true;
        }
    }

    fn request_lba(&self) -> u32 {
        u32::from_le_bytes([self.lba[0], self.lba[1], self.lba[2], self.select & 0x0F])
    }

    fn fail(&mut self, error: u8) {
        self.status = READY | ERR;
        self.error = error;
        self.transfer = Transfer::None;
        self.raise_irq();
    }

    /// Puts sector `lba` in the buffer for the host, or fails.
    fn offer_sector(&mut self, lba: u32, remaining_after: u32) {
        if self.bad_sectors.contains(&lba) {
            return self.fail(AtaErrorBits::UNCORRECTABLE.bits());
        }
        self.buffer = self.sectors[lba as usize];
        self.position = 0;
        self.transfer = Transfer::ToHost {
            lba,
            remaining_after,
        };
        self.status = READY | DRQ;
        self.raise_irq();
    }

    fn command(&mut self, command: u8) {
        self.commands.push(command);
        self.error = 0;
        let count = if self.count == 0 {
            256
        } else {
            u32::from(self.count)
        };
        let lba = self.request_lba();
        let in_range = (lba as usize + count as usize) <= self.sectors.len();
        match command {
            COMMAND_IDENTIFY => {
                self.buffer = identify_block(self.sectors.len() as u32);
                self.position = 0;
                self.transfer = Transfer::ToHost {
                    lba: 0,
                    remaining_after: 0,
                };
                self.status = READY | DRQ;
                self.raise_irq();
            }
            COMMAND_READ_SECTORS if in_range => self.offer_sector(lba, count - 1),
            COMMAND_WRITE_SECTORS if in_range => {
                // No interrupt for the first sector: the host polls for DRQ.
                self.position = 0;
                self.transfer = Transfer::FromHost {
                    lba,
                    remaining_after: count - 1,
                };
                self.status = READY | DRQ;
            }
            COMMAND_READ_SECTORS | COMMAND_WRITE_SECTORS => {
                self.fail(AtaErrorBits::ID_NOT_FOUND.bits())
            }
            COMMAND_FLUSH_CACHE => {
                self.flushes += 1;
                self.status = READY;
                self.raise_irq();
            }
            _ => self.fail(AtaErrorBits::ABORTED.bits()),
        }
    }

    fn status_now(&self) -> u8 {
        if self.select & 0x10 != 0 {
            0 // the slave is selected, and there is none
        } else if self.stuck_busy {
            0x80
        } else {
            self.status
        }
    }
}

impl PortIo for FakeDrive {
    fn read_u8(&mut self, port: u16) -> u8 {
        match port {
            0x1F1 => self.error,
            0x1F4 | 0x1F5 => 0, // ATA signature: not ATAPI
            0x1F7 => {
                self.irq_pending = false;
                self.status_now()
            }
            PRIMARY_CONTROL => self.status_now(),
            _ => 0,
        }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        match port {
            0x1F2 => self.count = value,
            0x1F3..=0x1F5 => self.lba[usize::from(port - 0x1F3)] = value,
            0x1F6 => self.select = value,
            0x1F7 => self.command(value),
            PRIMARY_CONTROL => self.control = value,
            _ => {}
        }
    }

    fn read_u16(&mut self, port: u16) -> u16 {
        let Transfer::ToHost {
            lba,
            remaining_after,
        } = self.transfer
        else {
            return 0;
        };
        if port != 0x1F0 {
            return 0;
        }
        let word = u16::from_le_bytes([self.buffer[self.position], self.buffer[self.position + 1]]);
        self.position += 2;
        if self.position == SECTOR_SIZE {
            self.status = READY;
            self.transfer = Transfer::None;
            if remaining_after > 0 {
                self.offer_sector(lba + 1, remaining_after - 1);
            }
        }
        word
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        let Transfer::FromHost {
            lba,
            remaining_after,
        } = self.transfer
        else {
            return;
        };
        if port != 0x1F0 {
            return;
        }
        self.buffer[self.position..self.position + 2].copy_from_slice(&value.to_le_bytes());
        self.position += 2;
        if self.position == SECTOR_SIZE {
            self.sectors[lba as usize] = self.buffer;
            self.position = 0;
            if remaining_after > 0 {
                self.transfer = Transfer::FromHost {
                    lba: lba + 1,
                    remaining_after: remaining_after - 1,
                };
                self.status = READY | DRQ;
            } else {
                self.transfer = Transfer::None;
                self.status = READY;
            }
            self.raise_irq();
        }
    }
}

/// An IDENTIFY block for a disk of `sectors` sectors named "QEMU HARDDISK".
fn identify_block(sectors: u32) -> [u8; SECTOR_SIZE] {
    let mut words = [0u16; 256];
    words[49] = 1 << 9; // LBA supported
    words[60] = sectors as u16;
    words[61] = (sectors >> 16) as u16;
    words[83] = 1 << 10;
    let model = b"QEMU HARDDISK                           ";
    for (i, pair) in model.chunks_exact(2).enumerate() {
        words[27 + i] = u16::from_be_bytes([pair[0], pair[1]]);
    }
    let mut block = [0u8; SECTOR_SIZE];
    for (i, word) in words.iter().enumerate() {
        block[2 * i..2 * i + 2].copy_from_slice(&word.to_le_bytes());
    }
    block
}

fn identified(sector_count: usize) -> Ata<FakeDrive> {
    let mut ata = Ata::primary(FakeDrive::new(sector_count));
    let info = ata.identify(&mut [0; SECTOR_SIZE]).unwrap();
    assert_eq!(info.sectors, sector_count as u64);
    ata.ports_mut().irq_pending = false;
    ata.ports_mut().commands.clear();
    ata
}

/// Plays the environment for a read: wait for each IRQ, collect sectors.
fn read_all(
    ata: &mut Ata<FakeDrive>,
    lba: u64,
    count: u32,
) -> Result<Vec<[u8; SECTOR_SIZE]>, AtaError> {
    ata.start_read(lba, count)?;
    let mut sectors = Vec::new();
    loop {
        assert!(
            ata.ports_mut().irq_pending,
            "driver waits for an IRQ the drive never raises"
        );
        let mut buf = [0; SECTOR_SIZE];
        match ata.handle_irq(&mut buf) {
            AtaEvent::SectorRead { lba: got, done } => {
                assert_eq!(u64::from(got), lba + sectors.len() as u64);
                sectors.push(buf);
                if done {
                    assert!(ata.is_idle());
                    return Ok(sectors);
                }
            }
            AtaEvent::Failed(error) => return Err(error),
            other => panic!("unexpected event during read: {other:?}"),
        }
    }
}

/// Plays the environment for a write.
fn write_all(
    ata: &mut Ata<FakeDrive>,
    lba: u64,
    data: &[[u8; SECTOR_SIZE]],
) -> Result<(), AtaError> {
    ata.start_write(lba, data.len() as u32)?;
    ata.write_sector(&data[0])?;
    let mut sent = 1;
    loop {
        assert!(ata.ports_mut().irq_pending);
        match ata.handle_irq(&mut [0; SECTOR_SIZE]) {
            AtaEvent::SendNextSector { lba: wanted } => {
                assert_eq!(u64::from(wanted), lba + sent as u64);
                ata.write_sector(&data[sent])?;
                sent += 1;
            }
            AtaEvent::WriteDone => {
                assert_eq!(sent, data.len());
                return Ok(());
            }
            AtaEvent::Failed(error) => return Err(error),
            other => panic!("unexpected event during write: {other:?}"),
        }
    }
}

#[test]
fn identify_learns_size_and_model_and_reenables_interrupts() {
    let mut ata = Ata::primary(FakeDrive::new(2048));
    assert_eq!(ata.start_read(0, 1), Err(AtaError::NotIdentified));
    let mut buf = [0; SECTOR_SIZE];
    let info = ata.identify(&mut buf).unwrap();
    assert_eq!(info.sectors, 2048);
    assert!(info.lba48);
    assert_eq!(info.model_name(), "QEMU HARDDISK");
    assert_eq!(ata.capacity(), Some(2048));
    assert!(
        !ata.ports_mut().irq_pending,
        "identify runs with the interrupt off"
    );
    assert_eq!(ata.ports_mut().control, 0, "and turns it back on");
}

#[test]
fn identify_selects_the_master_first() {
    // Firmware (SeaBIOS) may leave the absent slave selected: its status reads 0.
    let mut drive = FakeDrive::new(64);
    drive.select = 0xB0;
    let mut ata = Ata::primary(drive);
    assert_eq!(
        ata.identify(&mut [0; SECTOR_SIZE]).map(|info| info.sectors),
        Ok(64)
    );
}

#[test]
fn identify_reports_a_missing_drive() {
    use crate::drivers::fake_ports::FakePorts;
    let mut ata = Ata::primary(FakePorts::new()); // floating bus: 0xFF
    assert_eq!(ata.identify(&mut [0; SECTOR_SIZE]), Err(AtaError::NoDevice));
}

#[test]
fn identify_rejects_atapi_signature() {
    use crate::drivers::fake_ports::FakePorts;
    let mut ports = FakePorts::new();
    ports.set_default(0x1F7, 0x50);
    ports.set_default(PRIMARY_CONTROL, 0x50);
    ports.set_default(0x1F4, 0x14); // ATAPI signature 0x14/0xEB
    ports.set_default(0x1F5, 0xEB);
    let mut ata = Ata::primary(ports);
    assert_eq!(
        ata.identify(&mut [0; SECTOR_SIZE]),
        Err(AtaError::NotAtaDisk)
    );
}

#[test]
fn reads_one_and_many_sectors() {
    let mut ata = identified(1024);
    let one = read_all(&mut ata, 7, 1).unwrap();
    assert_eq!(one, vec![[7; SECTOR_SIZE]]);
    let many = read_all(&mut ata, 250, 5).unwrap();
    let expected: Vec<_> = (250..255).map(|n| [(n % 251) as u8; SECTOR_SIZE]).collect();
    assert_eq!(many, expected);
}

#[test]
fn read_programs_lba28_registers() {
    // Pretend the disk is large; the fake itself stays small (it will
    // answer ID_NOT_FOUND, but only the registers matter here).
    let mut ata = identified(16);
    ata.capacity = Some(1 << 25);
    ata.start_read(0x01_23_45_67, 256).unwrap();
    let drive = ata.ports_mut();
    assert_eq!(drive.select, 0xE1);
    assert_eq!(drive.lba, [0x67, 0x45, 0x23]);
    assert_eq!(drive.count, 0, "256 sectors are written as 0");
    assert_eq!(drive.commands, [COMMAND_READ_SECTORS]);
}

#[test]
fn writes_then_reads_back_and_flushes_only_when_asked() {
    let mut ata = identified(64);
    let data: Vec<[u8; SECTOR_SIZE]> = (0..3u8).map(|n| [0xA0 + n; SECTOR_SIZE]).collect();
    write_all(&mut ata, 10, &data).unwrap();
    assert_eq!(
        ata.ports_mut().flushes,
        0,
        "a write does not flush the cache"
    );
    assert_eq!(ata.ports_mut().commands, [COMMAND_WRITE_SECTORS]);
    assert!(ata.is_idle());
    ata.start_flush().unwrap();
    assert_eq!(
        ata.start_flush(),
        Err(AtaError::Busy),
        "one request at a time"
    );
    assert!(
        ata.ports_mut().irq_pending,
        "the drive interrupts when the flush is done"
    );
    assert_eq!(ata.handle_irq(&mut [0; SECTOR_SIZE]), AtaEvent::Flushed);
    assert_eq!(ata.ports_mut().flushes, 1);
    assert!(ata.is_idle());
    assert_eq!(read_all(&mut ata, 10, 3).unwrap(), data);
    assert_eq!(
        read_all(&mut ata, 13, 1).unwrap(),
        vec![[13; SECTOR_SIZE]],
        "neighbour untouched"
    );
}

#[test]
fn bad_requests_touch_no_register() {
    let mut ata = identified(100);
    for (lba, count, expected) in [
        (0, 0, AtaError::BadCount(0)),
        (0, 257, AtaError::BadCount(257)),
        (
            100,
            1,
            AtaError::OutOfRange {
                lba: 100,
                count: 1,
                capacity: 100,
            },
        ),
        (
            99,
            2,
            AtaError::OutOfRange {
                lba: 99,
                count: 2,
                capacity: 100,
            },
        ),
        (
            u64::MAX,
            1,
            AtaError::OutOfRange {
                lba: u64::MAX,
                count: 1,
                capacity: 100,
            },
        ),
    ] {
        assert_eq!(ata.start_read(lba, count), Err(expected));
        assert_eq!(ata.start_write(lba, count), Err(expected));
    }
    assert!(ata.ports_mut().commands.is_empty());
    assert!(ata.is_idle());
    // The last sector itself is fine.
    assert_eq!(read_all(&mut ata, 99, 1).unwrap(), vec![[99; SECTOR_SIZE]]);
}

#[test]
fn one_request_at_a_time() {
    let mut ata = identified(100);
    ata.start_read(0, 2).unwrap();
    assert_eq!(ata.start_read(5, 1), Err(AtaError::Busy));
    assert_eq!(ata.start_write(5, 1), Err(AtaError::Busy));
    assert_eq!(ata.identify(&mut [0; SECTOR_SIZE]), Err(AtaError::Busy));
    assert_eq!(
        ata.write_sector(&[0; SECTOR_SIZE]),
        Err(AtaError::NotExpectingData)
    );
    assert_eq!(ata.ports_mut().commands, [COMMAND_READ_SECTORS]);
}

#[test]
fn media_error_is_decoded_and_ends_the_request() {
    let mut ata = identified(100);
    ata.ports_mut().bad_sectors.insert(42);
    let error = read_all(&mut ata, 40, 4).unwrap_err();
    let AtaError::Device { status, error } = error else {
        panic!("{error:?}")
    };
    assert!(status.contains(AtaStatus::ERROR));
    assert_eq!(error, AtaErrorBits::UNCORRECTABLE);
    assert!(
        ata.is_idle(),
        "a failed request leaves the driver ready for the next"
    );
    assert_eq!(read_all(&mut ata, 43, 1).unwrap(), vec![[43; SECTOR_SIZE]]);
}

#[test]
fn spurious_interrupts_change_nothing() {
    let mut ata = identified(100);
    let mut buf = [0xEE; SECTOR_SIZE];
    assert_eq!(ata.handle_irq(&mut buf), AtaEvent::Spurious);
    // An IRQ while the drive is still busy is not the one we wait for.
    ata.start_read(3, 1).unwrap();
    ata.ports_mut().stuck_busy = true;
    assert_eq!(ata.handle_irq(&mut buf), AtaEvent::Spurious);
    assert_eq!(buf, [0xEE; SECTOR_SIZE]);
    ata.ports_mut().stuck_busy = false;
    assert_eq!(
        ata.handle_irq(&mut buf),
        AtaEvent::SectorRead { lba: 3, done: true }
    );
    assert_eq!(buf, [3; SECTOR_SIZE]);
}

#[test]
fn a_hung_drive_times_out_and_can_be_reset() {
    let mut ata = identified(100);
    ata.ports_mut().stuck_busy = true;
    assert_eq!(ata.start_read(0, 1), Err(AtaError::Timeout));
    assert!(ata.is_idle());
    assert!(ata.ports_mut().commands.is_empty());
    assert_eq!(ata.reset(), Err(AtaError::Timeout));
    ata.ports_mut().stuck_busy = false;
    assert_eq!(ata.reset(), Ok(()));
    assert_eq!(
        ata.ports_mut().control,
        0,
        "reset bit released, interrupts on"
    );
    assert_eq!(read_all(&mut ata, 1, 1).unwrap(), vec![[1; SECTOR_SIZE]]);
}

#[test]
fn write_past_the_drive_end_reports_id_not_found() {
    // The driver believes a size larger than the drive really has.
    let mut ata = identified(10);
    ata.capacity = Some(20);
    let error = write_all(&mut ata, 15, &[[1; SECTOR_SIZE]]).unwrap_err();
    let AtaError::Device { error, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(error, AtaErrorBits::ID_NOT_FOUND);
    assert!(ata.is_idle());
}

#[test]
fn parse_refuses_a_drive_without_lba() {
    let mut block = identify_block(100);
    block[98] = 0; // word 49 low byte
    block[99] = 0;
    assert_eq!(DriveInfo::parse(&block), Err(AtaError::NotAtaDisk));
}

#[test]
fn capacity_is_clamped_to_lba28() {
    let mut block = identify_block(0);
    block[120..124].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]); // words 60-61
    assert_eq!(DriveInfo::parse(&block).unwrap().sectors, LBA28_LIMIT);
}
