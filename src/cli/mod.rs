//! Command-line definitions and dispatch.

mod compare_cmd;
mod emulate_cmd;
mod index_cmd;
mod outputs;
mod run;
#[cfg(unix)]
pub mod supervise;
/// Windows: `run` in one process. The supervisor (`supervise.rs`) bounds
/// the exit when a FUSE server stops answering, which Windows has no case
/// of here.
#[cfg(not(unix))]
pub mod supervise {
    /// Runs `args` through `run_cli`.
    pub fn dispatch(args: Vec<String>, run_cli: fn(Vec<String>) -> u8) -> u8 {
        run_cli(args)
    }

    /// The path that starts this same binary.
    pub fn this_binary() -> Option<std::path::PathBuf> {
        std::env::current_exe().ok()
    }
}

use std::path::PathBuf;

use anyhow::Result;
use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};
use unlink_race::scenario::{CreateFlags, Delete, Pace, Race, Recreate, Workers};

/// Exit code: no anomaly / no difference.
pub const EXIT_OK: u8 = 0;
/// Exit code: an anomaly was seen / reports differ.
pub const EXIT_FOUND: u8 = 1;
/// Exit code: usage or environment error.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: interrupted by SIGINT or SIGTERM.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A stop signal cut the command short (an output still waiting for its
/// reader): the exit code is [`EXIT_INTERRUPTED`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Stopped(pub String);

#[derive(Parser, Debug)]
#[command(
    name = "unlink-race",
    version,
    about = "Hunts the open/unlink race (dead descriptors on macOS APFS) and measures how often it bites",
    after_help = "Exit codes: 0 no anomaly, 1 anomaly seen (compare: reports differ), 2 usage or environment error, 130 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Race readers against deleters and count every outcome.
    Run(RunArgs),
    /// Mount zombiefs: a passthrough FUSE filesystem that emulates the macOS defect (runs until Ctrl-C or umount).
    #[cfg(all(feature = "zombiefs", target_os = "linux"))]
    Zombiefs(ZombiefsArgs),
    /// Not in this build: says how to get it instead of "unrecognized subcommand".
    #[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
    #[command(hide = true, disable_help_flag = true)]
    Zombiefs {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Run your own command with its temp dir on zombiefs (Linux), and say which defects it was served; exits with the command's status.
    Emulate(EmulateArgs),
    /// Compare reports from different machines or runs, scenario by scenario.
    Compare(CompareArgs),
    /// Put reports (files, or directories of them) side by side: the page `cargo bench` writes as reports/index.html, and Markdown.
    Index(IndexArgs),
    /// Show the scenarios `cargo bench` would run with the UNLINK_RACE_* settings in the environment.
    Grid,
}

/// What `unlink-race zombiefs` says in a build without it.
#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
const ZOMBIEFS_MISSING: &str = if cfg!(target_os = "linux") {
    "error: unlink-race zombiefs is not in this build: build it with \
     `cargo build --release --features zombiefs` (needs the FUSE library: fuse3, libfuse3-dev)"
} else {
    "error: unlink-race zombiefs runs on Linux only (a FUSE filesystem that emulates the \
     macOS defect); build it there with `cargo build --release --features zombiefs`"
};

/// The names of a closed set, as a parser that lists them in `--help` and in
/// the error for a name not in the set.
macro_rules! named {
    ($ty:ty) => {
        clap::builder::PossibleValuesParser::new(<$ty>::ALL.iter().map(|v| v.name()))
            .map(|s| s.parse::<$ty>().expect("every listed name parses"))
    };
}

/// The names of a closed set spelled two ways (`creat-excl` on the command
/// line, `creat_excl` in reports): `--help` lists the first, both parse.
macro_rules! two_spellings {
    ($ty:ty) => {
        clap::builder::PossibleValuesParser::new(<$ty>::ALL.iter().map(|v| {
            let value = clap::builder::PossibleValue::new(v.name());
            if v.report_name() == v.name() {
                value
            } else {
                value.alias(v.report_name())
            }
        }))
        .map(|s| s.parse::<$ty>().expect("every listed name parses"))
    };
}

/// Flags of `unlink-race run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// What to race: open-unlink (readers open and recreate one file while
    /// deleters remove it) or create (creators all create one fresh name
    /// together, round after round: the race reported on current macOS; see
    /// docs/create-race.md). [default: open-unlink]
    #[arg(long, value_parser = two_spellings!(Race))]
    pub race: Option<Race>,
    /// Reader workers (1..=256; open-unlink race). [default: 1]
    #[arg(long, value_parser = parse_readers, allow_negative_numbers = true)]
    pub readers: Option<u32>,
    /// Deleter workers (0..=256; open-unlink race). [default: 1]
    #[arg(long, value_parser = parse_deleters, allow_negative_numbers = true)]
    pub deleters: Option<u32>,
    /// Creators (2..=256; create race). [default: 4]
    #[arg(long, value_parser = parse_creators, allow_negative_numbers = true)]
    pub creators: Option<u32>,
    /// The creators' open flags (create race): creat (O_CREAT, the reported
    /// defect), creat-trunc (O_CREAT|O_TRUNC) or creat-excl (O_CREAT|O_EXCL,
    /// the control: one winner a round, EEXIST for the others). [default: creat]
    #[arg(long, value_parser = two_spellings!(CreateFlags))]
    pub create_flags: Option<CreateFlags>,
    /// File size in bytes, with K or M suffix (1 byte .. 64M). 7 writes the seed's `CONTENT`.
    #[arg(long, default_value = "7", value_parser = parse_file_size, allow_negative_numbers = true)]
    pub size: u64,
    /// How a reader recreates the file after ENOENT (open-unlink race): inplace (O_CREAT|O_TRUNC + write) or atomic (temp file + rename). [default: inplace]
    #[arg(long, value_parser = named!(Recreate))]
    pub recreate: Option<Recreate>,
    /// How a deleter removes the file (open-unlink race): unlink, trash (rename into a trash dir, then unlink), replace (rename a fresh file over it) or, on Windows, posix (POSIX-semantics delete). [default: unlink]
    #[arg(long, value_parser = named!(Delete))]
    pub delete: Option<Delete>,
    /// Windows: open the race's files without FILE_SHARE_DELETE, so that a delete or rename of an open file fails with a sharing violation.
    #[arg(long)]
    pub no_share_delete: bool,
    /// Run workers as threads or as child processes.
    #[arg(long, default_value = "threads", value_parser = named!(Workers))]
    pub workers: Workers,
    /// Deleter pacing (open-unlink race): spin, check, yield, sleep, aimed, or auto (a short
    /// calibration picks the one that races the most opens per second). [default: auto]
    #[arg(long, value_parser = named!(Pace))]
    pub pace: Option<Pace>,
    /// Directory to race in (a private scratch directory is created inside it). Default: the system temp dir. Give it more than once to run in each directory in turn, one report each (--json out.json writes out-<label>.json per directory).
    #[arg(long)]
    pub dir: Vec<PathBuf>,
    /// Two views of one directory: another path to the --dir directory (a FUSE mount's backing directory, another client's mount). Readers open and recreate through --dir, deleters remove through this one; both are checked to be the same directory first. With several --dir, one --other-side each, in the same order.
    #[arg(long, value_name = "DIR")]
    pub other_side: Vec<PathBuf>,
    /// With two views (--other-side or --role): deleters also recreate the file through their side after each removal.
    #[arg(long)]
    pub deleters_recreate: bool,
    /// Two views in two processes, for when no one process sees both paths (a container and its host): `reader` races the readers in --dir and waits for a `deleter`, started on the other side with its own path to the same directory as its --dir. The deleter takes the scenario from the reader; the reader writes the report.
    #[arg(long, value_parser = named!(RoleArg))]
    pub role: Option<RoleArg>,
    /// With --role: how long one side waits for the other to join (seconds, or with s/m/h).
    #[arg(long, default_value = "60", value_parser = parse_duration)]
    pub role_wait: std::time::Duration,
    /// Stop after this many reader cycles in total (with --trials: over all trials).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub cycles: Option<u64>,
    /// Stop after this long (seconds, or with s/m/h: 90s, 10m, 1h). Without any stop flag a run lasts 10 s.
    #[arg(long, value_parser = parse_duration, allow_negative_numbers = true)]
    pub duration: Option<std::time::Duration>,
    /// Stop after this many anomalies (with --trials: after this many trials that found one).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub until: Option<u64>,
    /// Run this many trials, each until its first anomaly or --trial-cycles, to measure cycles to the first anomaly.
    #[arg(long, value_parser = parse_positive_u32, allow_negative_numbers = true)]
    pub trials: Option<u32>,
    /// Cycle cap of one trial (a trial that reaches it is censored).
    #[arg(long, default_value_t = 1_000_000, value_parser = parse_positive, allow_negative_numbers = true)]
    pub trial_cycles: u64,
    /// Write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Full examples kept per anomaly class.
    #[arg(long, default_value_t = 5, value_parser = parse_u32, allow_negative_numbers = true)]
    pub examples: u32,
    /// A syscall step slower than this counts as a stall (seconds, or with s/m/h).
    #[arg(long, default_value = "10", value_parser = parse_duration, allow_negative_numbers = true)]
    pub stall_timeout: std::time::Duration,
    /// Label for the report (default: <os>-<os_version>-<fs_type>-<hostname>).
    #[arg(long, value_parser = parse_label)]
    pub label: Option<String>,
    /// No live progress line (it is off anyway when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// Which side of two views a process runs (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleArg {
    Reader,
    Deleter,
}

impl RoleArg {
    pub const ALL: &'static [RoleArg] = &[RoleArg::Reader, RoleArg::Deleter];

    pub fn name(self) -> &'static str {
        match self {
            RoleArg::Reader => "reader",
            RoleArg::Deleter => "deleter",
        }
    }
}

impl std::str::FromStr for RoleArg {
    type Err = String;
    fn from_str(s: &str) -> Result<RoleArg, String> {
        RoleArg::ALL
            .iter()
            .copied()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role '{s}' (expected one of: reader deleter)"))
    }
}

/// The `run` flags given on the command line (not left at their defaults).
fn run_flags_given(args: &[String]) -> Vec<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    let flags: Vec<String> = command
        .find_subcommand("run")
        .map(|run| {
            run.get_arguments()
                .map(|a| a.get_id().as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let Ok(matches) = command.try_get_matches_from(args) else {
        return Vec::new();
    };
    let Some(("run", run)) = matches.subcommand() else {
        return Vec::new();
    };
    flags
        .iter()
        .filter(|id| run.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.replace('_', "-"))
        .collect()
}

/// Flags of `unlink-race zombiefs`.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
#[derive(Args, Debug, Clone)]
struct ZombiefsArgs {
    /// Directory whose content the mount passes through to.
    #[arg(long)]
    pub backing: PathBuf,
    /// Where to mount.
    pub mountpoint: PathBuf,
    /// Fraction of races that get the defect (0..=1), for every symptom: racing
    /// opens, creates unlinked before their first write, creates racing creates;
    /// the others behave as Linux does.
    #[arg(long, default_value = "1", value_parser = parse_probability, allow_negative_numbers = true)]
    pub probability: f64,
    /// Fraction of racing opens that get a zombie (fstat gives st_ino 0); overrides --probability.
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub open_probability: Option<f64>,
    /// Fraction of racing creates (unlinked before their first write) whose writes fail
    /// with EINVAL; overrides --probability.
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub write_probability: Option<f64>,
    /// Fraction of creates that race another create of the same name answered with a
    /// spurious ENOENT (current macOS's defect: see docs/create-race.md); overrides --probability.
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub create_race_probability: Option<f64>,
    /// Hold every CREATE this many milliseconds before it answers: Linux keeps the
    /// directory locked meanwhile, so every other create of the name overlaps it.
    #[arg(long, default_value_t = 0, value_parser = parse_u64, allow_negative_numbers = true)]
    pub hold_creates_ms: u64,
    /// Delay every Nth operation by this many milliseconds (to exercise the stall watchdog).
    #[arg(long, default_value_t = 0, value_parser = parse_u64, allow_negative_numbers = true)]
    pub stall_ms: u64,
    /// Which operations --stall-ms delays: every Nth one.
    #[arg(long, default_value_t = 0, value_parser = parse_u64, allow_negative_numbers = true)]
    pub stall_every: u64,
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
fn parse_probability(s: &str) -> Result<f64, String> {
    unlink_race::zombiefs::parse_probability(s).map_err(|e| e.to_string())
}

/// `unlink-race zombiefs`: mount in the foreground until SIGINT/SIGTERM or umount.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
fn zombiefs(args: &ZombiefsArgs) -> Result<u8> {
    use unlink_race::zombiefs::{Options, STATS_FILE, run_foreground_with};
    let options = Options {
        open_probability: args.open_probability.unwrap_or(args.probability),
        write_probability: args.write_probability.unwrap_or(args.probability),
        create_race_probability: args.create_race_probability.unwrap_or(args.probability),
        create_hold_ms: args.hold_creates_ms,
        ..Options::new(args.probability, args.stall_ms, args.stall_every)?
    };
    options.validate()?;
    for (what, dir) in [
        ("--backing", &args.backing),
        ("mountpoint", &args.mountpoint),
    ] {
        check_dir(what, dir)?;
    }
    // A mount point inside the backing directory (or the backing inside the
    // mount point) is refused, by device and inode, before anything is said.
    unlink_race::zombiefs::check_placement(&args.backing, &args.mountpoint)?;
    let stats = run_foreground_with(&args.backing, &args.mountpoint, options, || {
        eprintln!(
            "zombiefs: {} -> {} (ground truth in {}/{STATS_FILE}); Ctrl-C or umount to stop",
            args.backing.display(),
            args.mountpoint.display(),
            args.mountpoint.display()
        )
    })?;
    print_stdout(&format!("{}\n", stats.to_json()))?;
    Ok(EXIT_OK)
}

/// Flags of `unlink-race emulate`.
#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Exit status: CMD's own (128+n when signal n ended it); 124 --timeout ended it; \
                  126 CMD cannot run, 127 not found; 128+n emulate was stopped by signal n; \
                  125 emulate itself failed (bad flags, no FUSE)."
)]
pub struct EmulateArgs {
    /// Fraction of races that get the defect (0..=1), for every symptom: racing
    /// opens, racing creates, creates racing creates; the others behave as Linux does.
    #[arg(long, default_value = "1", value_parser = parse_fraction, allow_negative_numbers = true)]
    pub probability: f64,
    /// Fraction of racing opens that get a zombie descriptor; overrides --probability.
    #[arg(long, value_parser = parse_fraction, allow_negative_numbers = true)]
    pub open_probability: Option<f64>,
    /// Fraction of racing creates (unlinked before their first write) whose writes
    /// fail with EINVAL; overrides --probability.
    #[arg(long, value_parser = parse_fraction, allow_negative_numbers = true)]
    pub write_probability: Option<f64>,
    /// Fraction of creates that race another create of the same name answered with a
    /// spurious ENOENT (current macOS's defect); overrides --probability.
    #[arg(long, value_parser = parse_fraction, allow_negative_numbers = true)]
    pub create_race_probability: Option<f64>,
    /// Seed of the draws at a probability below 1: the same seed draws the same sequence.
    #[arg(long)]
    pub seed: Option<u64>,
    /// End CMD after this long (seconds, or with s/m/h): SIGTERM to its process
    /// group, SIGKILL after --kill-after; exit status 124.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// How long CMD's process group has after a signal (Ctrl-C, --timeout, CMD's
    /// own end) before SIGKILL.
    #[arg(long, default_value = "5", value_parser = parse_duration)]
    pub kill_after: std::time::Duration,
    /// Run CMD with its working directory in the mount.
    #[arg(long)]
    pub cwd: bool,
    /// Mount zombiefs over DIR itself (its files stay there, TMPDIR is left as it
    /// is) instead of a private temp dir.
    #[arg(long, value_name = "DIR", conflicts_with = "backing_dir")]
    pub path: Option<PathBuf>,
    /// Make the private directory (backing store and mount point, removed at the
    /// end) under DIR. Default: the system temp dir.
    #[arg(long, value_name = "DIR")]
    pub backing_dir: Option<PathBuf>,
    /// Write what CMD was served (counts, files, exit) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The command and its arguments, after `--`.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// A fraction in `[0, 1]`.
fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a number between 0 and 1")),
    }
}

/// Flags of `unlink-race compare`.
#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// Two or more JSON reports.
    #[arg(required = true, num_args = 2.., value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// The report the others are compared with (one of REPORT; default: the first).
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Also write the comparison as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the comparison as Markdown (GitHub pipe tables).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Significance level of the Holm-adjusted tests, below 0.5; intervals are shown at 1 − α (95%
    /// by default), the equivalence test's at 1 − 2α.
    #[arg(long, default_value_t = unlink_race::compare::DEFAULT_ALPHA, value_parser = parse_alpha, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Equivalence margin M: `same` needs the rate ratio's 1 − 2α interval (90% by default) inside
    /// [1/M, M].
    #[arg(long, value_name = "M", default_value_t = unlink_race::compare::DEFAULT_MARGIN, value_parser = parse_margin, allow_negative_numbers = true)]
    pub margin: f64,
    /// A per-cycle rate below which two runs are `same` when both upper bounds (at 1 − α, 95% by
    /// default) are under it (the only way to `same` with zero counts).
    #[arg(long, value_name = "RATE", value_parser = parse_negligible, allow_negative_numbers = true)]
    pub negligible: Option<f64>,
}

fn parse_margin(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(m) if m > 1.0 && m.is_finite() => Ok(m),
        _ => Err(format!(
            "'{s}' is not a margin above 1 (e.g. 2: within a factor of 2)"
        )),
    }
}

fn parse_negligible(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 1.0 => Ok(r),
        _ => Err(format!(
            "'{s}' is not a rate per cycle between 0 and 1 (e.g. 1e-6)"
        )),
    }
}

/// Flags of `unlink-race index`.
#[derive(Args, Debug, Clone)]
pub struct IndexArgs {
    /// JSON reports, or directories whose report JSONs are all taken (in name order).
    #[arg(required = true, value_name = "DIR_OR_REPORT")]
    pub inputs: Vec<PathBuf>,
    /// The report the verdict column compares with (one of the reports; default: the first).
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Write the side-by-side page here (links to each report's HTML beside its JSON).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the same matrix as Markdown (GitHub pipe tables); without --html or --markdown it goes to stdout.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

fn parse_label(s: &str) -> Result<String, String> {
    unlink_race::report::machine::check_label(s)
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(a) if a > 0.0 && a < 0.5 => Ok(a),
        _ => Err(format!(
            "'{s}' is not a significance level between 0 and 0.5 (e.g. 0.05; the equivalence test \
             needs the 1 − 2α interval)"
        )),
    }
}

fn parse_file_size(s: &str) -> Result<u64, String> {
    unlink_race::scenario::parse_file_size(s)
}

fn parse_readers(s: &str) -> Result<u32, String> {
    let n = s.trim().parse::<u32>().map_err(|_| not_a_count(s, 1))?;
    unlink_race::scenario::check_readers(n).map_err(|e| e.to_string())
}

fn parse_creators(s: &str) -> Result<u32, String> {
    let n = parse_u32(s)?;
    unlink_race::scenario::check_creators(n).map_err(|e| e.to_string())
}

fn parse_deleters(s: &str) -> Result<u32, String> {
    let n = parse_u32(s)?;
    unlink_race::scenario::check_deleters(n).map_err(|e| e.to_string())
}

#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
fn parse_u64(s: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| not_a_count(s, 0))
}

fn parse_u32(s: &str) -> Result<u32, String> {
    s.trim().parse::<u32>().map_err(|_| not_a_count(s, 0))
}

/// Why `s` is not a count of `least` or more: negative, too large, or not
/// a whole number at all.
fn not_a_count(s: &str, least: u64) -> String {
    match s.trim().parse::<i128>() {
        Ok(n) if n < 0 => format!("'{s}' is negative: give a whole number of {least} or more"),
        Ok(_) => format!("'{s}' is too large"),
        Err(_) => format!("'{s}' is not a whole number"),
    }
}

fn parse_positive(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(not_a_count(s, 1)),
    }
}

fn parse_positive_u32(s: &str) -> Result<u32, String> {
    let n = parse_positive(s)?;
    u32::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    unlink_race::scenario::parse_duration(s).map_err(|e| e.to_string())
}

/// `error: …` with the error's causes, on one line.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = format!("error: {e}");
    for cause in e.chain().skip(1) {
        // Many errors already print their source; say it once.
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(&format!(": {cause}"));
        }
    }
    line
}

/// Fails with `FLAG DIR: does not exist` (or `is not a directory`, or what
/// its filesystem answers: a FUSE mount whose server is gone is `Transport
/// endpoint is not connected`).
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
pub fn check_dir(flag: &str, dir: &std::path::Path) -> Result<()> {
    if let Err(why) = unlink_race::harness::directory_problem(dir) {
        anyhow::bail!("{flag} {}: {why}", dir.display());
    }
    Ok(())
}

/// Prints to stdout. A closed pipe (`| head`) is the reader's choice and not
/// an error; any other failure (a full disk, a closed descriptor) is.
/// Control characters in it are shown escaped (a label or a path from a
/// report must not drive the terminal).
pub fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let text = unlink_race::export::terminal::clean(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Parses `args` and runs the command.
pub fn run(args: Vec<String>) -> Result<u8> {
    let given = run_flags_given(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print_stdout(&e.to_string())?;
                return Ok(EXIT_OK);
            }
            // emulate's own failures must not look like its command's.
            let failed = if args.get(1).map(String::as_str) == Some("emulate") {
                emulate_cmd::EXIT_EMULATE_ERROR
            } else {
                EXIT_ERROR
            };
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprint!("{e}");
                return Ok(failed);
            }
            // clap's first paragraph names the flag and the problem; the rest
            // is usage and hints. Said on one line.
            let text = e.to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            eprintln!("{}", first.join(" "));
            return Ok(failed);
        }
    };
    match cli.command {
        Command::Run(args) => run::run(&args, &given),
        Command::Grid => grid(),
        Command::Compare(args) => compare_cmd::run(&args),
        Command::Index(args) => index_cmd::run(&args),
        Command::Emulate(args) => Ok(emulate_cmd::run(&args)),
        #[cfg(all(feature = "zombiefs", target_os = "linux"))]
        Command::Zombiefs(args) => zombiefs(&args),
        #[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
        Command::Zombiefs { .. } => {
            eprintln!("{ZOMBIEFS_MISSING}");
            Ok(EXIT_ERROR)
        }
    }
}

/// `unlink-race grid`: the bench's settings and scenarios, checked exactly as the bench checks them.
fn grid() -> Result<u8> {
    let config = unlink_race::grid::GridConfig::from_env()?;
    // What the bench refuses before its first benchmark, refused here too.
    if let Some(line) = config
        .reports_dir
        .as_deref()
        .and_then(unlink_race::grid::reports_dir_problem)
    {
        anyhow::bail!("{line}");
    }
    let scenarios = config.scenarios();
    let targets = unlink_race::grid::survey_targets(&config.dirs, &config.other_sides);
    let mut out = String::new();
    for t in &targets {
        out += &format!(
            "target directory: {} ({}, report tag {})\n",
            t.dir.display(),
            t.fs_type,
            t.tag
        );
        if let Some((other, fs_type)) = &t.other_side {
            out += &format!(
                "  other side: {} ({fs_type}): deleters work through it\n",
                other.display()
            );
        }
    }
    out += &format!(
        "{} scenarios{}{}{}\n",
        scenarios.len(),
        if config.quick { " (quick)" } else { "" },
        if targets.len() > 1 {
            " on each directory"
        } else {
            ""
        },
        if config.overhead {
            ", then the overhead benchmarks"
        } else {
            ""
        }
    );
    for t in &targets {
        for s in &scenarios {
            out += &format!(
                "  {}/{}  {}\n",
                unlink_race::grid::group_name(&t.tag, s),
                unlink_race::grid::bench_id(s),
                s.name()
            );
        }
    }
    out += "\nsettings:\n";
    for setting in unlink_race::grid::Setting::ALL {
        out += &format!(
            "  {:<22} {} (default: {})\n",
            setting.var(),
            setting.meaning(),
            setting.default_text()
        );
    }
    print_stdout(&out)?;
    Ok(EXIT_OK)
}
