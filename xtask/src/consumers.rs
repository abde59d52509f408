//! The package as sites consume it (issue 19): `npm pack` of the built `www/pkg`, installed with npm
//! - into an empty Node project, where `node --test` runs the plain scripts of `tools/consumers/node/`;
//! - into `tools/consumers/`, whose small apps (Vite + React, Vite + Vue, webpack) are type-checked (`tsc`,
//!   `vue-tsc`) and built into `<target>/consumers/dist/<app>/`, for the e2e tests to serve and drive in Chromium
//!   (`e2e/tests/e2e/consumers.rs`, which finds them through `REALNAME_CONSUMER_APPS`).
//!
//! Every tool comes from `tools/node_modules` (pinned in `tools/package-lock.json`, installed by `cargo xtask
//! setup`); the tarball has no dependencies, so installing it needs no registry.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh::{self, Res};

/// Packs and installs the package, runs the Node scripts, type-checks and builds the apps; returns the folder
/// holding each app's build.
pub fn run() -> Res<PathBuf> {
    let started = std::time::Instant::now();
    let root = sh::root();
    let work = sh::target_dir().join("consumers");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let tgz = pack(&root.join("www/pkg"), &work)?;

    // Node: an empty project, the tarball installed as a site would, the scripts run by Node's test runner.
    let node = work.join("node-project");
    std::fs::create_dir_all(&node).map_err(|e| e.to_string())?;
    write(&node.join("package.json"), "{ \"name\": \"node-consumer\", \"private\": true, \"type\": \"module\" }\n")?;
    npm_install(&node, &tgz, false)?;
    let scripts = root.join("tools/consumers/node");
    let mut tests = Vec::new();
    for e in std::fs::read_dir(&scripts).map_err(|e| format!("{}: {e}", scripts.display()))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains(".test.") {
            std::fs::copy(e.path(), node.join(&name)).map_err(|e| e.to_string())?;
            tests.push(name);
        }
    }
    tests.sort();
    sh::run(Command::new("node").arg("--test").args(&tests).current_dir(&node))?;

    // The apps: the tarball into tools/consumers/node_modules; frameworks and bundlers resolve from tools/.
    let apps = root.join("tools/consumers");
    let _ = std::fs::remove_dir_all(apps.join("node_modules"));
    npm_install(&apps, &tgz, true)?;
    let bin = |b: &str| root.join("tools/node_modules/.bin").join(b);
    sh::run(Command::new(bin("tsc")).args(["-p", "vite-react", "--noEmit"]).current_dir(&apps))?;
    sh::run(Command::new(bin("vue-tsc")).args(["-p", "vite-vue", "--noEmit"]).current_dir(&apps))?;
    let dist = work.join("dist");
    for app in ["vite-react", "vite-vue"] {
        let out = dist.join(app);
        sh::run(
            Command::new(bin("vite"))
                .args(["build", "--logLevel", "warn", "--emptyOutDir", "--outDir"])
                .arg(&out)
                .current_dir(apps.join(app)),
        )?;
    }
    sh::run(
        Command::new(bin("webpack"))
            .args(["--mode", "production", "--no-stats", "--output-path"])
            .arg(dist.join("webpack"))
            .current_dir(apps.join("webpack")),
    )?;
    // webpack bundles the script; the page is the site's own, deployed beside it.
    std::fs::copy(apps.join("webpack/index.html"), dist.join("webpack/index.html")).map_err(|e| e.to_string())?;
    eprintln!(
        "consumers: packed, Node scripts passed, apps type-checked and built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(dist)
}

/// `npm pack` of `pkg` into `dest`; the tarball's path.
fn pack(pkg: &Path, dest: &Path) -> Res<PathBuf> {
    let mut c = Command::new("npm");
    c.args(["pack", "--silent", "--pack-destination"]).arg(dest).current_dir(pkg);
    eprintln!("+ {}", sh::describe(&c));
    let out = c.output().map_err(|e| format!("cannot run npm pack: {e}"))?;
    let name = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
    if !out.status.success() || name.is_empty() {
        return Err(format!("npm pack in {} failed: {}", pkg.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(dest.join(name))
}

/// `npm install <tarball>` in `dir`; `no_save` leaves its package.json and lockfile alone (tools/consumers is in
/// the repository).
fn npm_install(dir: &Path, tgz: &Path, no_save: bool) -> Res {
    let mut c = Command::new("npm");
    // --offline: a tarball without dependencies needs no registry, and the tests must not depend on one.
    c.args(["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"]);
    if no_save {
        c.args(["--no-save", "--no-package-lock"]);
    }
    sh::run(c.arg(tgz).current_dir(dir))
}

fn write(path: &Path, text: &str) -> Res {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
