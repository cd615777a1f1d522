//! `hero completions SHELL`: a shell completion script on stdout.

use std::io::Write as _;

use crate::exit::Outcome;

/// Writes the completion script of `command` (the whole `hero` command line) for `shell`.
pub(crate) fn print(shell: clap_complete::Shell, mut command: clap::Command) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "hero", &mut script);
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(&script);
    Ok(())
}
