//! The ext2 file system (revision 1).
