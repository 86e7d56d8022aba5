//! The real-time clock server's protocol (`micro-kernel/user/rtc`): the
//! date and time, for any program.
//!
//! | request            | words | reply (`Done`)                         |
//! |--------------------|-------|----------------------------------------|
//! | [`RtcRequest::Time`] | —   | word 0: seconds since 1970-01-01 UTC   |
//!
//! Errors: `EIO` when the clock cannot be read (stuck in an update, or
//! holding no date: `common::drivers::rtc::RtcError`), `ENOSYS` for a
//! label that is not an [`RtcOp`]. User programs reach the server
//! directly: its thread id is in the auxiliary block `proc` leaves on
//! every program's stack (`proto::proc::AuxBlock`), and ulib's micro back
//! end sends `Time` for the `time` call.

use super::{ProtoError, Wire};

super::operations! {
    /// The rtc server's operations.
    pub enum RtcOp from 0x500 {
        Time,
    }
}

/// A request to the rtc server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcRequest {
    /// Seconds since the epoch, now.
    Time,
}

impl RtcRequest {
    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'static> {
        match self {
            RtcRequest::Time => Wire::new(RtcOp::Time.label(), &[]),
        }
    }

    /// Decodes a request (any words it carries are ignored).
    pub fn from_wire(wire: &Wire) -> Result<RtcRequest, ProtoError> {
        match wire.operation(RtcOp::from_label)? {
            RtcOp::Time => Ok(RtcRequest::Time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_other_labels_are_refused() {
        assert_eq!(
            RtcRequest::from_wire(&RtcRequest::Time.to_wire()),
            Ok(RtcRequest::Time)
        );
        assert_eq!(RtcOp::Time.label(), 0x500);
        assert_eq!(
            RtcRequest::from_wire(&Wire::new(0x501, &[])),
            Err(ProtoError::UnknownLabel(0x501))
        );
        assert_eq!(
            RtcRequest::from_wire(&Wire::new(0x101, &[])),
            Err(ProtoError::UnknownLabel(0x101))
        );
    }
}
