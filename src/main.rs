//! The `migrate` binary: everything happens in [`migrate::cli`].

fn main() -> std::process::ExitCode {
    migrate::cli::main()
}
