//! The disk server's protocol (`micro-kernel/user/disk`): sectors of the
//! ATA disk, for the fs server only.
//!
//! | request                      | words          | bytes            | reply (`Done`)               |
//! |------------------------------|----------------|------------------|------------------------------|
//! | [`DiskRequest::Info`]        | —              | —                | word 0: sectors on the disk  |
//! | [`DiskRequest::ReadSectors`] | first, count   | —                | the `count * 512` bytes      |
//! | [`DiskRequest::WriteSectors`]| first          | the sectors      | —                            |
//!
//! One request moves at most [`MAX_SECTORS`] sectors (4 KiB, the most one
//! IPC carries). Errors: `EINVAL` for a malformed request (bad count, a
//! byte buffer that is not whole sectors), `EIO` for a request past the end
//! of the disk or a failed transfer.

use super::{ProtoError, Wire};
use crate::block::SECTOR_SIZE;

super::operations! {
    /// The disk server's operations.
    pub enum DiskOp from 0x200 {
        Info,
        ReadSectors,
        WriteSectors,
        Flush,
    }
}

/// The most sectors one request reads or writes (4096 bytes).
pub const MAX_SECTORS: u64 = 8;

/// A request to the disk server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskRequest<'a> {
    /// How many sectors the disk has.
    Info,
    /// Read `count` (1..=[`MAX_SECTORS`]) sectors from `first`.
    ReadSectors {
        /// First sector.
        first: u64,
        /// Number of sectors.
        count: u64,
    },
    /// Write `data` (1..=[`MAX_SECTORS`] whole sectors) at `first`.
    WriteSectors {
        /// First sector.
        first: u64,
        /// The sectors' bytes.
        data: &'a [u8],
    },
    /// Put every write so far on the medium (the drive's cache flush).
    Flush,
}

impl<'a> DiskRequest<'a> {
    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        match *self {
            DiskRequest::Info => Wire::new(DiskOp::Info.label(), &[]),
            DiskRequest::ReadSectors { first, count } => {
                Wire::new(DiskOp::ReadSectors.label(), &[first, count])
            }
            DiskRequest::WriteSectors { first, data } => {
                Wire::new(DiskOp::WriteSectors.label(), &[first]).with_bytes(data)
            }
            DiskRequest::Flush => Wire::new(DiskOp::Flush.label(), &[]),
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<DiskRequest<'a>, ProtoError> {
        match wire.operation(DiskOp::from_label)? {
            DiskOp::Info => Ok(DiskRequest::Info),
            DiskOp::ReadSectors => {
                let count = wire.word(1)?;
                if count == 0 || count > MAX_SECTORS {
                    return Err(ProtoError::BadValue(1));
                }
                Ok(DiskRequest::ReadSectors {
                    first: wire.word(0)?,
                    count,
                })
            }
            DiskOp::WriteSectors => {
                let first = wire.word(0)?;
                let data = wire.bytes()?;
                let whole = !data.is_empty() && data.len() % SECTOR_SIZE == 0;
                if !whole || data.len() as u64 > MAX_SECTORS * SECTOR_SIZE as u64 {
                    return Err(ProtoError::BadValue(0));
                }
                Ok(DiskRequest::WriteSectors { first, data })
            }
            DiskOp::Flush => Ok(DiskRequest::Flush),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let data = [7u8; 1024];
        for request in [
            DiskRequest::Info,
            DiskRequest::ReadSectors { first: 2, count: 8 },
            DiskRequest::WriteSectors {
                first: 9,
                data: &data,
            },
            DiskRequest::Flush,
        ] {
            assert_eq!(DiskRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let read =
            |count| DiskRequest::from_wire(&Wire::new(DiskOp::ReadSectors.label(), &[0, count]));
        assert_eq!(read(0), Err(ProtoError::BadValue(1)));
        assert_eq!(read(9), Err(ProtoError::BadValue(1)));
        assert_eq!(
            DiskRequest::from_wire(&Wire::new(DiskOp::ReadSectors.label(), &[0])),
            Err(ProtoError::MissingWord(1))
        );
        let write = |bytes: &'static [u8]| {
            DiskRequest::from_wire(&Wire::new(DiskOp::WriteSectors.label(), &[0]).with_bytes(bytes))
        };
        assert_eq!(write(&[0; 100]), Err(ProtoError::BadValue(0)));
        assert_eq!(write(&[]), Err(ProtoError::BadValue(0)));
        assert_eq!(write(&[0; 4608]), Err(ProtoError::BadValue(0)));
        assert_eq!(
            DiskRequest::from_wire(&Wire::new(DiskOp::WriteSectors.label(), &[0])),
            Err(ProtoError::MissingBytes)
        );
        assert_eq!(
            DiskRequest::from_wire(&Wire::new(0x999, &[])),
            Err(ProtoError::UnknownLabel(0x999))
        );
    }
}
