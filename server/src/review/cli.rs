//! `realname-server reviewer add --username NAME --role reviewer|admin [--site SITE] [--config FILE]`: creates a
//! console account. The password comes from `REALNAME_REVIEWER_PASSWORD` or the first line of standard input, never
//! from the command line (which other local users can read).

use std::io::BufRead;
use std::process::ExitCode;

use realname_domain::clock::{OsRandom, SystemClock};
use realname_store::review::Role;

/// Usage of the `reviewer` subcommand.
pub const USAGE: &str = "usage: realname-server reviewer add --username NAME --role reviewer|admin [--site SITE] [--config FILE]\n\
                         (password from REALNAME_REVIEWER_PASSWORD or the first line of stdin)";

/// Parsed `reviewer add` arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct AddArgs {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Site scope.
    pub site: Option<String>,
}

/// Parses the arguments after `reviewer add` (with `--config` already removed).
pub fn parse_add(args: &[String]) -> Result<AddArgs, String> {
    let (mut username, mut role, mut site) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--username" => username = Some(v.clone()),
            "--role" => role = Some(Role::parse(v).ok_or("--role must be reviewer or admin")?),
            "--site" => site = Some(v.clone()),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(AddArgs { username: username.ok_or("--username is required")?, role: role.ok_or("--role is required")?, site })
}

/// Runs `reviewer …` (`args` after `reviewer`): exit 0 on success, 1 on failure, 2 on usage errors.
pub fn main(args: &[String]) -> ExitCode {
    let Some((sub, rest)) = args.split_first().filter(|(s, _)| s.as_str() == "add") else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let _ = sub;
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("realname-server reviewer: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async {
        // The entry it appends is sealed with the chain key, so the server's keys are needed.
        let opened = crate::audit::cli::open_store(rest).await.and_then(|(store, cfg, rest)| {
            let ring = crate::audit::cli::load_ring(&cfg)?;
            Ok((store, realname_domain::audit::ChainKey::of_ring(&ring), rest))
        });
        let (store, chain_key, rest) = match opened {
            Ok(x) => x,
            Err(e) => {
                eprintln!("realname-server reviewer: {e}");
                return ExitCode::from(1);
            }
        };
        let a = match parse_add(&rest) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        let password = match std::env::var("REALNAME_REVIEWER_PASSWORD") {
            Ok(p) => zeroize::Zeroizing::new(p),
            Err(_) => {
                let mut line = zeroize::Zeroizing::new(String::new());
                if std::io::stdin().lock().read_line(&mut line).is_err() {
                    eprintln!("realname-server reviewer: cannot read the password from stdin");
                    return ExitCode::from(1);
                }
                zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
            }
        };
        let r = super::auth::create_reviewer(
            store.as_ref(),
            &SystemClock,
            &OsRandom,
            &a.username,
            &password,
            a.role,
            a.site.as_deref(),
        )
        .await;
        match r {
            Ok(r) => {
                let ev =
                    realname_domain::audit::Event::new("operator", "reviewer.created", format!("reviewer:{}", r.id))
                        .detail("role", r.role.as_str());
                if let Err(e) =
                    store.audit_append(&chain_key, realname_domain::clock::Clock::now_ms(&SystemClock), ev).await
                {
                    eprintln!("realname-server reviewer: audit log: {e}");
                    return ExitCode::from(1);
                }
                println!("created {} {} ({})", r.role.as_str(), r.username, r.id);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("realname-server reviewer: {e}");
                ExitCode::from(1)
            }
        }
    })
}
