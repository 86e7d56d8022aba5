//! The vfs server's state, apart from IPC: what the monolithic kernel keeps
//! in its process table and `file.rs`, kept here per process id.
//!
//! | module      | what                                                             |
//! |-------------|------------------------------------------------------------------|
//! | [`tables`]  | processes (thread → pid), descriptor tables, open file descriptions |
//! | [`pipes`]   | pipes (`common::pipe::Pipe`) and the requests parked on them       |
//! | [`replay`]  | the fs requests whose changes are not committed yet, for a restarted fs |
//!
//! Everything here is plain data with `&mut self` methods that return what
//! happened; the binary (`main.rs`) turns that into IPC: calls to the fs
//! server, replies to clients. So all of it is tested on the host.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod pipes;
pub mod replay;
pub mod tables;
