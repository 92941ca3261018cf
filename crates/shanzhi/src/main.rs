//! The `shanzhi` binary.

/// mimalloc rather than glibc's malloc: see the dependency's note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shanzhi::cli::main()
}
