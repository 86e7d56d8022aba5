//! Host commands: what a lab test of the third kind runs (`cargo test -p
//! common ...`), and what the batch grader runs (`make`, `git`), with a
//! time limit and the output kept.

use crate::failure::Failure;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `sh -c command` in `dir`, standard output and error together;
/// `Ok(output)` if it exits with status 0 within `limit`.
pub fn run(command: &str, dir: &Path, limit: Duration) -> Result<String, Failure> {
    let (status, output) = run_status(command, dir, limit)?;
    if status == Some(0) {
        Ok(output)
    } else {
        Err(Failure::check(format!(
            "`{command}` {}\n{}",
            match status {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_string(),
            },
            last_lines(&output, 20)
        )))
    }
}

/// Runs `sh -c command` in `dir`: its exit code (`None` if a signal ended
/// it) and its output (standard output and error, interleaved). Killed,
/// with a failure, after `limit`.
pub fn run_status(
    command: &str,
    dir: &Path,
    limit: Duration,
) -> Result<(Option<i32>, String), Failure> {
    // `exec 2>&1` interleaves the two streams through one pipe, in order.
    // Its own process group, so a timeout kills everything it started.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {command}"))
        .process_group(0)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| Failure::Setup(format!("cannot run `{command}`: {error}")))?;
    let mut stdout = child.stdout.take();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(stdout) = stdout.as_mut() {
            let _ = stdout.read_to_end(&mut bytes);
        }
        let _ = sender.send(());
        bytes
    });
    // The reader finishes when the command (and everything it started
    // that kept the pipe open) is done.
    let finished = receiver.recv_timeout(limit).is_ok();
    if !finished && let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group the
        // child leads (process_group(0) above); it touches no memory.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    let status = child.wait().ok();
    let output = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    if !finished {
        return Err(Failure::check(format!(
            "`{command}` took longer than {}s\n{}",
            limit.as_secs(),
            last_lines(&output, 20)
        )));
    }
    Ok((status.and_then(|status| status.code()), output))
}

/// The last `count` lines of `text`, each indented with `  | `.
pub fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(count);
    lines[start..]
        .iter()
        .map(|line| format!("  | {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_output_and_time_limit() {
        let dir = std::env::temp_dir();
        let long = Duration::from_secs(20);
        assert_eq!(
            run("echo out; echo err >&2", &dir, long).unwrap(),
            "out\nerr\n"
        );
        let failed = run("echo why; exit 3", &dir, long).unwrap_err().to_string();
        assert!(
            failed.contains("status 3") && failed.contains("  | why"),
            "{failed}"
        );
        let slow = run("exec sleep 5", &dir, Duration::from_millis(200)).unwrap_err();
        assert!(slow.to_string().contains("longer than"), "{slow}");
        assert_eq!(last_lines("a\nb\nc\n", 2), "  | b\n  | c");
    }
}
