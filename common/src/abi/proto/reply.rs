//! Replies: one convention for every server.
//!
//! A reply's label says how the request went ([`ReplyKind`]):
//!
//! | label                  | meaning                        | words / bytes                   |
//! |------------------------|--------------------------------|---------------------------------|
//! | [`ReplyKind::Done`]    | done                           | the results the request defines |
//! | [`ReplyKind::Failed`]  | failed                         | word 0: the [`Errno`] code      |
//! | [`ReplyKind::Redirect`]| ask another server (vfs only)  | word 0: that server's thread id |
//!
//! Clients never decode replies themselves: the transport (`l4::rpc::call`)
//! turns `Failed` into `Err(errno)`, follows a `Redirect` by sending the same
//! request to the named server, and turns anything it does not understand
//! (an unknown label, a missing error code) into `Err(EIO)`, so a confused
//! or hostile server cannot make a client panic either.

use super::{ProtoError, Wire};
use crate::abi::errno::Errno;

super::operations! {
    /// How a request went: the label of its reply.
    pub enum ReplyKind from 0 {
        /// The request succeeded; the words (and bytes) are its results.
        Done,
        /// The request failed; word 0 is the errno code.
        Failed,
        /// The request must be sent to another server, unchanged; word 0 is
        /// its thread id (vfs, for a console descriptor's read or write).
        Redirect,
    }
}

/// A success reply with `words`.
pub fn done<'a>(words: &[u64]) -> Wire<'a> {
    Wire::new(ReplyKind::Done.label(), words)
}

/// A success reply with `words` and `bytes`.
pub fn done_with_bytes<'a>(words: &[u64], bytes: &'a [u8]) -> Wire<'a> {
    done(words).with_bytes(bytes)
}

/// An error reply.
pub fn failed<'a>(errno: Errno) -> Wire<'a> {
    Wire::new(ReplyKind::Failed.label(), &[errno as i64 as u64])
}

/// An error reply with more words after the errno (the fs server's
/// journal position, `fs.rs`).
pub fn failed_with<'a>(errno: Errno, more: &[u64]) -> Wire<'a> {
    let mut words = [errno as i64 as u64, 0, 0, 0];
    let count = 1 + more.len().min(words.len() - 1);
    words[1..count].copy_from_slice(&more[..count - 1]);
    Wire::new(ReplyKind::Failed.label(), &words[..count])
}

/// The error reply for a message that could not be decoded.
pub fn malformed<'a>(problem: ProtoError) -> Wire<'a> {
    failed(problem.errno())
}

/// A redirect: send the same request to `server`.
pub fn redirect<'a>(server: u64) -> Wire<'a> {
    Wire::new(ReplyKind::Redirect.label(), &[server])
}

/// The errno of a `Failed` reply's words; `EIO` for a missing or unknown code.
pub fn errno_of(words: &[u64]) -> Errno {
    words
        .first()
        .and_then(|&code| Errno::from_code(code as i64))
        .unwrap_or(Errno::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_their_kind_and_values() {
        let ok = done(&[5, 6]);
        assert_eq!(ReplyKind::from_label(ok.label), Some(ReplyKind::Done));
        assert_eq!(ok.word(1), Ok(6));
        let error = failed(Errno::ENOENT);
        assert_eq!(ReplyKind::from_label(error.label), Some(ReplyKind::Failed));
        assert_eq!(errno_of(&error.words[..error.word_count]), Errno::ENOENT);
        assert_eq!(redirect(77).word(0), Ok(77));
        assert_eq!(done_with_bytes(&[], b"abc").bytes(), Ok(&b"abc"[..]));
        assert_eq!(
            errno_of(&malformed(ProtoError::UnknownLabel(3)).words[..1]),
            Errno::ENOSYS
        );
    }

    #[test]
    fn garbage_error_codes_are_eio() {
        assert_eq!(errno_of(&[]), Errno::EIO);
        assert_eq!(errno_of(&[9999]), Errno::EIO);
        assert_eq!(ReplyKind::from_label(42), None);
    }
}
