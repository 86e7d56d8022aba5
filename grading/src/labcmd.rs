//! The lab commands of `grade` (`labs/README.md`):
//!
//! ```text
//! grade starter LAB DEST        cut lab LAB's starter tree into DEST (make starter)
//! grade handin [OUT]            pack a student's work in a starter tree (make handin)
//! grade batch DIR [--jobs N]    grade every submission in DIR (make grade-batch)
//! grade self-check [LAB]        full tree: full marks; starter: builds, boots, less (make test-labs)
//! grade check-markers           every LAB marker of the tree is well-formed
//! ```
//!
//! Grading a submission ([`grade_submission`]) happens in a directory of
//! its own under `build/grade-batch/`: the starter is cut again from the
//! course tree at the commit the submission's `.lab` names, the student's
//! patch is applied, the course's copies of the grader and the tests
//! ([`PROTECTED`]) are put back, the tree is built with `make all`, and the
//! lab's tests, hidden ones included, are run on its kernels by this
//! grader.

use crate::cli::{self, Options};
use crate::failure::Failure;
use crate::host;
use crate::labs::{self, LAB_NAMES, Lab};
use crate::qemu::Kernel;
use crate::report;
use crate::runner::{Outcome, Selection};
use crate::starter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The commands this module runs.
pub const COMMANDS: [&str; 6] = [
    "starter",
    "handin",
    "batch",
    "self-check",
    "check-markers",
    "labs",
];

/// The paths of a submission that grading takes from the course tree, not
/// from the student: the grader and the tests (with the hidden ones).
pub const PROTECTED: [&str; 3] = [
    "grading",
    "user/programs/src/usertests",
    "user/programs/src/bin/usertests.rs",
];

/// The longest a submission's `make all` may take.
const BUILD_TIME_LIMIT: Duration = Duration::from_secs(45 * 60);

const USAGE: &str = "\
usage: grade starter LAB DEST       cut lab LAB's starter tree into DEST
       grade handin [OUT]           pack this starter tree's changes (default handin-LAB.tar.gz)
       grade batch DIR [--jobs N]   grade every submission (*.tar.gz, or a directory) in DIR
       grade self-check [LAB]       the full tree scores full marks, the starter builds,
                                    boots and scores less (every lab if none is named)
       grade check-markers          check every LAB marker of the tree
       grade labs                   the labs with graded tests, one name a line";

/// Runs lab command `command` with `args`.
pub fn main(command: &str, args: &[String]) -> ExitCode {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let root = cli::repo_root();
    let result = match (command, args) {
        ("starter", [lab, dest]) => make_starter(&root, lab, Path::new(dest)),
        ("handin", []) => handin(&root, None),
        ("handin", [out]) => handin(&root, Some(Path::new(out))),
        ("batch", [dir, rest @ ..]) => {
            jobs_option(rest).and_then(|jobs| batch(&root, Path::new(dir), jobs))
        }
        ("self-check", [lab]) => self_check(&root, lab),
        ("self-check", []) => self_check_all(&root),
        ("check-markers", []) => check_markers(&root),
        ("labs", []) => {
            crate::labs::all()
                .iter()
                .for_each(|lab| println!("{}", lab.name));
            Ok(true)
        }
        _ => Err(format!("bad arguments\n{USAGE}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("grade {command}: {message}");
            ExitCode::from(2)
        }
    }
}

fn jobs_option(rest: &[String]) -> Result<usize, String> {
    match rest {
        [] => Ok(2),
        [flag, count] if flag == "--jobs" => match count.parse::<usize>() {
            Ok(jobs) if jobs > 0 => Ok(jobs),
            _ => Err(format!("--jobs {count}: expected a positive number")),
        },
        _ => Err(format!("bad arguments\n{USAGE}")),
    }
}

fn known_lab(lab: &str) -> Result<(), String> {
    if LAB_NAMES.contains(&lab) {
        Ok(())
    } else {
        Err(format!(
            "no lab named {lab:?} (labs: {})",
            LAB_NAMES.join(", ")
        ))
    }
}

/// `grade starter LAB DEST`.
fn make_starter(root: &Path, lab: &str, dest: &Path) -> Result<bool, String> {
    known_lab(lab)?;
    let dest = starter::absolute(dest);
    let summary = starter::write_starter(root, lab, &LAB_NAMES, &dest)?;
    println!(
        "starter for lab {lab} in {}: {} files; the lab's code taken out of {}; left out: {}",
        dest.display(),
        summary.files,
        if summary.changed.is_empty() {
            "no file".to_string()
        } else {
            summary.changed.join(", ")
        },
        if summary.left_out.is_empty() {
            "nothing".to_string()
        } else {
            summary.left_out.join(", ")
        }
    );
    println!("next: cd {} and read labs/{lab}/handout.md", dest.display());
    Ok(true)
}

/// The student's changes in the starter tree `tree`, as one binary patch
/// against the commit tagged `starter`: committed or not, new files
/// included, ignored files (build output) not.
pub fn patch_of(tree: &Path) -> Result<String, String> {
    let index = starter::git(tree, &["rev-parse", "--git-path", "handin-index"])?;
    let index = tree.join(index);
    let _ = std::fs::remove_file(&index);
    let index_arg = index.to_string_lossy().to_string();
    let with_index = |args: &[&str]| -> Result<String, String> {
        let output = std::process::Command::new("git")
            .args(args)
            .env("GIT_INDEX_FILE", &index_arg)
            .current_dir(tree)
            .output()
            .map_err(|error| format!("git {}: {error}", args.join(" ")))?;
        if !output.status.success() {
            return Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    with_index(&["add", "-A"])?;
    let patch = with_index(&["diff", "--cached", "--binary", "starter"]);
    let _ = std::fs::remove_file(&index);
    patch
}

/// `grade handin [OUT]`: in a starter tree, packs `handin.patch`, `.lab`
/// and `labs/LAB/answers.md` (if there is one) into `OUT`.
fn handin(root: &Path, out: Option<&Path>) -> Result<bool, String> {
    let lab_text = std::fs::read_to_string(root.join(".lab")).map_err(|_| {
        format!(
            "{} has no .lab: make handin works in a starter tree (make starter LAB=... DEST=...)",
            root.display()
        )
    })?;
    let (lab, _) = starter::parse_lab_file(&lab_text)?;
    let patch = patch_of(root)?;
    let staging = root.join("build/handin");
    let _ = std::fs::remove_dir_all(&staging);
    let folder = staging.join("handin");
    std::fs::create_dir_all(&folder).map_err(|error| error.to_string())?;
    std::fs::write(folder.join("handin.patch"), &patch).map_err(|error| error.to_string())?;
    std::fs::write(folder.join(".lab"), &lab_text).map_err(|error| error.to_string())?;
    let answers = root.join(format!("labs/{lab}/answers.md"));
    if answers.is_file() {
        std::fs::copy(&answers, folder.join("answers.md")).map_err(|error| error.to_string())?;
    }
    let out = out
        .map(starter::absolute)
        .unwrap_or_else(|| root.join(format!("handin-{lab}.tar.gz")));
    let command = format!("tar -czf '{}' handin", out.display());
    host::run(&command, &staging, Duration::from_secs(120))
        .map_err(|failure| failure.to_string())?;
    let files = patch
        .lines()
        .filter(|line| line.starts_with("diff --git"))
        .count();
    println!(
        "wrote {}: {files} changed file{} and {}",
        out.display(),
        if files == 1 { "" } else { "s" },
        if answers.is_file() {
            format!("labs/{lab}/answers.md")
        } else {
            format!("no labs/{lab}/answers.md")
        }
    );
    Ok(true)
}

/// One submission to grade.
#[derive(Clone, Debug)]
pub struct Submission {
    /// Its name: the tarball's or directory's name without `.tar.gz`.
    pub name: String,
    /// The tarball or directory.
    pub path: PathBuf,
}

/// The submissions in `dir`: `*.tar.gz` files and directories (not the
/// `results` folder the batch writes).
pub fn submissions(dir: &Path) -> Result<Vec<Submission>, String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))? {
        let path = entry.map_err(|error| error.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if path.is_dir() && name != "results" && !name.starts_with('.') {
            found.push(Submission { name, path });
        } else if let Some(stem) = name.strip_suffix(".tar.gz") {
            found.push(Submission {
                name: stem.to_string(),
                path,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// What grading one submission gave.
#[derive(Debug)]
pub struct Graded {
    /// The submission.
    pub name: String,
    /// The lab it is for (empty if unknown).
    pub lab: String,
    /// One outcome per test.
    pub outcomes: Vec<Outcome>,
    /// How long it took.
    pub duration: Duration,
}

/// The patch and `.lab` text of a submission, unpacked into `work`.
fn unpack(submission: &Submission, work: &Path) -> Result<(String, String), String> {
    let source = if submission.path.is_dir() {
        submission.path.clone()
    } else {
        let unpacked = work.join("handin");
        std::fs::create_dir_all(&unpacked).map_err(|error| error.to_string())?;
        let command = format!("tar -xzf '{}'", submission.path.display());
        host::run(&command, &unpacked, Duration::from_secs(120)).map_err(|f| f.to_string())?;
        // `make handin` packs a folder `handin/`; accept a flat tarball too.
        if unpacked.join("handin/.lab").is_file() {
            unpacked.join("handin")
        } else {
            unpacked
        }
    };
    let lab_text = std::fs::read_to_string(source.join(".lab"))
        .map_err(|_| format!("{} has no .lab", submission.path.display()))?;
    let patch = if source.join("handin.patch").is_file() {
        std::fs::read_to_string(source.join("handin.patch")).map_err(|error| error.to_string())?
    } else if source.join(".git").exists() {
        patch_of(&source)?
    } else {
        return Err(format!(
            "{} has neither handin.patch nor a git repository",
            submission.path.display()
        ));
    };
    Ok((lab_text, patch))
}

/// Cuts lab `lab`'s starter from the course tree at commit `base` into
/// `tree`.
fn starter_at(root: &Path, lab: &str, base: &str, work: &Path, tree: &Path) -> Result<(), String> {
    let archive = work.join("base");
    std::fs::create_dir_all(&archive).map_err(|error| error.to_string())?;
    let tarball = work.join("base.tar");
    let command = format!(
        "git -C '{}' archive --format=tar -o '{}' {base}",
        root.display(),
        tarball.display()
    );
    host::run(&command, work, Duration::from_secs(300))
        .map_err(|failure| format!("the course tree has no commit {base}: {failure}"))?;
    let command = format!("tar -xf '{}' -C '{}'", tarball.display(), archive.display());
    host::run(&command, work, Duration::from_secs(300)).map_err(|failure| failure.to_string())?;
    let _ = std::fs::remove_file(&tarball);
    let files = starter::tree_files(&archive)?;
    starter::cut_tree(&archive, &files, lab, &LAB_NAMES, tree)?;
    let _ = std::fs::remove_dir_all(&archive);
    Ok(())
}

/// Replaces the [`PROTECTED`] paths of `tree` by the course tree's.
fn restore_protected(root: &Path, tree: &Path) -> Result<(), String> {
    let files = starter::tree_files(root)?;
    for protected in PROTECTED {
        let target = tree.join(protected);
        if target.is_dir() {
            std::fs::remove_dir_all(&target).map_err(|error| error.to_string())?;
        } else {
            let _ = std::fs::remove_file(&target);
        }
        for file in files
            .iter()
            .filter(|file| *file == protected || file.starts_with(&format!("{protected}/")))
        {
            let destination = tree.join(file);
            if let Some(parent) = destination.parent() {
                std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
            }
            if root.join(file).is_file() {
                std::fs::copy(root.join(file), &destination)
                    .map_err(|error| format!("{file}: {error}"))?;
            }
        }
    }
    Ok(())
}

/// Builds the tree at `tree` with `make all`: `Err` with the compiler's
/// errors if it does not build.
pub fn build(tree: &Path) -> Result<(), String> {
    build_with(tree, "")
}

/// How the self-check builds a starter: without link-time optimisation,
/// with parallel code generation and without debug information. The
/// starter is checked for what it does (it builds, boots, and fails the
/// lab's tests), not for its speed, and this build takes a fraction of the
/// release build's time, which `make test-labs` pays once per lab.
/// Students' hand-ins are built as the course tree is ([`build`]): a lab
/// may grade a figure.
const QUICK_BUILD: &str = "CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
                           CARGO_PROFILE_RELEASE_DEBUG=false";

/// [`build`] with `environment` (`NAME=value ...`) set for make.
fn build_with(tree: &Path, environment: &str) -> Result<(), String> {
    // A make of its own, not a sub-make of `make grade-batch`.
    let command = format!("env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS {environment} make all");
    let (status, output) = host::run_status(&command, tree, BUILD_TIME_LIMIT)
        .map_err(|failure| failure.to_string())?;
    let _ = std::fs::create_dir_all(tree.join("build"));
    let _ = std::fs::write(tree.join("build/make-all.log"), &output);
    if status == Some(0) {
        return Ok(());
    }
    Err(build_errors(&output))
}

/// The compiler's error messages in `make`'s output (each `error` line
/// with the lines after it that show where), or its last lines.
pub fn build_errors(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut shown = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.starts_with("error") {
            shown.extend(lines[index..].iter().take(12).take_while(|l| !l.is_empty()));
            shown.push("");
        }
        if shown.len() > 60 {
            break;
        }
    }
    if shown.is_empty() {
        shown = lines[lines.len().saturating_sub(20)..].to_vec();
    }
    format!(
        "the submission does not build (make all):\n{}",
        host::last_lines(&shown.join("\n"), 80)
    )
}

/// Options that grade a lab's tests, hidden ones included, `jobs` at a
/// time.
fn options_for(lab: &str, jobs: usize) -> Options {
    Options {
        lab: Some(lab.to_string()),
        hidden: true,
        jobs,
        ..cli::parse(&[], &cli::Environment::from_process()).unwrap_or_default()
    }
}

/// Every test of `lab` (hidden ones included) failed for `why`.
fn all_failed(lab: &Lab, why: &str) -> Vec<Outcome> {
    let suite = lab.suite(true);
    Selection::default()
        .cases(std::slice::from_ref(&suite))
        .iter()
        .map(|case| {
            Outcome::named(
                case.name(),
                case,
                case.test.points,
                Err(Failure::Setup(why.to_string())),
                Duration::ZERO,
                None,
            )
        })
        .collect()
}

/// Grades one submission in `work` (made empty first).
pub fn grade_submission(root: &Path, submission: &Submission, work: &Path) -> Graded {
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(work);
    let graded = |lab: &str, outcomes| Graded {
        name: submission.name.clone(),
        lab: lab.to_string(),
        outcomes,
        duration: started.elapsed(),
    };
    let prepared = std::fs::create_dir_all(work)
        .map_err(|error| error.to_string())
        .and_then(|()| unpack(submission, work))
        .and_then(|(lab_text, patch)| {
            let (lab, base) = starter::parse_lab_file(&lab_text)?;
            Ok((lab, base, patch))
        });
    let (lab_name, base, patch) = match prepared {
        Ok(prepared) => prepared,
        Err(why) => {
            let outcomes = vec![failed_outcome(&submission.name, &why)];
            return graded("", outcomes);
        }
    };
    let Some(lab) = labs::find(&lab_name) else {
        let why = format!("no lab named {lab_name:?} has tests");
        return graded(&lab_name, vec![failed_outcome(&submission.name, &why)]);
    };
    let tree = work.join("tree");
    let ready = starter_at(root, &lab_name, &base, work, &tree)
        .and_then(|()| apply_patch(&tree, work, &patch))
        .and_then(|()| restore_protected(root, &tree))
        .and_then(|()| build(&tree));
    if let Err(why) = ready {
        return graded(&lab_name, all_failed(&lab, &why));
    }
    // Submissions are graded `--jobs` at a time: one test at a time each.
    let outcomes = grade_tree(&tree, &lab, &submission.name, 1);
    graded(&lab_name, outcomes)
}

/// A failure outcome for a submission that could not even be read.
fn failed_outcome(name: &str, why: &str) -> Outcome {
    Outcome {
        name: format!("{name}: submission"),
        suite: "batch",
        max_points: 0,
        points: 0,
        result: Err(Failure::Setup(why.to_string())),
        duration: Duration::ZERO,
        log: None,
        hidden: false,
    }
}

fn apply_patch(tree: &Path, work: &Path, patch: &str) -> Result<(), String> {
    if patch.trim().is_empty() {
        return Ok(());
    }
    let file = work.join("handin.patch");
    std::fs::write(&file, patch).map_err(|error| error.to_string())?;
    // A repository of its own: inside another one (the course tree's
    // build/), `git apply` would take paths relative to that one's root
    // and silently skip every file.
    starter::git(tree, &["init", "-q"])?;
    let command = format!(
        "git apply --binary --whitespace=nowarn '{}'",
        file.display()
    );
    host::run(&command, tree, Duration::from_secs(120))
        .map(|_| ())
        .map_err(|failure| format!("the patch does not apply to the starter: {failure}"))
}

/// Runs `lab`'s tests (hidden included) on the kernels built in `tree`,
/// `jobs` at a time, printing each line prefixed with `who`.
fn grade_tree(tree: &Path, lab: &Lab, who: &str, jobs: usize) -> Vec<Outcome> {
    let options = options_for(lab.name, jobs);
    let suites = vec![lab.suite(true)];
    let print = |outcome: &Outcome| {
        for line in report::outcome_text(outcome).lines().take(3) {
            println!("[{who}] {line}");
        }
    };
    cli::run_tests(&options, &suites, tree, &print).unwrap_or_default()
}

/// `grade batch DIR`: grades every submission, `jobs` at a time; writes
/// `DIR/grades.csv` and `DIR/results/NAME.json`.
fn batch(root: &Path, dir: &Path, jobs: usize) -> Result<bool, String> {
    let all = submissions(dir)?;
    if all.is_empty() {
        return Err(format!(
            "no submission (*.tar.gz or directory) in {}",
            dir.display()
        ));
    }
    println!(
        "grade batch: {} submission{}, {jobs} at a time, in {}",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        root.join("build/grade-batch").display()
    );
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Graded>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(all.len()) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(submission) = all.get(index) else {
                        return;
                    };
                    let work = root.join("build/grade-batch").join(&submission.name);
                    let graded = grade_submission(root, submission, &work);
                    let (earned, available) = report::score(&graded.outcomes);
                    println!(
                        "[{}] lab {}: {earned}/{available} ({}s)",
                        graded.name,
                        graded.lab,
                        graded.duration.as_secs()
                    );
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(graded);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let results_dir = dir.join("results");
    std::fs::create_dir_all(&results_dir).map_err(|error| error.to_string())?;
    let mut csv = String::from("submission,test,points,max\n");
    for graded in &results {
        csv.push_str(&csv_rows(graded));
        let path = results_dir.join(format!("{}.json", graded.name));
        report::write_gradescope(&path, &graded.outcomes, graded.duration)
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    let csv_path = dir.join("grades.csv");
    std::fs::write(&csv_path, csv).map_err(|error| format!("{}: {error}", csv_path.display()))?;
    println!(
        "grade batch: wrote {} and {}",
        csv_path.display(),
        results_dir.display()
    );
    Ok(true)
}

/// A field of the CSV, quoted if it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The CSV rows of one graded submission: one per test, then `TOTAL`.
pub fn csv_rows(graded: &Graded) -> String {
    let name = csv_field(&graded.name);
    let mut rows = String::new();
    for outcome in &graded.outcomes {
        rows.push_str(&format!(
            "{name},{},{},{}\n",
            csv_field(&outcome.name),
            outcome.points,
            outcome.max_points
        ));
    }
    let (earned, available) = report::score(&graded.outcomes);
    rows.push_str(&format!("{name},TOTAL,{earned},{available}\n"));
    rows
}

/// `grade self-check LAB`: the full tree (built already) scores full marks
/// on the lab's tests, hidden ones included; the lab's starter, cut from
/// the work tree into `build/labs-check/tree/`, builds ([`QUICK_BUILD`]),
/// boots both kernels and scores less.
///
/// Every lab's starter is cut into that same folder, over the last one,
/// and its build outputs are kept: only the files that differ between
/// the two starters change, so a starter after the first rebuilds only
/// what they touch (a fresh build per lab made `make test-labs` several
/// times longer).
fn self_check(root: &Path, lab_name: &str) -> Result<bool, String> {
    let lab = labs::find(lab_name).ok_or_else(|| format!("no lab named {lab_name:?} has tests"))?;
    let max = lab.max_points();
    println!("self-check {lab_name}: the full tree");
    let full = grade_tree(root, &lab, "full", 2);
    let (full_score, _) = report::score(&full);
    let full_ok = full_score == max && full.iter().all(Outcome::passed);
    println!("self-check {lab_name}: full tree {full_score}/{max}");

    let work = root.join("build/labs-check");
    let tree = work.join("tree");
    let files = starter::tree_files(root)?;
    starter::cut_tree(root, &files, lab_name, &LAB_NAMES, &tree)?;
    println!(
        "self-check {lab_name}: building the starter in {}",
        tree.display()
    );
    let started = Instant::now();
    if let Err(errors) = build_with(&tree, QUICK_BUILD) {
        println!("self-check {lab_name}: FAIL: the starter does not build\n{errors}");
        return Ok(false);
    }
    println!(
        "self-check {lab_name}: the starter built in {}s",
        started.elapsed().as_secs()
    );
    let boot_options = Options {
        suite: Some("boot".to_string()),
        test: Some("boot/".to_string()),
        ..options_for(lab_name, 2)
    };
    let boot_options = Options {
        lab: None,
        ..boot_options
    };
    let boots = cli::run_tests(&boot_options, &crate::suites::all(), &tree, &|outcome| {
        println!("[starter] {}", report::outcome_text(outcome))
    })?;
    let booted = Kernel::ALL.iter().all(|kernel| {
        boots
            .iter()
            .any(|o| o.passed() && o.name.ends_with(kernel.name()))
    });
    let starter = grade_tree(&tree, &lab, "starter", 2);
    let (starter_score, _) = report::score(&starter);
    println!("self-check {lab_name}: starter {starter_score}/{max}");
    let ok = full_ok && booted && starter_score < max;
    println!(
        "self-check {lab_name}: {}",
        match (full_ok, booted, starter_score < max) {
            (true, true, true) => "PASS".to_string(),
            (false, _, _) =>
                format!("FAIL: the full tree scores {full_score}/{max}, not full marks"),
            (_, false, _) => "FAIL: the starter does not boot both kernels".to_string(),
            (_, _, false) =>
                "FAIL: the starter scores full marks: the tests test nothing".to_string(),
        }
    );
    Ok(ok)
}

/// `grade self-check` without a lab: every lab, one after the other.
fn self_check_all(root: &Path) -> Result<bool, String> {
    let mut failed = Vec::new();
    let labs = labs::all();
    for lab in &labs {
        if !self_check(root, lab.name)? {
            failed.push(lab.name);
        }
    }
    let passed = labs.len() - failed.len();
    if !failed.is_empty() {
        println!("self-check failed for: {}", failed.join(", "));
    }
    println!("{passed} passed, {} failed", failed.len());
    Ok(failed.is_empty())
}

/// `grade check-markers`.
fn check_markers(root: &Path) -> Result<bool, String> {
    let errors = starter::check_tree(root, &LAB_NAMES)?;
    for error in &errors {
        eprintln!("{error}");
    }
    if errors.is_empty() {
        println!("every LAB marker is well-formed");
    }
    Ok(errors.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_errors_quote_the_compiler() {
        let output = "   Compiling ulib\nerror[E0425]: cannot find value `x`\n  --> src/a.rs:3:5\n   |\n\nwarning: unused\nmake: *** [Makefile:9: user] Error 101\n";
        let text = build_errors(output);
        assert!(text.contains("does not build"), "{text}");
        assert!(
            text.contains("E0425") && text.contains("src/a.rs:3:5"),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");
        assert!(build_errors("just\nnoise\n").contains("noise"));
    }

    #[test]
    fn csv_rows_end_with_a_total() {
        let outcome = |name: &str, points| Outcome {
            name: name.to_string(),
            suite: "util",
            max_points: 5,
            points,
            result: Ok(()),
            duration: Duration::ZERO,
            log: None,
            hidden: false,
        };
        let graded = Graded {
            name: "alice, b".to_string(),
            lab: "util".to_string(),
            outcomes: vec![outcome("primes/mono", 5), outcome("find/mono", 0)],
            duration: Duration::ZERO,
        };
        assert_eq!(
            csv_rows(&graded),
            "\"alice, b\",primes/mono,5,5\n\"alice, b\",find/mono,0,5\n\"alice, b\",TOTAL,5,10\n"
        );
    }

    #[test]
    fn submissions_are_tarballs_and_directories() {
        let dir = std::env::temp_dir().join(format!("grading-subs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bob")).unwrap();
        std::fs::create_dir_all(dir.join("results")).unwrap();
        std::fs::write(dir.join("alice.tar.gz"), b"").unwrap();
        std::fs::write(dir.join("grades.csv"), b"").unwrap();
        let names: Vec<String> = submissions(&dir)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_patch_applies_to_a_tree_inside_another_repository() {
        let outer = std::env::temp_dir().join(format!("grading-apply-{}", std::process::id()));
        let tree = outer.join("build/tree");
        std::fs::create_dir_all(&tree).unwrap();
        starter::git(&outer, &["init", "-q"]).unwrap();
        std::fs::write(tree.join("a.txt"), "one\n").unwrap();
        let patch =
            "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n";
        apply_patch(&tree, &outer, patch).unwrap();
        assert_eq!(
            std::fs::read_to_string(tree.join("a.txt")).unwrap(),
            "two\n"
        );
        assert!(apply_patch(&tree, &outer, patch).is_err(), "applied twice");
        std::fs::remove_dir_all(&outer).unwrap();
    }

    #[test]
    fn the_repository_markers_are_well_formed() {
        let root = cli::repo_root();
        let errors = starter::check_tree(&root, &LAB_NAMES).unwrap();
        assert!(
            errors.is_empty(),
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
