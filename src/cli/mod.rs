//! The command line: clap definitions (doc comments are the help text), dispatch to one module
//! per command, and the rendering of errors as `error:` / `caused by:` / `hint:` lines with a
//! fixed exit code. This is the only layer that knows about terminals.

mod archive;
mod discover;
mod generate;
mod graph_input;
mod import;
mod inspect;
mod login;
mod lookup;
pub mod render;
mod resolve;
pub mod session;
mod status;

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

/// Exit codes, fixed and documented (`--help`, README).
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// Failed (a fatal error while working).
    pub const FAILED: u8 = 1;
    /// Bad usage or unreadable input.
    pub const USAGE: u8 = 2;
    /// Stopped before the end (a rate window under `--no-wait`, or Ctrl-C); run again to resume.
    pub const STOPPED: u8 = 3;
}

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  failed
  2  bad usage or unreadable input
  3  stopped before the end (run the same command again to resume)";

/// Move a Twitter/X archive or Mastodon exports into a fediverse account: follows, blocks,
/// mutes, lists and posts, exactly once, at the server's pace.
#[derive(Debug, Parser)]
#[command(name = "migrate", version, about, after_help = EXIT_CODES_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes. Each has an environment variable, for scripts.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The target account, `user@server`, among those stored by `migrate login`
    ///
    /// With a single stored account it is the default.
    #[arg(long, global = true, env = "MIGRATE_ACCOUNT", value_name = "ACCOUNT")]
    pub to: Option<String>,

    /// The target server's URL, for scripts that pass a token instead of logging in
    #[arg(long, global = true, env = "MIGRATE_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// An access token for `--server` (prefer the environment variable: arguments are visible
    /// to other users of the machine)
    #[arg(
        long,
        global = true,
        env = "MIGRATE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<Secret>,

    /// Where tokens, journals and caches are kept [default: the platform's data directory]
    #[arg(long, global = true, env = "MIGRATE_HOME", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Extra trusted root certificates (PEM, one or more), for servers with a private CA
    #[arg(long, global = true, env = "MIGRATE_CA_CERT", value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,

    /// Connect to ADDR:PORT for `https://HOST:PORT/…`, with TLS still verified for HOST
    ///
    /// Repeatable. In the environment variable, separate several with commas.
    #[arg(
        long,
        global = true,
        env = "MIGRATE_RESOLVE",
        value_name = "HOST:PORT:ADDR",
        value_delimiter = ',',
        value_parser = parse_resolve
    )]
    pub resolve: Vec<Resolve>,

    /// Write newline-delimited JSON on standard output, for scripts
    #[arg(long, global = true, env = "MIGRATE_JSON", value_parser = BoolishValueParser::new())]
    pub json: bool,

    /// Print only errors
    #[arg(
        short,
        long,
        global = true,
        env = "MIGRATE_QUIET",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    /// Print more detail (repeat for more)
    #[arg(short, long, global = true, env = "MIGRATE_VERBOSE", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress bars, even on a terminal
    #[arg(long, global = true, env = "MIGRATE_NO_PROGRESS", value_parser = BoolishValueParser::new())]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a server (OAuth in the browser) and store the token for `--to user@server`
    Login(login::LoginArgs),
    /// Revoke a stored token on its server and forget it
    Logout(login::LogoutArgs),
    /// List stored accounts; with --server and a token, show whose the token is
    Accounts(login::AccountsArgs),
    /// Carry an input into the target account: Mastodon's CSV exports (follows, blocks, mutes,
    /// domain blocks, lists, bookmarks); resumable
    Import(Box<import::ImportArgs>),
    /// Verify every handle of a CSV through WebFinger; write a clean, canonical CSV and a report
    Resolve(resolve::ResolveArgs),
    /// Find the fediverse accounts a Twitter/X archive mentions, verify them through WebFinger,
    /// and write a follow list for `import` (and Mastodon's web import)
    Discover(discover::DiscoverArgs),
    /// Show what an archive holds — counts, dates, media, problems — without any network
    Inspect(inspect::InspectArgs),
    /// List runs with their progress and what each waits for
    Status(status::StatusArgs),
    /// Generate shell completions or the man page
    #[command(subcommand)]
    Generate(generate::GenerateCommand),
}

/// A token: kept out of `Debug` output, so that it never lands in a log by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        crate::redact::remember(&s);
        Secret(s)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::from(s.to_string()))
    }
}

/// A `--resolve HOST:PORT:ADDR` pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: std::net::IpAddr,
}

fn parse_resolve(s: &str) -> Result<Resolve, String> {
    let (host, rest) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not HOST:PORT:ADDR"))?;
    let (port, addr) = rest
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not HOST:PORT:ADDR"))?;
    if host.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    let port = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IP address"))?;
    Ok(Resolve {
        host: host.to_ascii_lowercase(),
        port,
        addr,
    })
}

/// An error on its way to the user: the chain to print, an optional hint, the exit code.
pub struct CliError {
    pub error: anyhow::Error,
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        CliError {
            error: error.into(),
            hint: None,
            code,
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// Renders `error: …`, one `caused by: …` per source, then `hint: …`.
pub fn render_error(err: &CliError, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "error: {}", err.error)?;
    for cause in err.error.chain().skip(1) {
        writeln!(out, "caused by: {cause}")?;
    }
    if let Some(hint) = &err.hint {
        writeln!(out, "hint: {hint}")?;
    }
    Ok(())
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    crate::redact::install_panic_hook();
    main_with(std::env::args_os())
}

pub fn main_with(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout with success, usage errors with code 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let _ = std::io::stdout().flush();
            let stderr = std::io::stderr();
            let _ = render_error(&err, &mut stderr.lock());
            ExitCode::from(err.code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    let Cli { global, command } = cli;
    match command {
        Command::Login(args) => login::login(&global, args),
        Command::Logout(args) => login::logout(&global, args),
        Command::Accounts(args) => login::accounts(&global, args),
        Command::Import(args) => import::run(&global, *args),
        Command::Resolve(args) => resolve::run(&global, args),
        Command::Discover(args) => discover::run(&global, args),
        Command::Inspect(args) => inspect::run(&global, args),
        Command::Status(args) => status::run(&global, args),
        Command::Generate(cmd) => generate::run(cmd),
    }
}

/// Writes to stdout, treating a closed pipe (`migrate inspect x | head`) as the end of output
/// rather than an error.
pub(crate) fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::new(
            exit::FAILED,
            anyhow::Error::new(e).context("could not write the output"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_read_their_environment_variables() {
        let parse = |vars: &[(&str, &str)]| {
            for (k, v) in vars {
                // SAFETY: no other test reads these variables.
                unsafe { std::env::set_var(k, v) };
            }
            // clap reads the environment when the arguments are defined.
            let mut cmd = Cli::command();
            let m = cmd.try_get_matches_from_mut(["migrate", "inspect", "x.zip"]);
            for (k, _) in vars {
                // SAFETY: as above.
                unsafe { std::env::remove_var(k) };
            }
            m.map(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m).unwrap())
        };
        let cli = parse(&[("MIGRATE_JSON", "1"), ("MIGRATE_NO_PROGRESS", "yes")]).unwrap();
        assert!(cli.global.json && cli.global.no_progress);
        let cli = parse(&[("MIGRATE_JSON", "0"), ("MIGRATE_VERBOSE", "2")]).unwrap();
        assert!(!cli.global.json);
        assert_eq!(cli.global.verbose, 2);
        let cli = parse(&[(
            "MIGRATE_RESOLVE",
            "a.example:443:127.0.0.1,b.example:8443:127.0.0.2",
        )])
        .unwrap();
        assert_eq!(cli.global.resolve.len(), 2);
    }

    #[test]
    fn resolve_pins() {
        assert_eq!(
            parse_resolve("Social.Example:8443:127.0.0.1").unwrap(),
            Resolve {
                host: "social.example".into(),
                port: 8443,
                addr: "127.0.0.1".parse().unwrap()
            }
        );
        assert!(parse_resolve("social.example:8443:[::1]").is_ok());
        assert!(parse_resolve("social.example:8443").is_err());
        assert!(parse_resolve("social.example:x:127.0.0.1").is_err());
        assert!(parse_resolve(":1:127.0.0.1").is_err());
    }

    #[test]
    fn tokens_stay_out_of_debug_output() {
        let cli = Cli::try_parse_from(["migrate", "--token", "s3cr3t-token", "inspect", "x.zip"])
            .unwrap();
        assert_eq!(cli.global.token.as_ref().unwrap().expose(), "s3cr3t-token");
        assert!(!format!("{cli:?}").contains("s3cr3t"));
    }

    #[test]
    fn errors_render_as_a_chain_with_a_hint() {
        let err = CliError::new(exit::USAGE, anyhow::anyhow!("inner").context("outer"))
            .with_hint(Some("do this".into()));
        let mut out = Vec::new();
        render_error(&err, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "error: outer\ncaused by: inner\nhint: do this\n"
        );
    }
}
