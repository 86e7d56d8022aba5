//! The `trace` command (`make trace`): record a command on both kernels,
//! find the pipe write in each trace, and write the page, the JSON, the
//! summary and the book's figures.
//!
//! ```text
//! trace [--kernel mono|micro|both] [--out DIR] [--from-dump KERNEL=FILE]...
//!       [--timeout-scale F] [--] [COMMAND]
//! ```
//!
//! `COMMAND` is one shell command line (default `echo hi | cat`). With
//! `--from-dump` no kernel boots: the `@trace` lines of a saved dump
//! (`build/trace/mono.trace`, or a sample) are read instead. Exit status: 0
//! when every output was written; 1 when a trace could not be recorded or
//! holds no pipe write to follow (the message says which and what to try;
//! no page is left behind); 2 for a bad option.

use super::collect::{self, Recording, TraceError};
use super::{chrome, html, markdown};
use crate::cli::{Options, machine_for, repo_root};
use crate::qemu::Kernel;
use common::trace::scene::Scene;
use common::trace::summary::{kernel_name, summary};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The command line traced when none is given.
pub const DEFAULT_COMMAND: &str = "echo hi | cat";

/// The usage text.
pub const USAGE: &str = "\
usage: trace [options] [--] [COMMAND]
  COMMAND                   the shell command line to trace (default: echo hi | cat)
  --kernel mono|micro|both  which kernels (default: both)
  --out DIR                 where the outputs go (default: build/trace)
  --from-dump KERNEL=FILE   read KERNEL's trace from a saved dump instead of booting
  --timeout-scale F         multiply every timeout by F (default: $GRADE_TIMEOUT_SCALE or 1)
  --help                    show this text
outputs: index.html, KERNEL.json (Chrome trace events, for Perfetto), summary.txt,
KERNEL.trace (the dump), figures/trace-*.md (the book's tables), samples/KERNEL.trace";

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceOptions {
    /// The command line to trace.
    pub command: String,
    /// The kernels, mono first.
    pub kernels: Vec<Kernel>,
    /// The output directory.
    pub out: Option<PathBuf>,
    /// Saved dumps to read instead of booting.
    pub dumps: Vec<(Kernel, PathBuf)>,
    /// Timeout multiplier.
    pub timeout_scale: Option<f64>,
    /// Print the usage.
    pub help: bool,
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<TraceOptions, String> {
    let mut options = TraceOptions {
        command: String::from(DEFAULT_COMMAND),
        kernels: Kernel::ALL.to_vec(),
        out: None,
        dumps: Vec::new(),
        timeout_scale: None,
        help: false,
    };
    let mut words: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--kernel" => {
                let name = value()?;
                options.kernels = match name.as_str() {
                    "both" => Kernel::ALL.to_vec(),
                    other => vec![Kernel::from_name(other).ok_or_else(|| {
                        format!("--kernel {other}: expected mono, micro or both")
                    })?],
                };
            }
            "--out" => options.out = Some(PathBuf::from(value()?)),
            "--from-dump" => {
                let text = value()?;
                let (kernel, file) = text
                    .split_once('=')
                    .ok_or_else(|| format!("--from-dump {text}: expected KERNEL=FILE"))?;
                let kernel = Kernel::from_name(kernel).ok_or_else(|| {
                    format!("--from-dump {text}: expected mono or micro before =")
                })?;
                options.dumps.push((kernel, PathBuf::from(file)));
            }
            "--timeout-scale" => {
                let text = value()?;
                options.timeout_scale = Some(
                    text.parse::<f64>()
                        .ok()
                        .filter(|scale| *scale > 0.0 && *scale <= 1000.0)
                        .ok_or_else(|| {
                            format!(
                                "--timeout-scale {text}: expected a number above 0 and at most 1000"
                            )
                        })?,
                );
            }
            "--help" | "-h" => options.help = true,
            "--" => words.extend(args.by_ref().cloned()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => words.push(other.to_string()),
        }
    }
    if !words.is_empty() {
        options.command = words.join(" ");
    }
    if !options.dumps.is_empty() {
        options.kernels = options.dumps.iter().map(|(kernel, _)| *kernel).collect();
        options.kernels.sort();
    }
    Ok(options)
}

/// Records (or reads) the trace of each kernel, in parallel.
fn recordings(options: &TraceOptions, root: &Path) -> Vec<Result<Recording, TraceError>> {
    if !options.dumps.is_empty() {
        return options
            .kernels
            .iter()
            .map(|kernel| {
                let (_, file) = options
                    .dumps
                    .iter()
                    .find(|(k, _)| k == kernel)
                    .expect("listed");
                let text = std::fs::read_to_string(file).map_err(|error| {
                    TraceError::Machine(format!("cannot read {}: {error}", file.display()))
                })?;
                Ok(Recording {
                    kernel: *kernel,
                    command: options.command.clone(),
                    output: String::new(),
                    events: collect::parse_dump(&text),
                })
            })
            .collect();
    }
    let mut grade_options = Options::default();
    if let Some(scale) = options.timeout_scale.or_else(|| {
        std::env::var("GRADE_TIMEOUT_SCALE")
            .ok()
            .and_then(|text| text.parse().ok())
    }) {
        grade_options.timeout_scale = scale;
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = options
            .kernels
            .iter()
            .map(|&kernel| {
                let machine = machine_for(kernel, &grade_options, root);
                let command = options.command.clone();
                scope.spawn(move || match machine.missing_input() {
                    Some(missing) => Err(TraceError::Machine(missing)),
                    None => collect::record(&machine, &command),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(TraceError::Machine(String::from(
                        "the recording thread panicked",
                    )))
                })
            })
            .collect()
    })
}

/// The outputs of a run, by file name relative to the output directory.
pub fn outputs(command: &str, recordings: &[Recording], scenes: &[Scene]) -> Vec<(String, String)> {
    let refs: Vec<&Scene> = scenes.iter().collect();
    let mut files = vec![(String::from("index.html"), html::page(command, &refs))];
    let mut text = format!("make trace: `{command}`\n");
    for (recording, scene) in recordings.iter().zip(scenes) {
        let name = recording.kernel.name();
        files.push((format!("{name}.json"), chrome::render(command, scene)));
        files.push((format!("{name}.trace"), dump_text(&recording.events)));
        files.push((
            format!("samples/{name}.trace"),
            sample(command, recording, scene),
        ));
        text.push('\n');
        text.push_str(&summary(scene));
    }
    files.push((String::from("summary.txt"), text));
    for (name, contents) in markdown::figures(&refs) {
        files.push((format!("figures/{name}"), contents));
    }
    files
}

/// Events as `@trace` lines.
fn dump_text(events: &[common::trace::Event]) -> String {
    let mut text = String::new();
    for event in events {
        let _ = event.write_line(&mut text);
    }
    text
}

/// The sample kept in the repository (`common/src/trace/samples/`): the
/// events of the scene's time span, in ring order, and every `Name`, which
/// is all the analysis reads.
pub fn sample(command: &str, recording: &Recording, scene: &Scene) -> String {
    let events = &scene.timeline.events;
    let (Some(first), Some(last)) = (scene.parts.first(), scene.parts.last()) else {
        return String::new();
    };
    let (from, to) = (events[first.first].time, events[last.last].time);
    let kept: Vec<common::trace::Event> = recording
        .events
        .iter()
        .filter(|event| {
            event.kind == common::trace::Kind::Name || (from <= event.time && event.time <= to)
        })
        .copied()
        .collect();
    format!(
        "# The trace of `{command}` on the {} as `make trace` recorded it, cut to the pipe write it follows\n# (every event from its first step to its last, and every name): {} of {} events.\n{}",
        kernel_name(scene.timeline.system),
        kept.len(),
        recording.events.len(),
        dump_text(&kept)
    )
}

/// Runs `trace` with these arguments.
pub fn main(args: &[String]) -> ExitCode {
    let options = match parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("trace: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let root = repo_root();
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| root.join("build/trace"));
    // A page from an earlier run must not pass for this one's.
    for stale in [
        "index.html",
        "summary.txt",
        "mono.json",
        "micro.json",
        "mono.trace",
        "micro.trace",
    ] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    let _ = std::fs::remove_dir_all(out.join("figures"));
    let _ = std::fs::remove_dir_all(out.join("samples"));
    if let Err(error) = collect::check_command(&options.command) {
        eprintln!("trace: {error}");
        return ExitCode::from(1);
    }
    let what = options
        .kernels
        .iter()
        .map(|kernel| kernel_name_of(*kernel))
        .collect::<Vec<_>>()
        .join(" and ");
    if options.dumps.is_empty() {
        println!(
            "trace: recording `{}` on the {what} (QEMU, -icount shift=0) ...",
            options.command
        );
    }
    let mut recordings_ok = Vec::new();
    let mut scenes = Vec::new();
    let mut failed = false;
    for (kernel, result) in options.kernels.iter().zip(recordings(&options, &root)) {
        let recording = match result {
            Ok(recording) => recording,
            Err(error) => {
                eprintln!("trace: {}: {error}", kernel_name_of(*kernel));
                failed = true;
                continue;
            }
        };
        if recording.events.len() >= collect::RING_CAPACITY {
            eprintln!(
                "trace: the {} trace filled the kernel's ring ({} events): its end is missing",
                kernel_name_of(recording.kernel),
                recording.events.len()
            );
        }
        match Scene::find(&recording.events) {
            Ok(scene) => {
                scenes.push(scene);
                recordings_ok.push(recording);
            }
            Err(common::trace::scene::SceneError::NoPipeWrite { events }) => {
                eprintln!(
                    "trace: {}",
                    TraceError::NoPipeWrite {
                        kernel: recording.kernel,
                        command: recording.command.clone(),
                        events
                    }
                );
                failed = true;
            }
            Err(common::trace::scene::SceneError::Incomplete(missing)) => {
                eprintln!(
                    "trace: {}",
                    TraceError::Incomplete {
                        kernel: recording.kernel,
                        missing: format!("found a write to a pipe, but not {missing}"),
                    }
                );
                failed = true;
            }
        }
    }
    if failed {
        eprintln!("trace: nothing written");
        return ExitCode::from(1);
    }
    let files = outputs(&options.command, &recordings_ok, &scenes);
    for (name, contents) in &files {
        let path = out.join(name);
        if let Some(directory) = path.parent()
            && let Err(error) = std::fs::create_dir_all(directory)
        {
            eprintln!("trace: cannot create {}: {error}", directory.display());
            return ExitCode::from(1);
        }
        if let Err(error) = std::fs::write(&path, contents) {
            eprintln!("trace: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    for scene in &scenes {
        println!(
            "trace: {}: {} → {} has the bytes: {} kernel entries, {} address-space switches, {} copies, {} instructions",
            kernel_name(scene.timeline.system),
            scene.cast.writer.name,
            scene.cast.reader.name,
            scene.path.kernel_entries,
            scene.path.space_switches,
            scene.path.copies,
            common::trace::summary::thousands(scene.path.instructions)
        );
    }
    println!(
        "trace: wrote {} (and the JSON, summary.txt and figures beside it)",
        out.join("index.html").display()
    );
    ExitCode::SUCCESS
}

/// `mono-kernel`, `micro-kernel`.
fn kernel_name_of(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::Mono => "mono-kernel",
        Kernel::Micro => "micro-kernel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn the_default_is_echo_hi_cat_on_both() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.command, DEFAULT_COMMAND);
        assert_eq!(options.kernels, Kernel::ALL.to_vec());
    }

    #[test]
    fn a_command_is_the_words_left_over() {
        assert_eq!(parse(&args(&["ls | wc"])).unwrap().command, "ls | wc");
        assert_eq!(
            parse(&args(&["--kernel", "micro", "--", "ls", "|", "wc"]))
                .unwrap()
                .command,
            "ls | wc"
        );
        let options = parse(&args(&["--from-dump", "micro=x.trace"])).unwrap();
        assert_eq!(options.kernels, vec![Kernel::Micro]);
        assert_eq!(
            options.dumps,
            vec![(Kernel::Micro, PathBuf::from("x.trace"))]
        );
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(parse(&args(&["--kernel", "hybrid"])).is_err());
        assert!(parse(&args(&["--from-dump", "x.trace"])).is_err());
        assert!(parse(&args(&["--frobnicate"])).is_err());
        assert!(parse(&args(&["--out"])).is_err());
    }
}
