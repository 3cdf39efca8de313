//! The `tooltape` command line; the subcommands live in [`cli`].

mod cli;

/// The replay server makes many small allocations per request (the decoded body, the
/// transcript, the verdict, the journal entry), often freed on another worker thread; with
/// mimalloc the allocator's share of the follow-up profile is half glibc's
/// (`docs/perf-notes.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
