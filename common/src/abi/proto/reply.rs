//! The reply convention shared by the I/O servers' protocols (console,
//! disk, fs, vfs).
//!
//! Every reply is a [`Wire`] whose label says how the request went:
//!
//! | label            | meaning                          | words / bytes                   |
//! |------------------|----------------------------------|---------------------------------|
//! | [`REPLY_OK`]     | done                             | the results the request defines |
//! | [`REPLY_ERROR`]  | failed                           | word 0: the [`Errno`] code      |
//! | [`REPLY_REDIRECT`] | ask another server (vfs only)  | word 0: that server's thread id |
//!
//! A client decodes every reply with [`check_reply`], which turns an error
//! reply into `Err(errno)` and anything it does not understand (an unknown
//! label, a missing error code) into `Err(EIO)`: a confused or hostile
//! server cannot make a client panic either.

use super::{ProtoError, Wire};
use crate::abi::errno::Errno;

/// The request succeeded; the words (and bytes) are its results.
pub const REPLY_OK: u64 = 0;
/// The request failed; word 0 is the errno code.
pub const REPLY_ERROR: u64 = 1;
/// The request must be sent to another server; word 0 is its thread id.
pub const REPLY_REDIRECT: u64 = 2;

/// A success reply with `words`.
pub fn ok<'a>(words: &[u64]) -> Wire<'a> {
    Wire::new(REPLY_OK, words)
}

/// A success reply with `words` and `bytes`.
pub fn ok_with_bytes<'a>(words: &[u64], bytes: &'a [u8]) -> Wire<'a> {
    Wire::new(REPLY_OK, words).with_bytes(bytes)
}

/// An error reply.
pub fn error<'a>(errno: Errno) -> Wire<'a> {
    Wire::new(REPLY_ERROR, &[errno as i64 as u64])
}

/// The error reply for a message that could not be decoded.
pub fn malformed<'a>(problem: ProtoError) -> Wire<'a> {
    error(problem.errno())
}

/// What a client learns from a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// Success, with the reply (its words and bytes are the results).
    Done(Wire<'a>),
    /// Send the same request to this thread instead.
    Redirect(u64),
}

/// Decodes a reply: `Ok(Answer)` for success or redirect, `Err(errno)` for an
/// error reply, `Err(EIO)` for anything malformed.
pub fn check_reply(wire: Wire<'_>) -> Result<Answer<'_>, Errno> {
    match wire.label {
        REPLY_OK => Ok(Answer::Done(wire)),
        REPLY_ERROR => {
            let code = wire.word(0).map_err(|_| Errno::EIO)?;
            Err(Errno::from_code(code as i64).unwrap_or(Errno::EIO))
        }
        REPLY_REDIRECT => wire.word(0).map(Answer::Redirect).map_err(|_| Errno::EIO),
        _ => Err(Errno::EIO),
    }
}

/// Decodes a reply that may not redirect: the success reply or an errno.
pub fn expect_done(wire: Wire<'_>) -> Result<Wire<'_>, Errno> {
    match check_reply(wire)? {
        Answer::Done(reply) => Ok(reply),
        Answer::Redirect(_) => Err(Errno::EIO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        assert_eq!(expect_done(ok(&[5, 6])).map(|w| w.word(1)), Ok(Ok(6)));
        assert_eq!(expect_done(error(Errno::ENOENT)), Err(Errno::ENOENT));
        assert_eq!(
            check_reply(Wire::new(REPLY_REDIRECT, &[77])),
            Ok(Answer::Redirect(77))
        );
        let with_bytes = ok_with_bytes(&[], b"abc");
        assert_eq!(expect_done(with_bytes).unwrap().bytes(), Ok(&b"abc"[..]));
    }

    #[test]
    fn malformed_replies_are_eio() {
        assert_eq!(check_reply(Wire::new(REPLY_ERROR, &[])), Err(Errno::EIO));
        assert_eq!(
            check_reply(Wire::new(REPLY_ERROR, &[9999])),
            Err(Errno::EIO)
        );
        assert_eq!(check_reply(Wire::new(REPLY_REDIRECT, &[])), Err(Errno::EIO));
        assert_eq!(check_reply(Wire::new(42, &[])), Err(Errno::EIO));
        assert_eq!(
            expect_done(Wire::new(REPLY_REDIRECT, &[1])),
            Err(Errno::EIO)
        );
        assert_eq!(
            expect_done(malformed(ProtoError::UnknownLabel(3))),
            Err(Errno::ENOSYS)
        );
    }
}
