//! The `supportbot` binary: parses the command line and runs one command.

use std::process::ExitCode;

/// jemalloc: the engine allocates many small short-lived buffers on one thread and frees many of them on
/// the store's flusher thread, which it handles faster, and with less memory kept, than the system allocator.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    supportbot::cli::main()
}
