//! `cargo xtask bench-e2e`: time to the widget's first interactive step and its bytes, in headless Chromium
//! against the release server; the result replaces its section of `docs/performance.md`.

use std::process::Command;

use crate::sh::{self, Res};
use crate::{build, setup, test};

const START: &str = "<!-- bench-e2e:start -->";
const END: &str = "<!-- bench-e2e:end -->";

/// Builds the widget and the release server, runs the benchmark, records it.
pub fn run(_args: &[String]) -> Res {
    let tools = setup::run()?;
    build::build(&tools)?;
    let mut c = test::e2e_command(&tools, true)?;
    c.args(["run", "--release", "-q", "-p", "realname-e2e", "--bin", "bench-e2e"]);
    eprintln!("+ {}", sh::describe(&c));
    let out = c.output().map_err(|e| format!("cannot run bench-e2e: {e}"))?;
    if !out.status.success() {
        return Err(format!("bench-e2e failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let chromium = sh::output(Command::new("/usr/bin/chromium").arg("--version")).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = sh::output(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
    let section = format!(
        "{START}\n## Widget in the browser: time to the first interactive step (`cargo xtask bench-e2e`)\n\n\
         Measured {date} on this {cores}-core machine with {chromium}, headless, desktop 1280×900, against the \
         release `realname-server demo` on loopback serving `www/` (the demo sign-up page `www/index.html`, the \
         widget from `cargo xtask build`). Time = `performance.mark('realname-ready')`, set by the page on the \
         widget's `ready` event, i.e. milliseconds from navigation start until the consent step is on screen \
         and usable. Target (issue 4): median ≤ 150 ms. Rows: cold = a reload with the HTTP cache disabled; warm \
         = a reload with it (the widget's content-hashed files are cached as immutable, so nothing is asked again); \
         first visit = a fresh browser profile each time (empty cache, no compiled wasm, new connections), as a \
         person's true first visit (issue 15, target median ≤ 150 ms): \"browser open\" first shows about:blank, as \
         a person's browser is running before they visit a site; \"fresh browser start\" is the first navigation \
         of a Chromium just started, which also pays its own start-up.\n\n\
         What the first step costs: the page's `<link rel=preload>` of the wasm and `modulepreload`s of \
         `realname.js` (its snippets are bundled into it) and `demo/widget.js` start every file as soon as the HTML \
         is parsed (without them the page script, `widget.js`, `realname.js`, its snippets and the wasm were fetched one \
         after another); the wasm arrives brotli-compressed (the `.br` siblings `cargo xtask build` writes) as \
         `application/wasm`, so `instantiateStreaming` is used; `ready` is emitted after the first render and \
         waits for no request (the widget opens its session right after it); the demo's outbox poll starts \
         after `ready`. The load average is the machine's (2 cores shared with builds): figures taken under \
         load are slower and wider.\n\n{table}\n{END}\n"
    );
    let path = sh::root().join("docs/performance.md");
    sh::record_section(&path, START, END, &section)?;
    eprint!("{section}");
    eprintln!("bench-e2e: recorded in {}", path.display());
    Ok(())
}
