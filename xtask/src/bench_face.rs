//! `cargo xtask bench-face`: one complete face comparison (two decodes, two detections, two embeddings), criterion,
//! on one core (`taskset -c 0`). A benchmark, not a test: it prints the time and never fails on speed. Extra
//! arguments go to criterion (e.g. `--measurement-time 3` for a short smoke run).

use std::process::Command;

use crate::sh::{self, Res};

/// Builds the benchmark, then runs it pinned to one core.
pub fn run(args: &[String]) -> Res {
    crate::face::ensure()?;
    let bench = ["bench", "-p", "realname-face", "--bench", "compare"];
    // Built first on every core; only the measurement is pinned.
    sh::run(sh::cargo().args(bench).arg("--no-run"))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut run = if sh::which("taskset").is_some() {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&cargo);
        c
    } else {
        eprintln!("bench-face: taskset not found; the benchmark is not pinned to one core");
        Command::new(&cargo)
    };
    run.current_dir(sh::root()).args(bench).env("REALNAME_FACE_DIR", crate::face::out_dir()).arg("--").args(args);
    sh::run(&mut run)
}
