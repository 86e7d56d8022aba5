//! `sync`: makes every file-system change so far durable. With the ext3
//! journal, the running transaction commits; when `sync` returns, a power
//! cut loses nothing done before it.
#![no_std]
#![no_main]

use ulib::Args;

fn main(_args: Args) -> i32 {
    match ulib::sync() {
        Ok(()) => 0,
        Err(e) => {
            ulib::eprintln!("sync: {}", e.message());
            1
        }
    }
}

ulib::entry!(main);
