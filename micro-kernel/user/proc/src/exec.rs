//! Loading a program: the microkernel's `exec.rs`.
//!
//! proc reads the ELF file through vfs (`ExecOpen`, `ExecRead`,
//! `ExecClose`: vfs resolves the path against the process's current
//! directory and reads the file from fs), checks it with the shared ELF
//! reader (`common::elf::Executable`, the very code the monolithic kernel
//! uses), and builds a complete new [`AddressMap`] — segments, then the
//! stack with the arguments and the aux block — before anything of the
//! calling process changes (check, then commit): on any error the new
//! frames are released and the caller continues with its old program.
//!
//! The stack layout is the monolithic kernel's (docs/user-abi.md) plus the
//! aux block after argv's NULL (`common::abi::proto::proc::StackLayout`).

use crate::pool;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::memory::USER_STACK_TOP;
use common::abi::proto::proc::{AuxBlock, StackLayout};
use common::abi::proto::root::Directory;
use common::abi::proto::vfs::VfsRequest;
use common::elf::Executable;
use proc_core::frames::FrameTable;
use proc_core::memory::{AddressMap, PAGE, Permissions, USER_STACK_SIZE, page_up};
use proc_core::table::Pid;
use server_lib::Server;

/// A loaded program, ready to replace a process's memory.
pub struct Loaded {
    pub memory: AddressMap,
    pub entry: u64,
    /// The initial stack pointer (at argc).
    pub rsp: u64,
    pub argc: u64,
}

/// How much of the file is read to parse the headers.
const HEADER_BYTES: u64 = 4096;

/// Loads `path` (relative to process `pid`'s current directory) with `args`.
///
/// Errors: what vfs answers to `ExecOpen` (`ENOENT`, `ENOTDIR`, `EACCES`
/// for a directory or device, ...), `ENOEXEC` for a file that is not a
/// valid executable (or shrinks while loading), `E2BIG` if the arguments
/// do not fit, `ENOMEM` if the pool runs out.
pub fn load(
    directory: &Directory,
    frames: &mut FrameTable,
    pid: Pid,
    path: &[u8],
    args: &[Vec<u8>],
) -> Result<Loaded, Errno> {
    let vfs = Server::Vfs;
    let opened = server_lib::call(vfs, &VfsRequest::ExecOpen { pid, path }.to_wire())?;
    let (handle, size) = (opened.word(0)?, opened.word(1)?);
    let mut memory = AddressMap::new();
    let result = load_opened(directory, frames, &mut memory, handle, size, args);
    let _ = server_lib::call(vfs, &VfsRequest::ExecClose { handle }.to_wire());
    match result {
        Ok((entry, rsp)) => Ok(Loaded {
            memory,
            entry,
            rsp,
            argc: args.len() as u64,
        }),
        Err(errno) => {
            // Never mapped anywhere: releasing is all it takes.
            memory.release_all(frames);
            Err(errno)
        }
    }
}

/// Reads `length` bytes at `offset` of the open file (at most 4096).
fn read_file(vfs: Server, handle: u64, offset: u64, length: u64) -> Result<Vec<u8>, Errno> {
    let request = VfsRequest::ExecRead {
        handle,
        offset,
        len: length,
    };
    let mut bytes = alloc::vec![0u8; length as usize];
    let reply = server_lib::call_into(vfs, &request.to_wire(), &mut bytes)?;
    bytes.truncate(reply.byte_count);
    Ok(bytes)
}

/// Fills `memory` from the open file; returns (entry, rsp).
fn load_opened(
    directory: &Directory,
    frames: &mut FrameTable,
    memory: &mut AddressMap,
    handle: u64,
    size: u64,
    args: &[Vec<u8>],
) -> Result<(u64, u64), Errno> {
    let vfs = Server::Vfs;
    let head = read_file(vfs, handle, 0, HEADER_BYTES.min(size))?;
    let executable = Executable::parse_with_length(&head, size).map_err(|_| Errno::ENOEXEC)?;
    for segment in executable.segments() {
        let permissions = Permissions {
            write: segment.writable(),
            execute: segment.executable(),
        };
        let first = segment.vaddr & !(PAGE - 1);
        pool::add_zeroed(frames, memory, first, page_up(segment.end()), permissions)?;
        let mut done = 0;
        while done < segment.filesz {
            let want = (segment.filesz - done).min(PAGE);
            let bytes = read_file(vfs, handle, segment.offset + done, want)?;
            if bytes.len() as u64 != want {
                return Err(Errno::ENOEXEC); // the file shrank under us
            }
            pool::write_new(memory, segment.vaddr + done, &bytes)?;
            done += want;
        }
    }
    memory.heap_start = page_up(executable.image_end());
    memory.brk = memory.heap_start;

    let lengths: Vec<usize> = args.iter().map(Vec::len).collect();
    let layout =
        StackLayout::plan(USER_STACK_TOP, &lengths, USER_STACK_SIZE / 2).ok_or(Errno::E2BIG)?;
    pool::add_zeroed(
        frames,
        memory,
        layout.rsp & !(PAGE - 1),
        USER_STACK_TOP,
        Permissions::DATA,
    )?;
    for (arg, &address) in args.iter().zip(&layout.string_addresses) {
        pool::write_new(memory, address, arg)?;
        pool::write_new(memory, address + arg.len() as u64, &[0])?;
    }
    let aux = AuxBlock {
        proc: directory.proc,
        vfs: directory.vfs,
        rtc: directory.rtc,
    };
    let mut words = [0u64; common::abi::syscall::MAX_ARGS + 8];
    let count = layout.words(args.len(), &aux, &mut words);
    let mut bytes = Vec::with_capacity(count * 8);
    for word in &words[..count] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    pool::write_new(memory, layout.rsp, &bytes)?;
    Ok((executable.entry, layout.rsp))
}
