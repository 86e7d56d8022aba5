//! A small ELF64 reader for the root task: just enough to load a static
//! executable, and strict about every field it uses.
//!
//! The root task is embedded in the kernel at build time, so in practice it
//! is well formed; but a kernel that believes a file's offsets without
//! checking them is a bad example, so [`parse`] validates the header and
//! every program header before anything is loaded, and the loader only
//! ever sees checked [`Segment`]s.

use common::mm::USER_TOP;

/// Why an ELF file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the header, or a table that runs past the end.
    Truncated,
    /// Not `\x7fELF`, not 64-bit little-endian version 1.
    NotElf64,
    /// Not an x86-64 executable (`ET_EXEC`, `EM_X86_64`).
    WrongKind,
    /// A program header entry is not 56 bytes, or there are too many.
    BadProgramHeaders,
    /// A segment's file bytes lie outside the file, its memory size is
    /// smaller than its file size, or it is not entirely in user space.
    BadSegment,
    /// The entry point is not inside an executable segment.
    BadEntry,
}

/// One loadable segment, checked.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Where it starts in memory (any alignment).
    pub vaddr: u64,
    /// Bytes in memory (the part past `data.len()` is zero).
    pub memsz: u64,
    /// The bytes from the file.
    pub data: &'a [u8],
    /// Writable (`PF_W`).
    pub writable: bool,
    /// Executable (`PF_X`).
    pub executable: bool,
}

/// A checked executable: its entry point and up to [`MAX_SEGMENTS`] segments.
pub struct Image<'a> {
    pub entry: u64,
    pub segments: [Option<Segment<'a>>; MAX_SEGMENTS],
}

/// The most program headers accepted.
pub const MAX_SEGMENTS: usize = 16;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, ElfError> {
    let b = bytes.get(at..at + 2).ok_or(ElfError::Truncated)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, ElfError> {
    let b = bytes.get(at..at + 4).ok_or(ElfError::Truncated)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, ElfError> {
    let b = bytes.get(at..at + 8).ok_or(ElfError::Truncated)?;
    let mut word = [0; 8];
    word.copy_from_slice(b);
    Ok(u64::from_le_bytes(word))
}

/// Parses and checks a static x86-64 executable.
pub fn parse(bytes: &[u8]) -> Result<Image<'_>, ElfError> {
    if bytes.len() < 64 {
        return Err(ElfError::Truncated);
    }
    if bytes[0..4] != *b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 || bytes[6] != 1 {
        return Err(ElfError::NotElf64);
    }
    if u16_at(bytes, 16)? != 2 || u16_at(bytes, 18)? != 62 {
        return Err(ElfError::WrongKind);
    }
    let entry = u64_at(bytes, 24)?;
    let phoff = u64_at(bytes, 32)?;
    let phentsize = u16_at(bytes, 54)?;
    let phnum = u16_at(bytes, 56)? as usize;
    if phentsize != 56 || phnum > MAX_SEGMENTS {
        return Err(ElfError::BadProgramHeaders);
    }
    let table_end = phoff
        .checked_add(56 * phnum as u64)
        .ok_or(ElfError::Truncated)?;
    if table_end > bytes.len() as u64 {
        return Err(ElfError::Truncated);
    }
    let mut image = Image {
        entry,
        segments: [None; MAX_SEGMENTS],
    };
    let mut entry_ok = false;
    for index in 0..phnum {
        let header = phoff as usize + 56 * index;
        if u32_at(bytes, header)? != PT_LOAD {
            continue;
        }
        let flags = u32_at(bytes, header + 4)?;
        let offset = u64_at(bytes, header + 8)?;
        let vaddr = u64_at(bytes, header + 16)?;
        let filesz = u64_at(bytes, header + 32)?;
        let memsz = u64_at(bytes, header + 40)?;
        let file_end = offset.checked_add(filesz).ok_or(ElfError::BadSegment)?;
        let memory_end = vaddr.checked_add(memsz).ok_or(ElfError::BadSegment)?;
        if file_end > bytes.len() as u64 || filesz > memsz || memory_end > USER_TOP {
            return Err(ElfError::BadSegment);
        }
        let segment = Segment {
            vaddr,
            memsz,
            data: &bytes[offset as usize..file_end as usize],
            writable: flags & PF_W != 0,
            executable: flags & PF_X != 0,
        };
        if segment.executable && (vaddr..memory_end).contains(&entry) {
            entry_ok = true;
        }
        image.segments[index] = Some(segment);
    }
    if !entry_ok {
        return Err(ElfError::BadEntry);
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A minimal executable: one header, `segments` program headers
    /// `(flags, offset, vaddr, filesz, memsz)`, and `payload` bytes at 0x1000.
    fn build(entry: u64, segments: &[(u32, u64, u64, u64, u64)], payload: &[u8]) -> Vec<u8> {
        let mut file = std::vec![0u8; 0x1000];
        file[0..4].copy_from_slice(b"\x7fELF");
        file[4] = 2;
        file[5] = 1;
        file[6] = 1;
        file[16..18].copy_from_slice(&2u16.to_le_bytes());
        file[18..20].copy_from_slice(&62u16.to_le_bytes());
        file[24..32].copy_from_slice(&entry.to_le_bytes());
        file[32..40].copy_from_slice(&64u64.to_le_bytes());
        file[54..56].copy_from_slice(&56u16.to_le_bytes());
        file[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for (i, &(flags, offset, vaddr, filesz, memsz)) in segments.iter().enumerate() {
            let at = 64 + 56 * i;
            file[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            file[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
            file[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            file[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            file[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            file[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        }
        file.extend_from_slice(payload);
        file
    }

    const RX: u32 = 5;
    const RW: u32 = 6;

    #[test]
    fn a_good_executable_parses() {
        let file = build(
            0x400010,
            &[
                (RX, 0x1000, 0x400000, 0x20, 0x20),
                (RW, 0x1020, 0x401000, 0x10, 0x2000),
            ],
            &[0xcc; 0x30],
        );
        let image = parse(&file).unwrap();
        assert_eq!(image.entry, 0x400010);
        let segments: Vec<_> = image.segments.iter().flatten().collect();
        assert_eq!(segments.len(), 2);
        assert!(segments[0].executable && !segments[0].writable);
        assert_eq!(segments[1].data.len(), 0x10);
        assert_eq!(segments[1].memsz, 0x2000);
    }

    #[test]
    fn damaged_headers_are_refused() {
        let good = build(0x400000, &[(RX, 0x1000, 0x400000, 0x10, 0x10)], &[0; 0x10]);
        assert_eq!(parse(&good[..63]).err(), Some(ElfError::Truncated));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(parse(&bad).err(), Some(ElfError::NotElf64));
        let mut bad = good.clone();
        bad[4] = 1; // 32-bit
        assert_eq!(parse(&bad).err(), Some(ElfError::NotElf64));
        let mut bad = good.clone();
        bad[18] = 3; // i386
        assert_eq!(parse(&bad).err(), Some(ElfError::WrongKind));
        let mut bad = good.clone();
        bad[54] = 40; // program header size
        assert_eq!(parse(&bad).err(), Some(ElfError::BadProgramHeaders));
        let mut bad = good.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // table offset
        assert_eq!(parse(&bad).err(), Some(ElfError::Truncated));
    }

    #[test]
    fn segments_must_lie_in_the_file_and_in_user_space() {
        let past_end = build(
            0x400000,
            &[(RX, 0x1000, 0x400000, 0x100, 0x100)],
            &[0; 0x10],
        );
        assert_eq!(parse(&past_end).err(), Some(ElfError::BadSegment));
        let wrapping = build(0x400000, &[(RX, u64::MAX, 0x400000, 2, 2)], &[]);
        assert_eq!(parse(&wrapping).err(), Some(ElfError::BadSegment));
        let kernel = build(
            0xffff_ffff_8000_0000,
            &[(RX, 0x1000, 0xffff_ffff_8000_0000, 0x10, 0x10)],
            &[0; 0x10],
        );
        assert_eq!(parse(&kernel).err(), Some(ElfError::BadSegment));
        let shrunk = build(0x400000, &[(RX, 0x1000, 0x400000, 0x10, 0x8)], &[0; 0x10]);
        assert_eq!(parse(&shrunk).err(), Some(ElfError::BadSegment));
    }

    #[test]
    fn the_entry_must_be_in_an_executable_segment() {
        let data_entry = build(
            0x401000,
            &[
                (RX, 0x1000, 0x400000, 0x10, 0x10),
                (RW, 0x1000, 0x401000, 0x10, 0x10),
            ],
            &[0; 0x10],
        );
        assert_eq!(parse(&data_entry).err(), Some(ElfError::BadEntry));
        let nowhere = build(0x900000, &[(RX, 0x1000, 0x400000, 0x10, 0x10)], &[0; 0x10]);
        assert_eq!(parse(&nowhere).err(), Some(ElfError::BadEntry));
    }
}
