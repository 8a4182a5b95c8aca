//! Running a program and measuring it: wall time, CPU time and peak RSS (from `wait4`'s
//! rusage, as GNU `/usr/bin/time -v` reports it, else by polling `/proc`), the machine's
//! load, and the CPU other processes used meanwhile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// What one run of a program cost.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cost {
    pub(crate) wall_seconds: f64,
    /// User + system CPU seconds of the program (and its children).
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) peak_rss_bytes: Option<u64>,
    /// `/proc/loadavg` before the run: 1, 5 and 15 minute averages.
    pub(crate) load_before: Option<[f64; 3]>,
    /// Cores other processes kept busy during the run, on average: the machine's busy CPU
    /// time (`/proc/stat`) minus the program's, divided by the wall time.
    pub(crate) other_cores: Option<f64>,
}

impl Cost {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "wall_seconds": round(self.wall_seconds, 3),
            "cpu_seconds": self.cpu_seconds.map(|s| round(s, 3)),
            "peak_rss_bytes": self.peak_rss_bytes,
            "load_before": self.load_before,
            "other_cores": self.other_cores.map(|c| round(c, 2)),
        })
    }
}

pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Runs `program args` with stdout and stderr going to `log` and measures it; fails when it
/// exits non-zero, quoting the log's end.
///
/// What earlier runs wrote is flushed to disk first (`sync`), so that the kernel's
/// writeback of the last run's output and cache does not run during this one (it showed as
/// up to 0.14 `other cores` in a warm run right after a cold one).
pub(crate) fn run(program: &Path, args: &[String], log: &Path) -> anyhow::Result<Cost> {
    // Only a courtesy to the measurement: a machine without `sync` measures as before.
    let _ = Command::new("sync").status();
    let shown = format!("{} {}", program.display(), args.join(" "));
    let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let load_before = load_average();
    let busy_before = busy_cpu_seconds();
    let started = Instant::now();
    let (status, cpu_seconds, peak_rss_bytes) = if let Some(time) = gnu_time() {
        let time_out = log.with_extension("time");
        let status = Command::new(time)
            .arg("-v")
            .arg("-o")
            .arg(&time_out)
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .status()
            .with_context(|| format!("starting `{shown}`"))?;
        let report = std::fs::read_to_string(&time_out).unwrap_or_default();
        let field = |name: &str| {
            report
                .lines()
                .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix(':')?.trim().parse::<f64>().ok())
        };
        let cpu = field("User time (seconds)").zip(field("System time (seconds)")).map(|(u, s)| u + s);
        let rss = field("Maximum resident set size (kbytes)").map(|kb| kb as u64 * 1024);
        (status, cpu, rss)
    } else {
        poll(program, args, log_file).with_context(|| format!("running `{shown}`"))?
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("`{shown}` failed ({status}); the end of {}:\n{}", log.display(), tail.join("\n"));
    }
    let other_cores = match (busy_before, busy_cpu_seconds(), cpu_seconds) {
        (Some(before), Some(after), Some(own)) if wall_seconds > 0.0 => {
            Some(((after - before - own) / wall_seconds).max(0.0))
        }
        _ => None,
    };
    Ok(Cost { wall_seconds, cpu_seconds, peak_rss_bytes, load_before, other_cores })
}

/// GNU time, when installed and able to report (`-v -o`).
fn gnu_time() -> Option<PathBuf> {
    let time = PathBuf::from("/usr/bin/time");
    let works = Command::new(&time)
        .args(["-v", "-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(time)
}

/// Without GNU time: polls `/proc/<pid>` for the peak RSS (`VmHWM`) and CPU ticks until the
/// program exits. Misses the last few milliseconds and the program's children.
fn poll(
    program: &Path,
    args: &[String],
    log_file: std::fs::File,
) -> anyhow::Result<(std::process::ExitStatus, Option<f64>, Option<u64>)> {
    let mut child =
        Command::new(program).args(args).stdin(Stdio::null()).stdout(log_file.try_clone()?).stderr(log_file).spawn()?;
    let proc_dir = PathBuf::from(format!("/proc/{}", child.id()));
    let ticks = clock_ticks();
    let (mut peak, mut cpu) = (None, None);
    loop {
        if let Ok(status) = std::fs::read_to_string(proc_dir.join("status")) {
            let hwm: Option<u64> =
                status.lines().find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok());
            if let Some(kb) = hwm {
                peak = Some(peak.unwrap_or(0).max(kb * 1024u64));
            }
        }
        if let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) {
            // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            if let (Some(user), Some(system)) = (fields.get(11), fields.get(12))
                && let (Ok(user), Ok(system)) = (user.parse::<f64>(), system.parse::<f64>())
            {
                cpu = Some((user + system) / ticks);
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok((status, cpu, peak));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `/proc/loadavg`'s three averages.
pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// CPU seconds all cores spent busy since boot (`/proc/stat`: everything but idle and iowait).
fn busy_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = ticks.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    Some(busy / clock_ticks())
}

/// `sysconf(_SC_CLK_TCK)`, through `getconf`; 100 on every Linux we know.
fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok().and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok()).unwrap_or(100.0)
}

/// Bytes under `dir` as `du -sb` counts them (apparent sizes, directories included).
pub(crate) fn disk_usage(dir: &Path) -> anyhow::Result<u64> {
    if let Ok(out) = Command::new("du").arg("-sb").arg(dir).stderr(Stdio::null()).output()
        && out.status.success()
        && let Some(bytes) = String::from_utf8_lossy(&out.stdout).split_whitespace().next().and_then(|n| n.parse().ok())
    {
        return Ok(bytes);
    }
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            total += meta.len();
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(total)
}

/// The machine: CPU model and core count, for the report.
pub(crate) fn host() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| Some(l.strip_prefix("model name")?.split_once(':')?.1.trim().to_owned()));
    let cores = std::thread::available_parallelism().map(|n| n.get()).ok();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned());
    serde_json::json!({"cpu": model, "cores": cores, "kernel": kernel})
}
