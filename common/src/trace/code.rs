//! From events to code: which function in which file runs between two
//! events of a trace, and how to name what an event carries.
//!
//! A trace says *what happened when*; a reader wants *which code did it*.
//! The map is made of the numbers the events carry, each turned into the
//! code that owns it, from the tables the code itself is built from:
//!
//! | in the event | names | table |
//! |---|---|---|
//! | a mono-kernel system-call number | its `sys_*` handler and file | [`mono_handler`], over `abi::syscall::Sys` |
//! | a microkernel system-call number | the call | [`micro_call`], over `abi::micro::Sys` |
//! | an IPC label | the protocol operation (`VfsOp::Write`) or reply kind | [`message_name`], over `abi::proto` |
//! | a shared operation | `Shared::function`, `Shared::file` | `common::trace::Shared` |
//!
//! and of what lies *between* two events, which only the code's structure
//! can say: after the mono-kernel's `sys>` of `write` comes `sys_file::write`
//! → `pipe_write`; between a microkernel message and the switch to its
//! receiver lies the fast path's `deliver`. [`step_code`] holds those rules,
//! one per pair of event kinds the pipe's path goes through, each naming
//! real functions and files (a host test checks the names exist, like every
//! name the book mentions). A pair it does not know gets a plain
//! description of the two events instead of a guess.

use super::scene::{Cast, Lane};
use super::timeline::{System, Timeline};
use super::{Event, Kind, Place, Shared};
use crate::abi::micro::{Sys as MicroSys, label as kernel_label};
use crate::abi::proto::{
    disk::DiskOp, fs::FsOp, proc::ProcOp, reply::ReplyKind, root::RootOp, vfs::VfsOp,
};
use crate::abi::syscall::Sys as MonoSys;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The code of one step: the functions it runs through, the file where
/// most of it is, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Functions, in the order they run (Rust paths as the code names them).
    pub functions: Vec<&'static str>,
    /// The repository file where the step's work is (empty if unknown).
    pub file: &'static str,
    /// What happens, in a sentence.
    pub what: String,
}

impl Code {
    fn new(functions: &[&'static str], file: &'static str, what: String) -> Code {
        Code {
            functions: functions.to_vec(),
            file,
            what,
        }
    }

    /// The functions joined with arrows: `sys_file::write → pipe_write`.
    pub fn function_text(&self) -> String {
        if self.functions.is_empty() {
            return String::from("(unmapped)");
        }
        self.functions.join(" → ")
    }
}

/// The mono-kernel's handler of system call `number` and its file.
pub fn mono_handler(number: u64) -> (&'static str, &'static str) {
    const PROC: &str = "mono-kernel/src/sys_proc.rs";
    const FILE: &str = "mono-kernel/src/sys_file.rs";
    const DISPATCH: &str = "mono-kernel/src/syscall.rs";
    let Some(call) = MonoSys::from_number(number) else {
        return ("syscall_handler", DISPATCH);
    };
    match call {
        MonoSys::Fork => ("sys_proc::fork", PROC),
        MonoSys::Exit => ("sys_proc::exit_current", PROC),
        MonoSys::Wait => ("sys_proc::wait", PROC),
        MonoSys::Kill => ("sys_proc::kill", PROC),
        MonoSys::Exec => ("sys_proc::exec", PROC),
        MonoSys::Sbrk => ("sys_proc::sbrk", PROC),
        MonoSys::Sleep => ("sys_proc::sleep", PROC),
        MonoSys::Getpid | MonoSys::Uptime | MonoSys::Freemem => ("syscall::handler", DISPATCH),
        MonoSys::Pipe => ("sys_file::pipe", FILE),
        MonoSys::Read => ("sys_file::read", FILE),
        MonoSys::Write => ("sys_file::write", FILE),
        MonoSys::Close => ("sys_file::close", FILE),
        MonoSys::Dup => ("sys_file::dup", FILE),
        MonoSys::Open => ("sys_file::open", FILE),
        MonoSys::Fstat => ("sys_file::fstat", FILE),
        MonoSys::Getdents => ("sys_file::getdents", FILE),
        MonoSys::Chdir => ("sys_file::chdir", FILE),
        MonoSys::Mkdir => ("sys_file::mkdir", FILE),
        MonoSys::Mknod => ("sys_file::mknod", FILE),
        MonoSys::Unlink => ("sys_file::unlink", FILE),
        MonoSys::Link => ("sys_file::link", FILE),
        MonoSys::Rename => ("sys_file::rename", FILE),
        MonoSys::Trace => ("sys_trace", "mono-kernel/src/trace.rs"),
        MonoSys::Sync => ("sys_file::sync", FILE),
        MonoSys::Fsync => ("sys_file::fsync", FILE),
        MonoSys::Mmap => ("sys_proc::mmap", PROC),
        MonoSys::Munmap => ("sys_proc::munmap", PROC),
        // LAB syscall BEGIN
        MonoSys::Getppid => ("syscall::handler", DISPATCH),
        MonoSys::Sysinfo => ("sys_proc::sysinfo", PROC),
        // LAB syscall STUB
        // LAB syscall END
        // LAB pipe BEGIN
        MonoSys::Pipe2 => ("sys_file::pipe2", FILE),
        // LAB pipe STUB
        // LAB pipe END
        // LAB fs BEGIN
        MonoSys::Symlink => ("sys_file::symlink", FILE),
        MonoSys::Readlink => ("sys_file::readlink", FILE),
        // LAB fs STUB
        // LAB fs END
    }
}

/// The name of system call `number` on `system` (`write`, `ipc`).
pub fn call_name(system: System, number: u64) -> String {
    match system {
        System::Mono => MonoSys::from_number(number).map_or_else(
            || format!("system call {number}"),
            |call| call.name().to_ascii_lowercase(),
        ),
        System::Micro => String::from(micro_call(number)),
    }
}

/// The microkernel's system call `number`, as `l4` names it.
pub fn micro_call(number: u64) -> &'static str {
    match MicroSys::from_number(number) {
        Some(MicroSys::Ipc) => "ipc",
        Some(MicroSys::SetReceiveWindow) => "set_receive_window",
        Some(MicroSys::Unmap) => "unmap",
        Some(MicroSys::SpaceCreate) => "space_create",
        Some(MicroSys::SpaceDestroy) => "space_destroy",
        Some(MicroSys::ThreadCreate) => "thread_create",
        Some(MicroSys::ThreadDestroy) => "thread_destroy",
        Some(MicroSys::ExchangeRegisters) => "exchange_registers",
        Some(MicroSys::SetPriority) => "set_priority",
        Some(MicroSys::Yield) => "yield",
        Some(MicroSys::IrqAttach) => "irq_attach",
        Some(MicroSys::IoPortGrant) => "ioport_grant",
        Some(MicroSys::WhoAmI) => "whoami",
        Some(MicroSys::DebugPrint) => "debug_print",
        Some(MicroSys::SystemClock) => "system_clock",
        Some(MicroSys::Trace) => "trace",
        None => "(unknown call)",
    }
}

/// What a message with `label` is: a protocol operation (`VfsOp::Write`),
/// a reply (`ReplyKind::Done`), or a message the kernel sends.
pub fn message_name(label: u64) -> String {
    let operation = |enum_name: &str, name: &str| format!("{enum_name}::{name}");
    if let Some(kind) = ReplyKind::from_label(label) {
        return operation("ReplyKind", kind.name());
    }
    if let Some(op) = ProcOp::from_label(label) {
        return operation("ProcOp", op.name());
    }
    if let Some(op) = RootOp::from_label(label) {
        return operation("RootOp", op.name());
    }
    if let Some(op) = DiskOp::from_label(label) {
        return operation("DiskOp", op.name());
    }
    if let Some(op) = FsOp::from_label(label) {
        return operation("FsOp", op.name());
    }
    if let Some(op) = VfsOp::from_label(label) {
        return operation("VfsOp", op.name());
    }
    match label {
        kernel_label::PAGE_FAULT => String::from("a page fault"),
        kernel_label::EXCEPTION => String::from("an exception"),
        kernel_label::INTERRUPT => String::from("an interrupt"),
        other => format!("label {other:#x}"),
    }
}

/// Whether `label` is one the kernel puts on a message it sends on a
/// thread's behalf (page fault, exception, interrupt).
pub fn is_kernel_label(label: u64) -> bool {
    matches!(
        label,
        kernel_label::PAGE_FAULT | kernel_label::EXCEPTION | kernel_label::INTERRUPT
    )
}

/// The file of a server's main loop, by the name it traces under.
pub fn server_file(name: &str) -> &'static str {
    match name {
        "vfs" => "micro-kernel/user/vfs/src/main.rs",
        "fs" => "micro-kernel/user/fs/src/main.rs",
        "disk" => "micro-kernel/user/disk/src/main.rs",
        "console" => "micro-kernel/user/console/src/main.rs",
        "proc" => "micro-kernel/user/proc/src/main.rs",
        "root" => "micro-kernel/user/root/src/main.rs",
        _ => "",
    }
}

/// The shared operation an `Enter` or `Exit` event is about.
pub fn shared_op(event: &Event) -> Option<Shared> {
    match event.kind {
        Kind::Enter | Kind::Exit => Shared::from_number(event.args[0]),
        _ => None,
    }
}

/// The result of a pipe operation's `Exit`: `Some(bytes)`, or `None` for
/// `WouldBlock` (and a broken pipe), which the trace point records as `u64::MAX`.
pub fn pipe_result(exit: &Event) -> Option<u64> {
    (exit.args[1] != u64::MAX).then_some(exit.args[1])
}

/// Where a step runs: its lane, and the other lane it crosses into or
/// out of, if it does (a server's step that enters the kernel with a
/// system call, or starts in the kernel's return to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Where most of its work is.
    pub lane: Lane,
    /// The lane it crosses to or from.
    pub crosses: Option<Lane>,
}

impl Placement {
    const fn kernel() -> Placement {
        Placement {
            lane: Lane::Kernel,
            crosses: None,
        }
    }

    const fn server() -> Placement {
        Placement {
            lane: Lane::Server,
            crosses: None,
        }
    }

    /// In the server, crossing the kernel's boundary.
    const fn server_and_kernel() -> Placement {
        Placement {
            lane: Lane::Server,
            crosses: Some(Lane::Kernel),
        }
    }
}

/// Where the step from event `a` to event `b` of `timeline` runs, and its
/// code (`inner`: events between them folded into the step, such as the
/// copy inside `Pipe::write_with`).
pub fn step_code(
    timeline: &Timeline,
    cast: &Cast,
    a: usize,
    b: usize,
    inner: &[usize],
) -> (Placement, Code) {
    match timeline.system {
        System::Mono => (Placement::kernel(), mono_step(timeline, cast, a, b, inner)),
        System::Micro => micro_step(timeline, cast, a, b, inner),
    }
}

/// A sentence for a pipe operation from `enter` to `exit`.
fn pipe_sentence(
    timeline: &Timeline,
    cast: &Cast,
    enter: &Event,
    exit: &Event,
    inner: &[usize],
) -> String {
    let copy = inner
        .iter()
        .map(|&i| &timeline.events[i])
        .find(|event| event.kind == Kind::Copy);
    let op = shared_op(enter);
    match (op, pipe_result(exit)) {
        (Some(Shared::PipeWrite), Some(written)) => {
            let from = match copy {
                Some(copy) => format!(
                    ", copied from {}'s memory by the caller's closure (copy_from_user)",
                    cast.name_of_space(timeline, copy.args[1])
                ),
                None => String::from(", from the server's own memory"),
            };
            format!(
                "room for {}: {written} bytes into the ring{from}; {} bytes in the pipe now",
                enter.args[1], exit.args[2]
            )
        }
        (Some(Shared::PipeRead), Some(read)) => {
            let to = match copy {
                Some(copy) => {
                    format!(
                        ", copied into {}'s buffer by the closure (copy_to_user)",
                        cast.name_of_space(timeline, copy.args[2])
                    )
                }
                None => String::from(", into the server's reply"),
            };
            format!("{read} bytes out of the ring{to}")
        }
        (Some(Shared::PipeRead), None) => {
            String::from("the pipe is empty and its write end open: WouldBlock")
        }
        (Some(Shared::PipeWrite), None) => String::from("no room (or no reader): nothing written"),
        (Some(other), _) => format!("{} runs", other.function()),
        (None, _) => String::from("a shared operation"),
    }
}

/// A description of a pair nobody wrote a rule for.
fn unmapped(timeline: &Timeline, a: usize, b: usize) -> Code {
    let (first, second) = (&timeline.events[a], &timeline.events[b]);
    Code::new(
        &[],
        "",
        format!(
            "from a `{}` event to a `{}` event",
            first.kind.word(),
            second.kind.word()
        ),
    )
}

/// The mono-kernel: every step is in the kernel.
fn mono_step(timeline: &Timeline, cast: &Cast, a: usize, b: usize, inner: &[usize]) -> Code {
    let (first, second) = (&timeline.events[a], &timeline.events[b]);
    let who = |pid: u64| cast.name_of_space(timeline, pid);
    const SCHED: &str = "mono-kernel/src/sched.rs";
    const SYS_FILE: &str = "mono-kernel/src/sys_file.rs";
    match (first.kind, second.kind) {
        (Kind::SyscallEnter, next) => {
            let (handler, file) = mono_handler(first.args[0]);
            let call = call_name(System::Mono, first.args[0]);
            let then = match shared_op(second) {
                Some(Shared::PipeWrite) if next == Kind::Enter => Some("pipe_write"),
                Some(Shared::PipeRead) if next == Kind::Enter => Some("pipe_read"),
                _ => None,
            };
            let mut functions = alloc::vec!["syscall_handler", handler];
            functions.extend(then);
            let what = match then {
                Some(pipe) => format!(
                    "{} enters the kernel (syscall_entry): dispatch finds {call}; the descriptor is a pipe's end → {pipe}",
                    who(u64::from(first.thread))
                ),
                None => format!(
                    "{} enters the kernel (syscall_entry): dispatch finds {call}",
                    who(u64::from(first.thread))
                ),
            };
            Code {
                functions,
                file,
                what,
            }
        }
        (Kind::Enter, Kind::Exit) if shared_op(first).is_some() => {
            let op = shared_op(first).unwrap_or(Shared::PipeWrite);
            Code::new(
                &[op.function()],
                op.file(),
                pipe_sentence(timeline, cast, first, second, inner),
            )
        }
        (Kind::Exit, Kind::Wakeup) => Code::new(
            &["file::deliver", "sched::wakeup"],
            "mono-kernel/src/file.rs",
            format!(
                "the pipe's Wakeup says readers may go on: sched::wakeup makes {} (asleep on the pipe) runnable",
                who(second.args[1])
            ),
        ),
        (Kind::Wakeup, Kind::SyscallExit) => Code::new(
            &["sched::wakeup", "syscall_handler"],
            SCHED,
            format!(
                "sched::wakeup looks through the rest of the process table; {} returns {}: the result in rax, then sysretq",
                mono_handler(second.args[0]).0,
                second.args[1]
            ),
        ),
        (Kind::Exit, Kind::Park) => Code::new(
            &["file::deliver", "sched::sleep"],
            SYS_FILE,
            String::from(
                "nobody to wake; pipe_read sleeps on the pipe's channel (file::pipe_readers)",
            ),
        ),
        (Kind::Park, Kind::ContextSwitch) => Code::new(
            &["sched::sleep", "switch_to_scheduler"],
            SCHED,
            format!(
                "{} is asleep: switch_context to the scheduler's stack, in the middle of its read",
                who(first.args[1])
            ),
        ),
        (Kind::ContextSwitch, Kind::ContextSwitch) => Code::new(
            &["sched::run", "pick_next"],
            SCHED,
            format!(
                "the scheduler's loop looks for a runnable process: {}",
                who(second.args[1])
            ),
        ),
        (Kind::ContextSwitch, Kind::SpaceSwitch) => Code::new(
            &["run_process"],
            SCHED,
            format!(
                "{}'s kernel stack for the next system call or interrupt",
                who(first.args[1])
            ),
        ),
        (Kind::SpaceSwitch, Kind::Enter) => Code::new(
            &["switch_context", "sched::sleep", "pipe_read"],
            "mono-kernel/src/switch.rs",
            format!(
                "CR3 ← {}'s page tables; switch_context onto its kernel stack: sched::sleep returns, and pipe_read asks the pipe again",
                who(first.args[1])
            ),
        ),
        (Kind::Exit, Kind::SyscallExit) => Code::new(
            &["file::deliver", "syscall_handler"],
            SYS_FILE,
            format!(
                "writers may go on (none asleep); {} returns {}: the result in rax, then sysretq",
                mono_handler(second.args[0]).0,
                second.args[1]
            ),
        ),
        _ => unmapped(timeline, a, b),
    }
}

/// The microkernel: kernel steps and the server's steps.
fn micro_step(
    timeline: &Timeline,
    cast: &Cast,
    a: usize,
    b: usize,
    inner: &[usize],
) -> (Placement, Code) {
    let (first, second) = (&timeline.events[a], &timeline.events[b]);
    let thread = |slot: u64| cast.name_of_thread(timeline, slot, a);
    const SCHED: &str = "micro-kernel/kernel/src/sched.rs";
    const PIPES: &str = "micro-kernel/user/vfs/src/pipes.rs";
    let server = cast
        .server
        .as_ref()
        .map_or("the server", |server| server.name.as_str());
    let server_main = cast
        .server
        .as_ref()
        .map_or("", |server| server_file(&server.name));
    let in_server = matches!(first.place, Place::Space(_));
    match (first.kind, second.kind) {
        (Kind::Copy, Kind::Ipc) => {
            let into = if cast
                .server
                .as_ref()
                .is_some_and(|server| server.space == first.args[2])
            {
                "receive buffer"
            } else {
                "receive area"
            };
            let code = Code::new(
                &["copy::commit"],
                "micro-kernel/kernel/src/copy.rs",
                format!(
                    "the kernel copies the message's {} bytes from {}'s memory into {}'s {into} (planned and checked page by page first)",
                    first.args[0],
                    cast.name_of_space(timeline, first.args[1]),
                    cast.name_of_space(timeline, first.args[2]),
                ),
            );
            (Placement::kernel(), code)
        }
        (Kind::Ipc, Kind::ContextSwitch) if second.args[1] == first.args[0] => {
            let code = Code::new(
                &["fastpath::try_ipc", "deliver"],
                "micro-kernel/kernel/src/fastpath.rs",
                format!(
                    "the fast path: {} ({}) is in {}'s registers; {} now waits for {}",
                    message_name(first.args[1]),
                    if first.args[2] > 0 {
                        "with bytes"
                    } else {
                        "registers only"
                    },
                    thread(first.args[0]),
                    thread(u64::from(first.thread)),
                    // A reply goes with the server's next receive (reply-and-receive).
                    if ReplyKind::from_label(first.args[1]).is_some() {
                        "its next request"
                    } else {
                        "the answer"
                    },
                ),
            );
            (Placement::kernel(), code)
        }
        (Kind::Ipc, Kind::Ipc) => {
            let code = Code::new(
                &["return_to_user", "server_lib::reply_and_receive"],
                "micro-kernel/user/server-lib/src/lib.rs",
                format!(
                    "{} is ready and waits for the CPU (at {server}'s priority, return_to_user keeps {server} running): back in {server}, its send returns and its loop answers {}: server_lib::reply_and_receive, another system call",
                    thread(first.args[0]),
                    thread(second.args[0]),
                ),
            );
            (Placement::server_and_kernel(), code)
        }
        (Kind::Ipc, Kind::IpcWait) => {
            let code = Code::new(
                &["ipc::sys_ipc", "receive"],
                "micro-kernel/kernel/src/ipc.rs",
                format!(
                    "{} waits in its receive phase",
                    thread(u64::from(second.thread))
                ),
            );
            (Placement::kernel(), code)
        }
        (Kind::ContextSwitch, Kind::SpaceSwitch) => {
            let code = Code::new(
                &["sched::switch_to"],
                SCHED,
                format!(
                    "to {}: its kernel stack, then its address space (CR3)",
                    thread(first.args[1])
                ),
            );
            (Placement::kernel(), code)
        }
        (Kind::SpaceSwitch | Kind::ContextSwitch, Kind::Enter)
            if matches!(second.place, Place::Space(_)) =>
        {
            let (calls, pipes_fn, copy) = match shared_op(second) {
                Some(Shared::PipeWrite) => (
                    "calls::write",
                    "Pipes::write",
                    " copies the bytes out of the receive buffer,",
                ),
                _ => ("calls::read", "Pipes::read", ""),
            };
            let code = Code::new(
                &["Vfs::handle", pipes_fn],
                server_main,
                format!(
                    "iretq into {server}; its receive returns: Request::from_received{copy} VfsRequest::from_wire decodes, {calls} finds a pipe's end → {pipes_fn}"
                ),
            );
            (Placement::server_and_kernel(), code)
        }
        (Kind::Enter, Kind::Exit) if shared_op(first).is_some() => {
            let op = shared_op(first).unwrap_or(Shared::PipeWrite);
            let placement = if in_server {
                Placement::server()
            } else {
                Placement::kernel()
            };
            (
                placement,
                Code::new(
                    &[op.function()],
                    op.file(),
                    pipe_sentence(timeline, cast, first, second, inner),
                ),
            )
        }
        (Kind::Exit, Kind::Enter) if in_server => (
            Placement::server(),
            Code::new(
                &["Pipes::wake", "attempt"],
                PIPES,
                String::from("readers may go on: Pipes::wake retries the parked read on this pipe"),
            ),
        ),
        (Kind::Exit, Kind::Wakeup) if in_server => (
            Placement::server(),
            Code::new(
                &["Pipes::wake"],
                PIPES,
                format!(
                    "the parked read is done: an OwedReply for {}",
                    cast.name_of_client(timeline, second.args[1], a)
                ),
            ),
        ),
        (Kind::Exit, Kind::Park) if in_server => (
            Placement::server(),
            Code::new(
                &["Pipes::read"],
                PIPES,
                String::from(
                    "WouldBlock: the request is parked (Wanted::Read), and nobody answers it yet",
                ),
            ),
        ),
        (Kind::Park, Kind::IpcWait) => (
            Placement::server_and_kernel(),
            Code::new(
                &["server_lib::receive", "ipc::sys_ipc"],
                server_main,
                format!(
                    "Outcome::Parked: no reply; {server} receives again, and the kernel blocks it: nobody is sending"
                ),
            ),
        ),
        (Kind::Wakeup, Kind::Copy | Kind::Ipc) if in_server => (
            Placement::server_and_kernel(),
            Code::new(
                &["server_lib::reply", "fastpath::try_ipc", "with_bytes"],
                server_main,
                format!(
                    "{server}'s loop answers the parked read first: server_lib::reply, a send alone to a reader waiting in its call, which the fast path takes (fastpath::try_ipc → with_bytes: the reader waits for {server}; the copy into its receive area is planned)"
                ),
            ),
        ),
        (_, Kind::ContextSwitch) => (
            Placement::kernel(),
            Code::new(
                &["return_to_user", "choose_next"],
                SCHED,
                format!(
                    "the kernel chooses the thread to run: {}",
                    thread(second.args[1])
                ),
            ),
        ),
        _ => {
            let placement = if in_server {
                Placement::server()
            } else {
                Placement::kernel()
            };
            (placement, unmapped(timeline, a, b))
        }
    }
}
