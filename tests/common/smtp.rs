//! A real SMTP server for the tests: aiosmtpd (installed by `scripts/setup.sh`)
//! on a free loopback port, keeping what it receives in a Maildir that the
//! tests read. Stopped when dropped.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use super::services::free_port;

pub struct SmtpServer {
    pub port: u16,
    child: Child,
    maildir: tempfile::TempDir,
}

/// A received message: its headers and (decoded) text.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Received {
    /// The first `http` link of the message whose path starts with `path`.
    pub fn link(&self, path: &str) -> Option<String> {
        self.body
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|word| word.starts_with("http") && word.contains(path))
            .map(|l| l.trim_end_matches(['.', ',']).to_string())
    }
}

impl SmtpServer {
    /// Starts one on a free port. The port is free when picked, but another
    /// listener (a parallel test's) may take it before aiosmtpd binds it:
    /// aiosmtpd then exits, and a bare connect would reach the other one.
    /// So a port counts only once the server there is this one (its EHLO
    /// names the size limit it was started with), and another port is
    /// tried if aiosmtpd exits.
    pub fn start() -> SmtpServer {
        for _ in 0..5 {
            if let Some(server) = SmtpServer::start_on(free_port()) {
                return server;
            }
        }
        panic!("aiosmtpd did not start on any of five ports");
    }

    /// Starts one on `port`: `None` if it exits (the port was taken).
    pub fn start_on(port: u16) -> Option<SmtpServer> {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/aiosmtpd");
        assert!(
            bin.exists(),
            "aiosmtpd missing: run scripts/setup.sh --test"
        );
        // Its mark: a message size limit no other server here announces.
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let size = 33_554_432
            + u64::from(std::process::id() % 10_000) * 1_000
            + u64::from(STARTED.fetch_add(1, Ordering::Relaxed) % 1_000);
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-s", &size.to_string()])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !announces(port, size) {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(SmtpServer {
            port,
            child,
            maildir,
        })
    }

    /// The configuration lines that send to this server.
    pub fn config(&self) -> String {
        format!(
            "[email]\nfrom = \"Sesame <no-reply@example.com>\"\n[email.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
            self.port
        )
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        let dir = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        // In arrival order: Maildir names do not sort by time within a
        // second, their modification times do.
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| (e.metadata().and_then(|m| m.modified()).ok(), e.path()))
            .collect();
        files.sort();
        let files: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
        files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|raw| parse(&raw))
            .collect()
    }

    /// Waits (up to 20 s) until `n` messages to `to` have arrived; returns them.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|m| m.to.contains(to))
                .collect();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= deadline {
                let others: Vec<String> = self.received().into_iter().map(|m| m.to).collect();
                panic!(
                    "no message to {to} arrived ({} of {n}); all received, to: {others:?}",
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Whether the server on `port` is an SMTP server announcing `size` as its
/// message size limit (reads its greeting and its EHLO answer, then quits).
fn announces(port: u16, size: u64) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return false,
    };
    let mut lines = BufReader::new(stream);
    let mut line = String::new();
    if lines.read_line(&mut line).is_err() || !line.starts_with("220") {
        return false;
    }
    if writer.write_all(b"EHLO probe\r\n").is_err() {
        return false;
    }
    let wanted = format!("SIZE {size}");
    let mut found = false;
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(n) if n > 0 && line.starts_with("250") => {
                found |= line.get(4..).is_some_and(|rest| rest.trim() == wanted);
                if line.as_bytes().get(3) == Some(&b' ') {
                    break;
                }
            }
            _ => return false,
        }
    }
    let _ = writer.write_all(b"QUIT\r\n");
    found
}

/// The headers and the text part of a message (quoted-printable decoded).
fn parse(raw: &[u8]) -> Option<Received> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n")?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or("")
            .to_string()
    };
    Some(Received {
        to: header("To"),
        subject: header("Subject"),
        body: decode_quoted_printable(body),
    })
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or(""),
                16,
            ) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
