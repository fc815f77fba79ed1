//! The `unlink-race` command line: `run` hunts the race, `compare` compares
//! reports between machines, `zombiefs` mounts the emulated defect.
//!
//! Exit codes: 0 no anomaly (or no difference), 1 anomaly seen (or reports
//! differ), 2 usage or environment error, 130 interrupted.

mod cli;

use std::process::ExitCode;

/// The arguments as UTF-8, or one line naming the one that is not (labels
/// and paths end up in JSON and HTML, which are UTF-8).
fn utf8_args() -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for arg in std::env::args_os() {
        match arg.into_string() {
            Ok(a) => args.push(a),
            Err(bad) => {
                let shown = format!("{:?}", bad);
                let which = match args.last() {
                    Some(flag) if flag.starts_with("--") && !flag.contains('=') => {
                        format!("the value of {flag}")
                    }
                    _ if args.len() <= 1 => "the subcommand".to_string(),
                    _ => format!("argument {}", args.len()),
                };
                return Err(format!("{which} is not valid UTF-8: {shown}"));
            }
        }
    }
    Ok(args)
}

/// Runs the command; an error is one line on stderr (control characters
/// shown escaped) and exit 2, or 130 when a stop signal cut it short.
fn run_cli(args: Vec<String>) -> u8 {
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "{}",
                unlink_race::export::terminal::clean_line(&cli::error_line(&e))
            );
            if e.downcast_ref::<cli::Stopped>().is_some() {
                cli::EXIT_INTERRUPTED
            } else {
                cli::EXIT_ERROR
            }
        }
    }
}

fn main() -> ExitCode {
    let args = match utf8_args() {
        Ok(args) => args,
        Err(line) => {
            eprintln!(
                "error: {}",
                unlink_race::export::terminal::clean_line(&line)
            );
            return ExitCode::from(cli::EXIT_ERROR);
        }
    };
    if args.get(1).map(String::as_str)
        == Some(unlink_race::harness::child_workers::WORKER_SUBCOMMAND)
    {
        return ExitCode::from(unlink_race::harness::child_workers::child_main(&args[2..]) as u8);
    }
    #[cfg(all(feature = "zombiefs", target_os = "linux"))]
    if args.get(1).map(String::as_str) == Some(unlink_race::emulate::guard::GUARD_SUBCOMMAND) {
        return ExitCode::from(unlink_race::emulate::guard::guard_main() as u8);
    }
    // This binary runs worker processes, whatever it is called.
    if let Some(exe) = cli::supervise::this_binary() {
        unlink_race::harness::child_workers::set_worker_executable(exe);
    }
    ExitCode::from(cli::supervise::dispatch(args, run_cli))
}
