//! The command line itself: help, version, completions, the man page, usage errors.

use std::process::{Command, Output};

fn migrate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .env_clear()
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_documents_exit_codes_and_every_global_option() {
    let o = migrate(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for needle in [
        "Exit codes:",
        "0  done",
        "1  failed",
        "2  bad usage or unreadable input",
        "3  stopped before the end",
        "--to <ACCOUNT>",
        "MIGRATE_ACCOUNT",
        "--server <URL>",
        "MIGRATE_SERVER",
        "--token <TOKEN>",
        "MIGRATE_TOKEN",
        "--state-dir <DIR>",
        "MIGRATE_HOME",
        "--ca-cert <PEM>",
        "MIGRATE_CA_CERT",
        "--resolve <HOST:PORT:ADDR>",
        "MIGRATE_RESOLVE",
        "--json",
        "MIGRATE_JSON",
        "--quiet",
        "--verbose",
        "--no-progress",
        "MIGRATE_NO_PROGRESS",
        "inspect",
        "generate",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn the_token_value_from_the_environment_is_never_shown_in_help() {
    let o = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("--help")
        .env_clear()
        .env("MIGRATE_TOKEN", "tok-very-secret-123")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("tok-very-secret-123"));
}

#[test]
fn version() {
    let o = migrate(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o).trim(),
        format!("migrate {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef migrate"),
        ("fish", "complete -c migrate"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[migrate]"),
    ] {
        let o = migrate(&["generate", "completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        assert!(
            script.contains("inspect"),
            "{shell} script lacks the subcommands"
        );
    }
    let o = migrate(&["generate", "completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_page() {
    let o = migrate(&["generate", "man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(page.contains(".TH migrate 1"), "{page}");
    for needle in [
        "\\-\\-token",
        "\\-\\-resolve",
        "migrate\\-inspect(1)",
        "Exit codes:",
    ] {
        assert!(page.contains(needle), "the man page lacks {needle:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["inspect"][..],
        &["no-such-command"],
        &["--resolve", "nonsense", "inspect", "x.zip"],
        &["-q", "-v", "inspect", "x.zip"],
    ] {
        let o = migrate(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("error:"), "{args:?}");
    }
}

#[test]
fn a_missing_input_is_a_clear_error_with_exit_2() {
    let o = migrate(&["inspect", "/nonexistent/archive.zip"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: could not read `/nonexistent/archive.zip`"),
        "{err}"
    );
    assert!(err.contains("caused by: "), "{err}");
    assert!(!err.contains("panicked"));
}
