//! The fixed buffer that turns one `print!` into one `write`.
//!
//! Formatting (`write!(w, "{} {}", a, b)`) produces many small pieces. Writing
//! each piece with its own system call would be slow and, worse, would let
//! the output of two processes printing at the same time interleave in the
//! middle of a line. [`FormatBuffer`] collects the pieces in a buffer on the
//! stack and hands the whole text to a *sink* (for printing: one `write`
//! system call) when the print is finished. Only text longer than the buffer
//! is handed over in several pieces. No heap memory is used, so printing
//! works even when the heap is exhausted.

use core::fmt;

/// Collects formatted text in `buffer` and passes it to `sink` in as few
/// pieces as possible.
pub struct FormatBuffer<'a, S: FnMut(&[u8])> {
    /// Storage for text not yet passed on.
    buffer: &'a mut [u8],
    /// Number of bytes of `buffer` in use. Invariant: `used <= buffer.len()`.
    used: usize,
    /// Receives the text, in order.
    sink: S,
}

impl<'a, S: FnMut(&[u8])> FormatBuffer<'a, S> {
    /// An empty buffer over `buffer` that will deliver text to `sink`.
    pub fn new(buffer: &'a mut [u8], sink: S) -> Self {
        FormatBuffer {
            buffer,
            used: 0,
            sink,
        }
    }

    /// Appends bytes, passing the buffer on whenever it fills up.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.used == self.buffer.len() {
                self.flush();
                if self.buffer.is_empty() {
                    // No buffer at all: pass text straight through.
                    (self.sink)(bytes);
                    return;
                }
            }
            let room = self.buffer.len() - self.used;
            let take = room.min(bytes.len());
            self.buffer[self.used..self.used + take].copy_from_slice(&bytes[..take]);
            self.used += take;
            bytes = &bytes[take..];
        }
    }

    /// Passes any buffered text to the sink.
    pub fn flush(&mut self) {
        if self.used > 0 {
            (self.sink)(&self.buffer[..self.used]);
            self.used = 0;
        }
    }
}

impl<S: FnMut(&[u8])> fmt::Write for FormatBuffer<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

impl<S: FnMut(&[u8])> Drop for FormatBuffer<'_, S> {
    /// Whatever is still buffered is delivered when the buffer goes away.
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use core::fmt::Write;

    #[test]
    fn short_text_is_delivered_once() {
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        {
            let mut storage = [0u8; 64];
            let mut b = FormatBuffer::new(&mut storage, |p: &[u8]| pieces.push(p.to_vec()));
            writeln!(b, "{} + {} = {}", 2, 3, 2 + 3).unwrap();
        }
        assert_eq!(pieces, vec![b"2 + 3 = 5\n".to_vec()]);
    }

    #[test]
    fn long_text_is_split_at_buffer_size_in_order() {
        let mut out: Vec<Vec<u8>> = Vec::new();
        {
            let mut storage = [0u8; 4];
            let mut b = FormatBuffer::new(&mut storage, |p: &[u8]| out.push(p.to_vec()));
            b.push(b"abcdefghij");
            b.flush();
            b.push(b"k");
        }
        assert_eq!(out.concat(), b"abcdefghijk".to_vec());
        assert_eq!(out[0], b"abcd".to_vec());
        assert!(out.iter().all(|p| p.len() <= 4));
    }

    #[test]
    fn zero_sized_buffer_passes_text_through() {
        let mut out = Vec::new();
        {
            let mut storage = [0u8; 0];
            let mut b = FormatBuffer::new(&mut storage, |p: &[u8]| out.extend_from_slice(p));
            b.push(b"xyz");
        }
        assert_eq!(out, b"xyz");
    }
}
