//! `migrate generate`: shell completions and the man page, from the same clap definitions.

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::{Cli, CliError, exit, write_stdout};

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Print a completion script for a shell
    ///
    /// For bash: `migrate generate completions bash > ~/.local/share/bash-completion/completions/migrate`
    Completions {
        /// The shell to generate for
        shell: Shell,
    },
    /// Print the man page (roff), e.g. `migrate generate man > migrate.1`
    Man,
}

pub fn run(cmd: GenerateCommand) -> Result<u8, CliError> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    match cmd {
        GenerateCommand::Completions { shell } => {
            clap_complete::generate(shell, &mut command, "migrate", &mut out);
        }
        GenerateCommand::Man => {
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|e| CliError::new(exit::FAILED, e))?;
        }
    }
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(exit::OK)
}
