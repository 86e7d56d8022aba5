//! Process system calls: fork, exit, wait, kill, exec, sleep, and the
//! memory calls sbrk, mmap and munmap.

use crate::exec;
use crate::file::FdTable;
use crate::fsys;
use crate::proc::{Channel, KernelStack, Pid, Proc, State};
use crate::sched;
use crate::switch::initial_kernel_stack;
use crate::vm;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::syscall::{MAX_ARG_BYTES, MAX_ARGS, MAX_PATH};
use common::arch::{self, trap::TrapFrame};
use common::mm::mmap::{self, MmapArgs};
use core::cell::{Cell, RefCell};

/// The pid of `init`, which adopts orphans.
pub const INIT_PID: Pid = 1;

/// A new process in the table: runnable, entering user mode with `frame`.
/// `cwd` is its working directory, which the caller has held for it
/// (`fsys::hold_inode`); if the process cannot be made, the hold is
/// released here.
pub fn spawn(
    frame: &TrapFrame,
    parent: Pid,
    name: String,
    vm: crate::vm::UserVm,
    files: FdTable,
    cwd: common::fs::Ino,
) -> Result<Rc<Proc>, Errno> {
    let mut kernel_stack = Box::new(KernelStack([0; crate::proc::KERNEL_STACK_WORDS]));
    let rsp = initial_kernel_stack(&mut kernel_stack.0, frame);
    let proc = Rc::new(Proc {
        pid: sched::allocate_pid(),
        parent: Cell::new(parent),
        name: RefCell::new(name),
        state: Cell::new(State::Runnable),
        killed: Cell::new(false),
        exit_status: Cell::new(0),
        saved_rsp: Cell::new(rsp),
        kernel_stack,
        vm: RefCell::new(Some(vm)),
        files: RefCell::new(files),
        cwd: Cell::new(cwd),
    });
    if sched::add(proc.clone()).is_none() {
        fsys::release_inode(cwd, "spawn");
        return Err(Errno::EAGAIN);
    }
    Ok(proc)
}

/// `fork()`: a copy of the calling process; returns the child's pid in the
/// parent and 0 in the child.
pub fn fork(frame: &TrapFrame) -> Result<u64, Errno> {
    let parent = sched::current();
    let vm = parent
        .vm
        .borrow_mut()
        .as_mut()
        .ok_or(Errno::EINVAL)?
        .fork_copy()?;
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let files = parent.files.borrow().share();
    let name = parent.name.borrow().clone();
    // The child holds the working directory too.
    let cwd = parent.cwd.get();
    fsys::hold_inode(cwd)?;
    let child = spawn(&child_frame, parent.pid, name, vm, files, cwd)?;
    Ok(u64::from(child.pid))
}

/// `exit(status)`: releases the process's memory, files and working
/// directory, hands its children to init, and becomes a zombie for its
/// parent to collect.
pub fn exit_current(status: i32) -> ! {
    let proc = sched::current();
    if proc.pid == INIT_PID {
        common::kprintln!("init exited with status {status}: nothing left to run");
        arch::qemu::exit(if status == 0 {
            arch::qemu::ExitCode::Success
        } else {
            arch::qemu::ExitCode::Failure
        });
    }
    // Files first (closing may sleep on the file-system lock), then memory:
    // switch to the kernel's own page tables before freeing ours.
    let files = proc.files.borrow_mut().take_all();
    drop(files);
    fsys::release_inode(proc.cwd.get(), "exit");
    // SAFETY: the boot page tables map the kernel exactly as ours do.
    unsafe { arch::cpu::write_cr3(arch::boot::boot_pml4_phys()) };
    let vm = proc.vm.borrow_mut().take();
    drop(vm);

    for child in sched::all() {
        if child.parent.get() == proc.pid {
            child.parent.set(INIT_PID);
            if child.state.get() == State::Zombie {
                sched::wakeup(wait_channel(INIT_PID));
            }
        }
    }
    proc.exit_status.set(status);
    sched::wakeup(wait_channel(proc.parent.get()));
    drop(proc);
    sched::exit_current()
}

/// The channel a parent sleeps on in `wait`.
fn wait_channel(parent: Pid) -> Channel {
    // Any unique address works; the pid keeps parents apart.
    Channel::of(&WAIT_CHANNELS).with_offset(parent as usize % WAIT_CHANNELS.len())
}
static WAIT_CHANNELS: [u8; 64] = [0; 64];

/// `wait(status_ptr)`: waits for a child to exit, stores its status at
/// `status_ptr` (if not 0) and returns its pid. `ECHILD` without children.
pub fn wait(status_addr: u64) -> Result<u64, Errno> {
    let me = sched::current();
    loop {
        let mut have_children = false;
        for child in sched::all() {
            if child.parent.get() != me.pid {
                continue;
            }
            have_children = true;
            if child.state.get() == State::Zombie {
                if status_addr != 0 {
                    let status = child.exit_status.get().to_le_bytes();
                    vm::copy_out(&me, status_addr, &status)?;
                }
                sched::remove(child.pid);
                return Ok(u64::from(child.pid));
            }
        }
        if !have_children {
            return Err(Errno::ECHILD);
        }
        if me.killed.get() {
            return Err(Errno::EINTR);
        }
        sched::sleep(wait_channel(me.pid));
    }
}

/// `kill(pid)`: marks the process killed; it exits when it next leaves the
/// kernel (a sleeping process is woken so that it notices). Init may not be
/// killed (`EPERM`): it adopts every orphan, and its end powers the machine
/// off.
pub fn kill(pid: u64) -> Result<u64, Errno> {
    if pid == u64::from(INIT_PID) {
        return Err(Errno::EPERM);
    }
    for proc in sched::all() {
        if u64::from(proc.pid) == pid && proc.state.get() != State::Zombie {
            sched::kill(&proc);
            if let State::Sleeping(_) = proc.state.get() {
                proc.state.set(State::Runnable);
            }
            return Ok(0);
        }
    }
    Err(Errno::ESRCH)
}

/// `sbrk(increment)`: grows or shrinks the heap; returns the old break.
pub fn sbrk(increment: i64) -> Result<u64, Errno> {
    let proc = sched::current();
    let mut vm = proc.vm.borrow_mut();
    vm.as_mut().ok_or(Errno::ENOMEM)?.sbrk(increment)
}

/// `mmap(hint, length, prot, flags, fd, offset)`: records a private
/// mapping — zeros, or the file open as `fd` from `offset` — and returns
/// its address; nothing is mapped until a page is touched
/// (`vm::handle_fault`). The hint is ignored. The rules and their errors
/// are `common::mm::mmap`'s (`EINVAL`, `ENOMEM`); the descriptor's are
/// `EBADF`, `ENODEV` (not a regular file) and `EACCES` (not readable).
pub fn mmap(length: u64, prot: u64, flags: u64, fd: u64, offset: u64) -> Result<u64, Errno> {
    let args = MmapArgs::check(length, prot, flags, fd, offset)?;
    // LAB mmap BEGIN
    use crate::vm::MappedInode;
    use crate::{fsys, sys_file};
    use common::file::FileKind;
    use common::fs::InodeKind;
    use common::mm::mmap::Backing;
    let proc = sched::current();
    // Check, then commit: is there room, before a file is opened?
    proc.vm
        .borrow()
        .as_ref()
        .ok_or(Errno::ENOMEM)?
        .mmap_room(args.length)?;
    let backing = match args.file {
        None => Backing::Anonymous,
        Some((fd, offset)) => {
            let file = sys_file::file_of(fd)?;
            let FileKind::Inode(ino) = file.kind else {
                return Err(Errno::ENODEV); // a pipe, the console, /dev/null
            };
            let mut guard = fsys::lock();
            let fs = guard.fs();
            let regular = fs.stat(ino).map_err(|e| e.errno())?.kind == InodeKind::File;
            mmap::check_file(regular, file.readable)?;
            fs.open_inode(ino).map_err(|e| e.errno())?;
            Backing::File {
                file: Rc::new(MappedInode { ino }),
                offset,
            }
        }
    };
    // If the region is not recorded after all, the file must be released
    // with no borrow held (it takes the file-system lock): `keep` holds it
    // until then.
    let keep = backing.clone();
    let mapped = match proc.vm.borrow_mut().as_mut() {
        Some(vm) => vm.mmap(args.length, args.prot, backing),
        None => Err(Errno::ENOMEM),
    };
    drop(keep);
    mapped
    // LAB mmap STUB
    //~ // Task 1: find room, hold the file open, record the region.
    //~ let _ = args;
    //~ Err(Errno::ENOSYS)
    // LAB mmap END
}

/// `munmap(address, length)`: removes the mappings in the range, and the
/// pages made in them. `EINVAL` for a range that is not page-aligned or
/// not in the mmap area (`common::mm::mmap::munmap_range`); a range with
/// nothing mapped is no error.
pub fn munmap(address: u64, length: u64) -> Result<u64, Errno> {
    let (start, end) = mmap::munmap_range(address, length)?;
    let proc = sched::current();
    let removed = proc
        .vm
        .borrow_mut()
        .as_mut()
        .ok_or(Errno::EINVAL)?
        .munmap(start, end)?;
    // Dropped with no borrow held: the last region of a file releases its
    // inode, which takes the file-system lock.
    drop(removed);
    Ok(0)
}

/// `sleep(ticks)`: returns after at least `ticks` timer ticks (10 ms each).
pub fn sleep(ticks: u64) -> Result<u64, Errno> {
    let until = sched::ticks().saturating_add(ticks);
    while sched::ticks() < until {
        if sched::current().killed.get() {
            return Err(Errno::EINTR);
        }
        sched::sleep(sched::ticks_channel());
    }
    Ok(0)
}

/// `exec(path, argv)`: replaces the program. Returns only on error.
pub fn exec(path_addr: u64, argv_addr: u64, frame: &mut TrapFrame) -> Result<u64, Errno> {
    let proc = sched::current();
    let (path, args) = {
        let mut path = [0u8; MAX_PATH + 1];
        let len = vm::copy_str_in(&proc, path_addr, &mut path)?;
        let path = path[..len].to_vec();
        (path, copy_arguments(&proc, argv_addr)?)
    };
    let loaded = exec::load(proc.cwd.get(), &path, &args)?;
    // Commit: switch to the new space, then free the old one.
    // SAFETY: the new space shares the kernel half with every other space.
    unsafe { arch::cpu::write_cr3(loaded.vm.root_phys()) };
    let old = proc.vm.borrow_mut().replace(loaded.vm);
    drop(old);
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(&path);
    *proc.name.borrow_mut() = String::from_utf8_lossy(name).into_owned();
    crate::trace::name(proc.pid, name);
    *frame = TrapFrame::new_user(loaded.entry, loaded.stack_pointer);
    frame.rdi = loaded.argc;
    frame.rsi = loaded.argv;
    Ok(loaded.argc) // becomes rax; the program ignores it
}

/// Copies the NULL-terminated argument vector at `argv_addr`.
fn copy_arguments(proc: &Proc, argv_addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut args = Vec::new();
    let mut total = 0;
    if argv_addr == 0 {
        return Ok(args);
    }
    loop {
        let mut pointer = [0u8; 8];
        let slot = argv_addr
            .checked_add(8 * args.len() as u64)
            .ok_or(Errno::EFAULT)?;
        vm::copy_in(proc, slot, &mut pointer)?;
        let pointer = u64::from_le_bytes(pointer);
        if pointer == 0 {
            return Ok(args);
        }
        if args.len() == MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let mut buf = [0u8; MAX_ARG_BYTES];
        let len = vm::copy_str_in(proc, pointer, &mut buf).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += len + 1;
        if total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        args.push(buf[..len].to_vec());
    }
}

// LAB syscall BEGIN
/// `sysinfo(info_ptr)`: copies a [`SysInfo`] (free memory in bytes, the
/// number of processes, zombies included) to `info_ptr`.
pub fn sysinfo(info_addr: u64) -> Result<u64, Errno> {
    let info = common::abi::syscall::SysInfo {
        freemem: crate::memory::free_frames() as u64 * 4096,
        nproc: sched::all().len() as u64,
    };
    vm::copy_out(&sched::current(), info_addr, &info.to_bytes())?;
    Ok(0)
}
// LAB syscall STUB
// LAB syscall END
