//! The disk server: the ATA disk, at user level.
//!
//! It owns the primary IDE channel's ports (0x1F0-0x1F7 and 0x3F6, granted
//! by root: nothing else in the system can touch the disk) and IRQ 14,
//! which the kernel delivers as a message from the interrupt's pseudo
//! thread. The driver is the shared one, `common::drivers::ata`, unchanged:
//! the same state machine the monolithic kernel drives from its trap
//! handler is driven here from IPC.
//!
//! ## Where it waits
//!
//! After starting a transfer it does a *closed* receive from
//! `ThreadId::irq(14)`: only the interrupt can wake it, and other clients'
//! requests queue in the kernel until the transfer is over (one request at
//! a time, as the drive itself works). Each interrupt is handled
//! (`Ata::handle_irq` reads the status, which quiets the drive) and then
//! acknowledged, which unmasks the line. If no interrupt comes within
//! [`IRQ_WAIT_TICKS`], it looks at the drive itself: still busy, it waits
//! on; done (the interrupt was lost), it goes on without the interrupt.
//! A drive busy for [`MAX_QUIET_WAITS`] waits in a row (100 s) is reset
//! and the request fails with `EIO`, so a dead drive cannot hang the file
//! system. (A wait in ticks alone would not do: under QEMU with `-icount
//! sleep=off`, as the benchmarks run, an idle guest's clock jumps ahead to
//! its next timer tick while the emulated drive works in host time, so
//! two seconds of guest time can pass before a loaded host has finished
//! one read.)
//!
//! ## Protocol
//!
//! `common::abi::proto::disk`: `Info`, `ReadSectors`, `WriteSectors` (at
//! most 8 sectors, 4 KiB, per request) and `Flush` (the drive's cache onto
//! the medium: the journal asks for it where its order of writes matters), each checked against the disk's
//! size before the hardware is touched. Only the fs server may ask
//! (`EPERM` for anyone else; a new copy of fs that root started is
//! recognised through the directory, `server_lib::sender_is`).
//!
//! ## After a crash
//!
//! Root starts a new copy with the same ports and interrupt. It resets the
//! drive before anything else (the old copy may have died in the middle of
//! a transfer); the fs server sends the request the old copy was serving
//! again (`docs/fault-isolation.md`).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use common::abi::errno::Errno;
use common::abi::proto::Wire;
use common::abi::proto::disk::DiskRequest;
use common::abi::proto::reply;
use common::block::{SECTOR_SIZE, check_request};
use common::drivers::ata::{Ata, AtaError, AtaEvent};
use common::port::HardwarePorts;
use l4::{ThreadId, Timeout, println};
use server_lib::Server;

/// The disk's interrupt line.
const DISK_IRQ: u8 = 14;

/// How long to wait for an interrupt before looking at the drive (timer
/// ticks, 10 ms).
const IRQ_WAIT_TICKS: u32 = 100;

/// How many waits without an interrupt, the drive busy all along, before
/// the drive counts as dead.
const MAX_QUIET_WAITS: u32 = 100;

/// The disk server's state.
struct DiskServer {
    /// The shared driver.
    ata: Ata<HardwarePorts>,
    /// Sectors on the disk (0 if there is no usable disk: every request fails).
    sectors: u64,
}

impl DiskServer {
    /// Waits for the next disk interrupt, lets the driver handle it, and
    /// acknowledges it; without an interrupt in time, lets the driver look
    /// at the drive (the same `handle_irq`: it reads the status). `None` if
    /// the drive stayed busy through [`MAX_QUIET_WAITS`] waits (then it has
    /// been reset).
    fn next_event(&mut self, sector: &mut [u8; SECTOR_SIZE]) -> Option<AtaEvent> {
        for _ in 0..MAX_QUIET_WAITS {
            let event =
                match l4::ipc::receive(ThreadId::irq(DISK_IRQ), Timeout::Ticks(IRQ_WAIT_TICKS)) {
                    Ok(_) => {
                        let event = self.ata.handle_irq(sector);
                        server_lib::acknowledge(DISK_IRQ);
                        event
                    }
                    // No interrupt yet: busy (`Spurious`) means still working.
                    Err(_) => self.ata.handle_irq(sector),
                };
            if event != AtaEvent::Spurious {
                return Some(event);
            }
        }
        println!("disk: the drive stayed busy through {MAX_QUIET_WAITS} waits; resetting it");
        let _ = self.ata.reset();
        None
    }

    /// Reads `count` sectors from `first` into `out`.
    fn read(&mut self, first: u64, out: &mut [u8]) -> Result<(), Errno> {
        let count = check_request(self.sectors, first, out.len()).map_err(|_| Errno::EIO)?;
        self.ata
            .start_read(first, count as u32)
            .map_err(|_| Errno::EIO)?;
        let mut sector = [0u8; SECTOR_SIZE];
        loop {
            match self.next_event(&mut sector).ok_or(Errno::EIO)? {
                AtaEvent::SectorRead { lba, done } => {
                    // The driver reports sectors in order, inside the request.
                    let at = (u64::from(lba) - first) as usize * SECTOR_SIZE;
                    if let Some(slot) = out.get_mut(at..at + SECTOR_SIZE) {
                        slot.copy_from_slice(&sector);
                    }
                    if done {
                        return Ok(());
                    }
                }
                AtaEvent::Pending | AtaEvent::Spurious => {}
                _ => return Err(Errno::EIO),
            }
        }
    }

    /// Puts every write so far on the medium.
    fn flush(&mut self) -> Result<(), Errno> {
        self.ata.start_flush().map_err(|_| Errno::EIO)?;
        let mut sector = [0u8; SECTOR_SIZE];
        loop {
            match self.next_event(&mut sector).ok_or(Errno::EIO)? {
                AtaEvent::Flushed => return Ok(()),
                AtaEvent::Pending | AtaEvent::Spurious => {}
                _ => return Err(Errno::EIO),
            }
        }
    }

    /// Writes `data` (whole sectors) at `first`.
    fn write(&mut self, first: u64, data: &[u8]) -> Result<(), Errno> {
        let count = check_request(self.sectors, first, data.len()).map_err(|_| Errno::EIO)?;
        self.ata
            .start_write(first, count as u32)
            .map_err(|_| Errno::EIO)?;
        let mut sectors = data.chunks_exact(SECTOR_SIZE);
        let mut sector = [0u8; SECTOR_SIZE];
        if let Some(chunk) = sectors.next() {
            sector.copy_from_slice(chunk);
        }
        self.ata.write_sector(&sector).map_err(|_| Errno::EIO)?;
        loop {
            match self.next_event(&mut sector).ok_or(Errno::EIO)? {
                AtaEvent::SendNextSector { .. } => {
                    let chunk = sectors.next().ok_or(Errno::EIO)?;
                    sector.copy_from_slice(chunk);
                    self.ata.write_sector(&sector).map_err(|_| Errno::EIO)?;
                }
                AtaEvent::WriteDone => return Ok(()),
                AtaEvent::Pending | AtaEvent::Spurious => {}
                _ => return Err(Errno::EIO),
            }
        }
    }
}

/// How many times a new copy resets and identifies a drive that stays
/// busy, a tenth of a second apart.
const START_ATTEMPTS: u32 = 50;

/// Resets and identifies the drive; its size in sectors, or 0 if there is
/// no usable disk (every request will then fail).
///
/// A copy started after a crash may find the drive in the middle of the
/// old copy's transfer (waiting for data, or with an interrupt raised): a
/// reset abandons it. The drive may also still be busy with the old copy's
/// last command (QEMU finishes a write in host time, later on a loaded
/// host): then it waits and tries again, rather than give up the disk for
/// good — a fault campaign found a new copy that had declared the disk
/// unusable that way. (IRQ 14 is unmasked: root attached it to this
/// thread anew.)
fn start_drive(ata: &mut Ata<HardwarePorts>) -> u64 {
    let mut identify = [0u8; SECTOR_SIZE];
    let mut attempt = 1;
    loop {
        let _ = ata.reset();
        match ata.identify(&mut identify) {
            Ok(info) => return info.sectors,
            Err(AtaError::Timeout) if attempt < START_ATTEMPTS => {
                attempt += 1;
                l4::ipc::sleep(10);
            }
            Err(error) => {
                println!("disk: no usable disk ({error:?}); every request will fail");
                return 0;
            }
        }
    }
}

fn main(root: u64) -> ! {
    let root = ThreadId(root);
    server_lib::start("disk", root);
    let mut ata = Ata::primary(HardwarePorts);
    let sectors = start_drive(&mut ata);
    let mut server = DiskServer { ata, sectors };
    let mut data = vec![0u8; 4096];
    let mut request = server_lib::receive();
    loop {
        if let Some(irq) = request.irq() {
            // An interrupt while no transfer runs: let the driver see it
            // (it reports Spurious) and unmask the line.
            let mut sector = [0u8; SECTOR_SIZE];
            let _ = server.ata.handle_irq(&mut sector);
            server_lib::acknowledge(irq);
            request = server_lib::receive();
            continue;
        }
        let wire = request.wire();
        let answer: Wire = if !server_lib::sender_is(Server::Fs, request.from) {
            reply::failed(Errno::EPERM)
        } else {
            match DiskRequest::from_wire(&wire) {
                Err(problem) => reply::malformed(problem),
                Ok(DiskRequest::Info) => reply::done(&[server.sectors]),
                Ok(DiskRequest::ReadSectors { first, count }) => {
                    let out = &mut data[..count as usize * SECTOR_SIZE];
                    match server.read(first, out) {
                        Ok(()) => reply::done_with_bytes(&[], out),
                        Err(errno) => reply::failed(errno),
                    }
                }
                Ok(DiskRequest::WriteSectors { first, data }) => match server.write(first, data) {
                    Ok(()) => reply::done(&[]),
                    Err(errno) => reply::failed(errno),
                },
                Ok(DiskRequest::Flush) => match server.flush() {
                    Ok(()) => reply::done(&[]),
                    Err(errno) => reply::failed(errno),
                },
            }
        };
        let next = server_lib::reply_and_receive(request.from, &answer);
        request = next;
    }
}

l4::server_entry!(main);
