//! A fixed-size bitmap: `BITS` booleans packed into `u64` words.
//!
//! The frame allocator keeps one bit per physical frame. Packing 64 bits in a
//! word makes the search for a set bit fast: a word that is zero holds no
//! set bit and is skipped in one comparison, and inside a non-zero word
//! `trailing_zeros` finds the lowest set bit in one instruction.
//!
//! The size is a const generic (the number of words), so a bitmap can live in
//! a `static` without a heap — the frame allocator exists before the kernel
//! heap does.

/// `WORDS * 64` bits, all clear at first.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap<const WORDS: usize> {
    words: [u64; WORDS],
}

impl<const WORDS: usize> Bitmap<WORDS> {
    /// How many bits the bitmap holds.
    pub const BITS: usize = WORDS * 64;

    /// A bitmap with every bit clear.
    pub const fn new() -> Self {
        Bitmap { words: [0; WORDS] }
    }

    /// Whether bit `index` is set. Out-of-range bits read as clear.
    pub fn get(&self, index: usize) -> bool {
        match self.words.get(index / 64) {
            Some(word) => word & (1 << (index % 64)) != 0,
            None => false,
        }
    }

    /// Sets bit `index`; returns whether it was set before.
    ///
    /// # Panics
    /// If `index >= BITS` (callers check their own ranges first).
    pub fn set(&mut self, index: usize) -> bool {
        let mask = 1 << (index % 64);
        let word = &mut self.words[index / 64];
        let was_set = *word & mask != 0;
        *word |= mask;
        was_set
    }

    /// Clears bit `index`; returns whether it was set before.
    ///
    /// # Panics
    /// If `index >= BITS`.
    pub fn clear(&mut self, index: usize) -> bool {
        let mask = 1 << (index % 64);
        let word = &mut self.words[index / 64];
        let was_set = *word & mask != 0;
        *word &= !mask;
        was_set
    }

    /// The lowest set bit at or after `start`, or `None`.
    pub fn find_set_from(&self, start: usize) -> Option<usize> {
        let mut word_index = start / 64;
        if word_index >= WORDS {
            return None;
        }
        // In the first word, ignore the bits below `start`.
        let mut word = self.words[word_index] & (u64::MAX << (start % 64));
        loop {
            if word != 0 {
                return Some(word_index * 64 + word.trailing_zeros() as usize);
            }
            word_index += 1;
            if word_index == WORDS {
                return None;
            }
            word = self.words[word_index];
        }
    }

    /// How many bits are set (counts every word: O(WORDS)).
    pub fn count_set(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

impl<const WORDS: usize> Default for Bitmap<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WORDS: usize> core::fmt::Debug for Bitmap<WORDS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Bitmap({} of {} bits set)", self.count_set(), Self::BITS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_clear_and_get_report_previous_state() {
        let mut bits = Bitmap::<2>::new();
        assert_eq!(Bitmap::<2>::BITS, 128);
        assert!(!bits.get(70));
        assert!(!bits.set(70));
        assert!(bits.set(70));
        assert!(bits.get(70));
        assert!(!bits.get(69) && !bits.get(71));
        assert!(bits.clear(70));
        assert!(!bits.clear(70));
        assert!(!bits.get(1000), "out of range reads as clear");
    }

    #[test]
    fn find_set_from_skips_earlier_bits_and_empty_words() {
        let mut bits = Bitmap::<4>::new();
        assert_eq!(bits.find_set_from(0), None);
        bits.set(3);
        bits.set(200);
        assert_eq!(bits.find_set_from(0), Some(3));
        assert_eq!(bits.find_set_from(3), Some(3));
        assert_eq!(bits.find_set_from(4), Some(200));
        assert_eq!(bits.find_set_from(201), None);
        assert_eq!(bits.find_set_from(10_000), None);
        bits.set(255);
        assert_eq!(bits.find_set_from(201), Some(255));
        assert_eq!(bits.count_set(), 3);
    }
}
