//! `sh [script]`: the shell.
//!
//! Reads command lines (from the console, or from `script`), parses each
//! with `ulib::cmdline` and runs it, in the style of xv6's shell:
//!
//! - `a | b | c` — pipelines of any length: one child per command, joined by
//!   pipes; the shell waits for all of them;
//! - `< file`, `> file`, `>> file` — redirection of standard input/output;
//! - `a ; b` — one after the other; `a &` — in the background (the shell
//!   does not wait; init collects the processes when they exit);
//! - `cd dir` and `exit [status]` — built in, because they change the shell
//!   itself.
//!
//! A command name is looked up as given (relative to the current directory),
//! then, if it has no `/`, in `/bin/`. The prompt `$ ` goes to standard
//! output (so a test harness reading the serial console sees it), and only
//! when the input is the console, not a script or a pipe.
//!
//! How a pipeline runs is explained step by step in docs/user-programs.md.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use ulib::cmdline::{Command, Job, RedirectKind, parse};
use ulib::dirent::file_type_from_number;
use ulib::io::read_line;
use ulib::{
    Args, Errno, Fd, FileType, ForkResult, O_APPEND, O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY, Pid,
    chdir, close, dup, eprintln, exec, exit, fork, fstat, open, pipe, print, println, wait,
};

/// The longest command line accepted, in bytes.
const MAX_LINE: usize = 1024;
/// Exit status of a child whose command was not found (as in POSIX shells).
const STATUS_NOT_FOUND: i32 = 127;
/// Exit status of a child whose command could not be executed.
const STATUS_CANNOT_EXECUTE: i32 = 126;

fn main(args: Args) -> i32 {
    let (input, interactive) = match args.get(1) {
        Some(script) => match open(script, O_RDONLY) {
            Ok(fd) => (fd, false),
            Err(e) => {
                eprintln!("sh: {}: {}", script, e.message());
                return 1;
            }
        },
        None => {
            let is_console = fstat(Fd::STDIN)
                .map(|st| file_type_from_number(st.kind) == Some(FileType::Device))
                .unwrap_or(false);
            (Fd::STDIN, is_console)
        }
    };
    let mut line = Vec::with_capacity(MAX_LINE);
    loop {
        if interactive {
            print!("$ ");
        }
        match read_line(input, &mut line, MAX_LINE) {
            Ok(0) => return 0, // end of input
            Ok(_) => {}
            Err(e) => {
                eprintln!("sh: read: {}", e.message());
                return 1;
            }
        }
        if line.len() == MAX_LINE && line.last() != Some(&b'\n') {
            eprintln!("sh: line too long (at most {} bytes)", MAX_LINE);
            skip_rest_of_line(input);
            continue;
        }
        let Ok(text) = core::str::from_utf8(&line) else {
            eprintln!("sh: input is not valid UTF-8");
            continue;
        };
        match parse(text) {
            Ok(command_line) => {
                let script = (input != Fd::STDIN).then_some(input);
                for job in &command_line.jobs {
                    run_job(job, script);
                }
            }
            Err(e) => eprintln!("sh: {}", e),
        }
    }
}

/// Discards input up to and including the next newline.
fn skip_rest_of_line(input: Fd) {
    let mut rest = Vec::new();
    while let Ok(n) = read_line(input, &mut rest, MAX_LINE) {
        if n == 0 || rest.last() == Some(&b'\n') {
            break;
        }
    }
}

/// Runs one job: a built-in, a foreground pipeline, or a background one.
/// `script` is the descriptor of the script being read, if any: children
/// must not inherit it.
fn run_job(job: &Job, script: Option<Fd>) {
    let commands = &job.pipeline.commands;
    if !job.background && commands.len() == 1 && run_builtin_in_shell(&commands[0]) {
        return;
    }
    if !job.background {
        let pids = start_pipeline(commands, script);
        wait_for_all(&pids);
        return;
    }
    // Background: an intermediate child starts the pipeline and exits at
    // once, so the shell only waits for it. The pipeline's processes become
    // orphans, and init collects them when they finish.
    match fork() {
        Ok(ForkResult::Child) => {
            let pids = start_pipeline(commands, script);
            if let Some(last) = pids.last() {
                println!("[{}]", last);
            }
            exit(0);
        }
        Ok(ForkResult::Parent(pid)) => wait_for_all(&[pid]),
        Err(e) => eprintln!("sh: fork: {}", e.message()),
    }
}

/// Runs `cd` and `exit` in the shell process itself. Returns false if the
/// command is not a built-in.
fn run_builtin_in_shell(command: &Command) -> bool {
    let name = command.argv[0].as_str();
    if name != "cd" && name != "exit" {
        return false;
    }
    if !command.redirects.is_empty() {
        eprintln!("sh: {}: redirection is not supported for built-ins", name);
        return true;
    }
    let status = run_builtin(command);
    if name == "exit"
        && let Some(code) = status
    {
        exit(code);
    }
    true
}

/// Carries out `cd` or `exit`; returns the exit status for `exit`
/// (`None` after an error or for `cd`).
fn run_builtin(command: &Command) -> Option<i32> {
    let argv = &command.argv;
    match argv[0].as_str() {
        "cd" => {
            let target = match argv.len() {
                1 => "/",
                2 => argv[1].as_str(),
                _ => {
                    eprintln!("sh: cd: too many arguments");
                    return None;
                }
            };
            if let Err(e) = chdir(target) {
                eprintln!("sh: cd: {}: {}", target, e.message());
            }
            None
        }
        _ => match argv.get(1).map(|s| s.parse::<i32>()) {
            None => Some(0),
            Some(Ok(code)) if argv.len() == 2 => Some(code),
            _ => {
                eprintln!("sh: exit: usage: exit [status]");
                None
            }
        },
    }
}

/// Starts every command of a pipeline, each in its own child process,
/// connected by pipes (closing the shell's `script` descriptor in each).
/// Returns the pids of the children started, in the pipeline's order; on
/// an error, reports it and returns the ones started so far.
///
/// The commands start from the last to the first, so that each reader is
/// already there when its writer starts: in `echo hi | cat`, `cat` is
/// usually waiting in its `read` when `echo` writes, the scene
/// `docs/pipe.md` follows and `make trace` shows. (The order changes
/// nothing else: every process of a pipeline runs until it exits.) For
/// `a | b | c` the shell creates pipe 2 before forking `c` and pipe 1
/// before forking `b`: `c` reads pipe 2, `b` writes pipe 2 and reads
/// pipe 1, `a` writes pipe 1. The shell closes its copies of each pipe end
/// as soon as the children that need it exist, so that a reader sees end of
/// file when its writer exits.
fn start_pipeline(commands: &[Command], script: Option<Fd>) -> Vec<Pid> {
    let mut pids = Vec::new();
    // The write end of the pipe to the command after this one, if any.
    let mut next_write: Option<Fd> = None;
    for (index, command) in commands.iter().enumerate().rev() {
        let previous_pipe = if index == 0 {
            None
        } else {
            match pipe() {
                Ok(ends) => Some(ends),
                Err(e) => {
                    eprintln!("sh: pipe: {}", e.message());
                    break;
                }
            }
        };
        match fork() {
            Ok(ForkResult::Child) => {
                if let Some(fd) = script {
                    let _ = close(fd);
                }
                if let Some((read_end, write_end)) = previous_pipe {
                    let _ = close(write_end);
                    move_fd(read_end, Fd::STDIN);
                }
                if let Some(write_end) = next_write {
                    move_fd(write_end, Fd::STDOUT);
                }
                run_command(command);
            }
            Ok(ForkResult::Parent(pid)) => pids.insert(0, pid),
            Err(e) => {
                eprintln!("sh: fork: {}", e.message());
                if let Some((read_end, write_end)) = previous_pipe {
                    let _ = close(read_end);
                    let _ = close(write_end);
                }
                break;
            }
        }
        // The children have their copies now; drop the shell's.
        if let Some(write_end) = next_write.take() {
            let _ = close(write_end);
        }
        if let Some((read_end, write_end)) = previous_pipe {
            let _ = close(read_end);
            next_write = Some(write_end);
        }
    }
    if let Some(write_end) = next_write {
        let _ = close(write_end);
    }
    pids
}

/// In a child: makes `target` (0 or 1) refer to what `fd` refers to, and
/// closes `fd`. There is no `dup2`: closing `target` makes it the lowest
/// free descriptor, which is the one `dup` hands out.
fn move_fd(fd: Fd, target: Fd) {
    let _ = close(target);
    match dup(fd) {
        Ok(new) if new == target => {}
        Ok(other) => {
            eprintln!("sh: could not set up fd {} (got {})", target.0, other.0);
            exit(1);
        }
        Err(e) => {
            eprintln!("sh: dup: {}", e.message());
            exit(1);
        }
    }
    let _ = close(fd);
}

/// In a child: applies the redirections and executes the command. Never
/// returns.
fn run_command(command: &Command) -> ! {
    for redirect in &command.redirects {
        let flags = match redirect.kind {
            RedirectKind::Input => O_RDONLY,
            RedirectKind::Output => O_WRONLY | O_CREATE | O_TRUNC,
            RedirectKind::Append => O_WRONLY | O_CREATE | O_APPEND,
        };
        let target = Fd(redirect.kind.target_fd());
        let _ = close(target);
        match open(&redirect.path, flags) {
            Ok(fd) if fd == target => {}
            Ok(fd) => move_fd(fd, target),
            Err(e) => {
                eprintln!("sh: {}: {}", redirect.path, e.message());
                exit(1);
            }
        }
    }
    let name = command.argv[0].as_str();
    if name == "cd" || name == "exit" {
        // A built-in inside a pipeline or in the background runs in this
        // child, so it cannot change the shell; it still reports errors.
        exit(run_builtin(command).unwrap_or(0));
    }
    let argv: Vec<&str> = command.argv.iter().map(String::as_str).collect();
    let mut error = exec(name, &argv);
    if error == Errno::ENOENT && !name.contains('/') {
        let in_bin = format!("/bin/{name}");
        error = exec(&in_bin, &argv);
    }
    if error == Errno::ENOENT {
        eprintln!("sh: {}: command not found", name);
        exit(STATUS_NOT_FOUND);
    }
    eprintln!("sh: {}: {}", name, error.message());
    exit(STATUS_CANNOT_EXECUTE);
}

/// Waits until every process in `pids` has exited.
fn wait_for_all(pids: &[Pid]) {
    let mut remaining: Vec<Pid> = pids.to_vec();
    while !remaining.is_empty() {
        match wait() {
            Ok((pid, _status)) => remaining.retain(|&p| p != pid),
            Err(Errno::ECHILD) => break,
            Err(e) => {
                eprintln!("sh: wait: {}", e.message());
                break;
            }
        }
    }
}

ulib::entry!(main);
