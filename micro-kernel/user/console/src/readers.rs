//! Console input and the reads waiting for it.
//!
//! The monolithic kernel puts a reader to sleep until the line discipline
//! says a line is readable, and the woken reader takes the line itself.
//! The console server cannot sleep in a client: it *parks* each `Read`
//! (client, length) in arrival order and, whenever lines are there, pops
//! the oldest and hands it the next line ([`ConsoleInput::next_answer`]).
//!
//! One case the monolithic kernel does not have: the reply can fail, if
//! the reader was killed while it waited. The line was already taken from
//! the line discipline; [`ConsoleInput::undelivered`] keeps it, and the next
//! reader gets it first — so killing a waiting program loses no typing.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use common::drivers::console::{InputOutcome, LineDiscipline, ReadOutcome};

/// A read waiting for a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parked {
    client: u64,
    len: usize,
}

/// The line discipline and the parked reads.
#[derive(Debug, Default)]
pub struct ConsoleInput {
    lines: LineDiscipline,
    /// Reads waiting, oldest first.
    parked: VecDeque<Parked>,
    /// A line (or end of file: empty) no reader could take. Invariant:
    /// when `Some`, it is what the next reader gets, before any new line.
    undelivered: Option<Vec<u8>>,
}

impl ConsoleInput {
    /// No input, nobody waiting.
    pub fn new() -> ConsoleInput {
        ConsoleInput::default()
    }

    /// One typed byte: the line discipline's outcome (what to echo; if
    /// readers may proceed, call [`next_answer`](Self::next_answer)).
    pub fn input(&mut self, byte: u8) -> InputOutcome {
        self.lines.input(byte)
    }

    /// A `Read` of at most `len` bytes by `client`: parked until
    /// [`next_answer`](Self::next_answer) answers it.
    ///
    /// A client waits for one reply at a time, so an older parked read of
    /// the same thread is stale and dropped (a thread cannot fill the
    /// server's memory with reads it never waits for).
    pub fn park(&mut self, client: u64, len: usize) {
        self.parked.retain(|p| p.client != client);
        self.parked.push_back(Parked { client, len });
    }

    /// Number of parked reads.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// The oldest parked read that can be answered now, with its bytes
    /// (none: end of file); `None` if nobody waits or no line is there.
    pub fn next_answer(&mut self) -> Option<(u64, Vec<u8>)> {
        let reader = *self.parked.front()?;
        let bytes = if let Some(mut line) = self.undelivered.take() {
            if line.len() > reader.len {
                self.undelivered = Some(line.split_off(reader.len));
            }
            line
        } else {
            let mut line = vec![0u8; reader.len];
            match self.lines.read(&mut line) {
                ReadOutcome::Read(count) => line.truncate(count),
                ReadOutcome::WouldBlock => return None,
            }
            line
        };
        self.parked.pop_front();
        Some((reader.client, bytes))
    }

    /// The reply carrying `bytes` could not be delivered (the reader is
    /// gone): the next reader gets them.
    pub fn undelivered(&mut self, mut bytes: Vec<u8>) {
        if let Some(rest) = self.undelivered.take() {
            bytes.extend_from_slice(&rest);
        }
        self.undelivered = Some(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_text(input: &mut ConsoleInput, text: &[u8]) -> bool {
        text.iter().fold(false, |ready, &byte| {
            input.input(byte).readers_may_proceed || ready
        })
    }

    #[test]
    fn a_parked_read_is_answered_when_a_line_is_typed() {
        let mut input = ConsoleInput::new();
        input.park(7, 100);
        assert_eq!(input.next_answer(), None, "no line yet");
        assert!(!type_text(&mut input, b"ec"));
        assert_eq!(input.next_answer(), None, "the line is not finished");
        assert!(type_text(&mut input, b"ho\n"));
        assert_eq!(input.next_answer(), Some((7, b"echo\n".to_vec())));
        assert_eq!(input.parked(), 0);
    }

    #[test]
    fn a_client_has_at_most_one_parked_read() {
        let mut input = ConsoleInput::new();
        for len in 1..50 {
            input.park(9, len);
        }
        assert_eq!(input.parked(), 1);
        type_text(&mut input, b"abcdefghijklmnopqrstuvwxyz\n");
        let (client, line) = input.next_answer().unwrap();
        assert_eq!(
            (client, line.len()),
            (9, 27),
            "the newest read (49 bytes) counts"
        );
    }

    #[test]
    fn readers_are_served_in_order_one_line_each() {
        let mut input = ConsoleInput::new();
        type_text(&mut input, b"one\ntwo\n");
        input.park(1, 100);
        input.park(2, 100);
        input.park(3, 100);
        assert_eq!(input.next_answer(), Some((1, b"one\n".to_vec())));
        assert_eq!(input.next_answer(), Some((2, b"two\n".to_vec())));
        assert_eq!(input.next_answer(), None, "reader 3 waits for a third line");
        assert_eq!(input.parked(), 1);
    }

    #[test]
    fn a_line_a_dead_reader_could_not_take_goes_to_the_next() {
        let mut input = ConsoleInput::new();
        input.park(1, 100);
        type_text(&mut input, b"hello\n");
        let (_, line) = input.next_answer().unwrap();
        input.undelivered(line);
        input.park(2, 3);
        input.park(3, 100);
        assert_eq!(
            input.next_answer(),
            Some((2, b"hel".to_vec())),
            "short reads split it"
        );
        assert_eq!(input.next_answer(), Some((3, b"lo\n".to_vec())));
    }

    #[test]
    fn end_of_file_is_an_empty_answer_and_survives_a_dead_reader() {
        let mut input = ConsoleInput::new();
        input.park(1, 10);
        assert!(type_text(&mut input, &[0x04])); // Ctrl+D on an empty line
        let (client, bytes) = input.next_answer().unwrap();
        assert_eq!((client, bytes.len()), (1, 0));
        input.undelivered(bytes);
        input.park(2, 10);
        assert_eq!(input.next_answer(), Some((2, Vec::new())));
    }
}
