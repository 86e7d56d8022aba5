//! Little-endian field access for on-disk structures.
//!
//! ext2 stores every number little-endian at a fixed byte offset inside a
//! structure (superblock, group descriptor, inode, directory entry). These
//! helpers read and write one field. The caller guarantees that the slice is
//! long enough — every structure is first cut out of a block with a length
//! that was checked — so an out-of-range offset here is a bug in this crate,
//! not something a disk image can cause.

/// Reads the `u16` at byte `offset`.
pub(crate) fn get_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

/// Reads the `u32` at byte `offset`.
pub(crate) fn get_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

/// Writes `value` as a `u16` at byte `offset`.
pub(crate) fn put_u16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_le_bytes());
}

/// Writes `value` as a `u32` at byte `offset`.
pub(crate) fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_little_endian() {
        let mut bytes = [0u8; 8];
        put_u32(&mut bytes, 2, 0x1234_5678);
        assert_eq!(bytes, [0, 0, 0x78, 0x56, 0x34, 0x12, 0, 0]);
        assert_eq!(get_u32(&bytes, 2), 0x1234_5678);
        put_u16(&mut bytes, 6, 0xBEEF);
        assert_eq!(get_u16(&bytes, 6), 0xBEEF);
    }
}
