//! `UNLINK_RACE_ZOMBIEFS=1`: the grid on a zombiefs mount, so the report
//! shows what a machine with the defect looks like.

use std::path::PathBuf;

/// Mounts zombiefs over a fresh backing directory and returns the mount point.
/// The mount lives until the process exits (unmounted by the exit clean-up).
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub fn mount() -> PathBuf {
    use unlink_race::zombiefs::{Mount, Options};
    let dir = tempfile::Builder::new()
        .prefix("unlink-race-zombiefs-")
        .tempdir()
        .unwrap_or_else(|e| {
            eprintln!("error: UNLINK_RACE_ZOMBIEFS: cannot make a temp dir: {e}");
            super::exit(2)
        });
    let (backing, mountpoint) = (dir.path().join("backing"), dir.path().join("mnt"));
    for d in [&backing, &mountpoint] {
        if let Err(e) = std::fs::create_dir(d) {
            eprintln!(
                "error: UNLINK_RACE_ZOMBIEFS: cannot create {}: {e}",
                d.display()
            );
            super::exit(2);
        }
    }
    let mount = Mount::new(&backing, &mountpoint, Options::default()).unwrap_or_else(|e| {
        eprintln!("error: UNLINK_RACE_ZOMBIEFS: {e}");
        super::exit(2)
    });
    eprintln!("zombiefs mounted on {}", mountpoint.display());
    let mount = std::sync::Mutex::new(Some((mount, dir)));
    super::on_exit(move || {
        if let Some((mount, dir)) = mount.lock().unwrap_or_else(|e| e.into_inner()).take() {
            println!(
                "zombiefs ground truth, over the whole bench (`auto`'s calibrations \
                 included, which the report's counts leave out): {}",
                mount.stats().to_json().replace('\n', " ")
            );
            let _ = mount.unmount();
            drop(dir);
        }
    });
    mountpoint
}

#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
pub fn mount() -> PathBuf {
    eprintln!("error: UNLINK_RACE_ZOMBIEFS=1 needs `cargo bench --features zombiefs` (Linux)");
    super::exit(2)
}
