//! Overlapped opens: raced opens whose `open` was still running when the
//! removal that took their file completed.
//!
//! A raced open (the file was gone by the reader's `fstat`) is what POSIX
//! defines when the removal came after the `open` returned. The defect needs
//! more: the removal must land *inside* the `open`, between the lookup of the
//! name and the open of the node (zombiefs counts exactly those as its
//! racing opens, and the APFS defect is reported in the same window). So an
//! open is **overlapped** when it raced and the call that took its file's
//! name away (`unlink`, or the `rename` of the `trash` and `replace`
//! strategies) returned while the `open` was running: after the `open`
//! began and before it returned.
//!
//! Why the end of the removal and not its start: on zombiefs the count of
//! opens whose removal *ended* inside them follows zombiefs's own racing
//! opens within about 10% at every pacing and thread count, while the
//! count of opens whose removal *began* inside them ranks the pacings
//! differently (and a removal that began before the open and landed in it
//! is the window itself). The measurement is in docs/methods.md#overlapped-opens.
//!
//! **Publication.** Each deleter owns one [`RemovalMark`], alone on its
//! cache lines: when a name-taking call succeeds, one relaxed store of the
//! clock read the deleter makes anyway when it returns (the timeline's
//! `remove_end`; `trash` reads the clock once more, after its `rename`). A
//! reader looks at the marks only after an open raced (a small share of its
//! cycles), with the times of its own `open` (the timeline's clock reads).
//! No lock, no allocation, no read-modify-write.
//!
//! **Which removal.** The reader cannot tell which deleter took its file, so
//! it asks whether any deleter's last successful removal ended inside its
//! `open`. With one reader nobody else creates the file: from before the
//! `open` until its removal the name holds the very file the reader opens,
//! so a removal that ended inside the `open` took that file, whatever the
//! number of deleters (a removal that failed, `ENOENT`, publishes nothing).
//! The exception is a deleter that took the *previous* file and was kept
//! from returning while the reader recreated and began its next `open`.
//! With several readers two more cases are counted wrongly: a removal of
//! another reader's file that had been created and removed inside the same
//! `open` (counted), and a deleter that took this reader's file and then
//! another one before the reader looked (missed: a mark holds the last
//! removal only). Each needs a whole recreate inside one `open`; on zombiefs
//! the count stays within about 10% of the ground truth at 4×4 too.
//!
//! **Strategies.** `unlink` takes the name with `unlinkat`; `trash` with the
//! `rename` into the trash directory (the `unlink` in there that follows
//! removes nothing a reader can open); `replace` with the `rename` of the
//! fresh file over the target. zombiefs never zombifies a renamed-over file,
//! so its racing opens stay 0 with `replace` while the harness still counts
//! the opens that a removal overlapped.
//!
//! **Worker processes.** A reader in one process cannot see the marks of a
//! deleter in another without memory shared between them, which the
//! harness does not set up (pace `aimed` is threads-only for the same
//! reason); with `--workers processes` overlapped opens are not counted and
//! reports say so (`null`).

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// What one deleter publishes about its removals. Written by that deleter
/// only, read by readers whose open raced.
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct RemovalMark {
    /// When the last name-taking call that succeeded returned (`0`: none yet).
    took_ns: AtomicU64,
}

impl RemovalMark {
    /// The deleter's call took the target's name and returned at `t_ns`.
    #[inline]
    pub fn took(&self, t_ns: u64) {
        self.took_ns.store(t_ns, Relaxed);
    }

    /// Whether the removal published here ended inside an `open` that ran
    /// from `open_began_ns` to `open_ended_ns` (asked after that open raced).
    #[inline]
    fn landed_in(&self, open_began_ns: u64, open_ended_ns: u64) -> bool {
        let took = self.took_ns.load(Relaxed);
        open_began_ns <= took && took <= open_ended_ns
    }
}

/// Whether any deleter's last removal ended inside the `open` that ran from
/// `open_began_ns` to `open_ended_ns`.
#[inline]
pub fn any_landed_in(marks: &[RemovalMark], open_began_ns: u64, open_ended_ns: u64) -> bool {
    marks
        .iter()
        .any(|m| m.landed_in(open_began_ns, open_ended_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open from 100 to 200 (ns).
    const OPEN: (u64, u64) = (100, 200);

    fn took(t: u64) -> RemovalMark {
        let m = RemovalMark::default();
        m.took(t);
        m
    }

    #[test]
    fn a_removal_overlaps_when_it_ends_inside_the_open() {
        let (b, e) = OPEN;
        assert!(took(150).landed_in(b, e));
        // The edges count: the clock reads bracket the calls.
        assert!(took(100).landed_in(b, e));
        assert!(took(200).landed_in(b, e));
        // Over before the open began: an earlier file.
        assert!(!took(99).landed_in(b, e));
        // Returned after the open did: the open had its file (POSIX's race).
        assert!(!took(201).landed_in(b, e));
        // Nothing published yet.
        assert!(!RemovalMark::default().landed_in(b, e));
    }

    #[test]
    fn a_mark_holds_the_last_removal() {
        let (b, e) = OPEN;
        let m = took(150);
        m.took(300);
        assert!(!m.landed_in(b, e));
    }

    #[test]
    fn any_deleter_will_do() {
        let marks = [took(10), took(300), took(150)];
        assert!(any_landed_in(&marks, OPEN.0, OPEN.1));
        assert!(!any_landed_in(&marks[..2], OPEN.0, OPEN.1));
        assert!(!any_landed_in(&[], OPEN.0, OPEN.1));
    }
}
