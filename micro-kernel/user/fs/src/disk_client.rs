//! The fs server's block device: IPC to the disk server.
//!
//! `common::fs::Ext2` reads and writes sectors through the `BlockDevice`
//! trait and never knows how. In the monolithic kernel the implementation
//! starts an ATA transfer and sleeps until the disk interrupts; here it
//! *calls* the disk server and waits for its reply. This is the documented
//! place where the fs server waits (`docs/design.md`, "the rule of the
//! shared code"): a call is synchronous, and the disk server is further down the
//! call graph (fs → disk), so the wait cannot deadlock.
//!
//! A request moves at most 4 KiB (8 sectors), so longer transfers (the
//! buffer cache writes back runs of blocks and reads ahead) become several
//! calls.
//!
//! If the disk server crashes under a request, root starts a new copy and
//! `server_lib::call` sends the request again, to it: reading or writing
//! the same sectors twice does no harm, so a restarted disk server is
//! invisible here (`docs/fault-isolation.md`).

use common::abi::proto::disk::{DiskRequest, MAX_SECTORS};
use common::block::{BlockDevice, BlockError, SECTOR_SIZE, check_request};
use server_lib::Server;

/// Bytes one disk request moves.
const CHUNK_BYTES: usize = MAX_SECTORS as usize * SECTOR_SIZE;

/// A device error code for the log: the disk server answered an error.
const DISK_SERVER_ERROR: u32 = 1;
/// A device error code for the log: the reply had the wrong size.
const SHORT_REPLY: u32 = 2;

/// The disk, as a client of the disk server.
pub struct DiskClient {
    /// Sectors on the disk (asked once, at start).
    sectors: u64,
}

/// The disk server, as `server_lib` knows it now (if root restarts it, a
/// call that finds it gone goes to the new copy: its requests are
/// idempotent, a read or a write of whole sectors).
const DISK: Server = Server::Disk;

impl DiskClient {
    /// Asks the disk server how big the disk is. `None` if it does not
    /// answer (no disk).
    pub fn connect() -> Option<DiskClient> {
        let reply = server_lib::call(DISK, &DiskRequest::Info.to_wire()).ok()?;
        let sectors = reply.word(0).ok()?;
        (sectors > 0).then_some(DiskClient { sectors })
    }
}

impl BlockDevice for DiskClient {
    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(self.sectors, first, buf.len())?;
        for (index, chunk) in buf.chunks_mut(CHUNK_BYTES).enumerate() {
            let request = DiskRequest::ReadSectors {
                first: first + (index * MAX_SECTORS as usize) as u64,
                count: (chunk.len() / SECTOR_SIZE) as u64,
            };
            // The sectors land straight in `chunk` (the buffer cache's block).
            let reply = server_lib::call_into(DISK, &request.to_wire(), chunk).map_err(|_| {
                BlockError::Device {
                    code: DISK_SERVER_ERROR,
                }
            })?;
            if reply.byte_count != chunk.len() {
                return Err(BlockError::Device { code: SHORT_REPLY });
            }
        }
        Ok(())
    }

    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(self.sectors, first, buf.len())?;
        for (index, chunk) in buf.chunks(CHUNK_BYTES).enumerate() {
            let request = DiskRequest::WriteSectors {
                first: first + (index * MAX_SECTORS as usize) as u64,
                data: chunk,
            };
            server_lib::call(DISK, &request.to_wire()).map_err(|_| BlockError::Device {
                code: DISK_SERVER_ERROR,
            })?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        server_lib::call(DISK, &DiskRequest::Flush.to_wire()).map_err(|_| BlockError::Device {
            code: DISK_SERVER_ERROR,
        })?;
        Ok(())
    }
}
