use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use rollsafe::cli::{Cli, Command};
use rollsafe::commands::{self, Status};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // Not locked: the webhook logs to stderr from other threads.
    let mut err = std::io::stderr();
    let result = match &cli.command {
        Command::Lint(args) => commands::lint(args, &mut out, &mut err),
        Command::Rules(_) => commands::rules(&mut out, &mut err),
        Command::Explain(args) => commands::explain(args, &mut out, &mut err),
        Command::Serve(args) => commands::serve(args, &mut err),
        Command::Timeline(args) => commands::timeline(args, &mut out, &mut err),
    };
    let flushed = out.flush();
    match flushed.and(result) {
        Ok(status) => status.into(),
        // A closed pipe (`rollsafe lint . | head`) is not an error worth a message.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Status::Clean.into(),
        Err(error) => {
            let _ = writeln!(err, "error: {error}");
            Status::Error.into()
        }
    }
}
