//! `exec`: replace a process's program with one loaded from an ELF file.
//!
//! The new address space is built completely before the old one is given
//! up (check, then commit): if the file is missing, not a valid executable,
//! or memory runs out, `exec` returns an error and the calling program
//! continues as if nothing happened. Every header field is checked by the
//! shared ELF reader (`common/src/elf.rs`), because any user can write any
//! bytes to a file and exec it.
//!
//! The new program starts at its entry point with the stack laid out as
//! `docs/user-abi.md` describes:
//!
//! ```text
//!   USER_STACK_TOP ─▶ ┌──────────────────────────┐
//!                     │ argument strings (NUL-terminated)
//!                     ├──────────────────────────┤ (aligned down to 16)
//!                     │ NULL                     │
//!                     │ argv[argc-1] ... argv[0] │ pointers into the strings
//!   rsp ────────────▶ │ argc                     │
//!                     └──────────────────────────┘
//!   rdi = argc, rsi = argv
//! ```

use crate::fsys;
use crate::vm::{USER_STACK_SIZE, UserVm, user_flags};
use alloc::vec;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::memory::USER_STACK_TOP;
use common::elf::Executable;
use common::fs::{Ino, InodeKind};

/// What the caller needs to start the loaded program.
pub struct LoadedProgram {
    /// The new address space, ready to be switched to.
    pub vm: UserVm,
    /// The entry point.
    pub entry: u64,
    /// The initial stack pointer (pointing at argc).
    pub stack_pointer: u64,
    /// The number of arguments.
    pub argc: u64,
    /// The user address of argv[0].
    pub argv: u64,
}

/// How much of a file is read to parse the ELF and program headers.
const HEADER_BYTES: usize = 4096;

/// Loads the program at `path` (relative to `cwd`) with arguments `args`.
///
/// Errors: whatever the path lookup gives (`ENOENT`, `ENOTDIR`, ...),
/// `EACCES` if it is not a regular file, `ENOEXEC` if it is not a valid
/// static x86_64 executable, `E2BIG` if the arguments do not fit on the
/// stack, `ENOMEM` when memory runs out.
pub fn load(cwd: Ino, path: &[u8], args: &[Vec<u8>]) -> Result<LoadedProgram, Errno> {
    let mut guard = fsys::lock();
    let fs = guard.fs();
    let ino = fs.lookup(cwd, path).map_err(|e| e.errno())?;
    let metadata = fs.stat(ino).map_err(|e| e.errno())?;
    if metadata.kind != InodeKind::File {
        return Err(Errno::EACCES);
    }
    let mut head = vec![0u8; HEADER_BYTES.min(metadata.size as usize)];
    let got = fs.read(ino, 0, &mut head).map_err(|e| e.errno())?;
    head.truncate(got);
    let executable =
        Executable::parse_with_length(&head, metadata.size).map_err(|_| Errno::ENOEXEC)?;

    let mut vm = UserVm::new()?;
    let mut chunk = vec![0u8; 4096];
    for segment in executable.segments() {
        let flags = user_flags(segment.writable(), segment.executable());
        vm.map_segment(segment.vaddr, segment.end(), flags)?;
        let mut done = 0;
        while done < segment.filesz {
            let want = (segment.filesz - done).min(chunk.len() as u64) as usize;
            let got = fs
                .read(ino, segment.offset + done, &mut chunk[..want])
                .map_err(|e| e.errno())?;
            if got != want {
                return Err(Errno::ENOEXEC); // the file shrank under us
            }
            vm.write_unchecked(segment.vaddr + done, &chunk[..got])?;
            done += got as u64;
        }
    }
    drop(guard);
    vm.set_heap_start(executable.image_end());

    vm.map_zeroed(
        USER_STACK_TOP - USER_STACK_SIZE,
        USER_STACK_TOP,
        user_flags(true, false),
    )?;
    let (stack_pointer, argv) = push_arguments(&mut vm, args)?;
    Ok(LoadedProgram {
        vm,
        entry: executable.entry,
        stack_pointer,
        argc: args.len() as u64,
        argv,
    })
}

/// Lays out argc, argv and the strings at the top of the stack; returns
/// (rsp, address of argv[0]).
fn push_arguments(vm: &mut UserVm, args: &[Vec<u8>]) -> Result<(u64, u64), Errno> {
    let strings: u64 = args.iter().map(|a| a.len() as u64 + 1).sum();
    let pointers = (args.len() as u64 + 2) * 8; // argc, argv[..], NULL
    if strings + pointers + 64 > USER_STACK_SIZE / 2 {
        return Err(Errno::E2BIG);
    }
    let mut cursor = USER_STACK_TOP;
    let mut addresses = Vec::with_capacity(args.len());
    for arg in args {
        cursor -= arg.len() as u64 + 1;
        vm.write_unchecked(cursor, arg)?;
        vm.write_unchecked(cursor + arg.len() as u64, &[0])?;
        addresses.push(cursor);
    }
    let rsp = (cursor - pointers) & !0xf;
    let mut words = Vec::with_capacity(args.len() + 2);
    words.push(args.len() as u64);
    words.extend_from_slice(&addresses);
    words.push(0);
    for (index, word) in words.iter().enumerate() {
        vm.write_unchecked(rsp + 8 * index as u64, &word.to_le_bytes())?;
    }
    Ok((rsp, rsp + 8))
}
