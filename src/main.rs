//! The `tooltape` command line; the subcommands live in [`cli`].

mod cli;

/// The replay server allocates and frees a little per request (the decoded body, the verdict,
/// the journal entry); mimalloc keeps that off a global lock and out of the profile
/// (`docs/perf-notes.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
