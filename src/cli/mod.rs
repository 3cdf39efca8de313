//! The `tooltape` command line: one module per subcommand, the flags they share, how reports
//! are written, and how the process exits.

mod app;
mod args;
mod check;
mod exit;
mod faults;
mod import;
mod limits;
mod output;
mod progress;
mod record;
mod rules;
mod run;
mod schema;
mod serve;
mod signals;
mod validate;

pub use app::main;
