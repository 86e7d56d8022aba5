//! Sequential throughput of the storage stack on the host:
//! `FileDisk` → `BufferCache` → `Ext2`.
//!
//! Writes, then reads back, files of 1, 4, 16 and 64 MiB on a fresh
//! 256 MiB image and prints MB/s for each, so one can see that the cost per
//! byte does not grow with the file (every layer does a constant amount of
//! work per block: O(log n) cache lookup, a bounded block-map walk,
//! goal-directed allocation).
//!
//! ```text
//! cargo run -p common --release --example fs_throughput [BLOCK_SIZE [CACHE_BLOCKS]]
//! ```
//!
//! The write time includes `sync` (every dirty block reaches the image
//! file). Each read starts from a freshly mounted file system, so the
//! buffer cache is cold; the host's page cache is not dropped, so this
//! measures our code path, not the host disk. Needs `mke2fs`.

use common::block::FileDisk;
use common::fs::host_tools::{ScratchDir, mke2fs};
use common::fs::{Ext2, ROOT_INO};
use std::time::Instant;

const CHUNK: usize = 64 * 1024;

fn main() {
    let mut args = std::env::args().skip(1);
    let block_size: u32 = args.next().map_or(1024, |a| a.parse().expect("BLOCK_SIZE"));
    let cache_blocks: usize = args
        .next()
        .map_or(1024, |a| a.parse().expect("CACHE_BLOCKS"));
    let scratch = ScratchDir::new("throughput");
    let image = scratch.path().join("disk.img");
    mke2fs(&image, block_size, 256 * 1024, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "block size {block_size} B, buffer cache {cache_blocks} blocks, {} KiB chunks",
        CHUNK / 1024
    );
    println!(
        "{:>9} {:>12} {:>12} {:>15} {:>15} {:>12} {:>14}",
        "size",
        "write MB/s",
        "read MB/s",
        "blocks written",
        "write requests",
        "blocks read",
        "read requests"
    );
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 253) as u8).collect();
    for mib in [1u64, 4, 16, 64] {
        let bytes = mib << 20;
        let name = format!("file-{mib}");

        let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), cache_blocks).unwrap();
        let start = Instant::now();
        let file = fs.create_file(ROOT_INO, name.as_bytes()).unwrap();
        let mut offset = 0;
        while offset < bytes {
            offset += fs.write(file, offset, &chunk).unwrap() as u64;
        }
        fs.sync().unwrap();
        let write_secs = start.elapsed().as_secs_f64();
        let written = fs.cache_stats().device_writes;
        let requests = fs.cache_stats().write_requests;
        fs.unmount().unwrap();

        let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), cache_blocks).unwrap();
        let mut buf = vec![0u8; CHUNK];
        let start = Instant::now();
        let file = fs.lookup(ROOT_INO, name.as_bytes()).unwrap();
        let mut offset = 0;
        loop {
            let n = fs.read(file, offset, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            assert!(buf[..n] == chunk[..n], "read back different data");
            offset += n as u64;
        }
        let read_secs = start.elapsed().as_secs_f64();
        assert_eq!(offset, bytes);
        let read = fs.cache_stats().device_reads;
        let read_requests = fs.cache_stats().read_requests;
        fs.unmount().unwrap();

        let mb = bytes as f64 / 1e6;
        println!(
            "{:>5} MiB {:>12.1} {:>12.1} {:>15} {:>15} {:>12} {:>14}",
            mib,
            mb / write_secs,
            mb / read_secs,
            written,
            requests,
            read,
            read_requests
        );
    }
}
