fn main() {
    // Rust ignores SIGPIPE, which turns `azure-cacerts list | head` into a panic on the next
    // print; a command-line tool should simply stop, as cat and grep do.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(azure_cacerts::cli::main());
}
