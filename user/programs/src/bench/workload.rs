//! `aim`: an application workload in the spirit of the AIM multiuser
//! benchmark the L4Linux paper ran — a fixed shell script that mixes
//! process creation (every command is a `fork` and an `exec` of the shell),
//! pipelines, reading files and directories, and computation (`wc` and
//! `grep` going through their input), timed end to end.
//!
//! The script only *reads* files: everything it prints goes to
//! `/dev/null`, and nothing is written to the disk, whose waits would make
//! the figure change from run to run (what writing costs is measured by
//! the file benchmarks). It reads about 100 KiB of programs and text, which
//! the warm-up run brings into the buffer cache.

use super::calls::open_null;
use super::{BenchResult, Context, Plan, Runs, SCRATCH_DIR, measure, since, start};
use alloc::format;
use ulib::{
    Fd, ForkResult, O_CREATE, O_TRUNC, O_WRONLY, close, dup, exec, exit, fork, open, wait,
    write_all,
};

/// The script `sh` runs: 16 lines, 36 programs started.
pub const SCRIPT: &str = "\
echo AIM-style workload: processes, pipes, files, computation
cat /README | grep Try | wc
cat /README /README /README /README | grep e | grep a | wc
ls /bin | grep e | wc
ls / /bin /dev | wc
cat /bin/sh | wc
cat /bin/grep /bin/wc /bin/cat /bin/ls | wc
wc /bin/echo /bin/true /README
grep the /README
grep ^W /README /README
echo one two three four five six seven eight | cat | cat | cat | wc
echo a; echo b; echo c; true; true; true
cat < /README > /dev/null
grep x.*y /README | wc
ls /bin
echo done
";

/// One run: `sh SCRIPT` in a child whose standard output and error are
/// `/dev/null`, and `wait` for it.
pub fn aim(plan: &Plan) -> BenchResult<u64> {
    let path = format!("{SCRATCH_DIR}/aim.sh");
    let fd = open(&path, O_CREATE | O_WRONLY | O_TRUNC).context("create the script")?;
    write_all(fd, SCRIPT.as_bytes()).context("write the script")?;
    close(fd).context("close")?;
    measure(plan, Runs::STANDARD, 1, || {
        let started = start()?;
        match fork().context("fork")? {
            ForkResult::Child => {
                if redirect_output_to_null().is_err() {
                    exit(126);
                }
                exec("/bin/sh", &["sh", &path]);
                exit(127);
            }
            ForkResult::Parent(_) => {
                let (_, status) = wait().context("wait for sh")?;
                if status != 0 {
                    return Err(format!("sh {path} exited with status {status}"));
                }
            }
        }
        Ok(since(started))
    })
}

/// Makes descriptors 1 and 2 the null device.
fn redirect_output_to_null() -> BenchResult<()> {
    let null = open_null()?;
    for fd in [Fd::STDOUT, Fd::STDERR] {
        close(fd).context("close")?;
        if dup(null).context("dup")? != fd {
            return Err("dup did not give the lowest free descriptor".into());
        }
    }
    close(null).context("close")
}
