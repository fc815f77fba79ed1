//! The `unlink-race` command line: `run` hunts the race, `compare` compares
//! reports between machines, `zombiefs` mounts the emulated defect.
//!
//! Exit codes: 0 no anomaly (or no difference), 1 anomaly seen (or reports
//! differ), 2 usage or environment error, 130 interrupted.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(unlink_race::harness::process::WORKER_SUBCOMMAND) {
        return ExitCode::from(unlink_race::harness::process::child_main(&args[2..]) as u8);
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One line: the error and its causes.
            let mut line = format!("error: {e}");
            for cause in e.chain().skip(1) {
                // Many errors already print their source; say it once.
                let cause = cause.to_string();
                if !line.contains(&cause) {
                    line.push_str(&format!(": {cause}"));
                }
            }
            eprintln!("{line}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
