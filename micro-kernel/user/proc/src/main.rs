//! The process server: the microkernel's `proc.c`, `exec.c` and `vm.c` as
//! one user-level server.
//!
//! proc owns the processes (pid, parent, name, exit status, zombies), and
//! it is the **pager** and **exception handler** of every user thread: the
//! kernel turns a user page fault into a message to proc, which answers
//! with a mapping of one of its own pages (demand-zero stack, copy-on-write
//! after fork, the pages of `mmap`'s regions: zeros or a file's, read
//! through vfs) or kills the process with the monolithic kernel's
//! `usertrap:` line.
//!
//! It waits in one place — its receive — and *parks* `wait` callers (it
//! does not reply until a child exits). It calls only vfs (a process was
//! created or exited; reading a program for exec, or a mapped file's page)
//! and root (`FreePages`).
//!
//! | file        | what                                                        |
//! |-------------|-------------------------------------------------------------|
//! | `main.rs`   | start (creating init), the serving loop, each request       |
//! | `pool.rs`   | frames in proc's space: zero, copy, copyin/copyout, unmap   |
//! | `exec.rs`   | loading an ELF file through vfs                             |
//! | `lib.rs`    | the pure bookkeeping, host-tested: frames, memory maps, the process table |

#![no_std]
#![no_main]

extern crate alloc;

mod exec;
mod pool;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::micro::{fault_access, fault_window_pages, label};
use common::abi::proto::proc::{FaultCause, ProcRequest, encode_reply, exception_name};
use common::abi::proto::root::{PROC_POOL_MAX_PAGES, RootRequest};
use common::abi::proto::vfs::VfsRequest;
use common::abi::proto::{Wire, reply};
use common::abi::syscall::{MAX_ARG_BYTES, MAX_ARGS, MAX_PATH};
use common::mm::mmap::{self, Backing, MmapArgs, Region};
use common::port::{HardwarePorts, PortIo};
use common::trace::Kind;
use l4::{MapItem, Message, Phase, Received, SpaceId, ThreadId, Timeout, exreg, println};
use pool::UserMemory;
use proc_core::frames::FrameTable;
use proc_core::memory::{FaultAction, MappedFile, PAGE, PageEntry, Permissions};
use proc_core::table::{INIT_PID, Pid, Process, ProcessTable, State, WaitOutcome};
use server_lib::Server;

/// The priority of user threads: the same as proc, vfs and fs (root
/// starts those at 14; the drivers run above, at 15, so interrupts are
/// served at once). Equal priority lets the kernel's IPC fast path carry
/// both halves of a round trip: it switches directly only to a receiver of
/// at least the sender's priority, so with user programs below the servers
/// every reply would take the slow path. Round robin among equals still
/// preempts a spinning program.
const USER_PRIORITY: u64 = 14;

/// Pages `sbrk` leaves in the pool for copy-on-write faults and stacks, so
/// that a process that took all memory with sbrk can still run (and exec).
const RESERVED_PAGES: u64 = 64;

/// The CPU's page-fault vector.
const PAGE_FAULT_VECTOR: u64 = 14;
/// The bits of a page-fault error code that say what the access was
/// (present, write, instruction fetch: `abi::micro::fault_access`).
const ACCESS_BITS: u64 = 0x13;

/// The debug-exit port (granted by root), used to power off when init exits.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// The server's state.
struct Proc {
    /// Our own thread: the pager and exception handler of every process.
    me: ThreadId,
    frames: FrameTable,
    table: ProcessTable,
    /// The reply to the message being handled, sent by the next receive
    /// (one `reply_and_receive` system call instead of a send and a
    /// receive: half the kernel entries on every request and fault).
    deferred: Option<Deferred>,
    /// When the deferred reply is a page fault's mapping of several pages
    /// (fault-ahead): the same reply with the faulting page alone, tried
    /// before giving up on the process if the kernel cannot make the
    /// whole mapping (kept here, not in [`Deferred`], which every reply
    /// moves).
    one_page: Option<Message>,
    /// The trace session whose events already name every process.
    named_in_session: u64,
}

/// Records `process`'s name in the trace (while tracing is on): its
/// space, pid and program.
fn trace_name(process: &Process) {
    let space = u64::from(SpaceId(process.space).slot());
    common::trace::point(
        Kind::Name,
        space,
        process.pid,
        common::trace::pack_name(process.name.as_bytes()),
    );
}

/// A reply to send with the next receive.
struct Deferred {
    to: ThreadId,
    message: Message,
    /// For a page fault's mapping: the process to kill if the kernel cannot
    /// make the mapping (it would stay blocked in its fault forever).
    fault_of: Option<Pid>,
}

fn main(root: u64) -> ! {
    // The directory: server_lib keeps it (and takes root's new ones).
    server_lib::start("proc", ThreadId(root));
    let (me, _) = l4::task::whoami();
    let mut proc = Proc {
        me,
        frames: FrameTable::new(PROC_POOL_MAX_PAGES as u32),
        table: ProcessTable::new(),
        deferred: None,
        one_page: None,
        named_in_session: 0,
    };
    if let Err(errno) = proc.start_init() {
        println!("proc: cannot start /bin/init: {}", errno.message());
        power_off(false);
    }
    loop {
        let received = match proc.deferred.take() {
            None => l4::ipc::receive(ThreadId::ANY, Timeout::Never),
            Some(reply) => {
                let any = ThreadId::ANY;
                let result = l4::ipc::ipc_with_phase(
                    reply.to,
                    any,
                    &reply.message,
                    Timeout::Zero,
                    Timeout::Never,
                );
                match result {
                    // The reply went out; only the receive failed (the
                    // kernel says which phase): nothing to do with the
                    // process just answered.
                    Err((error, Phase::Receive)) => Err(error),
                    Err((error, Phase::Send)) => {
                        // The reply failed (a client that is gone is
                        // simply forgotten); nothing was received yet.
                        let mapping_failed = matches!(
                            error,
                            l4::Error::NotMappable
                                | l4::Error::OutOfResources
                                | l4::Error::NoReceiveWindow
                        );
                        match (mapping_failed, reply.fault_of, proc.one_page.take()) {
                            // The pages ahead did not fit (a quota, page
                            // tables): the faulting page alone may.
                            (true, Some(pid), Some(message)) => {
                                proc.deferred = Some(Deferred {
                                    to: reply.to,
                                    message,
                                    fault_of: Some(pid),
                                });
                                continue;
                            }
                            (true, Some(pid), None) => {
                                println!("proc: cannot map a page for pid {pid}: {error:?}");
                                proc.terminate(pid, -1);
                            }
                            _ => {}
                        }
                        l4::ipc::receive(ThreadId::ANY, Timeout::Never)
                    }
                    Ok(received) => Ok(received),
                }
            }
        };
        match received {
            Ok(message) => proc.handle(&message),
            Err(error) => println!("proc: receive failed: {error:?}"),
        }
    }
}

l4::server_entry!(main);

/// Leaves QEMU (through the debug-exit port), as the monolithic kernel
/// does when init exits.
fn power_off(success: bool) -> ! {
    HardwarePorts.write_u8(DEBUG_EXIT_PORT, if success { 0x10 } else { 0x11 });
    loop {
        l4::ipc::sleep(100);
    }
}

/// Replies to a process's thread (ignoring a thread that is gone).
fn answer(thread: u64, result: Result<u64, Errno>) {
    let _ = server_lib::reply(ThreadId(thread), &encode_reply(result));
}

impl Proc {
    /// Creates process 1 running `/bin/init` (parent 0, no open files).
    fn start_init(&mut self) -> Result<(), Errno> {
        let pid = self.table.allocate_pid();
        let (space, thread) = self.new_thread()?;
        self.vfs(VfsRequest::ProcessCreated {
            pid,
            thread: thread.0,
            parent: 0,
        })?;
        let args = [Vec::from(&b"init"[..])];
        let loaded = exec::load(
            &server_lib::directory(),
            &mut self.frames,
            pid,
            b"/bin/init",
            &args,
        )?;
        self.table.insert(Process {
            pid,
            parent: 0,
            name: String::from("init"),
            state: State::Alive,
            thread: thread.0,
            space: space.0,
            memory: loaded.memory,
            waiting: None,
        })?;
        start_thread(thread, loaded.entry, loaded.rsp, loaded.argc, false)
            .map_err(|_| Errno::ENOMEM)
    }

    /// A new address space with one halted user thread (proc its pager
    /// and exception handler). `EAGAIN` if the kernel has no room.
    fn new_thread(&self) -> Result<(SpaceId, ThreadId), Errno> {
        let space = l4::task::space_create(0).map_err(|_| Errno::EAGAIN)?;
        match l4::task::thread_create(space, self.me, self.me, USER_PRIORITY) {
            Ok(thread) => Ok((space, thread)),
            Err(_) => {
                let _ = l4::task::space_destroy(space);
                Err(Errno::EAGAIN)
            }
        }
    }

    /// When a new trace session has started, records every process's name
    /// in it (a trace can then tell which space runs which program).
    fn name_processes_for_a_new_trace(&mut self) {
        let session = l4::trace::session();
        if session == 0 || session == self.named_in_session {
            return;
        }
        self.named_in_session = session;
        for process in self.table.iter() {
            trace_name(process);
        }
    }

    /// A call to vfs that must succeed.
    fn vfs(&self, request: VfsRequest) -> Result<(), Errno> {
        server_lib::call(Server::Vfs, &request.to_wire()).map(|_| ())
    }

    /// One message: a fault, an exception, or a request. (proc reads the
    /// message registers itself: an exception carries six words, more than
    /// a protocol message.)
    fn handle(&mut self, message: &Received) {
        self.name_processes_for_a_new_trace();
        // A new directory or a fault to arm, from root.
        if server_lib::from_root_message(message) {
            return;
        }
        let from = message.from.0;
        let Some(pid) = self.table.by_thread(from) else {
            // Not one of our processes (a server, or a thread already
            // killed): refuse requests, ignore faults.
            if !matches!(message.label(), label::PAGE_FAULT | label::EXCEPTION) {
                let _ = server_lib::reply(message.from, &reply::failed(Errno::EPERM));
            }
            return;
        };
        match message.label() {
            label::PAGE_FAULT => {
                let [address, access, rip, ..] = message.mr;
                self.page_fault(pid, address, access, rip);
            }
            label::EXCEPTION => {
                let [vector, error_code, rip, _, _, cr2] = message.mr;
                let (mnemonic, name) = exception_name(vector);
                if vector == PAGE_FAULT_VECTOR {
                    // A fault the kernel could not send to the pager (a
                    // kernel address): reported like any page fault.
                    let cause = FaultCause(error_code & ACCESS_BITS);
                    self.usertrap(
                        pid,
                        format_args!("{mnemonic} {name} at {cr2:#x} ({cause}), rip {rip:#x}"),
                    );
                } else {
                    self.usertrap(pid, format_args!("{mnemonic} {name}, rip {rip:#x}"));
                }
            }
            _ => {
                // A fault armed in proc fires here, at its request.
                server_lib::inject::on_request("proc");
                let wire = Wire::new(message.label(), message.words());
                match ProcRequest::from_wire(&wire) {
                    Ok(call) => self.call(pid, from, call),
                    Err(problem) => {
                        let _ = server_lib::reply(message.from, &reply::malformed(problem));
                    }
                }
            }
        }
    }

    /// A request from process `pid` (thread `thread`).
    fn call(&mut self, pid: Pid, thread: u64, call: ProcRequest) {
        let result = match call {
            ProcRequest::Getpid => Ok(pid),
            ProcRequest::Fork {
                resume_rip,
                resume_rsp,
            } => self.fork(pid, resume_rip, resume_rsp),
            ProcRequest::Exec { path, argv } => match self.exec(pid, path, argv) {
                Ok(()) => return, // the thread runs the new program
                Err(errno) => Err(errno),
            },
            ProcRequest::Exit { status } => {
                self.terminate(pid, status);
                return;
            }
            ProcRequest::Wait { status_address } => {
                if let Some(process) = self.table.get_mut(pid) {
                    process.waiting = Some(status_address);
                }
                self.complete_wait(pid);
                return;
            }
            // Init may not be killed, as on the monolithic kernel: it
            // adopts every orphan, and its end powers the machine off.
            ProcRequest::Kill { pid: INIT_PID } => Err(Errno::EPERM),
            ProcRequest::Kill { pid: target } => match self.table.get(target) {
                Some(process) if process.state == State::Alive => {
                    self.terminate(target, -1);
                    if target == pid {
                        return; // killed itself: nobody to answer
                    }
                    Ok(0)
                }
                _ => Err(Errno::ESRCH),
            },
            ProcRequest::Sbrk { increment } => self.sbrk(pid, increment),
            ProcRequest::Freemem => Ok(self.free_pages()),
            // Root decides (and refuses unless injection is on).
            ProcRequest::Inject(request) => {
                server_lib::call(Server::Root, &RootRequest::Inject(request).to_wire())
                    .and_then(|reply| reply.word(0))
            }
            ProcRequest::Mmap {
                length,
                prot,
                flags,
                fd,
                offset,
            } => self.mmap(pid, length, prot, flags, fd, offset),
            ProcRequest::Munmap { address, length } => self.munmap(pid, address, length),
            // LAB syscall BEGIN
            ProcRequest::Getppid => self
                .table
                .get(pid)
                .map(|process| process.parent)
                .ok_or(Errno::ESRCH),
            ProcRequest::Sysinfo { address } => self.sysinfo(pid, address),
            // LAB syscall STUB
            // LAB syscall END
        };
        let message = Message::from_wire(&encode_reply(result));
        self.deferred = Some(Deferred {
            to: ThreadId(thread),
            message,
            fault_of: None,
        });
    }

    /// A page fault of process `pid`.
    fn page_fault(&mut self, pid: Pid, address: u64, access: u64, rip: u64) {
        let Some(process) = self.table.get_mut(pid) else {
            return;
        };
        let page = address & !(PAGE - 1);
        let vfs = Server::Vfs;
        let mapping = match process.memory.fault(&self.frames, address, access) {
            FaultAction::Map { frame, rights } => Some((frame, rights)),
            FaultAction::Copy { from, permissions } => {
                // LAB cow BEGIN
                pool::alloc_copy(&mut self.frames, from).map(|copy| {
                    process.memory.replace_frame(page, copy);
                    self.frames.release(from);
                    // Not this process's any more: no mapping of it may
                    // outlive that — one it granted away, say, which would
                    // let another process read the frame's next owner's
                    // writes, or reuse it when it is freed. (The other
                    // sharers lose theirs too, and fault it back in.)
                    pool::revoke(&[from]);
                    (copy, permissions.rights(false))
                })
                // LAB cow STUB
                //~ // Task 3: a copy of its own for the writer.
                //~ let _ = (from, permissions);
                //~ None
                // LAB cow END
            }
            // A stack page or an mmap page, made now (a file's page is read
            // through vfs: proc waits for it, and meanwhile the faults of
            // other processes queue up in the kernel).
            FaultAction::New {
                contents,
                permissions,
            } => pool::make_page(&mut self.frames, vfs, contents)
                .ok()
                .map(|frame| {
                    process
                        .memory
                        .insert(page, PageEntry { frame, permissions });
                    (frame, permissions.rights(false))
                }),
            FaultAction::Kill => None,
        };
        let thread = process.thread;
        match mapping {
            Some((frame, rights)) => {
                // Fault-ahead: in a walk through memory in order, the pages
                // after this one that would fault into the frames after
                // this frame come in the same item.
                let window = fault_window_pages(page);
                let count = process
                    .memory
                    .fault_run(&self.frames, page, frame, rights, window);
                let item = |count| MapItem {
                    page: pool::address(frame),
                    count,
                    rights,
                    window_offset: 0,
                };
                let reply = |count| Message::new(0, &[]).with_map(item(count), false);
                self.deferred = Some(Deferred {
                    to: ThreadId(thread),
                    message: reply(count),
                    fault_of: Some(pid),
                });
                self.one_page = (count > 1).then(|| reply(1));
            }
            // The kernel needed the page for a system call's buffer: not
            // the process's memory, so the call fails with `EFAULT` (a reply
            // without a mapping), and the process lives on.
            None if access & fault_access::SYSTEM_CALL != 0 => {
                self.deferred = Some(Deferred {
                    to: ThreadId(thread),
                    message: Message::new(0, &[]),
                    fault_of: None,
                });
            }
            None => self.usertrap(
                pid,
                format_args!(
                    "#PF page fault at {address:#x} ({}), rip {rip:#x}",
                    FaultCause(access)
                ),
            ),
        }
    }

    /// Kills process `pid` for a fault, with the monolithic kernel's line.
    fn usertrap(&mut self, pid: Pid, what: core::fmt::Arguments) {
        if let Some(process) = self.table.get(pid) {
            println!("usertrap: pid {} ({}): {what}: killed", pid, process.name);
        }
        self.terminate(pid, -1);
    }

    /// Ends process `pid` with `status`: its files, thread, space and
    /// memory go; it becomes a zombie; its children go to init; a parked
    /// parent (or init) may now collect.
    fn terminate(&mut self, pid: Pid, status: i32) {
        if pid == INIT_PID {
            println!("init exited with status {status}: nothing left to run");
            power_off(status == 0);
        }
        let Some(process) = self.table.get_mut(pid) else {
            return;
        };
        if process.state != State::Alive {
            return;
        }
        let space = SpaceId(process.space);
        // Destroying the space removes the process's mappings and every
        // mapping made from them.
        if let Err(error) = l4::task::space_destroy(space) {
            println!("proc: cannot destroy the space of pid {pid}: {error:?}");
        }
        // A page the process *granted* away left its space for another's;
        // the mapping is derived from proc's own, not the process's. So
        // every frame it had is revoked everywhere: one freed now must not
        // stay mapped where proc hands it to the next process, and one
        // still shared (copy-on-write) must not stay mapped where it would
        // show its remaining owner's next writes. (Those owners lose their
        // mappings too, and fault them back in.)
        let released = process.memory.release_all(&mut self.frames);
        let regions = process.memory.regions.take_all();
        pool::revoke(&released);
        self.close_files(regions);
        let _ = self.vfs(VfsRequest::ProcessExited { pid });
        for parent in self.table.make_zombie(pid, status) {
            self.complete_wait(parent);
        }
    }

    /// If `pid` is parked in `wait` and a child can be collected (or it
    /// has none), answers it.
    fn complete_wait(&mut self, pid: Pid) {
        let Some(process) = self.table.get(pid) else {
            return;
        };
        let (Some(status_address), State::Alive) = (process.waiting, process.state) else {
            return;
        };
        let thread = process.thread;
        let result = match self.table.wait_outcome(pid) {
            WaitOutcome::Park => return,
            WaitOutcome::NoChildren => Err(Errno::ECHILD),
            WaitOutcome::Collect(child, status) => {
                let process = self.table.get_mut(pid).expect("looked up above");
                let copied = if status_address == 0 {
                    Ok(())
                } else {
                    let mut memory = UserMemory {
                        frames: &mut self.frames,
                        map: &mut process.memory,
                        vfs: Server::Vfs,
                    };
                    pool::copy_to_user(&mut memory, status_address, &status.to_le_bytes())
                };
                match copied {
                    Ok(()) => {
                        self.table.remove(child);
                        Ok(child)
                    }
                    // As on mono: the child stays a zombie.
                    Err(errno) => Err(errno),
                }
            }
        };
        if let Some(process) = self.table.get_mut(pid) {
            process.waiting = None;
        }
        answer(thread, result);
    }

    /// `fork`: a new process sharing the parent's memory copy-on-write,
    /// whose thread starts at `resume_rip` with `resume_rsp` and `rdi = 0`.
    fn fork(&mut self, parent: Pid, resume_rip: u64, resume_rsp: u64) -> Result<u64, Errno> {
        if !self.table.has_room() {
            return Err(Errno::EAGAIN);
        }
        let name = self.table.get(parent).ok_or(Errno::ESRCH)?.name.clone();
        let (space, thread) = self.new_thread()?;
        let pid = self.table.allocate_pid();
        if let Err(errno) = self.vfs(VfsRequest::ProcessCreated {
            pid,
            thread: thread.0,
            parent,
        }) {
            let _ = l4::task::space_destroy(space);
            return Err(errno);
        }
        let parent_process = self.table.get(parent).ok_or(Errno::ESRCH)?;
        // LAB cow BEGIN
        let memory = parent_process.memory.share_for_fork(&mut self.frames);
        // From now on the parent must fault to write: its writable
        // mappings become read-only.
        pool::revoke_write(&parent_process.memory.writable_frames());
        // LAB cow STUB
        //~ // Task 2: share the pages instead of copying them.
        //~ let Some(memory) = pool::copy_for_fork(&mut self.frames, &parent_process.memory) else {
        //~     let _ = l4::task::space_destroy(space);
        //~     let _ = self.vfs(VfsRequest::ProcessExited { pid });
        //~     return Err(Errno::ENOMEM);
        //~ };
        // LAB cow END
        self.table.insert(Process {
            pid,
            parent,
            name,
            state: State::Alive,
            thread: thread.0,
            space: space.0,
            memory,
            waiting: None,
        })?;
        if let Some(child) = self.table.get(pid) {
            trace_name(child);
        }
        if start_thread(thread, resume_rip, resume_rsp, 0, false).is_err() {
            // A resume address outside user space: the child cannot run.
            self.terminate(pid, -1);
            if let Some(child) = self.table.get(pid)
                && matches!(child.state, State::Zombie(_))
            {
                self.table.remove(pid);
            }
            return Err(Errno::EFAULT);
        }
        Ok(pid)
    }

    /// `exec`: loads the program; on success replaces the caller's memory
    /// and restarts its thread at the new entry point.
    fn exec(&mut self, pid: Pid, path_address: u64, argv_address: u64) -> Result<(), Errno> {
        let vfs = Server::Vfs;
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        let mut memory = UserMemory {
            frames: &mut self.frames,
            map: &mut process.memory,
            vfs,
        };
        let path = pool::copy_string_from_user(&mut memory, path_address, MAX_PATH)?;
        let args = copy_arguments(&mut memory, argv_address)?;
        // The directory as it is now: a server root restarted (rtc) has a
        // new thread id, which the new program must be given.
        let loaded = exec::load(
            &server_lib::directory(),
            &mut self.frames,
            pid,
            &path,
            &args,
        )?;
        // Commit.
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        let mut old = core::mem::replace(&mut process.memory, loaded.memory);
        let old_frames = old.release_all(&mut self.frames);
        // The space lives on: take the old pages out of it.
        pool::revoke(&old_frames);
        let old_regions = old.regions.take_all();
        let name = path.rsplit(|&byte| byte == b'/').next().unwrap_or(&path);
        process.name = String::from_utf8_lossy(name).into_owned();
        trace_name(process);
        let thread = ThreadId(process.thread);
        self.close_files(old_regions);
        // The ELF reader checked that the entry point lies in an executable
        // segment (user memory), so the kernel accepts it; if the thread
        // cannot be restarted anyway, the old program is gone: the process
        // ends (as a process whose exec failed after the point of no return).
        if let Err(error) = start_thread(thread, loaded.entry, loaded.rsp, loaded.argc, true) {
            println!("proc: cannot start the new program of pid {pid}: {error:?}");
            self.terminate(pid, -1);
        }
        Ok(())
    }

    /// `sbrk`: grows (eagerly, zeroed) or shrinks the heap.
    fn sbrk(&mut self, pid: Pid, increment: i64) -> Result<u64, Errno> {
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        let plan = process.memory.plan_sbrk(increment)?;
        if plan.pages_needed() > 0 && plan.pages_needed() + RESERVED_PAGES > self.frames.available()
        {
            return Err(Errno::ENOMEM);
        }
        if let Err(errno) = pool::add_zeroed(
            &mut self.frames,
            &mut process.memory,
            plan.grow.start,
            plan.grow.end,
            Permissions::DATA,
        ) {
            // Undo the pages added so far (never mapped: no unmap needed).
            let mut page = plan.grow.start;
            while page < plan.grow.end {
                if let Some(entry) = process.memory.remove(page) {
                    self.frames.release(entry.frame);
                }
                page += PAGE;
            }
            return Err(errno);
        }
        let mut freed = Vec::new();
        let mut page = plan.shrink.start;
        while page < plan.shrink.end {
            if let Some(entry) = process.memory.remove(page) {
                self.frames.release(entry.frame);
                freed.push(entry.frame);
            }
            page += PAGE;
        }
        freed.sort_unstable();
        pool::revoke(&freed);
        process.memory.brk = plan.new;
        Ok(plan.old)
    }

    /// `mmap`: records a region — zeros, or the file behind the process's
    /// descriptor `fd` from `offset`, held open through vfs (`MapOpen`) —
    /// and returns its address. Nothing is mapped: each page is made at its
    /// first fault (`FaultAction::New`). The rules are
    /// `common::mm::mmap`'s, the mono-kernel's too.
    fn mmap(
        &mut self,
        pid: Pid,
        length: u64,
        prot: u32,
        flags: u32,
        fd: u64,
        offset: u64,
    ) -> Result<u64, Errno> {
        let args = MmapArgs::check(length, u64::from(prot), u64::from(flags), fd, offset)?;
        // LAB mmap BEGIN
        let process = self.table.get(pid).ok_or(Errno::ESRCH)?;
        // Check, then commit: room first, before a file is opened.
        let start = process.memory.regions.place(args.length)?;
        let backing = match args.file {
            None => Backing::Anonymous,
            Some((fd, offset)) => {
                let opened = self.vfs_call(VfsRequest::MapOpen { pid, fd })?;
                let handle = opened.word(0)?;
                Backing::File {
                    file: Rc::new(MappedFile { handle }),
                    offset,
                }
            }
        };
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        process.memory.regions.insert(Region {
            start,
            end: start + args.length,
            prot: args.prot,
            backing,
        });
        Ok(start)
        // LAB mmap STUB
        //~ // Task 1: find room, open the file through vfs, record the region.
        //~ let _ = (pid, args);
        //~ Err(Errno::ENOSYS)
        // LAB mmap END
    }

    /// `munmap`: removes the regions in the range, releases the pages made
    /// in them and takes them out of the process's space; a file no region
    /// names any more is given back to vfs.
    fn munmap(&mut self, pid: Pid, address: u64, length: u64) -> Result<u64, Errno> {
        let (start, end) = mmap::munmap_range(address, length)?;
        // LAB mmap BEGIN
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        let removed = process.memory.regions.remove(start, end)?;
        let mut gone = Vec::new();
        for region in &removed {
            let pages = process
                .memory
                .remove_pages(&mut self.frames, region.start, region.end);
            gone.extend(pages);
        }
        // Out of this space (and, for a frame still shared copy-on-write,
        // out of the others' too: they fault it back in from their maps).
        gone.sort_unstable();
        pool::revoke(&gone);
        self.close_files(removed);
        Ok(0)
        // LAB mmap STUB
        //~ // Task 3: forget the regions, release and unmap their pages,
        //~ // give back the files.
        //~ let _ = (pid, start, end);
        //~ Err(Errno::ENOSYS)
        // LAB mmap END
    }

    /// Gives back to vfs the file of every region here that was the last
    /// to name it.
    fn close_files(&self, regions: Vec<Region<Rc<MappedFile>>>) {
        for region in regions {
            if let Backing::File { file, .. } = region.backing
                && let Ok(file) = Rc::try_unwrap(file)
            {
                let _ = self.vfs(VfsRequest::ExecClose {
                    handle: file.handle,
                });
            }
        }
    }

    /// A call to vfs, with its reply.
    fn vfs_call(&self, request: VfsRequest) -> Result<l4::rpc::Reply, Errno> {
        server_lib::call(Server::Vfs, &request.to_wire())
    }

    // LAB syscall BEGIN
    /// `sysinfo`: copies a `SysInfo` (free memory in bytes, the number of
    /// processes, zombies included) to `address` in `pid`'s memory.
    fn sysinfo(&mut self, pid: Pid, address: u64) -> Result<u64, Errno> {
        let info = common::abi::syscall::SysInfo {
            freemem: self.free_pages() * PAGE,
            nproc: self.table.iter().count() as u64,
        };
        let process = self.table.get_mut(pid).ok_or(Errno::ESRCH)?;
        let mut memory = UserMemory {
            frames: &mut self.frames,
            map: &mut process.memory,
            vfs: Server::Vfs,
        };
        pool::copy_to_user(&mut memory, address, &info.to_bytes())?;
        Ok(0)
    }
    // LAB syscall STUB
    // LAB syscall END

    /// Free pages, honestly: the pool's recycled frames, plus the untouched
    /// part of the pool as far as root still has memory to back it.
    fn free_pages(&self) -> u64 {
        let root_free = server_lib::call(Server::Root, &RootRequest::FreePages.to_wire())
            .and_then(|reply| reply.word(0))
            .unwrap_or(0);
        self.frames.recycled() + self.frames.untouched().min(root_free)
    }
}

/// Starts (or, with `restart`, restarts: the thread is waiting in its call
/// to us) `thread` at `rip` with `rsp` and `rdi = argument`.
fn start_thread(
    thread: ThreadId,
    rip: u64,
    rsp: u64,
    argument: u64,
    restart: bool,
) -> Result<(), l4::Error> {
    if restart {
        let halt = l4::task::Registers {
            control: exreg::HALT,
            ..l4::task::Registers::default()
        };
        // SAFETY: the thread is in another address space (a user process).
        unsafe { l4::task::exchange_registers(thread, &halt)? };
    }
    let start = l4::task::Registers {
        control: exreg::SET_RIP | exreg::SET_RSP | exreg::SET_ARGUMENT | exreg::RESUME,
        rip,
        rsp,
        argument,
        ..l4::task::Registers::default()
    };
    // SAFETY: the thread is in a user process's space, whose memory proc
    // provides: `rip` and `rsp` are the program's to get right.
    unsafe { l4::task::exchange_registers(thread, &start).map(|_| ()) }
}

/// Copies the NULL-terminated argument vector at `argv_address` (0: none),
/// with the monolithic kernel's limits and errors.
fn copy_arguments(memory: &mut UserMemory, argv_address: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut args = Vec::new();
    let mut total = 0;
    if argv_address == 0 {
        return Ok(args);
    }
    loop {
        let slot = argv_address
            .checked_add(8 * args.len() as u64)
            .ok_or(Errno::EFAULT)?;
        let mut pointer = [0u8; 8];
        pool::copy_from_user(memory, slot, &mut pointer)?;
        let pointer = u64::from_le_bytes(pointer);
        if pointer == 0 {
            return Ok(args);
        }
        if args.len() == MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let arg = pool::copy_string_from_user(memory, pointer, MAX_ARG_BYTES - 1).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += arg.len() + 1;
        if total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        args.push(arg);
    }
}
