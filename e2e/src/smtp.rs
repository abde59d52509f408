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
