//! A small, strict ELF64 reader for static x86_64 executables.
//!
//! Both kernels load programs from disk — the monolithic kernel in `exec`,
//! the microkernel's process server for its `exec` — and the file is
//! untrusted input: a user can write any bytes to a file and exec it. So
//! every field is checked before it is used, and a bad file gives an
//! [`ElfError`] naming the problem, never a panic or an out-of-bounds read.
//!
//! What is accepted: 64-bit little-endian `ET_EXEC` files for x86_64, with
//! program headers inside the file, `PT_LOAD` segments whose file bytes are
//! inside the file, whose `memsz >= filesz`, whose addresses lie in user
//! space without overflow, that do not overlap each other, and the entry
//! point inside an executable segment. Other program-header types are
//! ignored (`PT_GNU_STACK`, notes); dynamic linking (`PT_INTERP`,
//! `PT_DYNAMIC`) is refused.

use crate::mm::addr::USER_TOP;

/// Largest number of program headers accepted.
pub const MAX_PROGRAM_HEADERS: usize = 16;
/// Smallest address a segment may be loaded at (keeps page 0 unmapped, so
/// null pointers fault).
pub const MIN_LOAD_ADDRESS: u64 = 0x1000;

const HEADER_SIZE: usize = 64;
const PROGRAM_HEADER_SIZE: usize = 56;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;

/// Segment permission: executable.
pub const PF_X: u32 = 1;
/// Segment permission: writable.
pub const PF_W: u32 = 2;
/// Segment permission: readable.
pub const PF_R: u32 = 4;

/// Why a file is not a loadable program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than an ELF header.
    TooShort,
    /// Does not start with `\x7fELF`.
    BadMagic,
    /// Not 64-bit, little-endian, version 1.
    WrongClass,
    /// Not an x86_64 executable (`ET_EXEC`, `EM_X86_64`).
    WrongMachineOrType,
    /// The program-header table is malformed or outside the file.
    BadProgramHeaders,
    /// More than [`MAX_PROGRAM_HEADERS`] program headers.
    TooManySegments,
    /// A segment's file range lies outside the file.
    SegmentOutsideFile,
    /// A segment's `memsz` is smaller than its `filesz`.
    SegmentSizes,
    /// A segment's addresses are outside user space, or wrap around.
    SegmentAddress,
    /// A segment's offset and address disagree modulo the page size.
    SegmentAlignment,
    /// Two segments overlap.
    SegmentsOverlap,
    /// No loadable segment.
    NoSegments,
    /// The entry point is not inside an executable segment.
    BadEntry,
    /// The program needs a dynamic linker, which Diptych does not have.
    Dynamic,
}

impl ElfError {
    /// A human-readable description, for error messages.
    pub fn message(self) -> &'static str {
        match self {
            ElfError::TooShort => "file too short for an ELF header",
            ElfError::BadMagic => "not an ELF file",
            ElfError::WrongClass => "not a 64-bit little-endian ELF file",
            ElfError::WrongMachineOrType => "not an x86_64 executable",
            ElfError::BadProgramHeaders => "malformed program-header table",
            ElfError::TooManySegments => "too many program headers",
            ElfError::SegmentOutsideFile => "segment data outside the file",
            ElfError::SegmentSizes => "segment memory size below its file size",
            ElfError::SegmentAddress => "segment outside user space",
            ElfError::SegmentAlignment => "segment offset and address misaligned",
            ElfError::SegmentsOverlap => "segments overlap",
            ElfError::NoSegments => "no loadable segment",
            ElfError::BadEntry => "entry point outside executable code",
            ElfError::Dynamic => "dynamically linked programs are not supported",
        }
    }
}

/// One loadable segment, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Where the segment starts in memory.
    pub vaddr: u64,
    /// Bytes in memory (the part past `filesz` is zero-filled: `.bss`).
    pub memsz: u64,
    /// Where the segment's bytes start in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub filesz: u64,
    /// `PF_R | PF_W | PF_X` bits.
    pub flags: u32,
}

impl Segment {
    /// One past the last byte in memory (cannot overflow: checked at parse).
    pub fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
    /// Whether the segment is writable.
    pub fn writable(&self) -> bool {
        self.flags & PF_W != 0
    }
    /// Whether the segment is executable.
    pub fn executable(&self) -> bool {
        self.flags & PF_X != 0
    }
}

/// A checked executable: its entry point and loadable segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    /// The address of the first instruction.
    pub entry: u64,
    segments: [Option<Segment>; MAX_PROGRAM_HEADERS],
    count: usize,
}

impl Executable {
    /// The loadable segments, in file order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments[..self.count].iter().flatten()
    }

    /// One past the highest address any segment occupies: where the heap
    /// (the program break) can start, rounded up to a page by the loader.
    pub fn image_end(&self) -> u64 {
        self.segments().map(Segment::end).max().unwrap_or(0)
    }

    /// Parses and checks the headers at the start of `file`. The whole file
    /// must be given (segment ranges are checked against its length); only
    /// the headers are read.
    pub fn parse(file: &[u8]) -> Result<Executable, ElfError> {
        Self::parse_with_length(file, file.len() as u64)
    }

    /// Like [`Executable::parse`], when only the first bytes of a longer file
    /// are at hand: `head` must hold the ELF header and the program headers,
    /// and `file_len` is the length of the whole file.
    pub fn parse_with_length(head: &[u8], file_len: u64) -> Result<Executable, ElfError> {
        if head.len() < HEADER_SIZE {
            return Err(ElfError::TooShort);
        }
        if head[0..4] != [0x7f, b'E', b'L', b'F'] {
            return Err(ElfError::BadMagic);
        }
        // EI_CLASS = 2 (64-bit), EI_DATA = 1 (little-endian), EI_VERSION = 1.
        if head[4] != 2 || head[5] != 1 || head[6] != 1 {
            return Err(ElfError::WrongClass);
        }
        if u16_at(head, 16) != ET_EXEC || u16_at(head, 18) != EM_X86_64 {
            return Err(ElfError::WrongMachineOrType);
        }
        let entry = u64_at(head, 24);
        let phoff = u64_at(head, 32);
        let phentsize = u16_at(head, 54) as usize;
        let phnum = u16_at(head, 56) as usize;
        if phentsize != PROGRAM_HEADER_SIZE {
            return Err(ElfError::BadProgramHeaders);
        }
        if phnum > MAX_PROGRAM_HEADERS {
            return Err(ElfError::TooManySegments);
        }
        let table_len = (phnum * PROGRAM_HEADER_SIZE) as u64;
        let table_end = phoff
            .checked_add(table_len)
            .ok_or(ElfError::BadProgramHeaders)?;
        if table_end > head.len() as u64 || table_end > file_len {
            return Err(ElfError::BadProgramHeaders);
        }

        let mut executable = Executable {
            entry,
            segments: [None; MAX_PROGRAM_HEADERS],
            count: 0,
        };
        for index in 0..phnum {
            let at = phoff as usize + index * PROGRAM_HEADER_SIZE;
            let header = &head[at..at + PROGRAM_HEADER_SIZE];
            match u32_at(header, 0) {
                PT_LOAD => {}
                PT_DYNAMIC | PT_INTERP => return Err(ElfError::Dynamic),
                _ => continue,
            }
            let segment = Segment {
                flags: u32_at(header, 4),
                offset: u64_at(header, 8),
                vaddr: u64_at(header, 16),
                filesz: u64_at(header, 32),
                memsz: u64_at(header, 40),
            };
            check_segment(&segment, file_len)?;
            if executable
                .segments()
                .any(|other| segment.vaddr < other.end() && other.vaddr < segment.end())
            {
                return Err(ElfError::SegmentsOverlap);
            }
            executable.segments[executable.count] = Some(segment);
            executable.count += 1;
        }
        if executable.count == 0 {
            return Err(ElfError::NoSegments);
        }
        let entry_ok = executable
            .segments()
            .any(|s| s.executable() && s.vaddr <= entry && entry < s.end());
        if !entry_ok {
            return Err(ElfError::BadEntry);
        }
        Ok(executable)
    }
}

fn check_segment(segment: &Segment, file_len: u64) -> Result<(), ElfError> {
    let file_end = segment
        .offset
        .checked_add(segment.filesz)
        .ok_or(ElfError::SegmentOutsideFile)?;
    if file_end > file_len {
        return Err(ElfError::SegmentOutsideFile);
    }
    if segment.memsz < segment.filesz {
        return Err(ElfError::SegmentSizes);
    }
    let end = segment
        .vaddr
        .checked_add(segment.memsz)
        .ok_or(ElfError::SegmentAddress)?;
    if segment.vaddr < MIN_LOAD_ADDRESS || end > USER_TOP {
        return Err(ElfError::SegmentAddress);
    }
    if segment.vaddr % 4096 != segment.offset % 4096 {
        return Err(ElfError::SegmentAlignment);
    }
    Ok(())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A minimal valid executable: one R+X segment at 0x400000 holding
    /// `code`, entry at its start.
    fn tiny_elf(code: &[u8]) -> Vec<u8> {
        let mut file = vec![0u8; 0x1000];
        file[0..4].copy_from_slice(b"\x7fELF");
        file[4] = 2;
        file[5] = 1;
        file[6] = 1;
        file[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        file[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        file[24..32].copy_from_slice(&0x400000u64.to_le_bytes());
        file[32..40].copy_from_slice(&64u64.to_le_bytes());
        file[54..56].copy_from_slice(&(PROGRAM_HEADER_SIZE as u16).to_le_bytes());
        file[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        file[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        file[ph + 4..ph + 8].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        file[ph + 8..ph + 16].copy_from_slice(&0u64.to_le_bytes());
        file[ph + 16..ph + 24].copy_from_slice(&0x400000u64.to_le_bytes());
        let size = 0x1000 + code.len() as u64;
        file[ph + 32..ph + 40].copy_from_slice(&size.to_le_bytes());
        file[ph + 40..ph + 48].copy_from_slice(&size.to_le_bytes());
        file.extend_from_slice(code);
        file
    }

    #[test]
    fn accepts_a_minimal_executable() {
        let file = tiny_elf(&[0xcc]);
        let exe = Executable::parse(&file).unwrap();
        assert_eq!(exe.entry, 0x400000);
        assert_eq!(exe.segments().count(), 1);
        assert_eq!(exe.image_end(), 0x401001);
    }

    #[test]
    fn rejects_each_kind_of_bad_header() {
        let good = tiny_elf(&[0xcc]);
        assert_eq!(Executable::parse(&good[..10]), Err(ElfError::TooShort));
        let mut bad = good.clone();
        bad[1] = b'X';
        assert_eq!(Executable::parse(&bad), Err(ElfError::BadMagic));
        let mut bad = good.clone();
        bad[4] = 1;
        assert_eq!(Executable::parse(&bad), Err(ElfError::WrongClass));
        let mut bad = good.clone();
        bad[18] = 3;
        assert_eq!(Executable::parse(&bad), Err(ElfError::WrongMachineOrType));
        let mut bad = good.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::BadProgramHeaders));
        let mut bad = good.clone();
        bad[64 + 32..64 + 40].copy_from_slice(&0x10_0000u64.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::SegmentOutsideFile));
        let mut bad = good.clone();
        bad[64 + 40..64 + 48].copy_from_slice(&1u64.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::SegmentSizes));
        let mut bad = good.clone();
        bad[64 + 16..64 + 24].copy_from_slice(&0xffff_ffff_8000_0000u64.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::SegmentAddress));
        let mut bad = good.clone();
        bad[64 + 16..64 + 24].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::SegmentAddress));
        let mut bad = good.clone();
        bad[24..32].copy_from_slice(&0x500000u64.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::BadEntry));
        let mut bad = good.clone();
        bad[64..68].copy_from_slice(&PT_INTERP.to_le_bytes());
        assert_eq!(Executable::parse(&bad), Err(ElfError::Dynamic));
    }

    #[test]
    fn rejects_overlapping_segments() {
        let mut file = tiny_elf(&[0xcc]);
        file[56..58].copy_from_slice(&2u16.to_le_bytes());
        let (first, second) = (64, 64 + PROGRAM_HEADER_SIZE);
        let copy: Vec<u8> = file[first..first + PROGRAM_HEADER_SIZE].to_vec();
        file[second..second + PROGRAM_HEADER_SIZE].copy_from_slice(&copy);
        assert_eq!(Executable::parse(&file), Err(ElfError::SegmentsOverlap));
    }

    proptest::proptest! {
        /// No byte string makes the parser panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), flips in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 0..8)) {
            let _ = Executable::parse(&bytes);
            let mut file = tiny_elf(&[0xcc]);
            for (at, value) in flips {
                file[at] = value;
            }
            let _ = Executable::parse(&file);
        }
    }
}
