//! The disk, as the file system sees it: the shared ATA driver plus the
//! waiting, which is this kernel's job.
//!
//! `AtaDisk` implements `common::block::BlockDevice`. For each request it
//! starts the transfer with the shared driver and then waits for IRQ 14:
//! the process sleeps, and the interrupt handler ([`interrupt`]) records the
//! interrupt and wakes it; the woken process then lets the driver read the
//! status and move the data (`Ata::handle_irq`). Before the first process
//! exists (mounting the root file system at boot) there is no one to put to
//! sleep, so the CPU halts until the interrupt instead.

use crate::global::Global;
use crate::proc::Channel;
use crate::sched;
use common::arch;
use common::block::{BlockDevice, BlockError, SECTOR_SIZE};
use common::drivers::ata::{Ata, AtaEvent};
use common::port::HardwarePorts;
use core::cell::Cell;

/// Set by the IRQ 14 handler, cleared by the waiter.
static INTERRUPT_PENDING: Global<Cell<bool>> = Global::new(Cell::new(false));

/// Called by the trap handler on IRQ 14.
pub fn interrupt() {
    INTERRUPT_PENDING.set(true);
    sched::wakeup(channel());
}

fn channel() -> Channel {
    Channel::of(&INTERRUPT_PENDING)
}

/// Waits until the disk has interrupted since the last wait.
fn wait_for_interrupt() {
    while !INTERRUPT_PENDING.get() {
        if sched::try_current().is_some() {
            sched::sleep(channel());
        } else {
            arch::cpu::enable_interrupts_and_halt();
            arch::cpu::disable_interrupts();
        }
    }
    INTERRUPT_PENDING.set(false);
}

/// The primary IDE disk.
pub struct AtaDisk {
    ata: Ata<HardwarePorts>,
    sectors: u64,
}

/// Most sectors one ATA command moves.
const MAX_SECTORS_PER_COMMAND: usize = 256;

impl AtaDisk {
    /// Identifies the primary master disk. `None` if there is none.
    pub fn probe() -> Option<AtaDisk> {
        let mut ata = Ata::primary(HardwarePorts);
        let mut buf = [0u8; SECTOR_SIZE];
        let info = ata.identify(&mut buf).ok()?;
        Some(AtaDisk {
            ata,
            sectors: info.sectors,
        })
    }
}

fn device_error() -> BlockError {
    BlockError::Device { code: 1 }
}

impl BlockDevice for AtaDisk {
    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        common::block::check_request(self.sectors, first, buf.len())?;
        for (index, chunk) in buf
            .chunks_mut(MAX_SECTORS_PER_COMMAND * SECTOR_SIZE)
            .enumerate()
        {
            let lba = first + (index * MAX_SECTORS_PER_COMMAND) as u64;
            self.ata
                .start_read(lba, (chunk.len() / SECTOR_SIZE) as u32)
                .map_err(|_| device_error())?;
            let mut sector = [0u8; SECTOR_SIZE];
            loop {
                wait_for_interrupt();
                match self.ata.handle_irq(&mut sector) {
                    AtaEvent::SectorRead {
                        lba: done_lba,
                        done,
                    } => {
                        let at = (u64::from(done_lba) - lba) as usize * SECTOR_SIZE;
                        chunk[at..at + SECTOR_SIZE].copy_from_slice(&sector);
                        if done {
                            break;
                        }
                    }
                    AtaEvent::Pending | AtaEvent::Spurious => {}
                    _ => return Err(device_error()),
                }
            }
        }
        Ok(())
    }

    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        common::block::check_request(self.sectors, first, buf.len())?;
        for (index, chunk) in buf
            .chunks(MAX_SECTORS_PER_COMMAND * SECTOR_SIZE)
            .enumerate()
        {
            let lba = first + (index * MAX_SECTORS_PER_COMMAND) as u64;
            self.ata
                .start_write(lba, (chunk.len() / SECTOR_SIZE) as u32)
                .map_err(|_| device_error())?;
            let mut next = 0;
            let mut sector = [0u8; SECTOR_SIZE];
            sector.copy_from_slice(&chunk[..SECTOR_SIZE]);
            self.ata.write_sector(&sector).map_err(|_| device_error())?;
            loop {
                wait_for_interrupt();
                match self.ata.handle_irq(&mut sector) {
                    AtaEvent::SendNextSector { .. } => {
                        next += SECTOR_SIZE;
                        sector.copy_from_slice(&chunk[next..next + SECTOR_SIZE]);
                        self.ata.write_sector(&sector).map_err(|_| device_error())?;
                    }
                    AtaEvent::WriteDone => break,
                    AtaEvent::Pending | AtaEvent::Spurious => {}
                    _ => return Err(device_error()),
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        self.ata.start_flush().map_err(|_| device_error())?;
        loop {
            wait_for_interrupt();
            match self.ata.handle_irq(&mut [0; SECTOR_SIZE]) {
                AtaEvent::Flushed => return Ok(()),
                AtaEvent::Pending | AtaEvent::Spurious => {}
                _ => return Err(device_error()),
            }
        }
    }
}
