//! The `supportbot` binary: parses the command line and runs one command.

use std::process::ExitCode;

/// mimalloc: the engine allocates many small short-lived buffers (records, batches, messages), which it
/// serves faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    supportbot::cli::main()
}
