fn main() {
    // Rust ignores SIGPIPE; the command line therefore writes everything through
    // `cli::output`, which ends quietly on a closed pipe (`azure-cacerts list | head`)
    // instead of panicking, as cat and grep do.
    std::process::exit(azure_cacerts::cli::main());
}
