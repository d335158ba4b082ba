//! `migrate status`: the runs in the journal, with done / pending / failed counts and what
//! each waits for.

use clap::Args;

use crate::run::journal::Journal;
use crate::run::tokens::state_dir;

use super::{CliError, GlobalArgs, exit, write_stdout};

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub fn run(global: &GlobalArgs, _args: StatusArgs) -> Result<u8, CliError> {
    let dir = state_dir(global.state_dir.as_deref()).map_err(|e| CliError::new(exit::USAGE, e))?;
    if !dir.join("journal.sqlite3").exists() {
        if global.json {
            return write_stdout("").map(|_| exit::OK);
        }
        write_stdout("No runs yet.\n")?;
        return Ok(exit::OK);
    }
    let journal = Journal::open(&dir).map_err(|e| CliError::new(exit::FAILED, e))?;
    let runs = journal.runs().map_err(|e| CliError::new(exit::FAILED, e))?;
    let mut out = String::new();
    if global.json {
        for r in &runs {
            out.push_str(&serde_json::to_string(r).expect("serializable"));
            out.push('\n');
        }
    } else if runs.is_empty() {
        out.push_str("No runs yet.\n");
    } else {
        for r in &runs {
            let total = r.pending + r.sending + r.done + r.failed + r.skipped;
            let state = if r.pending + r.sending == 0 {
                "complete".to_string()
            } else {
                match &r.waiting_for {
                    Some(w) => format!("waiting: {w}"),
                    None => "stopped; run the same command again to resume".to_string(),
                }
            };
            out.push_str(&format!(
                "{} → @{} ({}): {} items: {} done, {} pending, {} failed, {} skipped — {}\n  last active {}\n",
                r.input,
                r.account,
                r.kind,
                total,
                r.done,
                r.pending + r.sending,
                r.failed,
                r.skipped,
                state,
                r.updated_at
            ));
        }
    }
    write_stdout(&out)?;
    Ok(exit::OK)
}
