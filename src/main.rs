//! The `tooltape` command line; the subcommands live in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
