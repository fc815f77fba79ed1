//! `unlink-race emulate -- CMD`: the command's temp dir on zombiefs, what it
//! was served, and its own exit status (docs/emulate.md).

use super::EmulateArgs;

/// Exit status of `emulate`'s own failures (bad flags, no FUSE, a mount
/// that failed), as `env`, `nice` and `timeout` use it: no command's status
/// is mistaken for it unless the command itself exits 125.
pub const EXIT_EMULATE_ERROR: u8 = 125;

/// Runs `emulate`; its own errors are one line on stderr and exit 125.
pub fn run(args: &EmulateArgs) -> u8 {
    match linux::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "{}",
                unlink_race::export::terminal::clean_line(&super::error_line(&e))
            );
            EXIT_EMULATE_ERROR
        }
    }
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod linux {
    use std::path::PathBuf;

    use anyhow::{Context, Result};
    use unlink_race::emulate::served::Summary;
    use unlink_race::emulate::{self, Place, Settings};
    use unlink_race::export::files;
    use unlink_race::zombiefs::{Options, STATS_FILE};

    use super::super::EmulateArgs;
    use super::super::outputs::check_output_path;

    pub fn run(args: &EmulateArgs) -> Result<u8> {
        let options = Options {
            open_probability: args.open_probability.unwrap_or(args.probability),
            write_probability: args.write_probability.unwrap_or(args.probability),
            create_race_probability: args.create_race_probability.unwrap_or(args.probability),
            seed: args.seed,
            ..Options::default()
        };
        options.validate()?;
        let place = match (&args.path, &args.backing_dir) {
            (Some(dir), _) => Place::Overlay {
                dir: existing_dir("--path", dir.clone())?,
            },
            (None, Some(dir)) => Place::Private {
                under: existing_dir("--backing-dir", dir.clone())?,
            },
            (None, None) => Place::Private {
                under: std::env::temp_dir(),
            },
        };
        if let Some(json) = &args.json {
            check_output_path("--json", json)?;
        }
        let settings = Settings {
            command: args.command.iter().map(Into::into).collect(),
            options,
            place,
            cwd: args.cwd,
            timeout: args.timeout,
            kill_after: args.kill_after,
        };
        let overlay = matches!(settings.place, Place::Overlay { .. });
        let outcome = emulate::run(&settings, |mnt| {
            let env = if overlay {
                String::new()
            } else {
                " as TMPDIR, TMP and TEMP".to_string()
            };
            eprintln!(
                "emulate: zombiefs on {}{env}{}; counters in {}/{STATS_FILE}",
                mnt.display(),
                if args.cwd {
                    ", the working directory"
                } else {
                    ""
                },
                mnt.display()
            );
        })?;
        let summary = Summary::new(&settings, &outcome);
        eprint!("{}", summary.text());
        if outcome.leftovers > 0 {
            eprintln!(
                "emulate: ended {} process{} the command left running in its process group",
                outcome.leftovers,
                if outcome.leftovers == 1 { "" } else { "es" }
            );
        }
        for note in &outcome.notes {
            eprintln!("emulate: {note}");
        }
        if let Some(json) = &args.json {
            let mut bytes = serde_json::to_vec_pretty(&summary)?;
            bytes.push(b'\n');
            files::write_atomic(json, &bytes)
                .with_context(|| format!("cannot write --json {}", json.display()))?;
        }
        Ok(summary.exit.status)
    }

    /// `dir`, which must be an existing directory.
    fn existing_dir(flag: &str, dir: PathBuf) -> Result<PathBuf> {
        super::super::check_dir(flag, &dir)?;
        Ok(dir)
    }
}

/// Without zombiefs (another OS, or a build without the feature): say
/// plainly what to do instead.
#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
mod linux {
    use super::super::EmulateArgs;

    pub fn run(_args: &EmulateArgs) -> anyhow::Result<u8> {
        if cfg!(target_os = "linux") {
            anyhow::bail!(
                "unlink-race emulate is not in this build: build it with \
                 `cargo build --release --features zombiefs` (needs the FUSE library: fuse3, libfuse3-dev)"
            )
        }
        anyhow::bail!(
            "unlink-race emulate runs on Linux only: it mounts zombiefs, a FUSE filesystem \
             that emulates the macOS defect. On a Mac, hunt the real defect instead with \
             `unlink-race run` or the fleet hunt on GitHub's macOS runners (docs/fleet.md)"
        )
    }
}
