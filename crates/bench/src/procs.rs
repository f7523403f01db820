//! Servers run as child processes, so that their resident memory is theirs alone: spawning them,
//! reading their address from their output, and what `/proc` says (VmRSS, the open-file limit).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;
use serde_json::Value;

use crate::messages::{CLIENT_ID, CLIENT_SECRET};

/// Set in the environment of the load generator once it has re-run itself under a raised
/// open-file limit, so that it never tries twice.
const RAISED: &str = "PALAVER_BENCH_NOFILE_RAISED";

/// A server child process; killed (and its database folder removed) when dropped.
pub struct Server {
    child: std::process::Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The bootstrap application's api key (Palaver only).
    pub api_key: String,
    /// Its database (Palaver) and its standard error, `server.log`.
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Warnings and errors the server logged so far: how many, the first few distinct ones
    /// (without timestamps and fields), and the sum of their `missed=N` fields (events the
    /// real-time hub skipped).
    pub fn warnings(&self) -> (usize, Vec<String>, u64) {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let mut count = 0;
        let mut missed = 0;
        let mut distinct: Vec<String> = Vec::new();
        for line in log.lines().map(strip_ansi) {
            let Some(at) = line.find(" WARN ").or_else(|| line.find(" ERROR ")) else {
                continue;
            };
            count += 1;
            missed += line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("missed="))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            // `LEVEL target: message key=value ...`: the message alone.
            let message: Vec<&str> = line[at..]
                .split_whitespace()
                .skip(1)
                .filter(|w| !w.contains('='))
                .collect();
            let message = message.join(" ");
            if distinct.len() < 3 && !distinct.contains(&message) {
                distinct.push(message);
            }
        }
        (count, distinct, missed)
    }

    /// Prints what [`Server::warnings`] found, if anything, to standard error.
    pub fn report_warnings(&self, what: &str) {
        let (count, distinct, missed) = self.warnings();
        if count > 0 {
            eprintln!(
                "({what}: the server logged {count} warnings or errors, {missed} events missed: \
                 {distinct:?})"
            );
        }
    }

    /// The most resident memory the server process has had, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        status_kib(&format!("/proc/{}/status", self.pid), "VmHWM:")
    }

    /// Resets the server's VmHWM to its resident memory now (`5` to `clear_refs`, Linux 4.0 and
    /// later), so that [`Server::peak_rss_kib`] then answers one scenario's peak; `false` when
    /// the kernel refused.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// Resident memory of the server process now, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(&format!("/proc/{}/status", self.pid))
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn log_file(dir: &tempfile::TempDir) -> anyhow::Result<Stdio> {
    Ok(std::fs::File::create(dir.path().join("server.log"))?.into())
}

/// VmRSS of the process whose status file is `path`, in KiB.
pub fn rss_kib(path: &str) -> anyhow::Result<u64> {
    status_kib(path, "VmRSS:")
}

/// The `field` (`VmRSS:`, `VmHWM:`) of the process status file `path`, in KiB.
fn status_kib(path: &str, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .with_context(|| format!("no {field} in {path}"))
}

/// Reads the child's stdout up to the line `<marker>http://ADDR`; keeps the JSON lines before
/// it; then drains the rest on a thread, so that the child never blocks on a full pipe.
fn wait_listening(
    child: &mut std::process::Child,
    marker: &str,
) -> anyhow::Result<(String, Vec<Value>)> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut json = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            anyhow::bail!("the server exited before it listened");
        }
        if let Some(base) = line.trim().strip_prefix(marker) {
            let base = base.to_string();
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return Ok((base, json));
        }
        if let Ok(v) = serde_json::from_str::<Value>(line.trim()) {
            json.push(v);
        }
    }
}

/// Starts `palaver serve` (the release binary at `bin`) on a fresh SQLite database in a
/// temporary folder, on a free loopback port, with the benchmark's client credentials, logging
/// at `warn` (unless `PALAVER_LOG` says otherwise) to `server.log` there. It inherits this
/// process's open-file limit (raised by [`raise_open_files`]).
pub fn spawn_palaver(bin: &Path) -> anyhow::Result<Server> {
    spawn_palaver_with(bin, None, &[])
}

/// As [`spawn_palaver`], on `database_url` when given (an empty database), with `env` added.
pub fn spawn_palaver_with(
    bin: &Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    anyhow::ensure!(
        bin.exists(),
        "{} does not exist: build it with `cargo build --release -p palaver`",
        bin.display()
    );
    let dir = tempfile::tempdir()?;
    let url = match database_url {
        Some(u) => u.to_string(),
        None => format!("sqlite://{}", dir.path().join("gateway.db").display()),
    };
    let mut command = Command::new(bin);
    // The load is the point: the HTTP rate limits would only measure themselves (a suite's
    // own `env` may set them again).
    for limit in [
        "PALAVER_RATE_LIMIT_PLATFORM_PER_SECOND",
        "PALAVER_RATE_LIMIT_CONTENT_TOKEN_PER_SECOND",
        "PALAVER_RATE_LIMIT_IP_PER_SECOND",
        "PALAVER_RATE_LIMIT_LOGIN_PER_SECOND",
    ] {
        command.env(limit, "0");
    }
    command.envs(env.iter().copied());
    command.env("PALAVER_FILES_URL", dir.path().join("files"));
    if std::env::var_os("PALAVER_LOG").is_none() {
        command.env("PALAVER_LOG", "warn");
    }
    let mut child = command
        .args(["--json", "serve"])
        .env("PALAVER_DATABASE_URL", url)
        .env("PALAVER_LISTEN", "127.0.0.1:0")
        .env("PALAVER_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("PALAVER_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("PALAVER_BOOTSTRAP_EMAIL", "bench@example.com")
        .env("PALAVER_BOOTSTRAP_PASSWORD", "bench-password")
        .env("PALAVER_BCRYPT_COST", "4")
        // One sender makes 20 actions a second: above the default limit of a connection.
        .env("PALAVER_GATEWAY_ACTION_LIMIT", "0")
        .stdout(Stdio::piped())
        .stderr(log_file(&dir)?)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let pid = child.id();
    let (base, json) = match wait_listening(&mut child, "Palaver listening on ") {
        Ok(x) => x,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let api_key = json.iter().find_map(|v| v["api_key"].as_str());
    let Some(api_key) = api_key.map(str::to_string) else {
        let _ = child.kill();
        let _ = child.wait();
        anyhow::bail!("palaver printed no bootstrap api key");
    };
    Ok(Server {
        child,
        pid,
        base,
        api_key,
        dir,
    })
}

/// Starts the baseline WebSocket server: this program again, as `--suite baseline-server`.
pub fn spawn_baseline() -> anyhow::Result<Server> {
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(exe)
        .args(["--suite", "baseline-server"])
        .stdout(Stdio::piped())
        .stderr(log_file(&dir)?)
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start the baseline server")?;
    let pid = child.id();
    match wait_listening(&mut child, crate::baseline::LISTENING) {
        Ok((base, _)) => Ok(Server {
            child,
            pid,
            base,
            api_key: String::new(),
            dir,
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// CPU time of process `pid` (or `self`) so far (user and system, all threads), in clock ticks.
pub fn process_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (2nd field) may hold spaces: count fields after its closing parenthesis,
    // where utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0)
}

/// Busy and stolen clock ticks of the whole machine (all CPUs), from `/proc/stat`.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    let busy = at(0) + at(1) + at(2) + at(5) + at(6);
    (busy, at(7))
}

pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// CPU counters at the start of a measurement.
pub struct Machine {
    at: std::time::Instant,
    server: u64,
    own: u64,
    busy: u64,
    steal: u64,
}

/// How the machine's CPU time was spent over a measurement.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// CPU time of the server process, in µs.
    pub server_micros: u64,
    /// Percent of all CPUs' time used by the server, the load generator, other processes, and
    /// stolen by the hypervisor.
    pub server_pct: f64,
    pub generator_pct: f64,
    pub others_pct: f64,
    pub steal_pct: f64,
}

impl Machine {
    pub fn now(server_pid: u32) -> Machine {
        let (busy, steal) = machine_ticks();
        Machine {
            at: std::time::Instant::now(),
            server: process_ticks(&server_pid.to_string()),
            own: process_ticks("self"),
            busy,
            steal,
        }
    }

    pub fn since(&self, server_pid: u32) -> Share {
        let hz = clock_ticks_per_second() as f64;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let capacity = self.at.elapsed().as_secs_f64() * hz * cpus;
        let (busy, steal) = machine_ticks();
        let server = process_ticks(&server_pid.to_string()).saturating_sub(self.server);
        let own = process_ticks("self").saturating_sub(self.own);
        let busy = busy.saturating_sub(self.busy);
        let pct = |ticks: u64| 100.0 * ticks as f64 / capacity.max(1.0);
        Share {
            server_micros: (server as f64 * 1_000_000.0 / hz) as u64,
            server_pct: pct(server),
            generator_pct: pct(own),
            others_pct: pct(busy.saturating_sub(server + own)),
            steal_pct: pct(steal.saturating_sub(self.steal)),
        }
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CPU: server {:.0} %, load generator {:.0} %, other processes {:.0} %, stolen {:.0} %",
            self.server_pct, self.generator_pct, self.others_pct, self.steal_pct
        )
    }
}

/// The soft and hard limits on open files (`u64::MAX` for unlimited).
fn open_files_limit() -> anyhow::Result<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no open-file limit in /proc/self/limits")?;
    let mut numbers = line["Max open files".len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap_or(u64::MAX));
    Ok((
        numbers.next().unwrap_or(0),
        numbers.next().unwrap_or(u64::MAX),
    ))
}

/// Makes sure this process (and so the servers it starts, which inherit it) may hold `needed`
/// open files: when the soft limit is lower, runs this program again through `sh` with the soft
/// limit raised to the hard one (no unsafe `setrlimit` here: the workspace forbids unsafe code).
pub fn raise_open_files(needed: u64) -> anyhow::Result<()> {
    let (soft, hard) = open_files_limit()?;
    if soft >= needed {
        return Ok(());
    }
    anyhow::ensure!(
        hard >= needed && std::env::var_os(RAISED).is_none(),
        "{needed} open files are needed but the limit is {soft} (hard limit {hard}): raise it \
         (`ulimit -n {needed}`) or ask for fewer connections"
    );
    eprintln!("(open-file limit {soft}: running again with the hard limit, {hard})");
    let err = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -H -n)" && exec "$0" "$@""#)
        .arg(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(RAISED, "1")
        .exec();
    Err(err).context("cannot run again under a raised open-file limit")
}
