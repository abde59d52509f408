//! A small HTTP/1.1 client over one kept-alive TCP connection, written out by hand so the hostile clients can
//! send exactly the bytes they want (a head one byte at a time, a body that never ends) and the honest ones pay
//! what a pooling client pays: one write per request, the answer read by its `Content-Length`.

use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// One answer.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The server said `Connection: close`.
    pub close: bool,
}

impl Resp {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
}

/// One TCP connection to the server.
pub struct Conn {
    io: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `addr`, from the loopback address `from` when given (any of 127.0.0.0/8 on Linux), so a
    /// client can stand for many addresses as far as the server's per-address caps can tell.
    pub async fn open(addr: SocketAddr, from: Option<IpAddr>) -> std::io::Result<Conn> {
        let stream = match from {
            None => TcpStream::connect(addr).await?,
            Some(ip) => {
                let socket = if ip.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
                socket.bind(SocketAddr::new(ip, 0))?;
                socket.connect(addr).await?
            }
        };
        stream.set_nodelay(true)?;
        Ok(Conn { io: BufReader::new(stream) })
    }

    /// Writes `bytes` as they are.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.io.get_mut().write_all(bytes).await
    }

    /// Reads whatever arrives (0 when the server closed the connection).
    pub async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.io.read(buf).await
    }

    /// Sends one request and reads its answer.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Resp> {
        let mut req = head(method, path, headers, body.len()).into_bytes();
        req.extend_from_slice(body);
        self.send(&req).await?;
        self.response().await
    }

    /// Reads one answer (`Content-Length` or chunked body).
    pub async fn response(&mut self) -> std::io::Result<Resp> {
        let mut line = String::new();
        if self.io.read_line(&mut line).await? == 0 {
            return Err(closed("the server closed the connection"));
        }
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| closed("bad status line"))?;
        let (mut len, mut chunked, mut close) = (0usize, false, false);
        loop {
            line.clear();
            if self.io.read_line(&mut line).await? == 0 {
                return Err(closed("the server closed the connection in a head"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else { continue };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => len = v.parse().map_err(|_| closed("bad content-length"))?,
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.io.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| closed("bad chunk size"))?;
                let start = body.len();
                body.resize(start + n + 2, 0);
                self.io.read_exact(&mut body[start..]).await?;
                body.truncate(start + n);
                if n == 0 {
                    break;
                }
            }
        } else {
            body.resize(len, 0);
            self.io.read_exact(&mut body).await?;
        }
        Ok(Resp { status, body, close })
    }
}

/// A request head with a `Content-Length` (also 0, so the server need not guess).
pub fn head(method: &str, path: &str, headers: &[(&str, &str)], len: usize) -> String {
    let mut h = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {len}\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h
}

fn closed(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned())
}

/// A client that keeps one connection open and opens a new one when the server closed the last (a pool of
/// these, one per task, is a keep-alive client pool).
pub struct Client {
    addr: SocketAddr,
    from: Option<IpAddr>,
    conn: Option<Conn>,
    /// Connections this client opened.
    pub opened: u64,
}

impl Client {
    /// A client of `addr` (from `from`, see [`Conn::open`]); connects on its first request.
    pub fn new(addr: SocketAddr, from: Option<IpAddr>) -> Client {
        Client { addr, from, conn: None, opened: 0 }
    }

    /// Sends one request on the kept connection; any failure is the request's (no retry).
    pub async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Resp, String> {
        if self.conn.is_none() {
            self.conn = Some(Conn::open(self.addr, self.from).await.map_err(|e| format!("connect: {e}"))?);
            self.opened += 1;
        }
        let Some(conn) = self.conn.as_mut() else { return Err("no connection".into()) };
        match conn.request(method, path, headers, body).await {
            Ok(r) => {
                if r.close {
                    self.conn = None;
                }
                Ok(r)
            }
            Err(e) => {
                self.conn = None;
                Err(format!("{method} {path}: {e}"))
            }
        }
    }
}
