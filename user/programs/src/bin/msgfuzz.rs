//! `msgfuzz [-v] [-b BATCH] [SEED [MESSAGES]]`: the message fuzzer of
//! the micro-kernel's servers.
//!
//! An ordinary user process sends `MESSAGES` (default 3000) random and
//! malformed messages straight to the servers with `l4::ipc` — not through
//! `ulib`'s transport, which only makes well-formed requests: labels of
//! every protocol and just outside their ranges (and the kernel's own
//! labels), any word count, byte items and string items with bad pointers
//! and absurd lengths, receive areas that are not writable, map and grant
//! items, tags with reserved bits set. Every server must answer with an
//! error, or ignore a sender it does not serve, and keep serving: after
//! every batch the fuzzer checks that proc, vfs, fs and disk still answer
//! (`getpid`, `stat /README`, a pipe), and the grader checks the shell and
//! the disk afterwards (`grading/src/suites/fuzz.rs`).
//!
//! **Which servers.** proc and vfs are in the aux block every process gets
//! (`ulib::sys::server_threads`). The console's id is in vfs's `Redirect`
//! answer to a write on the console descriptor. The others (fs, disk,
//! root) are found as any process could: a thread id is a slot and a
//! generation (`common::abi::micro`, "Thread ids"), so the fuzzer offers a
//! message, without waiting, to every small slot and generation; the
//! threads that take it are servers waiting for requests (a user thread
//! only ever waits for the server it called).
//!
//! **Replay.** As `fuzz` does (`src/fuzzing/mod.rs`): batches in child
//! processes with a watchdog, every message a pure function of the seed,
//! the batch and its place, the last messages of a failed batch printed
//! with the command that replays it.
//!
//! **Fences.** Messages to proc and vfs are requests of the caller's own,
//! so their arguments stay inside the fuzzer's playground as `fuzz`'s do:
//! a `Fork` only with a resume address outside user space (a child that
//! starts in garbage would crash, loudly but rightly), `Exec` only of
//! paths that are no programs, `Kill` only of itself, init and pids no
//! process has, `Sbrk` only absurd or growing, paths only from
//! `fuzzing::Path`; what goes to the console is never bytes from memory
//! (they could look like a shell prompt to the grader). The batch's own
//! descriptors (its progress pipe, its console) are never named.
//!
//! Map items go to every server, proc included, though none has a
//! receive window for them: the kernel fails such a message for its
//! sender alone, and a server's receive from anyone stays open. (Once a
//! map item to proc made proc's receive fail just after it had answered a
//! page fault, and proc killed the process it had answered: `usertests
//! proc_stray_map`.)
//!
//! (The kernel's own labels, `label::PAGE_FAULT` to `label::KERNEL_LAST`,
//! are sent like any other: the kernel refuses them from every thread.)
//!
//! On the mono-kernel there are no servers: it says so and ends.
#![no_std]
#![no_main]

extern crate alloc;

#[cfg(not(feature = "micro"))]
fn main(_args: ulib::Args) -> i32 {
    ulib::println!("msgfuzz: not a microkernel: there are no servers to send messages to");
    0
}

#[cfg(feature = "micro")]
fn main(args: ulib::Args) -> i32 {
    micro::main(args)
}

ulib::entry!(main);

#[cfg(feature = "micro")]
#[path = "../fuzzing/mod.rs"]
mod fuzzing;

/// The fuzzer itself (the micro-kernel build only).
#[cfg(feature = "micro")]
mod micro {
    use super::fuzzing::{
        Options, PANICKED, Path, Playground, Ptr, Rng, SETUP_FAILED, SHOWN_CALLS, Scratch,
        VIOLATION, descriptor, length, measure, measure_settled, run_batch, warm_up,
    };
    use alloc::boxed::Box;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use common::abi::micro::{MESSAGE_REGISTERS, TAG_RESERVED_MASK, label, rights};
    use common::abi::proto::disk::DiskOp;
    use common::abi::proto::fs::FsOp;
    use common::abi::proto::proc::ProcOp;
    use common::abi::proto::reply::ReplyKind;
    use common::abi::proto::root::RootOp;
    use common::abi::proto::vfs::VfsOp;
    use core::fmt;
    use l4::{MapItem, Message, Tag, ThreadId, Timeout};
    use ulib::{Args, Fd, KILLED_STATUS, O_RDONLY, USER_TOP, close, exit, println, wait};

    /// Messages per batch (per child process).
    const MESSAGES_PER_BATCH: u64 = 50;
    /// Messages when none are given.
    const DEFAULT_MESSAGES: u64 = 3000;
    /// How long a message may wait to be taken, and for its answer (ticks).
    const SEND_TICKS: u32 = 20;
    const REPLY_TICKS: u32 = 10;
    /// Thread slots and generations offered a message when looking for the
    /// servers.
    const PROBED_SLOTS: u64 = 64;
    /// A label no protocol uses: the probe.
    const PROBE_LABEL: u64 = 0xf00f;
    /// The most servers found by probing.
    const MAX_SERVERS: usize = 8;

    /// Who gets a message.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum To {
        Proc,
        Vfs,
        Console,
        /// The `n`th server found by probing (modulo how many were found).
        Found(usize),
    }

    /// A byte item.
    #[derive(Clone, Copy, Debug)]
    enum Bytes {
        /// `len` bytes at a pointer (with `STRING`: up to a NUL).
        At(Ptr, u64, bool),
        /// A path of the playground, as a string item.
        Path(Path),
        /// A harmless text (for the console).
        Text,
    }

    /// One message: whom to, its label and words, its items, and how it is
    /// sent.
    #[derive(Clone, Copy, Debug)]
    struct Msg {
        to: To,
        label: u64,
        words: [u64; MESSAGE_REGISTERS],
        word_count: usize,
        bytes: [Option<Bytes>; 2],
        map: Option<(Ptr, u64, u64, u64, bool)>,
        receive_area: Option<(Ptr, u64)>,
        /// Reserved tag bits to set (0 for a well-formed tag).
        junk_tag_bits: u64,
        /// Send only: do not wait for the answer.
        send_only: bool,
    }

    /// Every operation's label, of every protocol.
    fn labels() -> impl Iterator<Item = u64> {
        ProcOp::ALL
            .iter()
            .map(|op| op.label())
            .chain(VfsOp::ALL.iter().map(|op| op.label()))
            .chain(FsOp::ALL.iter().map(|op| op.label()))
            .chain(DiskOp::ALL.iter().map(|op| op.label()))
            .chain(RootOp::ALL.iter().map(|op| op.label()))
            .chain(ReplyKind::ALL.iter().map(|op| op.label()))
    }

    /// Labels just outside the protocols' ranges, and the kernel's own.
    const ODD_LABELS: [u64; 14] = [
        0x100,
        0x109,
        0x1ff,
        0x203,
        0x2ff,
        0x310,
        0x3ff,
        0x413,
        0x0d0,
        0x0d3,
        label::PAGE_FAULT,
        label::EXCEPTION,
        label::INTERRUPT,
        label::KERNEL_LAST,
    ];

    /// A word: small numbers, descriptors, edges, lengths, anything.
    fn word(rng: &mut Rng) -> u64 {
        match rng.below(10) {
            0 => rng.pick(&[0, 1, 2, u64::MAX, i64::MAX as u64, 1 << 32, u32::MAX as u64]),
            1 => descriptor(rng) as i64 as u64,
            2 => length(rng),
            3 => rng.next(),
            4 => rng.below(64),
            _ => rng.below(0x1_0000),
        }
    }

    impl Msg {
        /// Message `index` of batch `batch` of a run with `options`.
        fn nth(options: &Options, batch: u64, index: u64) -> Msg {
            let mut rng = Rng::for_batch(options.seed, batch);
            let mut msg = Msg::generate(&mut rng);
            for _ in 0..index {
                msg = Msg::generate(&mut rng);
            }
            msg
        }

        /// The next message.
        fn generate(rng: &mut Rng) -> Msg {
            let to = match rng.below(10) {
                0..=2 => To::Vfs,
                3..=4 => To::Proc,
                5 => To::Console,
                _ => To::Found(rng.below(MAX_SERVERS as u64) as usize),
            };
            let all: Vec<u64> = labels().collect();
            let label = match rng.below(10) {
                0..=6 => rng.pick(&all),
                7..=8 => rng.pick(&ODD_LABELS),
                _ => rng.next() >> 16,
            };
            let mut words = [0u64; MESSAGE_REGISTERS];
            for w in words.iter_mut() {
                *w = word(rng);
            }
            let mut msg = Msg {
                to,
                label,
                words,
                word_count: rng.below(5) as usize,
                bytes: [None, None],
                map: None,
                receive_area: None,
                junk_tag_bits: 0,
                send_only: rng.chance(10),
            };
            let byte_items = rng.pick(&[0, 0, 1, 1, 1, 2]);
            for slot in msg.bytes.iter_mut().take(byte_items) {
                *slot = Some(match rng.below(3) {
                    0 => Bytes::Path(Path::generate(rng)),
                    _ => Bytes::At(Ptr::generate(rng), length(rng) % 8192, rng.chance(30)),
                });
            }
            if rng.chance(10) {
                msg.map = Some((
                    Ptr::generate(rng),
                    rng.pick(&[0, 1, 2, 16, 0xffff]),
                    rng.pick(&[rights::READ, rights::ALL, 0, 0xfff]),
                    rng.pick(&[0, 1, 1 << 20]),
                    rng.chance(30),
                ));
            }
            if rng.chance(30) {
                msg.receive_area = Some((Ptr::generate(rng), length(rng) % 16384));
            }
            if rng.chance(5) {
                msg.junk_tag_bits = rng.pick(&[TAG_RESERVED_MASK, 0x8, 0x2000, 0x300, 0x7]);
            }
            msg.fence(rng);
            msg
        }

        /// Keeps a request of the caller's own inside the playground (see
        /// the fences in the module comment).
        fn fence(&mut self, rng: &mut Rng) {
            match self.to {
                To::Proc => {
                    match ProcOp::from_label(self.label) {
                        Some(ProcOp::Fork) => {
                            // The resume address: never user memory.
                            self.words[0] = rng.pick(&[
                                USER_TOP,
                                0xffff_ffff_8000_0000,
                                0x8000_0000_0000,
                                u64::MAX,
                            ]);
                        }
                        Some(ProcOp::Exec) => {
                            // The path: nothing readable, or a playground
                            // path (never a program).
                            self.words[0] = 0xffff_ffff_8000_1000;
                            self.bytes = [Some(Bytes::Path(Path::generate(rng))), None];
                        }
                        Some(ProcOp::Kill) => {
                            self.words[0] = rng.pick(&[0, 1, u64::MAX, 1 << 40, 999_999_999]);
                        }
                        Some(ProcOp::Sbrk) => {
                            self.words[0] = rng.pick(&[
                                1 << 40,
                                i64::MAX as u64,
                                -(1i64 << 40) as u64,
                                i64::MIN as u64,
                                4096,
                                0,
                            ]);
                        }
                        _ => {}
                    }
                }
                To::Vfs => {
                    if let Some(op) = VfsOp::from_label(self.label) {
                        use VfsOp::*;
                        if matches!(op, Open | Mkdir | Mknod | Unlink | Link | Rename | Chdir) {
                            // Paths only from the playground.
                            let path = |rng: &mut Rng| {
                                if op == Chdir {
                                    Path::generate_chdir(rng)
                                } else {
                                    Path::generate(rng)
                                }
                            };
                            self.bytes = [
                                Some(Bytes::Path(path(rng))),
                                if op == Link || op == Rename {
                                    Some(Bytes::Path(path(rng)))
                                } else {
                                    None
                                },
                            ];
                        }
                    }
                    // Any other byte item that vfs might read as a path: none.
                    for slot in self.bytes.iter_mut() {
                        if let Some(Bytes::At(ptr, len, true)) = slot {
                            *slot = Some(Bytes::At(*ptr, *len, false));
                        }
                    }
                }
                To::Console => {
                    for slot in self.bytes.iter_mut() {
                        if let Some(Bytes::At(ptr, ..)) = slot
                            && matches!(ptr, Ptr::Scratch(_) | Ptr::ScratchEnd(_) | Ptr::Text(_))
                        {
                            *slot = Some(Bytes::Text);
                        }
                    }
                }
                To::Found(_) => {}
            }
        }
    }

    impl fmt::Display for Msg {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "to {:?}: label {:#x} words {:x?}",
                self.to,
                self.label,
                &self.words[..self.word_count]
            )?;
            for bytes in self.bytes.iter().flatten() {
                match bytes {
                    Bytes::At(ptr, len, string) => write!(
                        f,
                        " bytes({ptr}, {len}{})",
                        if *string { ", string" } else { "" }
                    )?,
                    Bytes::Path(path) => write!(f, " path({path})")?,
                    Bytes::Text => write!(f, " text")?,
                }
            }
            if let Some((ptr, count, rights, offset, grant)) = self.map {
                let what = if grant { "grant" } else { "map" };
                write!(
                    f,
                    " {what}({ptr}, {count}, rights {rights:#x}, offset {offset})"
                )?;
            }
            if let Some((ptr, len)) = self.receive_area {
                write!(f, " receive_area({ptr}, {len})")?;
            }
            if self.junk_tag_bits != 0 {
                write!(f, " tag|{:#x}", self.junk_tag_bits)?;
            }
            if self.send_only {
                write!(f, " (send only)")?;
            }
            Ok(())
        }
    }

    /// The servers' thread ids.
    #[derive(Clone, Copy)]
    struct Servers {
        proc: ThreadId,
        vfs: ThreadId,
        console: ThreadId,
        found: [ThreadId; MAX_SERVERS],
        found_count: usize,
    }

    /// The console server's id: vfs's `Redirect` answer to a write on fd 1
    /// (which must be the console).
    fn console_thread(vfs: ThreadId) -> Option<ThreadId> {
        let request = Message::new(VfsOp::Write.label(), &[1]).with_bytes(&[]);
        let reply = l4::ipc::call(vfs, &request).ok()?;
        (reply.label() == ReplyKind::Redirect.label()).then(|| ThreadId(reply.mr[0]))
    }

    /// Finds the other servers: the threads among small slots and
    /// generations that take a message offered without waiting.
    fn find_servers() -> Option<Servers> {
        let (proc, vfs) = ulib::sys::server_threads();
        let (proc, vfs) = (ThreadId(proc), ThreadId(vfs));
        let console = console_thread(vfs)?;
        let me = l4::task::whoami().0;
        let generations = proc.generation().max(vfs.generation()) as u64 + 2;
        let mut found = [ThreadId::NIL; MAX_SERVERS];
        let mut found_count = 0;
        for generation in 0..generations {
            for slot in 0..PROBED_SLOTS {
                let id = ThreadId(slot | generation << 16);
                if id == ThreadId::NIL
                    || [proc, vfs, console, me].contains(&id)
                    || found_count == MAX_SERVERS
                {
                    continue;
                }
                let probe = Message::new(PROBE_LABEL, &[]);
                match l4::ipc::ipc(id, id, &probe, Timeout::Zero, Timeout::Ticks(REPLY_TICKS)) {
                    Err(l4::Error::SendTimeout | l4::Error::NoSuchThread) => {}
                    // Taken: a server (answering, or ignoring a stranger).
                    _ => {
                        found[found_count] = id;
                        found_count += 1;
                    }
                }
            }
        }
        Some(Servers {
            proc,
            vfs,
            console,
            found,
            found_count,
        })
    }

    /// A batch child's state.
    struct Batch {
        servers: Servers,
        memory: Scratch,
        /// Descriptors no message may name: the progress pipe, the console.
        own: [u64; 3],
        /// A request to vfs or the console was left waiting (parked): its
        /// answer may come later, as the answer to another request, so
        /// answers are not checked any more.
        parked: bool,
    }

    /// The text the console may be given.
    static TEXT: &[u8] = b"[msgfuzz]";

    impl Batch {
        fn thread(&self, to: To) -> ThreadId {
            match to {
                To::Proc => self.servers.proc,
                To::Vfs => self.servers.vfs,
                To::Console => self.servers.console,
                To::Found(n) if self.servers.found_count > 0 => {
                    self.servers.found[n % self.servers.found_count]
                }
                To::Found(_) => self.servers.vfs,
            }
        }

        /// The message made concrete.
        fn message(&mut self, msg: &Msg) -> Message {
            let mut words = msg.words;
            // A descriptor word naming one of ours: a bad one instead.
            if self.own.contains(&words[0]) && matches!(msg.to, To::Vfs | To::Console) {
                words[0] = u64::MAX;
            }
            let mut message = Message::new(msg.label, &words[..msg.word_count]);
            for (slot, bytes) in msg.bytes.iter().enumerate() {
                message = match *bytes {
                    None => message,
                    Some(Bytes::At(ptr, len, string)) => {
                        let address = self.memory.address(ptr);
                        if string {
                            message.with_string_at(address, len)
                        } else {
                            message.with_bytes_at(address, len)
                        }
                    }
                    Some(Bytes::Path(path)) => {
                        let address = self.memory.path(slot, path);
                        message.with_string_at(address, ulib::MAX_PATH as u64 + 1)
                    }
                    Some(Bytes::Text) => message.with_bytes(TEXT),
                };
            }
            if let Some((ptr, count, page_rights, window_offset, grant)) = msg.map {
                let item = MapItem {
                    page: self.memory.address(ptr),
                    count,
                    rights: page_rights,
                    window_offset,
                };
                message = message.with_map(item, grant);
            }
            if let Some((ptr, len)) = msg.receive_area {
                message = message.with_receive_area(self.memory.address(ptr), len);
            }
            message.tag = Tag(message.tag.0 | msg.junk_tag_bits);
            message
        }

        /// Sends message `index`; checks the answer.
        fn send(&mut self, index: u64, msg: &Msg) {
            let to = self.thread(msg.to);
            let message = self.message(msg);
            let (send, receive) = if msg.send_only {
                (Timeout::Ticks(SEND_TICKS), Timeout::Zero)
            } else {
                (Timeout::Ticks(SEND_TICKS), Timeout::Ticks(REPLY_TICKS))
            };
            let from = if msg.send_only { ThreadId::NIL } else { to };
            let result = l4::ipc::ipc(to, from, &message, send, receive);
            if matches!(msg.to, To::Vfs | To::Console)
                && matches!(result, Err(l4::Error::ReceiveTimeout))
            {
                self.parked = true;
            }
            let Ok(reply) = result else { return };
            if msg.send_only || self.parked {
                return;
            }
            // The transport's convention (`proto::reply`): every answer is
            // done, failed or redirect.
            if reply.label() > ReplyKind::Redirect.label() {
                self.violation(
                    index,
                    msg,
                    format_args!("an answer with label {:#x}", reply.label()),
                );
            }
            // vfs serves the process calls to proc alone.
            let proc_only = matches!(
                VfsOp::from_label(msg.label),
                Some(
                    VfsOp::ProcessCreated
                        | VfsOp::ProcessExited
                        | VfsOp::ExecOpen
                        | VfsOp::ExecRead
                        | VfsOp::ExecClose
                )
            );
            if msg.to == To::Vfs
                && proc_only
                && message.tag.is_valid()
                && reply.label() == ReplyKind::Done.label()
            {
                self.violation(
                    index,
                    msg,
                    format_args!("vfs did a process call for a stranger"),
                );
            }
        }

        fn violation(&self, index: u64, msg: &Msg, problem: fmt::Arguments) -> ! {
            println!("msgfuzz: message {index}: {msg}: {problem}");
            exit(VIOLATION)
        }
    }

    /// The batch child: sends `count` messages, exits.
    fn batch_child(options: &Options, servers: Servers, batch: u64, count: u64, progress: Fd) {
        let Ok(memory) = Scratch::new() else {
            exit(SETUP_FAILED)
        };
        let mut state = Box::new(Batch {
            servers,
            memory,
            own: [progress.0 as u64, 1, 2],
            parked: false,
        });
        let mut rng = Rng::for_batch(options.seed, batch);
        for index in 0..count {
            let msg = Msg::generate(&mut rng);
            let _ = ulib::write(progress, &[1]);
            if options.verbose {
                println!("msgfuzz: [{batch}.{index}] {msg}");
            }
            state.send(index, &msg);
        }
        exit(0)
    }

    /// Whether proc, vfs, fs and disk still serve: a process call, a file
    /// read from the disk, a pipe.
    fn servers_alive() -> Result<(), String> {
        ulib::getpid().map_err(|e| format!("getpid: {}", e.message()))?;
        let fd = ulib::open("/README", O_RDONLY)
            .map_err(|e| format!("open /README: {}", e.message()))?;
        let mut byte = [0u8; 1];
        let read = ulib::read(fd, &mut byte);
        let _ = close(fd);
        read.map_err(|e| format!("read /README: {}", e.message()))?;
        let (r, w) = ulib::pipe().map_err(|e| format!("pipe: {}", e.message()))?;
        let _ = close(r);
        let _ = close(w);
        Ok(())
    }

    /// What went wrong in a batch, if anything.
    fn judge(options: &Options, batch: u64, outcome: &super::fuzzing::Outcome) -> Option<String> {
        // Asking proc to end the caller (`Exit`) ends the batch, rightly:
        // at once, or, sent without waiting, a little later.
        let exit_asked = (0..outcome.started).any(|i| {
            let msg = Msg::nth(options, batch, i);
            msg.to == To::Proc
                && ProcOp::from_label(msg.label) == Some(ProcOp::Exit)
                && msg.words[0] as i32 == outcome.status
        });
        match outcome.status {
            0 => None,
            VIOLATION => Some(String::from("a server answered wrongly (see above)")),
            SETUP_FAILED => Some(String::from("the batch could not set itself up")),
            PANICKED => Some(String::from(
                "the batch process panicked (a bug in the fuzzer)",
            )),
            KILLED_STATUS if outcome.watchdog_fired => None,
            _ if exit_asked => None,
            KILLED_STATUS => Some(String::from("the batch process was killed")),
            other => Some(format!("the batch process exited with status {other}")),
        }
    }

    pub fn main(args: Args) -> i32 {
        let Some(options) = Options::parse(args.iter().skip(1), DEFAULT_MESSAGES) else {
            println!("usage: msgfuzz [-v] [-b BATCH] [SEED [MESSAGES]]");
            return 2;
        };
        let (seed, count) = (options.seed, options.count);
        println!("msgfuzz: seed {seed:#x} messages {count} (replay: msgfuzz {seed:#x} {count})");
        let Some(servers) = find_servers() else {
            println!("msgfuzz: FAILED (no console server: is fd 1 the console?)");
            return 1;
        };
        println!(
            "msgfuzz: servers: proc {:#x}, vfs {:#x}, console {:#x}, found {:x?}",
            servers.proc.0,
            servers.vfs.0,
            servers.console.0,
            servers.found[..servers.found_count]
                .iter()
                .map(|t| t.0)
                .collect::<Vec<_>>()
        );
        let playground = match Playground::make("mf", seed) {
            Ok(playground) => playground,
            Err(errno) => {
                println!(
                    "msgfuzz: FAILED (cannot make the scratch directory: {})",
                    errno.message()
                );
                return 1;
            }
        };
        warm_up();
        let before = measure();
        let mut failure = None;
        let mut ran = 0;
        for batch in options.batches(MESSAGES_PER_BATCH) {
            let count = options.calls_in(batch, MESSAGES_PER_BATCH);
            ran += 1;
            match run_batch(|progress| batch_child(&options, servers, batch, count, progress)) {
                Ok(outcome) => {
                    if let Some(what) = judge(&options, batch, &outcome) {
                        failure = Some((batch, outcome.started, what));
                        break;
                    }
                }
                Err(errno) => {
                    failure = Some((batch, 0, format!("running the batch: {}", errno.message())));
                    break;
                }
            }
            if let Err(what) = servers_alive() {
                failure = Some((batch, count, format!("a server stopped serving ({what})")));
                break;
            }
            if !options.verbose && batch % 10 == 9 {
                println!("msgfuzz: {} batches done", batch + 1);
            }
        }
        while wait().is_ok() {}
        let removed = playground.remove();
        if let Some((batch, started, what)) = failure {
            println!("msgfuzz: FAILED in batch {batch}: {what}");
            println!("msgfuzz: its last messages (the last one was being sent):");
            for index in started.saturating_sub(SHOWN_CALLS)..started {
                println!(
                    "msgfuzz:   [{batch}.{index}] {}",
                    Msg::nth(&options, batch, index)
                );
            }
            println!("msgfuzz: replay: msgfuzz -v -b {batch} {seed:#x} {count}");
            return 1;
        }
        let after = measure_settled(before);
        println!(
            "msgfuzz: {} batches; free pages {} -> {}, free process slots {} -> {}",
            ran, before.free_pages, after.free_pages, before.process_slots, after.process_slots
        );
        if !removed {
            println!(
                "msgfuzz: FAILED (the scratch directory {} could not be removed)",
                playground.path
            );
            1
        } else if after != before {
            println!("msgfuzz: FAILED (leak; replay: msgfuzz {seed:#x} {count})");
            1
        } else {
            println!("msgfuzz: OK");
            0
        }
    }
}
