fn main() {
    std::process::exit(azure_cacerts::cli::main());
}
