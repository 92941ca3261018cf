//! The `shanzhi` binary.

fn main() -> std::process::ExitCode {
    shanzhi::cli::main()
}
