//! The parent/child protocol of `--workers processes`: typed messages, one
//! JSON object per line, each carrying the protocol version `v`.
//!
//! The parent starts a child with one [`WorkerSpec`] (JSON, on the command
//! line), then sends [`ToChild`] lines on its standard input; the child
//! answers with [`ToParent`] lines on its standard output. A line that does
//! not decode, or carries another version, is an error, never skipped: the
//! two sides are the same binary, so a mismatch means something is broken.
//!
//! ```text
//! parent → child  {"v":2,"msg":"go","quota":1000,"until_anomalies":null}
//! child → parent  {"v":2,"msg":"progress","cycles":412,"raced_opens":3,...}
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::outcome::CLASS_COUNT;
use crate::scenario::{CreateFlags, Delete, Pace, Race, Recreate, Scenario, Views, Workers};

use super::records::WorkerId;
use super::slot::SlotSnapshot;

/// The version every line carries; bumped on any change to the messages.
pub const PROTOCOL_VERSION: u32 = 2;

/// What a child runs: its worker and the scenario (passed as one JSON argument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub v: u32,
    pub worker: WorkerId,
    pub race: Race,
    pub readers: u32,
    pub deleters: u32,
    pub creators: u32,
    pub create_flags: CreateFlags,
    pub file_size_bytes: u64,
    pub recreate: Recreate,
    pub delete: Delete,
    pub share_delete: bool,
    pub pace: Pace,
    pub examples_per_class: u32,
    /// One view or two (the child is started on its side's path).
    #[serde(default)]
    pub views: Views,
    /// The file every worker maps as its shared board (see `board.rs`).
    pub board: PathBuf,
}

impl WorkerSpec {
    pub fn new(
        worker: WorkerId,
        s: &Scenario,
        examples_per_class: u32,
        board: PathBuf,
    ) -> WorkerSpec {
        WorkerSpec {
            v: PROTOCOL_VERSION,
            worker,
            race: s.race,
            readers: s.readers,
            deleters: s.deleters,
            creators: s.creators,
            create_flags: s.create_flags,
            file_size_bytes: s.file_size_bytes,
            recreate: s.recreate,
            delete: s.delete,
            share_delete: s.share_delete,
            pace: s.pace,
            examples_per_class,
            views: s.views,
            board,
        }
    }

    /// The scenario the child runs (always as processes).
    pub fn scenario(&self) -> Scenario {
        Scenario {
            race: self.race,
            readers: self.readers,
            deleters: self.deleters,
            creators: self.creators,
            create_flags: self.create_flags,
            file_size_bytes: self.file_size_bytes,
            recreate: self.recreate,
            delete: self.delete,
            share_delete: self.share_delete,
            workers: Workers::Processes,
            pace: self.pace,
            views: self.views,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a worker spec always encodes")
    }

    pub fn decode(text: &str) -> Result<WorkerSpec, ProtocolError> {
        let spec: WorkerSpec = serde_json::from_str(text).map_err(|e| ProtocolError::Bad {
            line: text.into(),
            reason: e.to_string(),
        })?;
        if spec.v != PROTOCOL_VERSION {
            return Err(ProtocolError::Version(spec.v));
        }
        Ok(spec)
    }
}

/// Parent → child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ToChild {
    /// Run a batch: `quota` reader cycles (`None`: no cap), stop at
    /// `until_anomalies` of its own (`None`: never).
    Go {
        quota: Option<u64>,
        until_anomalies: Option<u64>,
    },
    /// End the batch now.
    Stop,
    /// The run's first anomaly happened at `t_ns` (freezes the timeline ring).
    FirstAnomaly { t_ns: u64 },
    /// Send the result and exit (so does end of input).
    Quit,
}

/// Child → parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ToParent {
    /// Started, scratch directory open.
    Ready,
    /// Every 20 ms and at the end of each batch.
    Progress(Box<ChildProgress>),
    /// The batch ended at `t_ns` (`CLOCK_MONOTONIC`, shared by all processes).
    Done { t_ns: u64 },
    /// The final counters, examples and timeline ring.
    Result(Box<SlotSnapshot>),
    /// The worker cannot run (it exits next): why, and whether that is the
    /// environment (a thread or memory limit) rather than a fault.
    Failed { reason: String, environment: bool },
}

/// A child's counters and the watchdog's view of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildProgress {
    pub cycles: u64,
    pub raced_opens: u64,
    pub racing_creates: u64,
    pub removals: u64,
    pub recreations: u64,
    pub anomalies: u64,
    pub empty_nlink_zero: u64,
    pub empty_nlink_nonzero: u64,
    /// When the current step started (`0`: idle).
    pub busy_since_ns: u64,
    /// The step under way, as the slot's op code.
    pub busy_op: u8,
    pub counts: [u64; CLASS_COUNT],
    /// The child's first anomaly: when, and its class index.
    pub first_anomaly: Option<(u64, u32)>,
    /// An environment failure: errno and op code.
    pub environment: Option<(i32, u8)>,
}

/// A line that is not a message of this protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("protocol version {0}, expected {PROTOCOL_VERSION}")]
    Version(u32),
    #[error("bad message {line:?}: {reason}")]
    Bad { line: String, reason: String },
}

#[derive(Serialize)]
struct LineOut<'a, M> {
    v: u32,
    #[serde(flatten)]
    msg: &'a M,
}

#[derive(Deserialize)]
struct LineIn<M> {
    v: u32,
    #[serde(flatten)]
    msg: M,
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
}

/// One message as one line, newline included.
pub fn encode<M: Serialize>(msg: &M) -> String {
    let mut line = serde_json::to_string(&LineOut {
        v: PROTOCOL_VERSION,
        msg,
    })
    .expect("protocol messages always encode");
    line.push('\n');
    line
}

/// The message of one line (without its newline).
pub fn decode<M: DeserializeOwned>(line: &str) -> Result<M, ProtocolError> {
    let bad = |e: serde_json::Error| ProtocolError::Bad {
        line: line.chars().take(200).collect(),
        reason: e.to_string(),
    };
    // The version first, so a newer peer gets the error that explains it.
    let version: VersionOnly = serde_json::from_str(line).map_err(bad)?;
    if version.v != PROTOCOL_VERSION {
        return Err(ProtocolError::Version(version.v));
    }
    let parsed: LineIn<M> = serde_json::from_str(line).map_err(bad)?;
    debug_assert_eq!(parsed.v, PROTOCOL_VERSION);
    Ok(parsed.msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::records::{AnomalyRecord, WorkerId};
    use crate::harness::slot::RawEvent;
    use crate::outcome::{Class, Op};

    fn round_trip<M: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(msg: M) {
        let line = encode(&msg);
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert!(line.starts_with("{\"v\":2,"), "{line}");
        assert_eq!(decode::<M>(line.trim_end()).unwrap(), msg, "{line}");
    }

    #[test]
    fn every_message_round_trips() {
        round_trip(ToChild::Go {
            quota: Some(1000),
            until_anomalies: None,
        });
        round_trip(ToChild::Go {
            quota: None,
            until_anomalies: Some(u64::MAX - 1),
        });
        round_trip(ToChild::Stop);
        round_trip(ToChild::FirstAnomaly { t_ns: u64::MAX });
        round_trip(ToChild::Quit);
        round_trip(ToParent::Ready);
        round_trip(ToParent::Done { t_ns: 12 });
        round_trip(ToParent::Failed {
            reason: "cannot start a thread".into(),
            environment: true,
        });
        round_trip(ToParent::Progress(Box::new(ChildProgress {
            cycles: 7,
            raced_opens: 3,
            racing_creates: 2,
            removals: 2,
            recreations: 1,
            anomalies: 1,
            empty_nlink_zero: 0,
            empty_nlink_nonzero: 0,
            busy_since_ns: u64::MAX,
            busy_op: 4,
            counts: std::array::from_fn(|i| i as u64),
            first_anomaly: Some((99, 5)),
            environment: Some((28, 5)),
        })));
        let snapshot = SlotSnapshot {
            cycles: 5,
            raced_opens: 2,
            examples: vec![AnomalyRecord {
                class: Class::ZombieFd,
                op: Op::Fstat,
                errno: 0,
                stat: None,
                bytes_read: 0,
                bytes_expected: 7,
                exists_after: false,
                t_ns: 1,
                worker: WorkerId::reader(3),
                cycle: 4,
                stale_generations: Some((1, 2)),
            }],
            events: vec![RawEvent {
                t_ns: 1,
                kind: 2,
                errno: -1,
            }],
            ..SlotSnapshot::default()
        };
        round_trip(ToParent::Result(Box::new(snapshot)));
        let spec = WorkerSpec::new(WorkerId::deleter(2), &Scenario::default(), 5, "/b".into());
        assert_eq!(WorkerSpec::decode(&spec.encode()), Ok(spec));
        let create = crate::scenario::Scenario::create(4, CreateFlags::CreatExcl);
        let spec = WorkerSpec::new(WorkerId::creator(3), &create, 5, "/b".into());
        let as_processes = crate::scenario::Scenario {
            workers: Workers::Processes,
            ..create
        };
        assert_eq!(spec.scenario(), as_processes);
    }

    #[test]
    fn a_bad_line_is_an_error() {
        for line in [
            "",
            "p 1 2 3",
            "{\"v\":2}",
            "{\"v\":2,\"msg\":\"launch\"}",
            "{\"v\":2,\"msg\":\"done\",\"t_ns\":\"soon\"}",
            "{\"msg\":\"ready\"}",
        ] {
            assert!(
                matches!(decode::<ToParent>(line), Err(ProtocolError::Bad { .. })),
                "{line:?}"
            );
        }
        assert_eq!(
            decode::<ToParent>("{\"v\":3,\"msg\":\"ready\"}"),
            Err(ProtocolError::Version(3))
        );
        assert!(WorkerSpec::decode("{\"v\":2}").is_err());
    }
}
