//! Real PostgreSQL and Redis servers for the tests, from the machine's Debian
//! packages (`scripts/setup.sh` installs them): each on a free loopback port
//! with a throw-away data folder, started by this test process and gone with
//! it. Every server runs under a small shell that holds the read end of a pipe
//! from this process: when the test binary exits, however it exits, the pipe
//! closes and the shell stops the server and removes its folder.
//!
//! [`postgres`] and [`redis`] are shared by a test binary (each test gets its
//! own database and key prefix); a fault test starts its own with
//! [`Postgres::start`] / [`Redis::start`] to stop and restart them.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

/// How long a server may take to start or stop.
const WITHIN: Duration = Duration::from_secs(60);

/// A loopback port free when asked (its listener is closed at once, so
/// another may take it before the caller binds it; a caller that starts a
/// server on it checks that the server there is its own).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Waits (bounded) until `ready()` holds.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < WITHIN, "{what} within {WITHIN:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server process under its reaping shell.
struct Reaped {
    shell: Child,
}

impl Reaped {
    /// Runs `command` (a shell command line) in the background; when the
    /// pipe closes it gets `signal` (not `INT`: a background job of a
    /// non-interactive shell ignores it, unless it sets its own handler),
    /// and `cleanup` runs after it stops.
    fn spawn(command: &str, signal: &str, cleanup: &str) -> Reaped {
        let script = format!(
            "{command} >/dev/null 2>&1 & pid=$!; echo $pid; \
             read _ignored; kill -{signal} $pid 2>/dev/null; wait $pid 2>/dev/null; {cleanup}"
        );
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let mut line = String::new();
        BufReader::new(shell.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.trim().parse::<u32>().is_ok(), "the server started");
        Reaped { shell }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        // Closing the pipe lets the shell stop the server and clean up.
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

/// A PostgreSQL server.
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    process: Mutex<Option<Reaped>>,
    databases: AtomicU32,
    /// Removes the data folder when the test binary ends.
    _janitor: Reaped,
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/setup.sh)")
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
}

impl Postgres {
    /// A new server with an empty cluster (user `sesame`, trusted on loopback).
    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let as_postgres = is_root();
        let dir = PathBuf::from(
            String::from_utf8(
                Command::new("mktemp")
                    .args(["-d", "/tmp/sesame-pg.XXXXXX"])
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap()
            .trim(),
        );
        if as_postgres {
            // PostgreSQL refuses to run as root.
            assert!(Command::new("chown")
                .args(["postgres:postgres", dir.to_str().unwrap()])
                .status()
                .unwrap()
                .success());
        }
        let pg = Postgres {
            port: free_port(),
            dir: dir.clone(),
            bin,
            as_postgres,
            process: Mutex::new(None),
            databases: AtomicU32::new(0),
            _janitor: Reaped::spawn(
                "sleep infinity",
                "TERM",
                &format!("rm -rf {}", dir.display()),
            ),
        };
        let init = format!(
            "{} -D {}/data -U sesame --auth=trust -E UTF8 --no-sync --no-instructions",
            pg.bin.join("initdb").display(),
            pg.dir.display()
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(pg.as_user(&init))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.resume();
        pg
    }

    fn as_user(&self, command: &str) -> String {
        if self.as_postgres {
            format!("setpriv --reuid=postgres --regid=postgres --init-groups -- {command}")
        } else {
            command.to_string()
        }
    }

    /// Starts the server (again), and waits until it takes connections.
    pub fn resume(&self) {
        let command = self.as_user(&format!(
            "{} -D {dir}/data -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300",
            self.bin.join("postgres").display(),
            dir = self.dir.display(),
            port = self.port,
        ));
        // INT: PostgreSQL's fast shutdown (TERM would wait for clients).
        let reaped = Reaped::spawn(&command, "INT", "true");
        *self.process.lock().unwrap() = Some(reaped);
        wait_for("PostgreSQL takes connections", || self.accepts_queries());
    }

    fn accepts_queries(&self) -> bool {
        accepts(self.port)
            && Command::new(self.bin.join("pg_isready"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "sesame",
                    "-q",
                ])
                .status()
                .is_ok_and(|s| s.success())
    }

    /// Stops the server (fast shutdown: sessions are cut), and waits until
    /// its port is closed. The data stays for [`Postgres::resume`].
    pub fn stop(&self) {
        drop(self.process.lock().unwrap().take());
        wait_for("PostgreSQL stops", || !accepts(self.port));
        // The postmaster's lock file goes last.
        wait_for("PostgreSQL exits", || {
            !self.dir.join("data/postmaster.pid").exists()
        });
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://sesame@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            self.databases.fetch_add(1, Ordering::Relaxed)
        );
        let out = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "sesame",
                &name,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(&name)
    }
}

/// A Redis server.
pub struct Redis {
    pub port: u16,
    process: Mutex<Option<Reaped>>,
    prefixes: AtomicU32,
}

impl Redis {
    /// A new, empty server (nothing saved to disk).
    pub fn start() -> Redis {
        let redis = Redis {
            port: free_port(),
            process: Mutex::new(None),
            prefixes: AtomicU32::new(0),
        };
        redis.resume();
        redis
    }

    /// Starts the server (again, empty), and waits until it answers.
    pub fn resume(&self) {
        let command = format!(
            "redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no",
            self.port
        );
        *self.process.lock().unwrap() = Some(Reaped::spawn(&command, "TERM", "true"));
        wait_for("Redis answers PING", || self.pong());
    }

    fn pong(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(format!("127.0.0.1:{}", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0u8; 5];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG"
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&self) {
        drop(self.process.lock().unwrap().take());
        wait_for("Redis stops", || !accepts(self.port));
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// What `redis-cli` prints for `args` (raw, one line each).
    pub fn cli(&self, args: &[&str]) -> Vec<String> {
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(out.status.success(), "redis-cli {args:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The keys under `pattern` (SCAN, so it never blocks the server).
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.cli(&["--scan", "--pattern", pattern])
    }

    /// A key prefix no other test uses.
    pub fn prefix(&self) -> String {
        format!(
            "t{}-{}:",
            std::process::id(),
            self.prefixes.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// The test binary's shared PostgreSQL.
pub fn postgres() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(Postgres::start)
}

/// The test binary's shared Redis.
pub fn redis() -> &'static Redis {
    static REDIS: OnceLock<Redis> = OnceLock::new();
    REDIS.get_or_init(Redis::start)
}

/// The Redis key prefix of a [`scale_out`] configuration.
pub fn prefix_of(config: &str) -> String {
    config
        .lines()
        .find_map(|l| l.strip_prefix("prefix = \""))
        .and_then(|p| p.strip_suffix('"'))
        .expect("a scale-out configuration")
        .to_string()
}

/// TOML that puts a test app on a new database of `pg` and a new prefix of
/// `redis`: the same text for every instance of one deployment.
pub fn scale_out(pg: &Postgres, redis: &Redis) -> String {
    format!(
        "[database]\nurl = \"{}\"\n[redis]\nurl = \"{}\"\nprefix = \"{}\"\n",
        pg.database(),
        redis.url(),
        redis.prefix()
    )
}
