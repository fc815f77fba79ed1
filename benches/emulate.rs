//! `cargo bench --features zombiefs --bench emulate`: what `unlink-race
//! emulate -- true` costs end to end (the guard process, the private
//! directory, the mount, the command, the unmount, the cleanup), next to
//! `true` started alone. Linux, root or `fusermount3`; elsewhere it says
//! it is skipped. docs/benchmarks.md#emulate has the latest figure.

use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

fn emulate_true(c: &mut Criterion) {
    if !cfg!(all(feature = "zombiefs", target_os = "linux")) {
        eprintln!("skipped: emulate needs --features zombiefs on Linux");
        return;
    }
    let exe = env!("CARGO_BIN_EXE_unlink-race");
    let emulate = || {
        Command::new(exe)
            .args(["emulate", "--", "true"])
            .stderr(Stdio::piped())
            .output()
            .expect("run unlink-race emulate")
    };
    let first = emulate();
    if !first.status.success() {
        eprintln!(
            "skipped: unlink-race emulate -- true failed: {}",
            String::from_utf8_lossy(&first.stderr).trim()
        );
        return;
    }
    let mut group = c.benchmark_group("emulate");
    group.sample_size(30);
    group.bench_function("true", |b| {
        b.iter(|| assert!(emulate().status.success()));
    });
    group.bench_function("true-alone", |b| {
        b.iter(|| assert!(Command::new("true").status().unwrap().success()));
    });
    group.finish();
}

criterion_group!(benches, emulate_true);
criterion_main!(benches);
