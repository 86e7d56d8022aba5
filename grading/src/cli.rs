//! The `grade` command: its options, and the run from options to exit code.
//!
//! ```text
//! grade [--kernel mono|micro|both] [--suite NAME | --lab NAME [--hidden] | --usertest NAME]
//!       [--test TEXT]
//!       [--mono-elf PATH] [--micro-elf PATH] [--mono-disk PATH] [--micro-disk PATH]
//!       [--json PATH] [--gradescope] [--accel tcg|kvm] [--icount]
//!       [--timeout-scale F] [--jobs N] [--verbose] [--list]
//! ```
//!
//! Default paths are under `build/` in the repository root, which is found
//! by walking up from the current directory to the one holding
//! `grading/Cargo.toml` (or, failing that, from where this crate was built).
//! Exit status: 0 if every test passed, 1 if any failed (a kernel or disk
//! image that is missing fails its tests), 2 if the grader could not run
//! (bad option, no test selected, results file not writable).
//!
//! `grade starter|handin|batch|self-check|check-markers ...` are the lab
//! commands of [`crate::labcmd`].

use crate::labs;
use crate::qemu::{Accel, Kernel, Machine};
use crate::report;
use crate::runner::{Outcome, Runner, Selection, TestCase, default_log_dir};
use crate::suites::{self, Suite};
use crate::test::Test;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The usage text printed by `--help` and after a bad option.
pub const USAGE: &str = "\
usage: grade [options]
       grade starter|handin|batch|self-check|check-markers ...  (grade starter --help)
  --kernel mono|micro|both   which kernels to test (default: both)
  --suite NAME               only this suite (see --list); the `bench`
                             suite (measurements) runs only when named
  --lab NAME                 the graded tests of lab NAME (labs/README.md)
  --hidden                   with --lab: the lab's hidden tests too
  --usertest NAME            only the usertest NAME, run alone
  --test TEXT                only tests whose name (e.g. boot/mono) contains TEXT
  --mono-elf PATH            mono-kernel ELF (default: build/mono-kernel.elf)
  --micro-elf PATH           micro-kernel ELF (default: build/micro-kernel.elf)
  --mono-disk PATH           mono disk image (default: build/mono.img)
  --micro-disk PATH          micro disk image (default: build/micro.img)
  --json PATH                also write Gradescope results.json to PATH
  --gradescope               write /autograder/results/results.json
  --accel tcg|kvm            QEMU accelerator (default: $ACCEL or tcg)
  --icount                   run QEMU with -icount shift=0,sleep=off (deterministic TSC)
  --timeout-scale F          multiply every timeout by F, for slow machines
                             (default: $GRADE_TIMEOUT_SCALE or 1)
  --jobs N                   tests run at once (default: 2)
  --verbose                  show the serial console as tests run (implies --jobs 1)
  --list                     list the tests and exit
  --help                     show this text";

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The kernels to test.
    pub kernels: Vec<Kernel>,
    /// Only this suite.
    pub suite: Option<String>,
    /// The tests of this lab instead of the suites.
    pub lab: Option<String>,
    /// With `lab`: its hidden tests too.
    pub hidden: bool,
    /// Only this usertest, run alone.
    pub usertest: Option<String>,
    /// Only tests whose case name contains this.
    pub test: Option<String>,
    /// Kernel ELF overrides, indexed like [`Kernel::ALL`].
    pub elf: [Option<PathBuf>; 2],
    /// Disk image overrides, indexed like [`Kernel::ALL`].
    pub disk: [Option<PathBuf>; 2],
    /// Where to write Gradescope JSON.
    pub json: Option<PathBuf>,
    /// The accelerator.
    pub accel: Accel,
    /// Add `-icount shift=0,sleep=off`.
    pub icount: bool,
    /// Multiply every timeout by this.
    pub timeout_scale: f64,
    /// Tests run at once.
    pub jobs: usize,
    /// Show the serial output as it arrives (one test at a time).
    pub verbose: bool,
    /// List tests instead of running them.
    pub list: bool,
    /// Print usage.
    pub help: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kernels: Kernel::ALL.to_vec(),
            suite: None,
            lab: None,
            hidden: false,
            usertest: None,
            test: None,
            elf: [None, None],
            disk: [None, None],
            json: None,
            accel: Accel::Tcg,
            icount: false,
            timeout_scale: 1.0,
            jobs: 2,
            verbose: false,
            list: false,
            help: false,
        }
    }
}

/// Defaults taken from the environment.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// `$ACCEL`: `tcg` or `kvm`.
    pub accel: Option<String>,
    /// `$GRADE_TIMEOUT_SCALE`: a positive number.
    pub timeout_scale: Option<String>,
}

impl Environment {
    /// Reads the variables.
    pub fn from_process() -> Environment {
        Environment {
            accel: std::env::var("ACCEL")
                .ok()
                .filter(|value| !value.is_empty()),
            timeout_scale: std::env::var("GRADE_TIMEOUT_SCALE")
                .ok()
                .filter(|value| !value.is_empty()),
        }
    }
}

/// Parses a timeout scale: a positive number up to 1000.
fn parse_timeout_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale <= 1000.0 => Ok(scale),
        _ => Err(format!(
            "timeout scale {text}: expected a number above 0 and at most 1000"
        )),
    }
}

/// Parses the command line (without the program name), with defaults from
/// `environment`.
pub fn parse(args: &[String], environment: &Environment) -> Result<Options, String> {
    let mut options = Options::default();
    if let Some(scale) = &environment.timeout_scale {
        options.timeout_scale = parse_timeout_scale(scale)?;
    }
    if let Some(name) = &environment.accel {
        options.accel =
            Accel::from_name(name).ok_or_else(|| format!("ACCEL={name}: expected tcg or kvm"))?;
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        let kernel_index =
            |kernel: Kernel| Kernel::ALL.iter().position(|&k| k == kernel).unwrap_or(0);
        match arg.as_str() {
            "--kernel" => {
                let name = value()?;
                options.kernels =
                    match name.as_str() {
                        "both" => Kernel::ALL.to_vec(),
                        _ => vec![Kernel::from_name(&name).ok_or_else(|| {
                            format!("--kernel {name}: expected mono, micro or both")
                        })?],
                    };
            }
            "--suite" => options.suite = Some(value()?),
            "--lab" => options.lab = Some(value()?).filter(|lab| !lab.is_empty()),
            "--hidden" => options.hidden = true,
            "--usertest" => options.usertest = Some(value()?).filter(|name| !name.is_empty()),
            "--test" => options.test = Some(value()?),
            "--mono-elf" => options.elf[kernel_index(Kernel::Mono)] = Some(value()?.into()),
            "--micro-elf" => options.elf[kernel_index(Kernel::Micro)] = Some(value()?.into()),
            "--mono-disk" => options.disk[kernel_index(Kernel::Mono)] = Some(value()?.into()),
            "--micro-disk" => options.disk[kernel_index(Kernel::Micro)] = Some(value()?.into()),
            "--json" => options.json = Some(value()?.into()),
            "--gradescope" => options.json = Some(report::GRADESCOPE_RESULTS.into()),
            "--accel" => {
                let name = value()?;
                options.accel = Accel::from_name(&name)
                    .ok_or_else(|| format!("--accel {name}: expected tcg or kvm"))?;
            }
            "--icount" => options.icount = true,
            "--timeout-scale" => options.timeout_scale = parse_timeout_scale(&value()?)?,
            "--jobs" | "-j" => {
                let count = value()?;
                options.jobs = match count.parse::<usize>() {
                    Ok(jobs) if jobs > 0 => jobs,
                    _ => return Err(format!("--jobs {count}: expected a positive number")),
                };
            }
            "--verbose" | "-v" => options.verbose = true,
            "--list" => options.list = true,
            "--help" | "-h" => options.help = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    let chosen = [
        options.suite.is_some(),
        options.lab.is_some(),
        options.usertest.is_some(),
    ];
    if chosen.iter().filter(|&&given| given).count() > 1 {
        return Err("choose one of --suite, --lab and --usertest".to_string());
    }
    Ok(options)
}

/// The repository root: the nearest ancestor of the current directory that
/// holds `grading/Cargo.toml`, else the parent of this crate's source.
pub fn repo_root() -> PathBuf {
    let from_cwd = std::env::current_dir().ok().and_then(|cwd| {
        cwd.ancestors()
            .find(|dir| dir.join("grading/Cargo.toml").is_file())
            .map(Path::to_path_buf)
    });
    from_cwd.unwrap_or_else(|| {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
    })
}

/// The machine for `kernel`: user paths as given, defaults under `root`.
pub fn machine_for(kernel: Kernel, options: &Options, root: &Path) -> Machine {
    let index = Kernel::ALL.iter().position(|&k| k == kernel).unwrap_or(0);
    let elf = options.elf[index]
        .clone()
        .unwrap_or_else(|| root.join(kernel.default_elf()));
    let disk = options.disk[index]
        .clone()
        .unwrap_or_else(|| root.join(kernel.default_disk()));
    let mut machine = Machine::new(kernel, elf, Some(disk));
    machine.accel = options.accel;
    machine.icount = options.icount;
    machine.timeout_scale = options.timeout_scale;
    machine.echo_serial = options.verbose;
    machine.scratch_dir = root.join("build/grade-tmp");
    machine
}

/// The suites `options` choose from: a lab's tests (`--lab`), one
/// usertest (`--usertest`), or every suite.
pub fn suites_for(options: &Options) -> Result<Vec<Suite>, String> {
    if let Some(name) = &options.lab {
        let lab = labs::find(name).ok_or_else(|| {
            let names: Vec<&str> = labs::all().iter().map(|lab| lab.name).collect();
            format!(
                "no lab named {name:?} with tests (labs: {})",
                names.join(", ")
            )
        })?;
        return Ok(vec![lab.suite(options.hidden)]);
    }
    if let Some(name) = &options.usertest {
        // The grader runs once; a name that lives as long is harmless.
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        return Ok(vec![Suite {
            name: "usertest",
            tests: vec![Test::usertest(name, 1, name)],
            on_request: false,
        }]);
    }
    Ok(suites::all())
}

/// Runs the selected tests of `suites` on the kernels under `root` (or
/// given in `options`), printing a line as each finishes; `Err` for a
/// selection that matches nothing.
pub fn run_tests(
    options: &Options,
    suites: &[Suite],
    root: &Path,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Result<Vec<Outcome>, String> {
    let selection = Selection {
        kernels: options.kernels.clone(),
        suite: options.suite.clone(),
        name_contains: options.test.clone(),
    };
    let cases = selection.cases(suites);
    if cases.is_empty() {
        return Err("no test matches the selection (try --list)".to_string());
    }
    let machines: Vec<Machine> = options
        .kernels
        .iter()
        .filter(|&&kernel| cases.iter().any(|case| case.kernel == kernel))
        .map(|&kernel| machine_for(kernel, options, root))
        .collect();
    // A kernel that is not built fails its own tests (each saying how to
    // build it); the other kernel is still graded.
    for machine in &machines {
        if let Some(missing) = machine.missing_input() {
            eprintln!("grade: {missing}");
        }
    }
    let runner = Runner {
        machines,
        // Two consoles on one terminal would be unreadable.
        jobs: if options.verbose { 1 } else { options.jobs },
        log_dir: default_log_dir(root),
        workdir: root.to_path_buf(),
    };
    println!(
        "grade: {} test{}, {} at a time (serial logs of failures go to {})",
        cases.len(),
        if cases.len() == 1 { "" } else { "s" },
        runner.jobs,
        runner.log_dir.display()
    );
    Ok(runner.run(&cases, on_done))
}

/// Runs `grade` with these arguments; returns the process exit code.
pub fn main(args: &[String]) -> ExitCode {
    if let Some(command) = args.first()
        && crate::labcmd::COMMANDS.contains(&command.as_str())
    {
        return crate::labcmd::main(command, &args[1..]);
    }
    let options = match parse(args, &Environment::from_process()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("grade: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let suites = match suites_for(&options) {
        Ok(suites) => suites,
        Err(message) => {
            eprintln!("grade: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(name) = &options.suite
        && !suites.iter().any(|suite| suite.name == name)
    {
        let names: Vec<&str> = suites.iter().map(|suite| suite.name).collect();
        eprintln!(
            "grade: no suite named {name:?} (suites: {})",
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    if options.list {
        let selection = Selection {
            kernels: options.kernels.clone(),
            suite: options.suite.clone(),
            name_contains: options.test.clone(),
        };
        print_list(&suites, &selection.cases(&suites));
        if let Some(lab) = options.lab.as_deref().and_then(labs::find)
            && !options.hidden
        {
            let hidden: Vec<&str> = lab
                .tests
                .iter()
                .filter(|test| test.hidden)
                .map(|test| test.name)
                .collect();
            if !hidden.is_empty() {
                println!("  hidden (graded by the staff): {}", hidden.join(", "));
            }
        }
        return ExitCode::SUCCESS;
    }
    let root = repo_root();
    let started = Instant::now();
    let outcomes = match run_tests(&options, &suites, &root, &|outcome| {
        println!("{}", report::outcome_text(outcome))
    }) {
        Ok(outcomes) => outcomes,
        Err(message) => {
            eprintln!("grade: {message}");
            return ExitCode::from(2);
        }
    };
    println!("{}", report::summary_text(&outcomes));
    if let Some(path) = &options.json {
        match report::write_gradescope(path, &outcomes, started.elapsed()) {
            Ok(()) => println!("grade: wrote {}", path.display()),
            Err(error) => {
                eprintln!("grade: cannot write {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    if outcomes.iter().all(|outcome| outcome.passed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--list`: every selected case with its suite and points.
fn print_list(suites: &[Suite], cases: &[TestCase]) {
    for suite in suites {
        let in_suite: Vec<&TestCase> = cases
            .iter()
            .filter(|case| case.suite == suite.name)
            .collect();
        if in_suite.is_empty() {
            continue;
        }
        println!("{}:", suite.name);
        for case in in_suite {
            let needs = case
                .test
                .depends_on
                .map(|name| format!(" (needs {name})"))
                .unwrap_or_default();
            let hidden = if case.test.hidden { " (hidden)" } else { "" };
            let points = match case.test.body {
                crate::test::Body::AllUsertests => format!("{} pts per usertest", case.test.points),
                _ => format!("{} pts", case.test.points),
            };
            println!("  {:<32} {points}{needs}{hidden}", case.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    fn env(accel: Option<&str>, timeout_scale: Option<&str>) -> Environment {
        Environment {
            accel: accel.map(String::from),
            timeout_scale: timeout_scale.map(String::from),
        }
    }

    #[test]
    fn defaults_are_both_kernels_tcg_two_jobs() {
        let options = parse(&[], &Environment::default()).unwrap();
        assert_eq!(options, Options::default());
        assert_eq!(options.kernels, Kernel::ALL.to_vec());
        assert_eq!(options.jobs, 2);
        assert_eq!(options.accel, Accel::Tcg);
    }

    #[test]
    fn every_option_is_parsed() {
        let options = parse(
            &args(
                "--kernel micro --suite boot --test fault --mono-elf a.elf --micro-elf b.elf \
                 --mono-disk a.img --micro-disk b.img --json r.json --accel kvm --icount --jobs 4 --verbose --list",
            ),
            &Environment::default(),
        )
        .unwrap();
        assert_eq!(options.kernels, vec![Kernel::Micro]);
        assert_eq!(options.suite.as_deref(), Some("boot"));
        assert_eq!(options.test.as_deref(), Some("fault"));
        assert_eq!(options.elf, [Some("a.elf".into()), Some("b.elf".into())]);
        assert_eq!(options.disk, [Some("a.img".into()), Some("b.img".into())]);
        assert_eq!(options.json, Some("r.json".into()));
        assert_eq!(options.accel, Accel::Kvm);
        assert!(options.icount && options.verbose && options.list);
        assert_eq!(options.jobs, 4);
        assert_eq!(
            parse(&args("--gradescope"), &Environment::default())
                .unwrap()
                .json,
            Some(report::GRADESCOPE_RESULTS.into())
        );
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(
            parse(&args("--kernel hybrid"), &Environment::default())
                .unwrap_err()
                .contains("mono, micro or both")
        );
        assert!(parse(&args("--jobs 0"), &Environment::default()).is_err());
        assert!(
            parse(&args("--suite"), &Environment::default())
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&args("--frobnicate"), &Environment::default())
                .unwrap_err()
                .contains("unknown option")
        );
        assert!(parse(&[], &env(Some("hvf"), None)).is_err());
        assert_eq!(
            parse(&[], &env(Some("kvm"), None)).unwrap().accel,
            Accel::Kvm
        );
        assert_eq!(
            parse(&[], &env(None, Some("2.5"))).unwrap().timeout_scale,
            2.5
        );
        assert!(parse(&[], &env(None, Some("0"))).is_err());
        assert!(parse(&args("--timeout-scale nan"), &Environment::default()).is_err());
        assert_eq!(
            parse(&args("--timeout-scale 3"), &env(None, Some("2")))
                .unwrap()
                .timeout_scale,
            3.0
        );
    }

    #[test]
    fn labs_and_usertests_are_chosen() {
        let options = parse(&args("--lab syscall --hidden"), &Environment::default()).unwrap();
        assert_eq!(options.lab.as_deref(), Some("syscall"));
        assert!(options.hidden);
        let suites = suites_for(&options).unwrap();
        assert_eq!(suites.len(), 1);
        assert!(suites[0].tests.iter().any(|test| test.hidden));
        let options = parse(&args("--usertest sbrk_grow"), &Environment::default()).unwrap();
        let suites = suites_for(&options).unwrap();
        assert!(matches!(
            suites[0].tests[0].body,
            crate::test::Body::Usertest("sbrk_grow")
        ));
        assert!(
            parse(&args("--lab util --suite boot"), &Environment::default())
                .unwrap_err()
                .contains("choose one")
        );
        let unknown = parse(&args("--lab nonesuch"), &Environment::default()).unwrap();
        assert!(suites_for(&unknown).unwrap_err().contains("no lab named"));
        assert_eq!(
            parse(&args("--lab"), &Environment::default()).unwrap_err(),
            "--lab needs a value"
        );
        // `make grade LAB=` passes an empty name: no lab.
        let empty = parse(
            &["--lab".to_string(), String::new()],
            &Environment::default(),
        );
        assert_eq!(empty.unwrap().lab, None);
    }

    #[test]
    fn default_paths_are_under_build_in_the_root() {
        let root = Path::new("/nonexistent-root");
        let machine = machine_for(Kernel::Micro, &Options::default(), root);
        assert_eq!(machine.kernel_elf, root.join("build/micro-kernel.elf"));
        assert_eq!(machine.disk_image, Some(root.join("build/micro.img")));
        assert_eq!(machine.scratch_dir, root.join("build/grade-tmp"));
    }

    #[test]
    fn repo_root_holds_the_grading_crate() {
        assert!(repo_root().join("grading/Cargo.toml").is_file());
    }
}
