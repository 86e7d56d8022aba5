//! Pipes, and the requests parked on them.
//!
//! The pipe itself is the shared state machine `common::pipe::Pipe`, the
//! one the monolithic kernel uses. What differs is the waiting. Where the
//! monolithic kernel puts a reader of an empty pipe to sleep, the vfs
//! server *parks* the request: it keeps `(client, what it asked)` and
//! simply does not reply. When an operation's [`Wakeup`] says readers (or
//! writers) of that pipe may proceed, the parked requests of that kind are
//! tried again, in the order they came; each that can now finish is
//! answered with a [`OwedReply`] for the server to send. Like the monolithic
//! kernel's sleepers, a parked request that still cannot proceed simply
//! stays parked (spurious wakeups are harmless).
//!
//! The semantics are `mono-kernel/src/sys_file.rs`'s `pipe_read` and
//! `pipe_write`:
//! - a read returns what is there (at most `len`), or end of file (no
//!   bytes) once the pipe is empty and has no writer left;
//! - a write returns only when *all* its bytes are in the pipe (it may be
//!   parked and resumed several times), or, if the readers go away, the
//!   count written so far — `EPIPE` if that is none.
//!
//! A request on a non-blocking end (`pipe2`'s `O_NONBLOCK`) is never
//! parked: what it does instead is the shared rule, `Mode::when_blocked`
//! (`EAGAIN`, or a write's count so far).

use crate::tables::{Pid, PipeId};
use alloc::vec::Vec;
use common::abi::errno::Errno;
// LAB pipe BEGIN
use common::pipe::Blocked;
// LAB pipe STUB
// LAB pipe END
use common::pipe::{Mode, Pipe, PipeRead, PipeWrite, Wakeup};
use common::trace::{self, Kind};

/// How a request ended: what to reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// A read's bytes (none: end of file).
    Data(Vec<u8>),
    /// A write's count.
    Wrote(usize),
    /// An error.
    Failed(Errno),
}

/// A reply the server must send to a parked client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedReply {
    /// The client thread.
    pub client: u64,
    /// What to tell it.
    pub completion: Completion,
}

/// What a parked request still wants.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    /// Up to `len` bytes.
    Read { len: usize },
    /// To write `data[done..]`.
    Write { data: Vec<u8>, done: usize },
}

/// A request that waits on a pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parked {
    client: u64,
    pid: Pid,
    pipe: PipeId,
    wanted: Wanted,
}

/// Every pipe, and every parked request.
#[derive(Debug, Default)]
pub struct Pipes {
    /// `None` slots are free.
    pipes: Vec<Option<Pipe>>,
    /// In arrival order. Invariant: every entry's pipe exists.
    parked: Vec<Parked>,
    /// A byte vector whose reply has been sent, kept for the next read's
    /// bytes ([`Pipes::recycle`]): a heap allocation and a free are far
    /// dearer than the few bytes a pipe read usually moves.
    spare: Option<Vec<u8>>,
}

/// One try at a request: `Some(completion)` if it is over. A read's bytes
/// go into `spare` if there is one.
fn attempt(
    pipe: &mut Pipe,
    wanted: &mut Wanted,
    wakeup: &mut Wakeup,
    spare: &mut Option<Vec<u8>>,
) -> Option<Completion> {
    match wanted {
        Wanted::Read { len } => {
            // The spare, or room for what is there: nothing is allocated
            // (or used up) by a read that must wait or finds end of file.
            let mut bytes = match spare.take() {
                Some(mut bytes) if !pipe.is_empty() => {
                    bytes.clear();
                    bytes
                }
                unused => {
                    *spare = unused;
                    Vec::with_capacity((*len).min(pipe.len()))
                }
            };
            let Ok(outcome) = pipe.read_with(*len, |_, chunk| {
                bytes.extend_from_slice(chunk);
                Ok::<(), core::convert::Infallible>(())
            });
            merge(wakeup, outcome.wakeup());
            match outcome {
                PipeRead::Read(_) => Some(Completion::Data(bytes)),
                PipeRead::EndOfFile => Some(Completion::Data(Vec::new())),
                PipeRead::WouldBlock => None,
            }
        }
        Wanted::Write { data, done } => {
            let outcome = pipe.write(&data[*done..]);
            merge(wakeup, outcome.wakeup());
            match outcome {
                PipeWrite::Wrote(n) => {
                    *done += n;
                    (*done == data.len()).then_some(Completion::Wrote(*done))
                }
                PipeWrite::BrokenPipe if *done > 0 => Some(Completion::Wrote(*done)),
                PipeWrite::BrokenPipe => Some(Completion::Failed(Errno::EPIPE)),
                PipeWrite::WouldBlock => None,
            }
        }
    }
}

fn merge(into: &mut Wakeup, more: Wakeup) {
    into.readers |= more.readers;
    into.writers |= more.writers;
}

impl Pipes {
    /// No pipes.
    pub fn new() -> Pipes {
        Pipes::default()
    }

    /// A new pipe with one reader and one writer.
    pub fn create(&mut self) -> PipeId {
        match self.pipes.iter().position(Option::is_none) {
            Some(id) => {
                self.pipes[id] = Some(Pipe::new());
                id
            }
            None => {
                self.pipes.push(Some(Pipe::new()));
                self.pipes.len() - 1
            }
        }
    }

    /// Keeps `bytes` (a reply's, now sent) for the next read, if no
    /// vector is kept already.
    pub fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare.is_none() {
            self.spare = Some(bytes);
        }
    }

    /// Bytes waiting in a pipe (`fstat`'s size).
    pub fn len(&self, pipe: PipeId) -> usize {
        self.pipes
            .get(pipe)
            .and_then(Option::as_ref)
            .map_or(0, Pipe::len)
    }

    /// Number of pipes in use.
    pub fn count(&self) -> usize {
        self.pipes.iter().flatten().count()
    }

    /// Number of parked requests.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// `read(len)` on `pipe` by `client` of `pid`, through an end of mode
    /// `mode`. Returns the completion if the request is over now (`None`:
    /// parked), and appends to `owed` the replies owed to parked clients
    /// this read let proceed. (The caller keeps one `owed` list and reuses
    /// it: no allocation per request.)
    pub fn read(
        &mut self,
        client: u64,
        pid: Pid,
        pipe: PipeId,
        len: usize,
        mode: Mode,
        owed: &mut Vec<OwedReply>,
    ) -> Option<Completion> {
        self.request(client, pid, pipe, Wanted::Read { len }, mode, owed)
    }

    /// `write(data)` on `pipe`; as [`Pipes::read`]. The bytes are copied
    /// into the server only if the write must wait.
    pub fn write(
        &mut self,
        client: u64,
        pid: Pid,
        pipe: PipeId,
        data: &[u8],
        mode: Mode,
        owed: &mut Vec<OwedReply>,
    ) -> Option<Completion> {
        let Some(Some(state)) = self.pipes.get_mut(pipe) else {
            return Some(Completion::Failed(Errno::EBADF));
        };
        // The first try, straight from the request (as `attempt` would).
        let outcome = state.write(data);
        let wakeup = outcome.wakeup();
        // LAB pipe BEGIN
        // A non-blocking end does not wait: the count so far, or EAGAIN.
        let blocked = match outcome {
            PipeWrite::Wrote(n) if n < data.len() => mode.when_blocked(n),
            PipeWrite::WouldBlock => mode.when_blocked(0),
            _ => Blocked::Wait,
        };
        if let Blocked::Return(result) = blocked {
            self.wake(pipe, wakeup, owed);
            return Some(result.map_or_else(Completion::Failed, Completion::Wrote));
        }
        // LAB pipe STUB
        //~ let _ = mode;
        // LAB pipe END
        let now = match outcome {
            PipeWrite::Wrote(n) if n == data.len() => Some(Completion::Wrote(n)),
            PipeWrite::BrokenPipe => Some(Completion::Failed(Errno::EPIPE)),
            PipeWrite::Wrote(n) => {
                self.park(
                    client,
                    pid,
                    pipe,
                    Wanted::Write {
                        data: data.to_vec(),
                        done: n,
                    },
                );
                None
            }
            PipeWrite::WouldBlock => {
                self.park(
                    client,
                    pid,
                    pipe,
                    Wanted::Write {
                        data: data.to_vec(),
                        done: 0,
                    },
                );
                None
            }
        };
        self.wake(pipe, wakeup, owed);
        now
    }

    /// Parks a request. A client waits for one reply at a time: an older
    /// parked request of the same thread is stale (it stopped waiting), so
    /// it is dropped — a thread cannot fill the server's memory with
    /// requests it never waits for.
    fn park(&mut self, client: u64, pid: Pid, pipe: PipeId, wanted: Wanted) {
        trace::point(Kind::Park, pipe as u64, client, 0);
        self.parked.retain(|p| p.client != client);
        self.parked.push(Parked {
            client,
            pid,
            pipe,
            wanted,
        });
    }

    fn request(
        &mut self,
        client: u64,
        pid: Pid,
        pipe: PipeId,
        mut wanted: Wanted,
        mode: Mode,
        owed: &mut Vec<OwedReply>,
    ) -> Option<Completion> {
        let Some(Some(state)) = self.pipes.get_mut(pipe) else {
            return Some(Completion::Failed(Errno::EBADF));
        };
        let mut wakeup = Wakeup::NONE;
        let done = attempt(state, &mut wanted, &mut wakeup, &mut self.spare);
        // LAB pipe BEGIN
        // A read that would block moved nothing: on a non-blocking end it
        // fails now (EAGAIN) instead of being parked.
        let done = done.or_else(|| match mode.when_blocked(0) {
            Blocked::Return(Err(errno)) => Some(Completion::Failed(errno)),
            Blocked::Return(Ok(_)) | Blocked::Wait => None,
        });
        // LAB pipe STUB
        //~ let _ = mode;
        // LAB pipe END
        if done.is_none() {
            self.park(client, pid, pipe, wanted);
        }
        self.wake(pipe, wakeup, owed);
        done
    }

    /// Closes an end of `pipe` (its last descriptor was
    /// closed). Appends to `owed` the replies owed to parked clients (end
    /// of file, `EPIPE`); frees the pipe when both ends are closed.
    pub fn close_end(&mut self, pipe: PipeId, write_end: bool, owed: &mut Vec<OwedReply>) {
        let Some(Some(state)) = self.pipes.get_mut(pipe) else {
            return;
        };
        let closed = if write_end {
            state.close_writer()
        } else {
            state.close_reader()
        };
        if let Ok(wakeup) = closed {
            self.wake(pipe, wakeup, owed);
        }
        if self.pipes[pipe].as_ref().is_some_and(Pipe::is_unused) {
            self.pipes[pipe] = None;
            // Nobody can hold a parked request on a pipe nobody holds; keep
            // the invariant anyway.
            self.parked.retain(|p| {
                if p.pipe == pipe {
                    owed.push(OwedReply {
                        client: p.client,
                        completion: Completion::Failed(Errno::EBADF),
                    });
                }
                p.pipe != pipe
            });
        }
    }

    /// Forgets the parked requests of a process that is gone (no replies:
    /// its thread no longer exists).
    pub fn drop_parked_of(&mut self, pid: Pid) {
        self.parked.retain(|p| p.pid != pid);
    }

    /// Retries the parked requests of `pipe` that `wakeup` lets proceed, and
    /// those the retries let proceed in turn; appends the finished ones'
    /// replies to `owed`. Terminates: each further round needs bytes to have moved,
    /// and parked writers hold finitely many.
    fn wake(&mut self, pipe: PipeId, mut wakeup: Wakeup, owed: &mut Vec<OwedReply>) {
        while wakeup.readers || wakeup.writers {
            let this_round = wakeup;
            wakeup = Wakeup::NONE;
            let Some(Some(state)) = self.pipes.get_mut(pipe) else {
                break;
            };
            let mut index = 0;
            while index < self.parked.len() {
                let parked = &mut self.parked[index];
                let is_reader = matches!(parked.wanted, Wanted::Read { .. });
                let eligible = parked.pipe == pipe
                    && ((is_reader && this_round.readers) || (!is_reader && this_round.writers));
                if eligible
                    && let Some(completion) =
                        attempt(state, &mut parked.wanted, &mut wakeup, &mut self.spare)
                {
                    let finished = self.parked.remove(index);
                    trace::point(Kind::Wakeup, pipe as u64, finished.client, 0);
                    owed.push(OwedReply {
                        client: finished.client,
                        completion,
                    });
                    continue;
                }
                index += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::pipe::PIPE_SIZE;

    /// `Pipes::read`, with the replies it owes returned as a list.
    fn read(
        pipes: &mut Pipes,
        client: u64,
        pid: Pid,
        pipe: PipeId,
        len: usize,
    ) -> (Option<Completion>, Vec<OwedReply>) {
        let mut owed = Vec::new();
        let now = pipes.read(client, pid, pipe, len, Mode::Blocking, &mut owed);
        (now, owed)
    }

    /// `Pipes::write`, with the replies it owes returned as a list.
    fn write(
        pipes: &mut Pipes,
        client: u64,
        pid: Pid,
        pipe: PipeId,
        data: &[u8],
    ) -> (Option<Completion>, Vec<OwedReply>) {
        let mut owed = Vec::new();
        let now = pipes.write(client, pid, pipe, data, Mode::Blocking, &mut owed);
        (now, owed)
    }

    /// `Pipes::close_end`, with the replies it owes returned as a list.
    fn close_end(pipes: &mut Pipes, pipe: PipeId, write_end: bool) -> Vec<OwedReply> {
        let mut owed = Vec::new();
        pipes.close_end(pipe, write_end, &mut owed);
        owed
    }

    #[test]
    fn a_reader_of_an_empty_pipe_is_parked_until_a_write() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        let (now, replies) = read(&mut pipes, 10, 1, pipe, 100);
        assert_eq!((now, replies.len()), (None, 0));
        assert_eq!(pipes.parked(), 1);
        let (now, replies) = write(&mut pipes, 20, 2, pipe, b"hello");
        assert_eq!(now, Some(Completion::Wrote(5)));
        assert_eq!(
            replies,
            [OwedReply {
                client: 10,
                completion: Completion::Data(b"hello".to_vec())
            }]
        );
        assert_eq!(pipes.parked(), 0);
    }

    #[test]
    fn a_large_write_is_parked_until_the_reader_drains_it() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        let data: Vec<u8> = (0..PIPE_SIZE + 100).map(|i| i as u8).collect();
        let (now, _) = write(&mut pipes, 20, 2, pipe, &data);
        assert_eq!(now, None, "only PIPE_SIZE bytes fit");
        let (now, replies) = read(&mut pipes, 10, 1, pipe, PIPE_SIZE);
        assert_eq!(now, Some(Completion::Data(data[..PIPE_SIZE].to_vec())));
        assert_eq!(
            replies,
            [OwedReply {
                client: 20,
                completion: Completion::Wrote(data.len())
            }]
        );
        assert_eq!(pipes.len(pipe), 100);
    }

    #[test]
    fn closing_the_write_end_gives_parked_readers_end_of_file() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        assert_eq!(read(&mut pipes, 10, 1, pipe, 8).0, None);
        let replies = close_end(&mut pipes, pipe, true);
        assert_eq!(
            replies,
            [OwedReply {
                client: 10,
                completion: Completion::Data(Vec::new())
            }]
        );
        assert_eq!(
            read(&mut pipes, 11, 1, pipe, 8).0,
            Some(Completion::Data(Vec::new()))
        );
        assert!(close_end(&mut pipes, pipe, false).is_empty());
        assert_eq!(pipes.count(), 0, "both ends closed: the pipe is freed");
    }

    #[test]
    fn closing_the_read_end_fails_parked_writers_with_their_progress() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        let big = vec![7u8; PIPE_SIZE + 1];
        assert_eq!(write(&mut pipes, 20, 2, pipe, &big).0, None);
        let small = [1u8; 10];
        assert_eq!(write(&mut pipes, 21, 3, pipe, &small).0, None);
        let replies = close_end(&mut pipes, pipe, false);
        assert_eq!(
            replies,
            [
                OwedReply {
                    client: 20,
                    completion: Completion::Wrote(PIPE_SIZE)
                },
                OwedReply {
                    client: 21,
                    completion: Completion::Failed(Errno::EPIPE)
                },
            ]
        );
        assert_eq!(
            write(&mut pipes, 22, 3, pipe, b"x").0,
            Some(Completion::Failed(Errno::EPIPE))
        );
    }

    #[test]
    fn a_recycled_vector_carries_only_the_bytes_read() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        pipes.recycle(vec![9u8; 100]);
        assert_eq!(
            write(&mut pipes, 20, 2, pipe, b"ab").0,
            Some(Completion::Wrote(2))
        );
        assert_eq!(
            read(&mut pipes, 10, 1, pipe, 8).0,
            Some(Completion::Data(b"ab".to_vec()))
        );
        pipes.recycle(vec![7u8; 3]);
        assert_eq!(read(&mut pipes, 10, 1, pipe, 8).0, None, "empty: parked");
        let (_, replies) = write(&mut pipes, 20, 2, pipe, b"xyz");
        assert_eq!(
            replies,
            [OwedReply {
                client: 10,
                completion: Completion::Data(b"xyz".to_vec())
            }]
        );
        assert_eq!(close_end(&mut pipes, pipe, true), []);
        assert_eq!(
            read(&mut pipes, 10, 1, pipe, 8).0,
            Some(Completion::Data(Vec::new())),
            "end of file: no bytes, spare or not"
        );
    }

    #[test]
    fn a_client_has_at_most_one_parked_request() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        for _ in 0..100 {
            assert_eq!(read(&mut pipes, 10, 1, pipe, 8).0, None);
        }
        assert_eq!(pipes.parked(), 1);
    }

    #[test]
    fn requests_of_an_exited_process_are_dropped() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        assert_eq!(read(&mut pipes, 10, 1, pipe, 8).0, None);
        assert_eq!(read(&mut pipes, 11, 2, pipe, 8).0, None);
        pipes.drop_parked_of(1);
        let (_, replies) = write(&mut pipes, 20, 3, pipe, b"abc");
        assert_eq!(
            replies,
            [OwedReply {
                client: 11,
                completion: Completion::Data(b"abc".to_vec())
            }]
        );
        assert_eq!(
            read(&mut pipes, 12, 1, 99, 8).0,
            Some(Completion::Failed(Errno::EBADF))
        );
    }

    #[test]
    fn lab_pipe_non_blocking_requests_are_never_parked() {
        let mut pipes = Pipes::new();
        let pipe = pipes.create();
        let mut owed = Vec::new();
        let nonblocking = Mode::NonBlocking;
        assert_eq!(
            pipes.read(10, 1, pipe, 8, nonblocking, &mut owed),
            Some(Completion::Failed(Errno::EAGAIN))
        );
        let big = vec![1u8; PIPE_SIZE + 100];
        assert_eq!(
            pipes.write(20, 2, pipe, &big, nonblocking, &mut owed),
            Some(Completion::Wrote(PIPE_SIZE)),
            "a large write returns what fitted"
        );
        assert_eq!(
            pipes.write(20, 2, pipe, b"x", nonblocking, &mut owed),
            Some(Completion::Failed(Errno::EAGAIN))
        );
        assert_eq!((pipes.parked(), owed.len()), (0, 0));
        // A blocking reader parked on the same pipe is still served.
        let (now, _) = read(&mut pipes, 11, 1, pipe, PIPE_SIZE);
        assert_eq!(now, Some(Completion::Data(vec![1u8; PIPE_SIZE])));
        assert_eq!(read(&mut pipes, 12, 1, pipe, 1).0, None);
        assert_eq!(
            pipes.write(20, 2, pipe, b"yz", nonblocking, &mut owed),
            Some(Completion::Wrote(2))
        );
        assert_eq!(
            owed,
            [OwedReply {
                client: 12,
                completion: Completion::Data(b"y".to_vec())
            }]
        );
    }
}
