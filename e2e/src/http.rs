//! HTTP on loopback: a client for JSON APIs (WebDriver, the server's dev endpoints) and a tiny file server
//! for the harness's own tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::{Result, err};

/// An agent that reports 4xx/5xx as responses (not errors) and never hangs forever.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout)).build().into()
}

/// A response: status and body text.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).map_err(|e| err!("not JSON ({e}): {}", self.body))
    }
}

fn read(mut r: ureq::http::Response<ureq::Body>) -> Result<Reply> {
    let status = r.status().as_u16();
    let body = r.body_mut().with_config().limit(200 << 20).read_to_string()?;
    Ok(Reply { status, body })
}

/// `GET url`.
pub fn get(url: &str) -> Result<Reply> {
    read(agent(Duration::from_secs(30)).get(url).call()?)
}

/// `POST url` with a JSON body and the given extra headers.
pub fn post_json(url: &str, body: &Value, headers: &[(&str, &str)]) -> Result<Reply> {
    let mut req = agent(Duration::from_secs(30)).post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send_json(body)?)
}

/// A request body a [`FileServer`] received (for checking what a page sent).
#[derive(Debug, Clone)]
pub struct Received {
    /// Method and path, e.g. `POST /echo`.
    pub line: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A minimal HTTP/1.1 server on loopback for the harness's own tests: serves in-memory pages by path and
/// records every request body. One thread per connection; `Connection: close`.
pub struct FileServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Every request seen, in order.
    pub received: Arc<Mutex<Vec<Received>>>,
    pages: Pages,
}

/// Path → (content type, body), shared with the serving threads.
type Pages = Arc<Mutex<HashMap<String, (String, Vec<u8>)>>>;

impl FileServer {
    /// Starts serving `pages` (path → (content type, body)); `dir`, if given, serves files below it too.
    pub fn start(pages: HashMap<String, (String, Vec<u8>)>, dir: Option<PathBuf>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        let received = Arc::new(Mutex::new(Vec::new()));
        let pages: Pages = Arc::new(Mutex::new(pages));
        let (served, rec) = (pages.clone(), received.clone());
        std::thread::spawn(move || {
            let pages = served;
            for stream in listener.incoming().flatten() {
                let (pages, rec, dir) = (pages.clone(), rec.clone(), dir.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &pages, dir.as_deref(), &rec);
                });
            }
        });
        Ok(FileServer { base, received, pages })
    }

    /// Serves `body` at `path` from now on (e.g. a page that names a server started after this one).
    pub fn put(&self, path: &str, content_type: &str, body: Vec<u8>) {
        if let Ok(mut p) = self.pages.lock() {
            p.insert(path.to_string(), (content_type.to_string(), body));
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn serve(
    stream: TcpStream,
    pages: &Mutex<HashMap<String, (String, Vec<u8>)>>,
    dir: Option<&std::path::Path>,
    rec: &Mutex<Vec<Received>>,
) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len.min(50 << 20)];
    r.read_exact(&mut body)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split('?').next().unwrap_or("/").to_string();
    if let Ok(mut v) = rec.lock() {
        v.push(Received { line: format!("{method} {path}"), body });
    }
    let found = if method == "GET" {
        let page = pages.lock().ok().and_then(|p| p.get(&path).cloned());
        page.or_else(|| {
            let d = dir?;
            if path.contains("..") {
                return None;
            }
            let f = d.join(path.trim_start_matches('/'));
            std::fs::read(&f).ok().map(|b| (content_type(&path).to_string(), b))
        })
    } else {
        Some(("text/plain".into(), Vec::new()))
    };
    let mut w = stream;
    match found {
        Some((t, b)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {t}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                b.len()
            );
            w.write_all(head.as_bytes())?;
            w.write_all(&b)?;
        }
        None => w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?,
    }
    Ok(())
}
