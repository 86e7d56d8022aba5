//! The process table: pids, parents, zombies, and who waits for whom.
//!
//! The rules are the monolithic kernel's (`mono-kernel/src/sys_proc.rs`):
//! a process that exits becomes a *zombie* holding its exit status until
//! its parent collects it with `wait`; its children are handed to `init`
//! (pid 1). Where mono sleeps in `wait`, proc *parks*: it records that the
//! parent waits (and where its status goes) and does not reply until a
//! child exits.

use crate::memory::AddressMap;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use common::abi::errno::Errno;

/// A process id.
pub type Pid = u64;

/// The first process; it adopts orphans, and the system stops when it exits.
pub const INIT_PID: Pid = 1;

/// The most processes at once (as on the monolithic kernel). The kernel's
/// limits on address spaces and threads may refuse a fork earlier: then
/// fork fails with `EAGAIN` all the same.
pub const MAX_PROCESSES: usize = 128;

/// A process's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// It has a thread and an address space.
    Alive,
    /// It exited with this status; its parent has not collected it yet.
    Zombie(i32),
}

/// One process.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: Pid,
    /// The parent's pid (0 for init).
    pub parent: Pid,
    /// The program's name (last path component), for `usertrap:` lines.
    pub name: String,
    pub state: State,
    /// Its one thread (a raw `ThreadId`), while alive.
    pub thread: u64,
    /// Its address space (a raw `SpaceId`), while alive.
    pub space: u64,
    /// Its memory.
    pub memory: AddressMap,
    /// A parked `wait`: where the status goes (0: nowhere).
    pub waiting: Option<u64>,
}

/// What a `wait` finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// A zombie child to collect: its pid and status.
    Collect(Pid, i32),
    /// Children, all still running: park the caller.
    Park,
    /// No children at all: `ECHILD`.
    NoChildren,
}

/// The table.
#[derive(Debug, Default)]
pub struct ProcessTable {
    processes: BTreeMap<Pid, Process>,
    next_pid: Pid,
}

impl ProcessTable {
    /// An empty table; the first pid handed out is 1.
    pub fn new() -> ProcessTable {
        ProcessTable {
            processes: BTreeMap::new(),
            next_pid: INIT_PID,
        }
    }

    /// Whether another process fits.
    pub fn has_room(&self) -> bool {
        self.processes.len() < MAX_PROCESSES
    }

    /// The next pid (never reused: a pid names one process forever).
    pub fn allocate_pid(&mut self) -> Pid {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// Adds a process (`EAGAIN` if the table is full).
    pub fn insert(&mut self, process: Process) -> Result<(), Errno> {
        if !self.has_room() {
            return Err(Errno::EAGAIN);
        }
        self.processes.insert(process.pid, process);
        Ok(())
    }

    /// The process `pid`.
    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(&pid)
    }

    /// The process `pid`, to change.
    pub fn get_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(&pid)
    }

    /// The live process whose thread is `thread`.
    pub fn by_thread(&self, thread: u64) -> Option<Pid> {
        self.processes
            .values()
            .find(|p| p.state == State::Alive && p.thread == thread)
            .map(|p| p.pid)
    }

    /// What `wait` by `parent` finds now (the first zombie child, by pid).
    pub fn wait_outcome(&self, parent: Pid) -> WaitOutcome {
        let mut children = self
            .processes
            .values()
            .filter(|p| p.parent == parent)
            .peekable();
        if children.peek().is_none() {
            return WaitOutcome::NoChildren;
        }
        for child in children {
            if let State::Zombie(status) = child.state {
                return WaitOutcome::Collect(child.pid, status);
            }
        }
        WaitOutcome::Park
    }

    /// Removes a collected zombie.
    pub fn remove(&mut self, pid: Pid) -> Option<Process> {
        self.processes.remove(&pid)
    }

    /// Marks `pid` a zombie with `status` and hands its children to init.
    /// Returns the processes whose parked `wait` may now complete (its
    /// parent, and init if it adopted a zombie), each at most once.
    pub fn make_zombie(&mut self, pid: Pid, status: i32) -> Vec<Pid> {
        let mut wake = Vec::new();
        let Some(process) = self.processes.get_mut(&pid) else {
            return wake;
        };
        process.state = State::Zombie(status);
        process.waiting = None;
        process.thread = 0;
        process.space = 0;
        let parent = process.parent;
        wake.push(parent);
        for child in self.processes.values_mut().filter(|p| p.parent == pid) {
            child.parent = INIT_PID;
            if matches!(child.state, State::Zombie(_)) && !wake.contains(&INIT_PID) {
                wake.push(INIT_PID);
            }
        }
        wake
    }

    /// Every process, by pid.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(table: &mut ProcessTable, parent: Pid) -> Pid {
        let pid = table.allocate_pid();
        table
            .insert(Process {
                pid,
                parent,
                name: String::from("test"),
                state: State::Alive,
                thread: 100 + pid,
                space: 200 + pid,
                memory: AddressMap::new(),
                waiting: None,
            })
            .unwrap();
        pid
    }

    #[test]
    fn wait_sees_children_and_zombies() {
        let mut table = ProcessTable::new();
        let init = process(&mut table, 0);
        assert_eq!(init, INIT_PID);
        assert_eq!(table.wait_outcome(init), WaitOutcome::NoChildren);
        let child = process(&mut table, init);
        assert_eq!(table.by_thread(100 + child), Some(child));
        assert_eq!(table.wait_outcome(init), WaitOutcome::Park);
        assert_eq!(table.make_zombie(child, -7), [init]);
        assert_eq!(table.by_thread(100 + child), None, "a zombie has no thread");
        assert_eq!(table.wait_outcome(init), WaitOutcome::Collect(child, -7));
        table.remove(child);
        assert_eq!(table.wait_outcome(init), WaitOutcome::NoChildren);
    }

    #[test]
    fn orphans_go_to_init_and_wake_it_if_zombies() {
        let mut table = ProcessTable::new();
        let init = process(&mut table, 0);
        let parent = process(&mut table, init);
        let running = process(&mut table, parent);
        let dead = process(&mut table, parent);
        table.make_zombie(dead, 3);
        let wake = table.make_zombie(parent, 0);
        assert_eq!(
            wake,
            [init],
            "init is both the parent and the adopter: once"
        );
        assert_eq!(table.get(running).unwrap().parent, INIT_PID);
        assert_eq!(table.get(dead).unwrap().parent, INIT_PID);
        // init collects the zombie grandchild (the lowest pid first).
        assert_eq!(table.wait_outcome(init), WaitOutcome::Collect(parent, 0));
    }

    #[test]
    fn the_table_is_bounded_and_pids_are_not_reused() {
        let mut table = ProcessTable::new();
        let first = process(&mut table, 0);
        for _ in 1..MAX_PROCESSES {
            process(&mut table, first);
        }
        let pid = table.allocate_pid();
        let extra = Process {
            pid,
            ..table.get(first).unwrap().clone()
        };
        assert_eq!(table.insert(extra), Err(Errno::EAGAIN));
        table.remove(first);
        assert!(table.allocate_pid() > pid, "pids grow");
    }
}
