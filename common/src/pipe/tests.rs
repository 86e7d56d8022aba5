//! Host tests for the pipe: one test per rule, wraparound of the ring and
//! of the counters, the chunked copy (a failed copy changes nothing), and a
//! property test that runs random operation sequences against a
//! `VecDeque` model.

use super::*;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Reads up to `n` bytes, returning them (or the non-data outcome).
fn read_n(pipe: &mut Pipe, n: usize) -> Result<Vec<u8>, PipeRead> {
    let mut buf = vec![0; n];
    match pipe.read(&mut buf) {
        PipeRead::Read(got) => Ok(buf[..got].to_vec()),
        other => Err(other),
    }
}

/// A pipe with both counters at `start` (to test wrapping at the top of usize).
fn pipe_with_counters(start: usize) -> Pipe {
    let mut pipe = Pipe::new();
    pipe.bytes_read = start;
    pipe.bytes_written = start;
    pipe
}

#[test]
fn bytes_come_out_in_order_and_wake_the_other_side() {
    let mut pipe = Pipe::new();
    let wrote = pipe.write(b"hello");
    assert_eq!(wrote, PipeWrite::Wrote(5));
    assert_eq!(
        wrote.wakeup(),
        Wakeup {
            readers: true,
            writers: false
        }
    );
    let mut buf = [0; 16];
    let read = pipe.read(&mut buf);
    assert_eq!(read, PipeRead::Read(5));
    assert_eq!(
        read.wakeup(),
        Wakeup {
            readers: false,
            writers: true
        }
    );
    assert_eq!(&buf[..5], b"hello");
}

#[test]
fn read_returns_what_is_there() {
    let mut pipe = Pipe::new();
    let _ = pipe.write(b"abc");
    assert_eq!(read_n(&mut pipe, 2).unwrap(), b"ab");
    assert_eq!(read_n(&mut pipe, 100).unwrap(), b"c");
    assert_eq!(read_n(&mut pipe, 100), Err(PipeRead::WouldBlock));
    assert_eq!(PipeRead::WouldBlock.wakeup(), Wakeup::NONE);
}

#[test]
fn large_writes_are_partial_and_a_full_pipe_blocks() {
    let mut pipe = Pipe::new();
    assert_eq!(
        pipe.write(&[1; PIPE_SIZE - 1000]),
        PipeWrite::Wrote(PIPE_SIZE - 1000)
    );
    assert_eq!(pipe.write(&[2; 2000]), PipeWrite::Wrote(1000));
    assert_eq!(pipe.free_space(), 0);
    assert_eq!(pipe.write(&[3; 2000]), PipeWrite::WouldBlock);
    assert_eq!(pipe.write(b"x"), PipeWrite::WouldBlock);
    assert_eq!(PipeWrite::WouldBlock.wakeup(), Wakeup::NONE);
    assert_eq!(pipe.len(), PIPE_SIZE, "nothing was written while full");
}

#[test]
fn small_writes_are_atomic() {
    let mut pipe = Pipe::new();
    let _ = pipe.write(&[0; PIPE_SIZE - 200]);
    assert_eq!(
        pipe.write(&[1; 300]),
        PipeWrite::WouldBlock,
        "300 <= PIPE_BUF: all or nothing"
    );
    assert_eq!(pipe.write(&[1; 200]), PipeWrite::Wrote(200));
    let _ = read_n(&mut pipe, 200);
    assert_eq!(
        pipe.write(&[2; PIPE_BUF + 1]),
        PipeWrite::Wrote(200),
        "above PIPE_BUF: partial is fine"
    );
}

#[test]
fn end_of_file_only_after_the_data_is_drained() {
    let mut pipe = Pipe::new();
    let _ = pipe.write(b"last words");
    assert_eq!(
        pipe.close_writer(),
        Ok(Wakeup {
            readers: true,
            writers: false
        })
    );
    assert_eq!(read_n(&mut pipe, 4).unwrap(), b"last");
    assert_eq!(read_n(&mut pipe, 100).unwrap(), b" words");
    assert_eq!(read_n(&mut pipe, 100), Err(PipeRead::EndOfFile));
    assert_eq!(
        read_n(&mut pipe, 100),
        Err(PipeRead::EndOfFile),
        "EOF stays"
    );
}

#[test]
fn an_empty_pipe_waits_until_the_write_end_closes() {
    let mut pipe = Pipe::new();
    assert_eq!(read_n(&mut pipe, 1), Err(PipeRead::WouldBlock));
    assert_eq!(
        pipe.close_writer(),
        Ok(Wakeup {
            readers: true,
            writers: false
        })
    );
    assert_eq!(read_n(&mut pipe, 1), Err(PipeRead::EndOfFile));
}

#[test]
fn broken_pipe_after_the_read_end_closes() {
    let mut pipe = Pipe::new();
    assert_eq!(pipe.write(b"ok"), PipeWrite::Wrote(2));
    assert_eq!(
        pipe.close_reader(),
        Ok(Wakeup {
            readers: false,
            writers: true
        })
    );
    assert_eq!(pipe.write(b"lost"), PipeWrite::BrokenPipe);
    assert_eq!(PipeWrite::BrokenPipe.wakeup(), Wakeup::NONE);
    assert_eq!(pipe.len(), 2, "a broken-pipe write adds nothing");
    // Even a full pipe reports EPIPE, not would-block: the writer must not sleep forever.
    let mut full = Pipe::new();
    let _ = full.write(&[0; PIPE_SIZE]);
    let _ = full.close_reader();
    assert_eq!(full.write(b"x"), PipeWrite::BrokenPipe);
}

#[test]
fn zero_length_operations_do_nothing() {
    let mut pipe = Pipe::new();
    assert_eq!(pipe.read(&mut []), PipeRead::Read(0));
    assert_eq!(pipe.write(&[]), PipeWrite::Wrote(0));
    assert_eq!(PipeWrite::Wrote(0).wakeup(), Wakeup::NONE);
    assert!(pipe.is_empty());
}

#[test]
fn closing_an_end_twice_is_an_error_not_a_panic() {
    let mut pipe = Pipe::new();
    assert!(!pipe.is_unused());
    let _ = pipe.close_reader().unwrap();
    assert_eq!(pipe.close_reader(), Err(PipeError::EndClosed));
    assert!(!pipe.reader_open() && pipe.writer_open());
    let _ = pipe.close_writer().unwrap();
    assert_eq!(pipe.close_writer(), Err(PipeError::EndClosed));
    assert!(pipe.is_unused());
}

#[test]
fn data_wraps_around_the_ring() {
    let mut pipe = Pipe::new();
    let _ = pipe.write(&[0; PIPE_SIZE - 3]);
    let _ = read_n(&mut pipe, PIPE_SIZE - 3);
    assert_eq!(pipe.write(b"wrapped!"), PipeWrite::Wrote(8)); // 3 at the end, 5 at the start
    assert_eq!(read_n(&mut pipe, 100).unwrap(), b"wrapped!");
}

#[test]
fn counters_wrap_around_usize() {
    let mut pipe = pipe_with_counters(usize::MAX - 5);
    for round in 0..3u8 {
        let data: Vec<u8> = (0..100).map(|i| i ^ round).collect();
        assert_eq!(pipe.write(&data), PipeWrite::Wrote(100));
        assert_eq!(pipe.len(), 100);
        assert_eq!(read_n(&mut pipe, 1000).unwrap(), data);
    }
    assert!(pipe.bytes_written < 1000, "the counter did wrap");
}

#[test]
fn chunked_copy_sees_at_most_two_chunks_with_offsets() {
    let mut pipe = pipe_with_counters(PIPE_SIZE - 10);
    let mut calls = Vec::new();
    let outcome = pipe.write_with(30, |offset, chunk| {
        calls.push((offset, chunk.len()));
        chunk.fill(offset as u8);
        Ok::<(), ()>(())
    });
    assert_eq!(outcome, Ok(PipeWrite::Wrote(30)));
    assert_eq!(calls, [(0, 10), (10, 20)]);
    let mut seen = Vec::new();
    let outcome = pipe.read_with(30, |offset, chunk| {
        seen.push((offset, chunk.to_vec()));
        Ok::<(), ()>(())
    });
    assert_eq!(outcome, Ok(PipeRead::Read(30)));
    assert_eq!(seen, [(0, vec![0; 10]), (10, vec![10; 20])]);
}

#[test]
fn a_failed_copy_changes_nothing() {
    let mut pipe = pipe_with_counters(PIPE_SIZE - 10);
    // The second chunk faults (a bad user page): the write must not count.
    let result = pipe.write_with(
        30,
        |offset, _| if offset == 0 { Ok(()) } else { Err("EFAULT") },
    );
    assert_eq!(result, Err("EFAULT"));
    assert!(pipe.is_empty());
    let _ = pipe.write(b"keep me");
    let result = pipe.read_with(7, |_, _| Err("EFAULT"));
    assert_eq!(result, Err("EFAULT"));
    assert_eq!(read_n(&mut pipe, 7).unwrap(), b"keep me");
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    Write(usize),
    Read(usize),
    CloseReader,
    CloseWriter,
}

/// Lengths around the interesting boundaries: tiny, PIPE_BUF, PIPE_SIZE.
fn length() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..16,
        PIPE_BUF - 100..PIPE_BUF + 100,
        PIPE_SIZE - 600..PIPE_SIZE + 600
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => length().prop_map(Op::Write),
        6 => length().prop_map(Op::Read),
        1 => Just(Op::CloseReader),
        1 => Just(Op::CloseWriter),
    ]
}

proptest! {
    /// Random operation sequences agree with a VecDeque and two flags.
    #[test]
    fn agrees_with_a_vecdeque_model(start in prop_oneof![Just(0usize), Just(usize::MAX - 3000), any::<usize>()],
                                    ops in prop::collection::vec(op(), 1..80)) {
        let mut pipe = pipe_with_counters(start);
        let mut model: VecDeque<u8> = VecDeque::new();
        let (mut reader_open, mut writer_open) = (true, true);
        let mut next_byte = 0u8;
        for op in ops {
            match op {
                Op::Write(len) => {
                    let data: Vec<u8> = (0..len).map(|_| { next_byte = next_byte.wrapping_add(1); next_byte }).collect();
                    let free = PIPE_SIZE - model.len();
                    let expected = if len == 0 {
                        PipeWrite::Wrote(0)
                    } else if !reader_open {
                        PipeWrite::BrokenPipe
                    } else if free == 0 || (len <= PIPE_BUF && free < len) {
                        PipeWrite::WouldBlock
                    } else {
                        PipeWrite::Wrote(len.min(free))
                    };
                    if let PipeWrite::Wrote(n) = expected {
                        model.extend(&data[..n]);
                    }
                    prop_assert_eq!(pipe.write(&data), expected);
                }
                Op::Read(len) => {
                    let got = read_n(&mut pipe, len);
                    let expected = if len == 0 {
                        Ok(Vec::new())
                    } else if model.is_empty() {
                        Err(if writer_open { PipeRead::WouldBlock } else { PipeRead::EndOfFile })
                    } else {
                        let n = len.min(model.len());
                        Ok(model.drain(..n).collect())
                    };
                    prop_assert_eq!(got, expected);
                }
                Op::CloseReader => {
                    let expected = if reader_open {
                        reader_open = false;
                        Ok(Wakeup { readers: false, writers: true })
                    } else {
                        Err(PipeError::EndClosed)
                    };
                    prop_assert_eq!(pipe.close_reader(), expected);
                }
                Op::CloseWriter => {
                    let expected = if writer_open {
                        writer_open = false;
                        Ok(Wakeup { readers: true, writers: false })
                    } else {
                        Err(PipeError::EndClosed)
                    };
                    prop_assert_eq!(pipe.close_writer(), expected);
                }
            }
            // The invariant, checked after every step.
            prop_assert!(pipe.len() <= PIPE_SIZE);
            prop_assert_eq!(pipe.len(), model.len());
            prop_assert_eq!((pipe.reader_open(), pipe.writer_open()), (reader_open, writer_open));
        }
    }
}
