//! Turning a Rust string into the NUL-terminated path the kernel reads.
//!
//! Rust strings carry their length; the system-call ABI (like C and xv6)
//! passes a path as a pointer to bytes ending in a NUL. [`CPath`] copies a
//! `&str` into a fixed buffer on the stack and appends the NUL, so no heap
//! allocation is needed for the most common system calls. A path longer than
//! [`MAX_PATH`] bytes is rejected here with `ENAMETOOLONG`, and a path that
//! contains a NUL byte (which the kernel would silently cut short) with
//! `EINVAL`.

use crate::Errno;
use common::abi::syscall::MAX_PATH;

/// A path of at most [`MAX_PATH`] bytes followed by a NUL.
pub struct CPath {
    /// The path bytes, then a NUL; the rest is unused.
    bytes: [u8; MAX_PATH + 1],
}

impl CPath {
    /// Copies `path` and appends the terminating NUL.
    ///
    /// Returns `ENAMETOOLONG` if `path` is longer than [`MAX_PATH`] bytes and
    /// `EINVAL` if it contains a NUL byte.
    pub fn new(path: &str) -> Result<CPath, Errno> {
        let source = path.as_bytes();
        if source.len() > MAX_PATH {
            return Err(Errno::ENAMETOOLONG);
        }
        if source.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let mut bytes = [0u8; MAX_PATH + 1];
        bytes[..source.len()].copy_from_slice(source);
        // Invariant: bytes[source.len()] == 0 (the array started zeroed).
        Ok(CPath { bytes })
    }

    /// A pointer to the first byte; valid while `self` lives.
    pub fn as_ptr(&self) -> *const u8 {
        self.bytes.as_ptr()
    }

    /// The path without its NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.bytes.iter().position(|&b| b == 0).unwrap_or(MAX_PATH);
        &self.bytes[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_terminates() {
        let p = CPath::new("/bin/sh").unwrap();
        assert_eq!(p.as_bytes(), b"/bin/sh");
        // SAFETY: the pointer is valid for MAX_PATH + 1 bytes while `p` lives.
        let terminator = unsafe { *p.as_ptr().add(7) };
        assert_eq!(terminator, 0);
    }

    #[test]
    fn rejects_too_long_and_embedded_nul() {
        let long = "a".repeat(MAX_PATH + 1);
        assert_eq!(CPath::new(&long).err(), Some(Errno::ENAMETOOLONG));
        let just_fits = "b".repeat(MAX_PATH);
        assert_eq!(CPath::new(&just_fits).unwrap().as_bytes().len(), MAX_PATH);
        assert_eq!(CPath::new("a\0b").err(), Some(Errno::EINVAL));
    }

    #[test]
    fn empty_path_is_just_a_nul() {
        let p = CPath::new("").unwrap();
        assert_eq!(p.as_bytes(), b"");
    }
}
