//! Renders [`Event`]s: progress bars on a terminal (indicatif), plain lines when standard error
//! is not a terminal or with `--no-progress`, one JSON object per line on standard output with
//! `--json`. Nothing at all with `-q`, except warnings.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::events::{Event, Level, Sink};

use super::GlobalArgs;

enum Mode {
    Json,
    Bars,
    Plain,
    Quiet,
}

pub struct Renderer {
    mode: Mode,
    bar: Option<ProgressBar>,
    /// In plain mode, the last progress line printed (to print every ~10%).
    last_plain: u64,
    /// The last wait announced (its family and end): the countdown repeats it every second,
    /// which only the progress bar shows.
    last_wait: Option<(String, chrono::DateTime<chrono::Utc>)>,
}

impl Renderer {
    pub fn new(global: &GlobalArgs) -> Renderer {
        let mode = if global.json {
            Mode::Json
        } else if global.quiet {
            Mode::Quiet
        } else if global.no_progress || !std::io::stderr().is_terminal() {
            Mode::Plain
        } else {
            Mode::Bars
        };
        Renderer {
            mode,
            bar: None,
            last_plain: 0,
            last_wait: None,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Sink for Renderer {
    fn emit(&mut self, event: Event) {
        if let Event::Waiting { family, until, .. } = &event {
            let repeat = self
                .last_wait
                .as_ref()
                .is_some_and(|(f, u)| f == family && u == until);
            self.last_wait = Some((family.clone(), *until));
            if repeat && !matches!(self.mode, Mode::Bars) {
                return;
            }
        }
        if let Mode::Json = self.mode {
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, &event);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
            return;
        }
        match event {
            Event::Phase { phase, total } => {
                self.finish();
                match self.mode {
                    Mode::Bars => {
                        let bar = ProgressBar::with_draw_target(
                            Some(total),
                            ProgressDrawTarget::stderr(),
                        );
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{prefix:>9} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                            )
                            .expect("valid template")
                            .progress_chars("=> "),
                        );
                        bar.set_prefix(phase);
                        bar.enable_steady_tick(Duration::from_millis(250));
                        self.bar = Some(bar);
                    }
                    Mode::Plain => {
                        self.last_plain = 0;
                        self.line(&format!("{phase}: {total} items"));
                    }
                    _ => {}
                }
            }
            Event::Progress { phase, done, total } => match self.mode {
                Mode::Bars => {
                    if let Some(bar) = &self.bar {
                        bar.set_length(total);
                        bar.set_position(done);
                        bar.set_message("");
                    }
                }
                Mode::Plain => {
                    let step = (total / 10).max(1);
                    if done == total || done >= self.last_plain + step {
                        self.last_plain = done;
                        self.line(&format!("{phase}: {done}/{total}"));
                    }
                }
                _ => {}
            },
            Event::Item { .. } => {}
            Event::Waiting {
                until, description, ..
            } => {
                let wait = (until - chrono::Utc::now()).num_seconds().max(0);
                let text = format!(
                    "waiting {} for the rate window ({description}), until {}",
                    human_duration(wait as u64),
                    until.format("%H:%M:%S UTC")
                );
                match (&self.mode, &self.bar) {
                    (Mode::Bars, Some(bar)) => bar.set_message(text),
                    (Mode::Quiet, _) => {}
                    _ => self.line(&text),
                }
            }
            Event::Note { level, text } => match (level, &self.mode) {
                (Level::Warning, _) => self.line(&format!("warning: {text}")),
                (Level::Info, Mode::Quiet) => {}
                (Level::Info, _) => self.line(&text),
            },
            Event::Summary(_) => {
                self.finish();
            }
        }
    }
}

/// `3725` → `1 h 2 min`.
pub fn human_duration(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs.div_ceil(60))
    } else if secs < 48 * 3600 {
        format!("{} h {} min", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{} days {} h", secs / 86400, (secs % 86400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(5), "5 s");
        assert_eq!(human_duration(61), "2 min");
        assert_eq!(human_duration(3725), "1 h 2 min");
        assert_eq!(human_duration(3 * 86400 + 7200), "3 days 2 h");
    }
}
