//! The `realname-server` binary: dispatches to the subcommands in `realname_server::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("validate-id") => {
            let rest = args.get(1..).unwrap_or_default();
            match realname_server::cli::validate_id::run(rest, &mut std::io::stdin().lock(), &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("realname-server validate-id: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
        _ => {
            eprintln!("usage: realname-server validate-id [--strict] [--stdin] [ID ...]");
            ExitCode::from(2)
        }
    }
}
