//! `cargo xtask bench --compare datatrove`: pith against datatrove's closest pipeline on the
//! same slice of the bench corpus, both on one core.
//!
//! datatrove has no boilerplate stripping; its nearest equivalent of `pith run` is the
//! FineWeb-style filter chain (Gopher repetition and quality, C4, FineWeb quality) plus the
//! signature stage of its MinHash dedup. Both run from a script this module writes
//! (`datatrove_bench.py`), in a venv under the bench directory with packages from PyPI only.
//! The English word tokenizer datatrove assigns is spaCy's blank `en` pipeline, which needs
//! no model download, so nothing is fetched at run time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::corpus::{self, Format, Size};
use super::measure::{self, round};

/// The version measured for docs/bench.md; pinned so a re-run measures the same code.
const DATATROVE: &str = "datatrove==0.10.1";
/// What datatrove's English filters and MinHash need beyond its base install: spaCy for
/// words and sentences, `regex`, `orjson` (JsonlReader), `tokenizers` (imported by
/// `datatrove.pipeline.dedup`), and xxhash below 4 as datatrove's `processing` extra pins it.
const EXTRA_PACKAGES: &[&str] = &["spacy", "regex", "orjson", "tokenizers", "xxhash<4"];
const IMPORT_CHECK: &str = "import datatrove, spacy, regex, orjson, tokenizers, xxhash";
const SCRIPT: &str = include_str!("datatrove_bench.py");
/// pith is fast on a slice, so its time is the fastest of a few runs.
const PITH_RUNS: usize = 3;

pub(super) fn run(bench_dir: &Path, pith: &Path, git: Value, size: &Size, seed: u64) -> anyhow::Result<()> {
    let python = venv(&bench_dir.join("venv"))?;

    let dir = bench_dir.join("compare");
    corpus::remove_dir(&dir)?;
    let slice_dir = dir.join("slice");
    std::fs::create_dir_all(&slice_dir).with_context(|| format!("creating {}", slice_dir.display()))?;
    // The corpus of this size has the same first documents as every larger one of the seed.
    let source = corpus::ensure(bench_dir, size, seed, Format::Jsonl)?;
    let slice = corpus::head(&source, size.bytes)?;
    let slice_path = slice_dir.join("slice.jsonl");
    std::fs::write(&slice_path, &slice).with_context(|| format!("writing {}", slice_path.display()))?;
    let bytes = slice.len() as u64;
    let docs = slice.iter().filter(|&&b| b == b'\n').count();
    eprintln!("bench: comparing on {} ({docs} docs, {bytes} bytes)", slice_path.display());

    let mut pith_best: Option<(measure::Cost, Value)> = None;
    for n in 0..PITH_RUNS {
        let log = dir.join(format!("pith-{n}"));
        let (cost, summary) = super::run_pith(pith, &slice_path, &dir.join("pith-out"), None, None, 1, &log)?;
        if pith_best.as_ref().is_none_or(|(best, _)| cost.wall_seconds < best.wall_seconds) {
            pith_best = Some((cost, summary));
        }
    }
    let (pith_cost, pith_summary) = pith_best.expect("pith ran");
    // With --no-cache, phase 2 recomputes parse and strip (it otherwise reads them from the
    // cache), so a cold run with an empty cache is shown too.
    let cache = dir.join("pith-cache");
    let (cold_cost, _) =
        super::run_pith(pith, &slice_path, &dir.join("pith-out"), Some(&cache), None, 1, &dir.join("pith-cold"))?;

    let script = dir.join("datatrove_bench.py");
    std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
    let result_path = dir.join("datatrove.json");
    let args: Vec<String> = [&script, &slice_dir, &dir.join("datatrove-work"), &result_path]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    eprintln!("bench: running datatrove (slow: about 1 MB/s or less)");
    let datatrove_cost = measure::run(&python, &args, &dir.join("datatrove.log"))?;
    let datatrove: Value = serde_json::from_str(
        &std::fs::read_to_string(&result_path).with_context(|| format!("reading {}", result_path.display()))?,
    )
    .context("parsing datatrove.json")?;

    let report = build(bytes, docs, [&pith_cost, &cold_cost], &pith_summary, &datatrove, &datatrove_cost);
    let report = json!({
        "date": super::now(),
        "command": super::command_line(),
        "git": git,
        "host": measure::host(),
        "pith_sha256": super::sha256(pith),
        "slice": {"path": slice_path.display().to_string(), "bytes": bytes, "docs": docs, "seed": seed},
        "comparison": report,
    });
    let markdown = markdown(&report);
    std::fs::write(bench_dir.join("compare.json"), format!("{report:#}\n")).context("writing compare.json")?;
    std::fs::write(bench_dir.join("compare.md"), &markdown).context("writing compare.md")?;
    println!("{markdown}");
    eprintln!("bench: wrote {} and compare.md", bench_dir.join("compare.json").display());
    Ok(())
}

/// The venv's python, after creating the venv and installing the packages if needed.
fn venv(dir: &Path) -> anyhow::Result<PathBuf> {
    let python = dir.join("bin").join("python");
    if !python.exists() {
        eprintln!("==> python3 -m venv {}", dir.display());
        let status = Command::new("python3").args(["-m", "venv"]).arg(dir).status().context("starting python3")?;
        if !status.success() {
            bail!("python3 -m venv {} failed ({status})", dir.display());
        }
    }
    let imports = Command::new(&python).args(["-c", IMPORT_CHECK]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let installed = imports.is_ok_and(|s| s.success()) && pip_has(&python, DATATROVE);
    if !installed {
        let packages: Vec<&str> = std::iter::once(DATATROVE).chain(EXTRA_PACKAGES.iter().copied()).collect();
        eprintln!("==> pip install {}", packages.join(" "));
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(&packages)
            .status()
            .context("starting pip")?;
        if !status.success() {
            bail!("pip install {} failed ({status})", packages.join(" "));
        }
    }
    Ok(python)
}

/// Whether `name==version` is what the venv has.
fn pip_has(python: &Path, requirement: &str) -> bool {
    let Some((name, version)) = requirement.split_once("==") else { return false };
    let code = format!("import importlib.metadata as m; print(m.version('{name}'))");
    Command::new(python)
        .args(["-c", &code])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == version)
}

fn build(
    bytes: u64,
    docs: usize,
    [pith_cost, cold_cost]: [&measure::Cost; 2],
    pith_summary: &Value,
    datatrove: &Value,
    datatrove_cost: &measure::Cost,
) -> Value {
    let mb = bytes as f64 / 1e6;
    let seconds = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
    let (filters, minhash) = (&datatrove["filters"], &datatrove["minhash"]);
    let dt_wall = seconds(filters, "seconds") + seconds(minhash, "seconds");
    let dt_cpu = seconds(filters, "cpu_seconds") + seconds(minhash, "cpu_seconds");
    let pith_wall = pith_cost.wall_seconds;
    let pith_cpu = pith_cost.cpu_seconds.unwrap_or(f64::NAN);
    let rate = |s: f64| round(mb / s, 3);
    json!({
        "pith": {
            "threads": 1,
            "runs": PITH_RUNS,
            "wall_seconds": round(pith_wall, 3),
            "cpu_seconds": round(pith_cpu, 3),
            "mb_per_s": rate(pith_wall),
            "mb_per_cpu_s": rate(pith_cpu),
            "peak_rss_bytes": pith_cost.peak_rss_bytes,
            "kept": pith_summary["kept"],
            "dropped": pith_summary["dropped"],
            "load_before": pith_cost.load_before,
            "other_cores": pith_cost.other_cores.map(|c| round(c, 2)),
        },
        "pith_cold_cache": {
            "threads": 1,
            "wall_seconds": round(cold_cost.wall_seconds, 3),
            "cpu_seconds": cold_cost.cpu_seconds.map(|s| round(s, 3)),
            "mb_per_s": rate(cold_cost.wall_seconds),
            "mb_per_cpu_s": cold_cost.cpu_seconds.map(rate),
            "load_before": cold_cost.load_before,
            "other_cores": cold_cost.other_cores.map(|c| round(c, 2)),
        },
        "datatrove": {
            "versions": datatrove["versions"],
            "tasks": 1,
            "workers": 1,
            "import_seconds": datatrove["import_seconds"],
            "tokenizer_load_seconds": datatrove["tokenizer_seconds"],
            "filters": {
                "wall_seconds": filters["seconds"],
                "cpu_seconds": filters["cpu_seconds"],
                "mb_per_s": rate(seconds(filters, "seconds")),
                "mb_per_cpu_s": rate(seconds(filters, "cpu_seconds")),
                "docs_in": filters["docs_in"],
                "docs_kept": filters["docs_kept"],
            },
            "minhash_signature": {
                "wall_seconds": minhash["seconds"],
                "cpu_seconds": minhash["cpu_seconds"],
                "mb_per_s": rate(seconds(minhash, "seconds")),
                "mb_per_cpu_s": rate(seconds(minhash, "cpu_seconds")),
            },
            "both": {
                "wall_seconds": round(dt_wall, 3),
                "cpu_seconds": round(dt_cpu, 3),
                "mb_per_s": rate(dt_wall),
                "mb_per_cpu_s": rate(dt_cpu),
            },
            "process": datatrove_cost.to_json(),
        },
        "docs": docs,
        // pith's whole pipeline against datatrove's filters and MinHash signatures, per core.
        "ratio_wall": round(dt_wall / pith_wall, 1),
        "ratio_cpu": round(dt_cpu / pith_cpu, 1),
        "ratio_wall_filters_only": round(seconds(filters, "seconds") / pith_wall, 1),
        "ratio_wall_cold_cache": round(dt_wall / cold_cost.wall_seconds, 1),
        "target_ratio": 100,
    })
}

fn markdown(report: &Value) -> String {
    let c = &report["comparison"];
    let (p, d) = (&c["pith"], &c["datatrove"]);
    let v = &d["versions"];
    let num = |x: &Value, decimals: usize| x.as_f64().map_or_else(|| "-".to_owned(), |x| format!("{x:.decimals$}"));
    let mut lines = vec![
        format!(
            "`{}` on {} (commit {}{}, pith binary sha256 {}).",
            report["command"].as_str().unwrap_or("?"),
            report["date"].as_str().unwrap_or("?"),
            report["git"]["commit"].as_str().unwrap_or("?"),
            if report["git"]["dirty"] == true { " with uncommitted changes" } else { "" },
            report["pith_sha256"].as_str().map_or("?", |s| &s[..s.len().min(12)]),
        ),
        format!(
            "Slice: the first {} docs of the seed-{} corpus, {:.2} MB of JSONL; one core each.",
            report["slice"]["docs"],
            report["slice"]["seed"],
            report["slice"]["bytes"].as_f64().unwrap_or(0.0) / 1e6
        ),
        format!(
            "datatrove {} (Python {}, spaCy {}, numpy {}, xxhash {}), LocalPipelineExecutor(tasks=1, workers=1).",
            v["datatrove"].as_str().unwrap_or("?"),
            v["python"].as_str().unwrap_or("?"),
            v["spacy"].as_str().unwrap_or("?"),
            v["numpy"].as_str().unwrap_or("?"),
            v["xxhash"].as_str().unwrap_or("?"),
        ),
        String::new(),
        "| what | wall s | CPU s | MB/s (wall) | MB per CPU s | load 1m | other cores |".to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    let process = &d["process"];
    let mut row = |what: &str, x: &Value, load: &Value, other: &Value| {
        lines.push(format!(
            "| {what} | {} | {} | {} | {} | {} | {} |",
            num(&x["wall_seconds"], 2),
            num(&x["cpu_seconds"], 2),
            num(&x["mb_per_s"], 3),
            num(&x["mb_per_cpu_s"], 3),
            num(&load[0], 2),
            num(other, 2),
        ));
    };
    row(
        &format!("pith run --threads 1 --no-cache (fastest of {})", p["runs"]),
        p,
        &p["load_before"],
        &p["other_cores"],
    );
    row(
        "pith run --threads 1, empty cache dir",
        &c["pith_cold_cache"],
        &c["pith_cold_cache"]["load_before"],
        &c["pith_cold_cache"]["other_cores"],
    );
    row(
        "datatrove Gopher rep. + Gopher quality + C4 + FineWeb filters",
        &d["filters"],
        &process["load_before"],
        &process["other_cores"],
    );
    row("datatrove MinhashDedupSignature", &d["minhash_signature"], &Value::Null, &Value::Null);
    row("datatrove both", &d["both"], &Value::Null, &Value::Null);
    lines.push(String::new());
    lines.push(format!(
        "pith per core is **{}x** datatrove's filters + MinHash signatures by wall time, {}x by CPU time \
         ({}x the filters alone, {}x with pith's cache on; target >= {}x). \
         datatrove's import ({} s) and spaCy load ({} s) are not timed.",
        num(&c["ratio_wall"], 1),
        num(&c["ratio_cpu"], 1),
        num(&c["ratio_wall_filters_only"], 1),
        num(&c["ratio_wall_cold_cache"], 1),
        c["target_ratio"],
        num(&d["import_seconds"], 2),
        num(&d["tokenizer_load_seconds"], 2),
    ));
    lines.join("\n") + "\n"
}
