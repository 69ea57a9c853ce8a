use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use rollsafe::cli::{Cli, Command};
use rollsafe::commands::{self, Status};

fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = Cli::parse();
    if let Command::Server(_) = &cli.command {
        // Standard output is the protocol's: its writer thread locks it, so
        // it is not locked here.
        return match commands::server(&mut std::io::stderr()) {
            Ok(status) => status.into(),
            Err(_) => Status::Error.into(),
        };
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // Not locked: the webhook logs to stderr from other threads.
    let mut err = std::io::stderr();
    let result = match &cli.command {
        Command::Lint(args) => commands::lint(args, &mut out, &mut err),
        Command::Rules(_) => commands::rules(&mut out, &mut err),
        Command::Explain(args) => commands::explain(args, &mut out, &mut err),
        Command::Serve(args) => commands::serve(args, &mut err),
        Command::Server(_) => Ok(Status::Clean),
        Command::Timeline(args) => commands::timeline(args, &mut out, &mut err),
        Command::Audit(args) => commands::audit(args, &mut out, &mut err),
        Command::Export(args) => commands::export(args, &mut out, &mut err),
        Command::Completions(args) => commands::completions(args, &mut out),
        Command::Man(args) => commands::man(args, &mut out, &mut err),
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

/// Past a file-size limit (`ulimit -f`) a write then fails with an error
/// `--fix` reports, instead of SIGXFSZ killing the process mid-write.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: sets a signal's disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
