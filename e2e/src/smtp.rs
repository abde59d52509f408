//! A tiny SMTP server on loopback that accepts every message and keeps it, so a test can read the code the
//! real server mailed. It speaks the plain SMTP a client needs (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT) and offers no STARTTLS, so the server under test must be configured for plain SMTP on loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{Result, wait_for};

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `MAIL FROM` address.
    pub from: String,
    /// The `RCPT TO` addresses.
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed).
    pub data: String,
}

impl Mail {
    /// The readable text of the message: every part's body decoded from base64 or quoted-printable, with the
    /// headers (including a `Subject`) kept as they are. Enough to find a code in what lettre sends.
    pub fn text(&self) -> String {
        let mut out = String::new();
        // Split into MIME parts on boundary lines; a single-part mail is one part.
        let mut parts: Vec<String> = vec![String::new()];
        for line in self.data.lines() {
            if line.starts_with("--") && line.len() > 2 && !line.contains(' ') {
                parts.push(String::new());
            } else if let Some(p) = parts.last_mut() {
                p.push_str(line);
                p.push('\n');
            }
        }
        for p in parts {
            let (head, body) = p.split_once("\n\n").unwrap_or((p.as_str(), ""));
            out.push_str(head);
            out.push('\n');
            let enc = head.to_ascii_lowercase();
            if enc.contains("content-transfer-encoding: base64") {
                let b64: String = body.split_whitespace().collect();
                let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
            } else if enc.contains("content-transfer-encoding: quoted-printable") {
                out.push_str(&decode_qp(body));
            } else {
                out.push_str(body);
            }
            out.push('\n');
        }
        out
    }
}

fn decode_qp(s: &str) -> String {
    let mut bytes = Vec::new();
    for line in s.lines() {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && let Some(v) = line.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                bytes.push(v);
                i += 3;
                continue;
            }
            bytes.push(b[i]);
            i += 1;
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The sink; it stops accepting when the test process ends.
pub struct SmtpSink {
    /// `127.0.0.1`.
    pub host: String,
    /// The port it listens on.
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub fn start() -> Result<SmtpSink> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        std::thread::spawn(move || {
            for stream in l.incoming().flatten() {
                let m = m.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &m);
                });
            }
        });
        Ok(SmtpSink { host: "127.0.0.1".into(), port, mails })
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits for a message to `rcpt` and returns it.
    pub fn wait_for_mail(&self, rcpt: &str, timeout: Duration) -> Result<Mail> {
        wait_for(timeout, &format!("a mail to {rcpt}"), || {
            Ok(self.mails().into_iter().rev().find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(rcpt))))
        })
    }
}

fn addr(arg: &str) -> String {
    let a = arg.split_once(':').map(|(_, a)| a).unwrap_or(arg).trim();
    let a = a.split_whitespace().next().unwrap_or_default();
    a.trim_start_matches('<').trim_end_matches('>').to_string()
}

fn session(stream: TcpStream, mails: &Mutex<Vec<Mail>>) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"220 realname-e2e SMTP sink\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let rest = line.get(verb.len()..).unwrap_or_default();
        match verb.as_str() {
            "EHLO" => w.write_all(b"250-realname-e2e\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n")?,
            "HELO" => w.write_all(b"250 realname-e2e\r\n")?,
            "MAIL" => {
                from = addr(rest);
                to.clear();
                w.write_all(b"250 OK\r\n")?;
            }
            "RCPT" => {
                to.push(addr(rest));
                w.write_all(b"250 OK\r\n")?;
            }
            "DATA" => {
                w.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                if let Ok(mut m) = mails.lock() {
                    m.push(Mail { from: from.clone(), to: to.clone(), data });
                }
                w.write_all(b"250 OK queued\r\n")?;
            }
            "RSET" => {
                from.clear();
                to.clear();
                w.write_all(b"250 OK\r\n")?;
            }
            "NOOP" => w.write_all(b"250 OK\r\n")?,
            "QUIT" => {
                w.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => w.write_all(b"502 command not implemented\r\n")?,
        }
    }
}

/// The first run of exactly `len` ASCII digits in a text (the one-time code in a mail or an SMS), if any.
pub fn find_code(text: &str, len: usize) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == len {
                return Some(text[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_a_base64_and_a_quoted_printable_part() {
        let body =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "您的验证码是 482913，5 分钟内有效。");
        let data = format!(
            "Subject: =?utf-8?b?6aqM6K+B56CB?=\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b1\r\n\
             Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
             <p>Code: <b>48291=\r\n3</b> =E9=AA=8C</p>\r\n--b1--\r\n"
        );
        let m = Mail { from: "a@b".into(), to: vec!["c@d".into()], data };
        let text = m.text();
        assert!(text.contains("您的验证码是 482913"), "{text}");
        assert!(text.contains("<b>482913</b> 验"), "{text}");
        assert_eq!(find_code(&text, 6).as_deref(), Some("482913"));
        assert_eq!(find_code("order 12345678 and 12345", 6), None);
    }

    #[test]
    fn the_sink_keeps_a_message_sent_over_smtp() -> Result<()> {
        let sink = SmtpSink::start()?;
        let mut c = TcpStream::connect((sink.host.as_str(), sink.port))?;
        let mut r = BufReader::new(c.try_clone()?);
        let mut replies = Vec::new();
        let mut line = String::new();
        r.read_line(&mut line)?;
        for cmd in [
            "EHLO t\r\n",
            "MAIL FROM:<noreply@x.test>\r\n",
            "RCPT TO:<Li@Example.test>\r\n",
            "DATA\r\n",
            "Subject: code\r\n\r\n..dot-stuffed 123456\r\n.\r\n",
            "QUIT\r\n",
        ] {
            c.write_all(cmd.as_bytes())?;
            loop {
                line.clear();
                r.read_line(&mut line)?;
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
            replies.push(line.get(..3).unwrap_or_default().to_string());
        }
        assert_eq!(replies, ["250", "250", "250", "354", "250", "221"]);
        let m = sink.wait_for_mail("li@example.test", Duration::from_secs(2))?;
        assert_eq!(m.from, "noreply@x.test");
        assert!(m.data.contains("\n.dot-stuffed 123456"), "{:?}", m.data);
        Ok(())
    }
}
