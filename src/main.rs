//! The `supportbot` binary: parses the command line and runs one command.

use std::process::ExitCode;

fn main() -> ExitCode {
    supportbot::cli::main()
}
