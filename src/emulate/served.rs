//! What the command was served, from zombiefs's own counters: one row per
//! symptom, each with the races it came from, the files that got the most,
//! and a verdict that says what the run shows (and what it does not).

use std::path::PathBuf;

use serde::Serialize;

use super::{End, Outcome, Settings};
use crate::export::format::format_count;
use crate::zombiefs::{DefectCounts, Stats};

/// One symptom a program can be served, and the races it comes from.
#[derive(Debug, Clone, Copy)]
struct Symptom {
    /// Key in `--json`'s `served`.
    pub key: &'static str,
    /// What the program saw (plural).
    pub name: &'static str,
    /// How many it was served.
    pub served: fn(&Stats) -> u64,
    /// The races it comes from (plural).
    pub races: &'static str,
    /// How many of those races there were.
    pub raced: fn(&Stats) -> u64,
}

/// Every symptom zombiefs serves, in the order they are shown: the table,
/// the verdict and `--json`'s `served` are made from this list, so a symptom
/// zombiefs learns to serve is one more row here.
const SYMPTOMS: &[Symptom] = &[
    Symptom {
        key: "zombie_fds",
        name: "zombie descriptors",
        served: |s| s.zombie_opens + s.zombie_write_opens,
        races: "racing opens",
        raced: |s| s.racing_opens,
    },
    Symptom {
        key: "einval_writes",
        name: "EINVAL writes",
        served: |s| s.zombie_writes,
        // A zombie opened for writing refuses its writes too.
        races: "racing creates and zombie write-opens",
        raced: |s| s.racing_creates + s.zombie_write_opens,
    },
    Symptom {
        key: "create_enoents",
        name: "spurious ENOENTs",
        served: |s| s.spurious_create_enoents,
        races: "creates racing creates",
        raced: |s| s.create_races,
    },
];

/// How many files `emulate` lists.
const TOP_FILES: usize = 10;

/// One symptom's counts, as `--json` writes them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Served {
    pub symptom: &'static str,
    pub count: u64,
    pub races: &'static str,
    pub raced: u64,
}

/// One file's counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileRow {
    pub path: PathBuf,
    #[serde(flatten)]
    pub counts: DefectCounts,
}

/// How the command ended, as `--json` writes it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exit {
    /// The exit status `emulate` passes on.
    pub status: u8,
    /// The command's own exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// The stop signal `emulate` received and passed on.
    pub interrupted_by: Option<i32>,
}

/// Everything `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub command: Vec<String>,
    pub mountpoint: PathBuf,
    pub exit: Exit,
    pub elapsed_s: f64,
    pub open_probability: f64,
    pub write_probability: f64,
    pub create_race_probability: f64,
    pub seed: Option<u64>,
    pub verdict: String,
    pub served: Vec<Served>,
    /// zombiefs's counters, as its stats file gave them at the end.
    pub stats: Stats,
    /// Every file that was served a defect, most first.
    pub files: Vec<FileRow>,
    /// Defects in files beyond the ones counted one by one.
    pub other_files: DefectCounts,
}

/// The exit status `emulate` passes on: the command's own (0, 1, 42, …),
/// 128 + n when signal n ended it, 124 when `--timeout` did, 128 + n when
/// `emulate` was stopped by signal n, 126 or 127 when it could not start.
fn exit_status(outcome: &Outcome) -> u8 {
    if let Some(sig) = outcome.interrupted {
        return (128 + sig).clamp(0, 255) as u8;
    }
    if outcome.timed_out {
        return 124;
    }
    match outcome.end {
        End::Exited(code) => (code & 0xff) as u8,
        End::Signaled(sig) => (128 + sig).clamp(0, 255) as u8,
        End::NotStarted { status } => status,
    }
}

impl Summary {
    pub fn new(settings: &Settings, outcome: &Outcome) -> Summary {
        let s = &outcome.stats;
        let mut files: Vec<FileRow> = outcome
            .files
            .top(usize::MAX)
            .into_iter()
            .map(|(path, counts)| FileRow { path, counts })
            .collect();
        files.retain(|f| f.counts.total() > 0);
        let (code, signal) = match outcome.end {
            End::Exited(c) => (Some(c), None),
            End::Signaled(sig) => (None, Some(sig)),
            End::NotStarted { .. } => (None, None),
        };
        let mut summary = Summary {
            command: settings
                .command
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            mountpoint: outcome.mountpoint.clone(),
            exit: Exit {
                status: exit_status(outcome),
                code,
                signal,
                timed_out: outcome.timed_out,
                interrupted_by: outcome.interrupted,
            },
            elapsed_s: outcome.elapsed.as_secs_f64(),
            open_probability: settings.options.open_probability,
            write_probability: settings.options.write_probability,
            create_race_probability: settings.options.create_race_probability,
            seed: settings.options.seed,
            verdict: String::new(),
            served: SYMPTOMS
                .iter()
                .map(|sym| Served {
                    symptom: sym.key,
                    count: (sym.served)(s),
                    races: sym.races,
                    raced: (sym.raced)(s),
                })
                .collect(),
            stats: *s,
            files,
            other_files: outcome.files.other,
        };
        summary.verdict = verdict(&summary, outcome);
        summary
    }

    /// Every defect served.
    pub fn defects(&self) -> u64 {
        self.served.iter().map(|s| s.count).sum()
    }

    /// Every race zombiefs saw.
    pub fn races(&self) -> u64 {
        self.served.iter().map(|s| s.raced).sum()
    }

    /// The report printed when the command has ended: the verdict, the
    /// symptom table and the files that got the most.
    pub fn text(&self) -> String {
        let mut out = format!("emulate: {}\n", self.verdict);
        let width = SYMPTOMS.iter().map(|s| s.name.len()).max().unwrap_or(0);
        out += &format!("  {:<width$}  {:>9}  from\n", "served", "count");
        for row in &self.served {
            let name = SYMPTOMS
                .iter()
                .find(|s| s.key == row.symptom)
                .map_or(row.symptom, |s| s.name);
            out += &format!(
                "  {:<width$}  {:>9}  {} {}\n",
                name,
                format_count(row.count),
                format_count(row.raced),
                row.races
            );
        }
        if !self.files.is_empty() {
            out += &format!(
                "  files served the most defects ({} of {}):\n",
                self.files.len().min(TOP_FILES),
                self.files.len()
            );
            for f in self.files.iter().take(TOP_FILES) {
                out += &format!("    {}  {}\n", f.path.display(), counts_phrase(&f.counts));
            }
        }
        if self.other_files.total() > 0 {
            out += &format!(
                "    and in further files: {}\n",
                counts_phrase(&self.other_files)
            );
        }
        out
    }
}

/// `312 zombie descriptors, 3 EINVAL writes` (the symptoms that occurred).
fn counts_phrase(c: &DefectCounts) -> String {
    let parts: Vec<String> = [
        (c.zombie_fds, "zombie descriptors"),
        (c.einval_writes, "EINVAL writes"),
        (c.create_enoents, "spurious ENOENTs"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| counted(*n, what))
    .collect();
    parts.join(", ")
}

/// `4,120 racing opens`, `1 racing open`: a count and its noun (given plural).
fn counted(n: u64, plural: &str) -> String {
    match (n, plural.strip_suffix('s')) {
        (1, Some(one)) => format!("1 {one}"),
        _ => format!("{} {plural}", format_count(n)),
    }
}

/// `312 zombie descriptors in 4,120 racing opens and 3 EINVAL writes in 41
/// racing creates and zombie write-opens`: the symptoms served, each with its races.
fn served_phrase(summary: &Summary) -> String {
    let parts: Vec<String> = summary
        .served
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| {
            let name = SYMPTOMS
                .iter()
                .find(|sym| sym.key == s.symptom)
                .map_or(s.symptom, |sym| sym.name);
            format!(
                "{} in {}",
                counted(s.count, name),
                counted(s.raced, s.races)
            )
        })
        .collect();
    parts.join(" and ")
}

/// What the run shows, in one paragraph.
fn verdict(summary: &Summary, outcome: &Outcome) -> String {
    let command = shown_command(&summary.command);
    let served = served_phrase(summary);
    let how = match (outcome.interrupted, outcome.timed_out, outcome.end) {
        (_, _, End::NotStarted { .. }) => {
            return format!(
                "{command} could not start: {}",
                outcome.not_started.as_deref().unwrap_or("not found")
            );
        }
        (Some(sig), _, _) => format!("was interrupted ({} passed on)", signal_name(sig)),
        (None, true, _) => "timed out (--timeout) and was ended".to_string(),
        (None, false, End::Exited(0)) => "passed".to_string(),
        (None, false, End::Exited(code)) => format!("failed (exit {code})"),
        (None, false, End::Signaled(sig)) => format!("was killed by {}", signal_name(sig)),
    };
    let passed = how == "passed";
    let s = &summary.stats;
    if summary.defects() > 0 {
        let what = if passed {
            "evidence that it copes with the defect"
        } else {
            "the defect may be why: see the files below"
        };
        return format!("{command} {how} while being served {served}: {what}");
    }
    if summary.races() > 0 {
        return format!(
            "{command} {how} and was served 0 defects in {} races: at --probability below 1 \
             none was drawn; raise it (1 serves every race)",
            format_count(summary.races())
        );
    }
    let hint = if s.opens + s.creates == 0 {
        format!(
            "it opened no file under {}: does it keep its files in $TMPDIR? Point it there, \
             run it inside the mount with --cwd, or overlay the directory it uses with --path DIR",
            summary.mountpoint.display()
        )
    } else {
        format!(
            "it opened {} and created {} files there, but no open met a file unlinked after \
             its lookup: make it open and delete at the same time (more threads or processes) \
             and repeat that in a loop",
            format_count(s.opens),
            format_count(s.creates)
        )
    };
    match (passed, outcome.interrupted.is_none() && !outcome.timed_out) {
        (true, _) => format!(
            "{command} passed but was served 0 defects: it never raced, so this proves nothing; {hint}"
        ),
        (false, true) => format!(
            "{command} {how} without being served any defect: it never raced, so the failure \
             is not the emulated defect's"
        ),
        (false, false) => format!("{command} {how}; it was served no defect (it never raced)"),
    }
}

/// `` `python3 -c 'print(1)'` ``: quoted as a shell takes it back,
/// shortened past 60 characters.
fn shown_command(command: &[String]) -> String {
    let quoted: Vec<String> = command
        .iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect();
    let full = quoted.join(" ");
    let short: String = full.chars().take(60).collect();
    if short.len() < full.len() {
        format!("`{short}…`")
    } else {
        format!("`{full}`")
    }
}

/// `SIGINT`, `SIGKILL`, … or `signal 40`.
fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zombiefs::{FileDefects, Options};
    use std::time::Duration;

    fn settings() -> Settings {
        Settings {
            command: vec!["python3".into(), "reader.py".into()],
            options: Options::default(),
            place: super::super::Place::Private {
                under: "/tmp".into(),
            },
            cwd: false,
            timeout: None,
            kill_after: Duration::from_secs(5),
        }
    }

    fn outcome(end: End, stats: Stats) -> Outcome {
        Outcome {
            end,
            timed_out: false,
            interrupted: None,
            not_started: None,
            stats,
            files: FileDefects::default(),
            mountpoint: "/tmp/x/mnt".into(),
            leftovers: 0,
            notes: Vec::new(),
            elapsed: Duration::from_millis(1500),
        }
    }

    fn raced() -> Stats {
        Stats {
            opens: 5000,
            creates: 4000,
            racing_opens: 4120,
            zombie_opens: 312,
            racing_creates: 41,
            zombie_writes: 3,
            ..Stats::default()
        }
    }

    #[test]
    fn a_pass_with_defects_served_is_evidence() {
        let s = Summary::new(&settings(), &outcome(End::Exited(0), raced()));
        assert_eq!(
            s.verdict,
            "`python3 reader.py` passed while being served 312 zombie descriptors in 4,120 \
             racing opens and 3 EINVAL writes in 41 racing creates and zombie write-opens: \
             evidence that it copes with the defect"
        );
        assert_eq!((s.defects(), s.races(), s.exit.status), (315, 4161, 0));
    }

    #[test]
    fn a_pass_without_races_proves_nothing_and_says_how_to_race() {
        let none = Summary::new(&settings(), &outcome(End::Exited(0), Stats::default()));
        assert!(
            none.verdict.contains(
                "passed but was served 0 defects: it never raced, so this proves nothing"
            ),
            "{}",
            none.verdict
        );
        assert!(
            none.verdict.contains("opened no file under /tmp/x/mnt"),
            "{}",
            none.verdict
        );
        let calm = Stats {
            opens: 10,
            creates: 3,
            ..Stats::default()
        };
        let calm = Summary::new(&settings(), &outcome(End::Exited(0), calm));
        assert!(
            calm.verdict.contains("more threads or processes"),
            "{}",
            calm.verdict
        );
        let unlucky = Stats {
            racing_opens: 9,
            ..Stats::default()
        };
        let unlucky = Summary::new(&settings(), &outcome(End::Exited(0), unlucky));
        assert!(
            unlucky.verdict.contains("0 defects in 9 races"),
            "{}",
            unlucky.verdict
        );
    }

    #[test]
    fn exit_statuses_pass_through() {
        let status = |end, timed_out, interrupted| {
            let mut o = outcome(end, Stats::default());
            o.timed_out = timed_out;
            o.interrupted = interrupted;
            exit_status(&o)
        };
        assert_eq!(status(End::Exited(0), false, None), 0);
        assert_eq!(status(End::Exited(1), false, None), 1);
        assert_eq!(status(End::Exited(42), false, None), 42);
        assert_eq!(status(End::Signaled(libc::SIGKILL), false, None), 137);
        assert_eq!(status(End::Signaled(libc::SIGTERM), true, None), 124);
        assert_eq!(status(End::Exited(0), false, Some(libc::SIGINT)), 130);
        assert_eq!(status(End::NotStarted { status: 127 }, false, None), 127);
    }

    #[test]
    fn the_table_has_a_row_per_symptom_and_the_top_files() {
        let mut o = outcome(End::Exited(1), raced());
        let mut files = FileDefects::default();
        for _ in 0..3 {
            files.add("DEST.txt".into(), crate::zombiefs::Defect::ZombieFd);
        }
        files.add("other".into(), crate::zombiefs::Defect::EinvalWrite);
        o.files = files;
        let s = Summary::new(&settings(), &o);
        let text = s.text();
        assert!(
            text.starts_with("emulate: `python3 reader.py` failed (exit 1) while being served"),
            "{text}"
        );
        for line in [
            "  served                  count  from",
            "  zombie descriptors        312  4,120 racing opens",
            "  EINVAL writes               3  41 racing creates and zombie write-opens",
            "  spurious ENOENTs            0  0 creates racing creates",
            "    DEST.txt  3 zombie descriptors",
            "    other  1 EINVAL write",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
        assert_eq!(s.served.len(), SYMPTOMS.len());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["files"][0]["path"], "DEST.txt");
        assert_eq!(json["files"][0]["zombie_fds"], 3);
        assert_eq!(json["served"][0]["symptom"], "zombie_fds");
        assert_eq!(json["exit"]["code"], 1);
    }
}
