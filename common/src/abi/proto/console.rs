//! The console server's protocol (`micro-kernel/user/console`): reading
//! lines from the keyboard and serial port, writing to screen and serial.
//!
//! | request                    | words | bytes      | reply (`REPLY_OK`)              |
//! |----------------------------|-------|------------|---------------------------------|
//! | [`ConsoleRequest::Read`]   | len   | —          | at most one line, ≤ `len` bytes (none: end of file) |
//! | [`ConsoleRequest::Write`]  | —     | the text   | word 0: bytes written           |
//!
//! A `Read` waits (the server parks it, replying later) until a line has
//! been typed. Clients reach the console through the vfs server's
//! `Redirect` reply for console descriptors (see `vfs.rs`).

use super::{ProtoError, Wire};

/// First label of this protocol.
pub const LABEL_BASE: u64 = 0x500;
const READ: u64 = LABEL_BASE;
const WRITE: u64 = LABEL_BASE + 1;

/// The most bytes one request moves.
pub use super::MAX_TRANSFER;

/// A request to the console server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleRequest<'a> {
    /// Read at most one line, at most `len` (≤ [`MAX_TRANSFER`]) bytes.
    Read { len: u64 },
    /// Print `data`.
    Write { data: &'a [u8] },
}

impl<'a> ConsoleRequest<'a> {
    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        match *self {
            ConsoleRequest::Read { len } => Wire::new(READ, &[len]),
            ConsoleRequest::Write { data } => Wire::new(WRITE, &[]).with_bytes(data),
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<ConsoleRequest<'a>, ProtoError> {
        match wire.label {
            READ => {
                let len = wire.word(0)?;
                if len > MAX_TRANSFER {
                    return Err(ProtoError::BadValue(0));
                }
                Ok(ConsoleRequest::Read { len })
            }
            WRITE => Ok(ConsoleRequest::Write {
                data: wire.bytes()?,
            }),
            other => Err(ProtoError::UnknownLabel(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for request in [
            ConsoleRequest::Read { len: 100 },
            ConsoleRequest::Write { data: b"hi\n" },
        ] {
            assert_eq!(ConsoleRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(
            ConsoleRequest::from_wire(&Wire::new(READ, &[4097])),
            Err(ProtoError::BadValue(0))
        );
        assert_eq!(
            ConsoleRequest::from_wire(&Wire::new(READ, &[])),
            Err(ProtoError::MissingWord(0))
        );
        assert_eq!(
            ConsoleRequest::from_wire(&Wire::new(WRITE, &[])),
            Err(ProtoError::MissingBytes)
        );
        assert_eq!(
            ConsoleRequest::from_wire(&Wire::new(0x777, &[])),
            Err(ProtoError::UnknownLabel(0x777))
        );
    }
}
