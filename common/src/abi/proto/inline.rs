//! Short byte buffers carried in the message registers ("inline").
//!
//! A [`Wire`]'s bytes normally travel as a `BUF` item: the kernel checks
//! the sender's pages and the receiver's receive buffer page by page, then
//! copies. For a handful of bytes (a one-byte pipe write, a short line)
//! that machinery costs far more than the bytes themselves, and a message
//! with a `BUF` item never takes the kernel's IPC fast path. So, as L4
//! does with short messages, bytes that fit in the message registers the
//! words leave free ride in those registers instead, and the label says
//! so:
//!
//! ```text
//!  label bit 47   46..43  42..40       39..38  37..32       31..0
//!          INLINE   0     word count     0     byte count   the protocol's label
//!  registers: the words, then the bytes, 8 to a register, little-endian
//! ```
//!
//! Only the transport sees this form: the client stubs' `call` in `ulib`
//! and `server-lib`'s `message` and `Request` pack a [`Wire`] with [`pack`]
//! and turn a received inline message back into one with [`unpack`]. The
//! protocol types above never know which way their bytes came; a receiver
//! accepts both forms, so a sender that always uses a `BUF` item (root,
//! the kernel tests) still works. Protocol labels are below `0x1000`, and
//! the kernel's own (page faults, interrupts) below `0x1_0000`: none has
//! the flag.

use super::{MAX_WORDS, ProtoError, Wire};

/// The message registers of one IPC (`abi::micro`).
pub const MESSAGE_REGISTERS: usize = 6;
/// The most bytes a message carries inline (with no words).
pub const MAX_INLINE_BYTES: usize = MESSAGE_REGISTERS * 8;

/// The label bit that marks an inline message.
pub const INLINE_FLAG: u64 = 1 << 47;
/// Where the byte count sits in the label (6 bits: 0..=48).
const BYTE_COUNT_SHIFT: u32 = 32;
/// Where the word count sits in the label (3 bits: 0..=4).
const WORD_COUNT_SHIFT: u32 = 40;
/// The protocol's own label: the low 32 bits.
const LABEL_MASK: u64 = 0xffff_ffff;

/// A message ready for the registers: label (with the inline header) and
/// the registers to send (`registers[..count]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packed {
    /// The label to send.
    pub label: u64,
    /// The registers: words, then bytes.
    pub registers: [u64; MESSAGE_REGISTERS],
    /// How many registers are used.
    pub count: usize,
}

/// A received inline message, its bytes copied out of the registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpacked {
    /// The protocol's label.
    pub label: u64,
    /// The words (the first `word_count`).
    pub words: [u64; MAX_WORDS],
    /// How many words.
    pub word_count: usize,
    bytes: [u8; MAX_INLINE_BYTES],
    byte_count: usize,
}

impl Unpacked {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.byte_count]
    }
}

/// Whether a received `label` marks an inline message.
pub fn is_inline(label: u64) -> bool {
    label & INLINE_FLAG != 0
}

/// Registers needed for `bytes` bytes.
fn registers_for(bytes: usize) -> usize {
    bytes.div_ceil(8)
}

/// `wire` in inline form, if it has bytes and they fit beside its words
/// (and its label is a protocol label); `None`: send it the ordinary way.
pub fn pack(wire: &Wire<'_>) -> Option<Packed> {
    let bytes = wire.bytes?;
    let word_count = wire.word_count.min(MAX_WORDS);
    if word_count + registers_for(bytes.len()) > MESSAGE_REGISTERS || wire.label & !LABEL_MASK != 0
    {
        return None;
    }
    let mut registers = [0; MESSAGE_REGISTERS];
    registers[..word_count].copy_from_slice(&wire.words[..word_count]);
    for (index, chunk) in bytes.chunks(8).enumerate() {
        let mut register = [0u8; 8];
        register[..chunk.len()].copy_from_slice(chunk);
        registers[word_count + index] = u64::from_le_bytes(register);
    }
    Some(Packed {
        label: INLINE_FLAG
            | ((word_count as u64) << WORD_COUNT_SHIFT)
            | ((bytes.len() as u64) << BYTE_COUNT_SHIFT)
            | wire.label,
        registers,
        count: word_count + registers_for(bytes.len()),
    })
}

/// The inline message with `label` and `registers` (all the registers that
/// came). Errors: a header that does not match the registers (too many
/// words or bytes, unused header bits set, a register count that differs)
/// is [`ProtoError::BadInline`]: the sender is confused or hostile.
pub fn unpack(label: u64, registers: &[u64]) -> Result<Unpacked, ProtoError> {
    let word_count = ((label >> WORD_COUNT_SHIFT) & 0x7) as usize;
    let byte_count = ((label >> BYTE_COUNT_SHIFT) & 0x3f) as usize;
    let known_bits =
        INLINE_FLAG | (0x7 << WORD_COUNT_SHIFT) | (0x3f << BYTE_COUNT_SHIFT) | LABEL_MASK;
    let used = word_count + registers_for(byte_count);
    if !is_inline(label)
        || label & !known_bits != 0
        || word_count > MAX_WORDS
        || used > MESSAGE_REGISTERS
        || registers.len() != used
    {
        return Err(ProtoError::BadInline);
    }
    let mut words = [0; MAX_WORDS];
    words[..word_count].copy_from_slice(&registers[..word_count]);
    let mut bytes = [0u8; MAX_INLINE_BYTES];
    for (index, register) in registers[word_count..].iter().enumerate() {
        bytes[index * 8..index * 8 + 8].copy_from_slice(&register.to_le_bytes());
    }
    Ok(Unpacked {
        label: label & LABEL_MASK,
        words,
        word_count,
        bytes,
        byte_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(wire: &Wire<'_>) -> Unpacked {
        let packed = pack(wire).expect("fits");
        unpack(packed.label, &packed.registers[..packed.count]).expect("well formed")
    }

    #[test]
    fn words_and_bytes_come_back_unchanged() {
        let data: [u8; 13] = *b"hello, world!";
        let wire = Wire::new(0x402, &[7]).with_bytes(&data);
        let unpacked = round_trip(&wire);
        assert_eq!(unpacked.label, 0x402);
        assert_eq!(&unpacked.words[..unpacked.word_count], &[7]);
        assert_eq!(unpacked.bytes(), &data);
    }

    #[test]
    fn empty_bytes_stay_present_and_empty() {
        let wire = Wire::new(0, &[]).with_bytes(&[]);
        let packed = pack(&wire).expect("fits");
        assert_eq!(packed.count, 0);
        let unpacked = unpack(packed.label, &[]).expect("well formed");
        assert_eq!((unpacked.word_count, unpacked.bytes()), (0, &[][..]));
    }

    #[test]
    fn only_what_fits_beside_the_words_is_packed() {
        let data = [0xabu8; MAX_INLINE_BYTES + 1];
        assert!(pack(&Wire::new(1, &[]).with_bytes(&data[..MAX_INLINE_BYTES])).is_some());
        assert!(pack(&Wire::new(1, &[]).with_bytes(&data)).is_none());
        assert!(pack(&Wire::new(1, &[1, 2]).with_bytes(&data[..32])).is_some());
        assert!(pack(&Wire::new(1, &[1, 2]).with_bytes(&data[..33])).is_none());
        assert!(
            pack(&Wire::new(1, &[1])).is_none(),
            "no bytes: nothing to inline"
        );
        assert!(pack(&Wire::new(1 << 40, &[]).with_bytes(&data[..1])).is_none());
    }

    #[test]
    fn a_header_that_does_not_match_the_registers_is_refused() {
        let packed = pack(&Wire::new(3, &[9]).with_bytes(&[1, 2, 3])).expect("fits");
        let registers = &packed.registers[..packed.count];
        assert!(unpack(packed.label, registers).is_ok());
        assert_eq!(
            unpack(packed.label, &registers[..1]),
            Err(ProtoError::BadInline)
        );
        assert_eq!(
            unpack(packed.label, &packed.registers[..3]),
            Err(ProtoError::BadInline)
        );
        assert_eq!(unpack(3, registers), Err(ProtoError::BadInline), "no flag");
        let five_words = INLINE_FLAG | (5 << WORD_COUNT_SHIFT);
        assert_eq!(unpack(five_words, &[0; 5]), Err(ProtoError::BadInline));
        let too_many_bytes = INLINE_FLAG | (49 << BYTE_COUNT_SHIFT);
        assert_eq!(unpack(too_many_bytes, &[0; 6]), Err(ProtoError::BadInline));
        assert_eq!(
            unpack(packed.label | 1 << 45, registers),
            Err(ProtoError::BadInline)
        );
    }
}
