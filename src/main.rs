use std::process::ExitCode;

use clap::Parser;

/// A failure to start is one line naming what to fix, never a backtrace.
#[tokio::main]
async fn main() -> ExitCode {
    match meridian::cli::run(meridian::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
