//! `cargo xtask slurm-test`: the planned pipeline through a real single-node Slurm.
//!
//! Starts Slurm from Debian's packages with `xtask/slurm/start-slurm.sh` (installing them
//! when missing; every file under a temporary directory; daemons stopped by their pid
//! files afterwards), generates a corpus, and checks three things against `pith run` on
//! the same corpus:
//! 1. `pith submit slurm --wait` over N plan shards gives byte-identical record files;
//! 2. a cancelled array task cancels its dependents; resubmitting runs only the tasks
//!    that had not finished (the finished tasks' markers are untouched);
//! 3. a task that fails (its input vanished) fails the submission cleanly, nothing left
//!    pending; with the input back, resubmitting completes it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::gen_corpus::{self, GenCorpusArgs};

#[derive(Debug, clap::Args)]
pub(crate) struct SlurmTestArgs {
    /// Documents in the generated corpus.
    #[arg(long, default_value_t = 800)]
    docs: u64,
    /// Plan shards (tasks per array).
    #[arg(long, default_value_t = 8)]
    shards: usize,
    /// Use this pith binary instead of building one (a debug build by default).
    #[arg(long)]
    pith: Option<PathBuf>,
    /// When Slurm cannot be installed or started here (no root, no package mirror), say
    /// so and exit 0 instead of failing.
    #[arg(long)]
    skip_without_slurm: bool,
}

const RECORD_FILES: [&str; 3] = ["documents.jsonl", "dropped.jsonl", "failures.jsonl"];

pub(crate) fn run(args: &SlurmTestArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let pith = match &args.pith {
        Some(pith) => pith.clone(),
        None => {
            let status = crate::cargo().args(["build", "-p", "pith"]).status()?;
            ensure!(status.success(), "building pith failed");
            crate::target_dir().join("debug").join("pith")
        }
    };
    let pith = fs::canonicalize(&pith).with_context(|| format!("{}: no pith binary", pith.display()))?;
    let tmp = std::env::temp_dir().join(format!("pith-slurm-test-{}", std::process::id()));
    make_dir_755(&tmp)?;
    let cluster = match Cluster::start(&tmp.join("slurm")) {
        Ok(cluster) => cluster,
        Err(err) if args.skip_without_slurm => {
            eprintln!("slurm-test: SKIPPED, Slurm could not be started here: {err:#}");
            let _ = fs::remove_dir_all(&tmp);
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    eprintln!("slurm-test: cluster up after {:.1}s", started.elapsed().as_secs_f64());
    let res = scenarios(args, &pith, &tmp, &cluster);
    drop(cluster);
    match &res {
        Ok(()) => {
            let _ = fs::remove_dir_all(&tmp);
            eprintln!("slurm-test: passed in {:.1}s", started.elapsed().as_secs_f64());
        }
        Err(_) => eprintln!("slurm-test: left {} for inspection", tmp.display()),
    }
    res
}

fn scenarios(args: &SlurmTestArgs, pith: &Path, tmp: &Path, cluster: &Cluster) -> anyhow::Result<()> {
    let corpus = tmp.join("corpus");
    gen_corpus::run(&GenCorpusArgs::txt(args.docs, 7, corpus.clone()))?;
    // The ground truth is not input.
    fs::rename(corpus.join("truth.jsonl"), tmp.join("truth.jsonl"))?;
    let shards = args.shards.to_string();
    let p = Pith { bin: pith, cluster };

    let local = tmp.join("local");
    p.ok(&["run", path(&corpus), "-o", path(&local), "--cache-dir", path(&tmp.join("cache-local"))])?;

    // 1. The whole pipeline through Slurm.
    let t = Instant::now();
    let out = tmp.join("planned");
    p.ok(&["plan", path(&corpus), "-o", path(&out), "--shards", &shards, "--cache-dir", path(&tmp.join("cache-1"))])?;
    p.ok(&["submit", "slurm", path(&out), "--wait", "--max-parallel", "2"])?;
    same_records(&out, &local)?;
    eprintln!("slurm-test: {shards} shards through Slurm, identical to pith run ({:.1}s)", t.elapsed().as_secs_f64());

    // 2. Cancel the last map task before it runs (one task at a time), so that reduce,
    //    apply and merge are cancelled too; then resubmit.
    let t = Instant::now();
    let out = tmp.join("cancelled");
    p.ok(&["plan", path(&corpus), "-o", path(&out), "--shards", &shards, "--cache-dir", path(&tmp.join("cache-2"))])?;
    let submitted = p.ok(&["submit", "slurm", path(&out), "--max-parallel", "1"])?;
    let jobs = job_ids(&submitted)?;
    let last = args.shards - 1;
    cluster.command("scancel").arg(format!("{}_{last}", jobs[0])).status()?;
    cluster.wait_empty(&jobs)?;
    let missing = missing_markers(&out, "map", args.shards);
    ensure!(!missing.is_empty(), "the cancelled task ran before it could be cancelled");
    ensure!(!out.join("summary.json").exists(), "the run finished despite a cancelled task");
    resubmit(&p, &out, &local)?;
    eprintln!(
        "slurm-test: cancelled map task(s) {missing:?}, resubmitted, only they re-ran ({:.1}s)",
        t.elapsed().as_secs_f64()
    );

    // 3. A failing task: its input is gone.
    let t = Instant::now();
    let out = tmp.join("failing");
    p.ok(&["plan", path(&corpus), "-o", path(&out), "--shards", &shards, "--cache-dir", path(&tmp.join("cache-3"))])?;
    let plan: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("plan.json"))?)?;
    let victim = plan["inputs"]
        .as_array()
        .context("plan inputs")?
        .iter()
        .find(|f| f["shard"] == 2)
        .and_then(|f| f["path"].as_str())
        .context("no file in plan shard 2")?
        .to_owned();
    let aside = tmp.join("aside");
    fs::rename(&victim, &aside)?;
    let failed = p.run(&["submit", "slurm", path(&out), "--wait"])?;
    ensure!(!failed.status.success(), "submission with a failing task succeeded");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    ensure!(stderr.contains("failed: map task 2"), "the failure does not name the task: {stderr}");
    let status = String::from_utf8(p.ok(&["status", path(&out)])?.stdout)?;
    ensure!(status.contains("failed: 2") && status.contains("is gone"), "status: {status}");
    ensure!(cluster.queue()?.is_empty(), "jobs left in the queue after a failure");
    fs::rename(&aside, &victim)?;
    resubmit(&p, &out, &local)?;
    eprintln!(
        "slurm-test: failed task stopped its dependents, fixed and resubmitted ({:.1}s)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Submits `out` again and waits: the finished tasks' markers must be untouched, and the
/// records those of the local run.
fn resubmit(p: &Pith<'_>, out: &Path, local: &Path) -> anyhow::Result<()> {
    let kept = done_markers(out);
    p.ok(&["submit", "slurm", path(out), "--wait"])?;
    ensure!(kept.iter().all(|(path, bytes)| fs::read(path).ok().as_ref() == Some(bytes)), "a finished task ran again");
    same_records(out, local)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn make_dir_755(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    // munged refuses a socket below a directory others cannot enter.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn same_records(out: &Path, local: &Path) -> anyhow::Result<()> {
    for name in RECORD_FILES {
        let (a, b) = (fs::read(out.join(name))?, fs::read(local.join(name))?);
        ensure!(a == b, "{} differs from the local run's", out.join(name).display());
    }
    Ok(())
}

fn missing_markers(out: &Path, stage: &str, count: usize) -> Vec<usize> {
    (0..count).filter(|i| !out.join("work/_done").join(format!("{stage}-{i:05}.json")).exists()).collect()
}

fn done_markers(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut res: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(out.join("work/_done"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.path(), fs::read(e.path()).ok()?)))
        .collect();
    res.sort();
    res
}

/// Job ids from `pith submit`'s "submitted STAGE as job N" lines.
fn job_ids(output: &Output) -> anyhow::Result<Vec<String>> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ids: Vec<String> = stderr.lines().filter_map(|l| l.split(" as job ").nth(1)).map(str::to_owned).collect();
    ensure!(!ids.is_empty(), "pith submit named no jobs: {stderr}");
    Ok(ids)
}

struct Pith<'a> {
    bin: &'a Path,
    cluster: &'a Cluster,
}

impl Pith<'_> {
    fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let mut cmd = Command::new(self.bin);
        cmd.args(args).arg("--no-progress").env("SLURM_CONF", &self.cluster.conf);
        cmd.output().with_context(|| format!("running pith {}", args.join(" ")))
    }

    fn ok(&self, args: &[&str]) -> anyhow::Result<Output> {
        let output = self.run(args)?;
        if !output.status.success() {
            bail!("pith {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        }
        Ok(output)
    }
}

/// A single-node Slurm whose files all live under `dir`; stopped on drop.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
}

fn script(name: &str) -> PathBuf {
    crate::workspace_root().join("xtask").join("slurm").join(name)
}

impl Cluster {
    fn start(dir: &Path) -> anyhow::Result<Cluster> {
        make_dir_755(dir)?;
        let output = Command::new("bash")
            .arg(script("start-slurm.sh"))
            .arg("--fresh")
            .env("SLURM_LOCAL_DIR", dir)
            .output()
            .context("running start-slurm.sh")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let conf = stdout.lines().rev().find_map(|l| l.strip_prefix("export SLURM_CONF=")).map(PathBuf::from);
        let cluster = Cluster { dir: dir.to_owned(), conf: conf.clone().unwrap_or_default() };
        match conf {
            Some(_) if output.status.success() => Ok(cluster),
            _ => bail!(
                "start-slurm.sh failed ({}): {}{}",
                output.status,
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    /// Ids of the jobs in the queue.
    fn queue(&self) -> anyhow::Result<Vec<String>> {
        let output = self.command("squeue").args(["-h", "-o", "%i"]).output()?;
        ensure!(output.status.success(), "squeue failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect())
    }

    /// Waits until none of `jobs` is in the queue (a minute at most).
    fn wait_empty(&self, jobs: &[String]) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let queued = self.queue()?;
            if !queued.iter().any(|q| jobs.iter().any(|j| q == j || q.starts_with(&format!("{j}_")))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        bail!("jobs {jobs:?} still queued after a minute")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("stop-slurm.sh"))
            .env("SLURM_LOCAL_DIR", &self.dir)
            .stdout(std::process::Stdio::null())
            .status();
    }
}
