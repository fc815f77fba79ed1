//! The one integration test binary; one module per area.

// Fixtures: the real binary, temp dirs, tmpfs mounts, and skipping or failing
// when a mount is not possible.
mod util;

// Fixtures: reports built in code, written to temp dirs.
mod fixtures;

// The classifier: every outcome class from hand-built observations.
mod classify;

// `unlink-race run` through the real binary.
mod cli;

// The create race: rounds of creators on one fresh name, its classes and flags.
mod create_race;

// Interruption, descriptor leaks, full disk, safety of the target directory
// (Unix: signals, /proc, modes).
#[cfg(unix)]
mod reliability;

// Faults and hostile input: environment errors, outputs, signals, labels (on
// Unix: signals, FIFOs, modes).
#[cfg(unix)]
mod faults;

// Every stop is bounded: signals, timeout, a FIFO without reader, SIGKILL.
#[cfg(unix)]
mod faults_stop;

// Reports cost what they weigh and every text lands escaped.
#[cfg(unix)]
mod faults_reports;

// Resource limits, outputs, flags and messages of a hostile environment.
#[cfg(unix)]
mod faults_cli;

// The HTML report and the index page, rendered from stored JSON reports.
mod report_html;

// The committed reports answer at a glance: verdict, trials, notes, axis units.
mod report_pages;

// Malformed input across run, compare, zombiefs and the bench settings.
mod bad_input;

// zombiefs: the emulated macOS defect on a real FUSE mount (Linux; needs root
// or fusermount3, and /dev/fuse).
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod zombiefs;

// The harness on a zombiefs mount: counts equal the filesystem's ground truth.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod zombie_harness;

// `unlink-race emulate`: recipes, counts, exit status, cleanup however it ends.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod emulate;

// Statistics: reference values from R and published examples.
mod stats;

// The verdict rules: the cases, coverage, the equivalence test's size.
mod verdicts;

// Statistics over every input: no hang, no NaN, figures that agree with the
// verdicts at any α, the exact median, the power sentence.
mod stats_inputs;

// The report's latency section: loading, round trip, medians, the page's lead.
mod latency_report;

// Loading reports for compare: rejected files, validation, sanitising.
mod report_load;

// Race pressure: raced opens against strace's count, pacings, calibration.
mod pressure;

// Comparing reports: matching, verdicts, load errors, terminal and Markdown.
mod compare;

// The fleet hunt's jobs and the action, run through scripts/fleet/hunt.sh as a runner runs them.
mod fleet;

// Fixtures: real filesystems (xfs and btrfs loop images, overlayfs, bindfs,
// fuse-overlayfs, sshfs over a loopback sshd), undone on drop (Unix).
#[cfg(unix)]
mod realfs_util;

// Real filesystems: clean local ones, and the FUSE ones' real defects, found and named.
#[cfg(unix)]
mod realfs;

// Two views of one directory: readers through one path, deleters through another.
#[cfg(unix)]
mod two_views;

// The documentation held to the code: links and anchors resolve, the flag,
// settings and JSON field tables are the code's, the README keeps its budget.
mod tidy;

// The layer rules of ARCHITECTURE.md on the source: who names whom, no import
// cycles between files, no file in src/ over 700 lines.
mod structure;
