//! The `engajar` binary: the web server and the admin command line.

fn main() -> std::process::ExitCode {
    engajar::cli::main()
}
