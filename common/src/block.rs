//! The block-device interface the buffer cache and file system are written against.
