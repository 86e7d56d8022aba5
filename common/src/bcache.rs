//! The buffer cache: LRU, write-back with explicit flush, pinning.
