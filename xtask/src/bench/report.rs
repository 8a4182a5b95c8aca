//! The bench report: JSON (every number) and a Markdown rendering of it.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::corpus::{Corpus, Touched};
use super::measure::round;
use super::{Run, SCENARIOS};

/// Stage names in pipeline order; `summary.json` may add others, shown after these.
const STAGES: [&str; 5] = ["parse", "strip", "dedup_map", "dedup", "features"];

/// What the lead set as goals in issue 7.
const TARGET_MB_PER_CORE: f64 = 25.0;
/// Parse and strip alone, per CPU second of those two stages.
const TARGET_PARSE_STRIP_MB_PER_CORE: f64 = 100.0;
const TARGET_SPEEDUP_1_TO_2: f64 = 1.8;
const TARGET_WARM_SHARE: f64 = 0.10;
const TARGET_TOUCHED_SHARE: f64 = 0.15;
const TARGET_CACHE_SHARE: f64 = 0.60;

pub(super) struct Inputs<'a> {
    pub(super) command: String,
    pub(super) git: Value,
    pub(super) pith: &'a Path,
    pub(super) corpus: &'a Corpus,
    pub(super) touched: &'a [Touched],
    pub(super) touch_share: f64,
    pub(super) repeat: u32,
    pub(super) runs: &'a [Run],
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub(super) fn build(inputs: Inputs<'_>) -> Value {
    let Inputs { command, git, pith, corpus, touched, touch_share, repeat, runs } = inputs;
    let cold_wall = |threads: usize| {
        runs.iter().find(|r| r.threads == threads && r.scenario == "cold").map(|r| r.cost.wall_seconds)
    };
    let run_values: Vec<Value> = runs
        .iter()
        .map(|run| {
            let summary = &run.summary;
            let bytes_in = summary["bytes_in"].as_u64().unwrap_or(corpus.bytes);
            let wall = run.cost.wall_seconds;
            let mb_per_s = mb(bytes_in) / wall;
            let mut stages = serde_json::Map::new();
            if let Some(map) = summary["stages"].as_object() {
                for (name, stage) in map {
                    stages.insert(
                        name.clone(),
                        json!({
                            "seconds": stage["seconds"],
                            "cache_hits": stage["cache_hits"],
                            "cache_misses": stage["cache_misses"],
                        }),
                    );
                }
            }
            let mut value = json!({
                "threads": run.threads,
                "scenario": run.scenario,
                "bytes_in": bytes_in,
                "documents_in": summary["documents_in"],
                "kept": summary["kept"],
                "dropped": summary["dropped"],
                "failed": summary["failed"],
                "shards": summary["shards"],
                "pith_seconds": summary["seconds"],
                "keywords": summary["keywords"],
                "features_reused": summary["features_reused"],
                "mb_per_s": round(mb_per_s, 2),
                "mb_per_s_per_core": round(mb_per_s / run.threads as f64, 2),
                "mb_per_cpu_s": run.cost.cpu_seconds.map(|cpu| round(mb(bytes_in) / cpu, 2)),
                "vs_cold": cold_wall(run.threads).map(|cold| round(wall / cold, 3)),
                "cache_bytes": run.cache_bytes,
                "cache_share_of_input": round(run.cache_bytes as f64 / bytes_in as f64, 3),
                "cache_by_stage": run.cache_by_stage.iter().map(|(name, bytes)| (name.clone(), json!(bytes))).collect::<serde_json::Map<_, _>>(),
                "stages": stages,
            });
            let object = value.as_object_mut().expect("a JSON object");
            for (key, cost) in run.cost.to_json().as_object().expect("a JSON object") {
                object.insert(key.clone(), cost.clone());
            }
            value
        })
        .collect();

    let first_threads = runs.first().map_or(1, |r| r.threads);
    let mut speedup = Vec::new();
    for threads in runs.iter().map(|r| r.threads).filter(|&t| t != first_threads) {
        if speedup.iter().any(|s: &Value| s["threads"] == threads) {
            continue;
        }
        let mut row = json!({"threads": threads, "relative_to_threads": first_threads});
        for scenario in SCENARIOS {
            let wall = |t: usize| runs.iter().find(|r| r.threads == t && r.scenario == scenario);
            if let (Some(base), Some(this)) = (wall(first_threads), wall(threads)) {
                row[scenario] = json!(round(base.cost.wall_seconds / this.cost.wall_seconds, 2));
            }
        }
        speedup.push(row);
    }

    let mut targets = Vec::new();
    let mut target = |what: String, wanted: String, value: f64, met: bool| {
        targets.push(json!({"what": what, "target": wanted, "value": value, "met": met}));
    };
    for run in &run_values {
        let threads = &run["threads"];
        let value = |key: &str| run[key].as_f64().unwrap_or(f64::NAN);
        match run["scenario"].as_str() {
            Some("cold") => {
                let per_core = value("mb_per_s_per_core");
                let wanted = format!(">= {TARGET_MB_PER_CORE}");
                let what = format!("cold MB/s per core, {threads} thread(s)");
                target(what, wanted.clone(), per_core, per_core >= TARGET_MB_PER_CORE);
                if let Some(per_cpu) = run["mb_per_cpu_s"].as_f64() {
                    let what = format!("cold MB per CPU second, {threads} thread(s)");
                    target(what, wanted, per_cpu, per_cpu >= TARGET_MB_PER_CORE);
                }
                let stage_seconds = |name: &str| run["stages"][name]["seconds"].as_f64();
                if let (Some(parse), Some(strip)) = (stage_seconds("parse"), stage_seconds("strip"))
                    && parse + strip > 0.0
                {
                    // Stage seconds are CPU seconds summed over threads, so this is per core.
                    let per_cpu = round(value("bytes_in") / 1e6 / (parse + strip), 2);
                    let what = format!("cold parse + strip MB per CPU second of the two, {threads} thread(s)");
                    let wanted = format!(">= {TARGET_PARSE_STRIP_MB_PER_CORE}");
                    target(what, wanted, per_cpu, per_cpu >= TARGET_PARSE_STRIP_MB_PER_CORE);
                }
                let share = value("cache_share_of_input");
                let wanted = format!("<= {TARGET_CACHE_SHARE}");
                target(format!("cache size / input, {threads} thread(s)"), wanted, share, share <= TARGET_CACHE_SHARE);
            }
            Some("warm") => {
                let share = value("vs_cold");
                let wanted = format!("<= {TARGET_WARM_SHARE}");
                target(format!("warm wall / cold, {threads} thread(s)"), wanted, share, share <= TARGET_WARM_SHARE);
            }
            Some("touched") => {
                let share = value("vs_cold");
                let wanted = format!("<= {TARGET_TOUCHED_SHARE}");
                let what = format!("1% touched (in one place) wall / cold, {threads} thread(s)");
                target(what, wanted, share, share <= TARGET_TOUCHED_SHARE);
            }
            Some("scattered") => {
                let share = value("vs_cold");
                let wanted = format!("<= {TARGET_TOUCHED_SHARE} (harsher than the issue's)");
                let what = format!("1% touched (scattered over a file) wall / cold, {threads} thread(s)");
                target(what, wanted, share, share <= TARGET_TOUCHED_SHARE);
            }
            _ => {}
        }
    }
    for row in &speedup {
        if row["relative_to_threads"] == 1 && row["threads"] == 2 {
            let value = row["cold"].as_f64().unwrap_or(f64::NAN);
            let wanted = format!(">= {TARGET_SPEEDUP_1_TO_2}");
            target("cold speedup 1 -> 2 threads".to_owned(), wanted, value, value >= TARGET_SPEEDUP_1_TO_2);
        }
    }

    json!({
        "date": super::now(),
        "command": command,
        "git": git,
        "host": super::measure::host(),
        "pith": pith.display().to_string(),
        "pith_sha256": super::sha256(pith),
        "corpus": corpus.to_json(),
        "touches": touched
            .iter()
            .zip(["touched", "scattered"])
            .map(|(touch, scenario)| json!({
                "scenario": scenario,
                "file": touch.file,
                "layout": touch.layout.name(),
                "docs_in_file": touch.docs_in_file,
                "docs_changed": touch.docs_changed,
                "share_of_corpus": round(touch.docs_changed as f64 / corpus.docs as f64, 4),
                "target_share": touch_share,
            }))
            .collect::<Vec<_>>(),
        "repeat": repeat,
        "runs": run_values,
        "speedup": speedup,
        "targets": targets,
    })
}

/// A number with `decimals` decimals, or `-` when absent.
fn num(value: &Value, decimals: usize) -> String {
    value.as_f64().map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn mib(value: &Value) -> String {
    value.as_u64().map_or_else(|| "-".to_owned(), |b| format!("{:.0}", b as f64 / (1 << 20) as f64))
}

pub(super) fn markdown(report: &Value) -> String {
    let mut res = String::new();
    let corpus = &report["corpus"];
    let host = &report["host"];
    let _ =
        writeln!(res, "`{}` on {}", report["command"].as_str().unwrap_or("?"), report["date"].as_str().unwrap_or("?"));
    let _ = writeln!(
        res,
        "(commit {}{}, pith binary sha256 {}; {} cores, {}).",
        report["git"]["commit"].as_str().unwrap_or("?"),
        if report["git"]["dirty"] == true { " with uncommitted changes" } else { "" },
        report["pith_sha256"].as_str().map_or("?", |s| &s[..s.len().min(12)]),
        host["cores"],
        host["cpu"].as_str().unwrap_or("unknown CPU"),
    );
    let _ = writeln!(res);
    let _ = writeln!(
        res,
        "Corpus: {} docs, {:.1} MB of JSONL in {} {} files ({:.1} MB on disk), seed {}.",
        corpus["docs"],
        mb(corpus["bytes"].as_u64().unwrap_or(0)),
        corpus["files"],
        corpus["format"].as_str().unwrap_or("?"),
        mb(corpus["disk_bytes"].as_u64().unwrap_or(0)),
        corpus["seed"],
    );
    for touch in report["touches"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let _ = writeln!(
            res,
            "`{}` run: {} of the {} docs of `{}` changed ({:.2}% of the corpus), {}.",
            touch["scenario"].as_str().unwrap_or("?"),
            touch["docs_changed"],
            touch["docs_in_file"],
            touch["file"].as_str().unwrap_or("?"),
            touch["share_of_corpus"].as_f64().unwrap_or(0.0) * 100.0,
            match touch["layout"].as_str() {
                Some("together") => {
                    "the first ones of the file, in one place (as when 1% of the files change), \
                     each with a word added to its longest line (an edit of the article's body)"
                }
                _ => {
                    "spread evenly through the file (scattered edits: every shard of the file misses), \
                     each with a word added to the end of its text"
                }
            },
        );
    }
    if report["repeat"].as_u64().unwrap_or(1) > 1 {
        let _ = writeln!(res, "Each run is the fastest of {} sequences.", report["repeat"]);
    }
    let _ = writeln!(res);

    let runs = report["runs"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut stages: Vec<String> = STAGES.iter().map(|s| (*s).to_owned()).collect();
    for run in runs {
        for name in run["stages"].as_object().into_iter().flat_map(|m| m.keys()) {
            if !stages.contains(name) {
                stages.push(name.clone());
            }
        }
    }
    let _ = writeln!(
        res,
        "| threads | run | wall s | vs cold | MB/s | MB/s/core | CPU s | MB/CPU s | {} | shard misses ({}) | peak RSS MiB | cache MB | cache/input | load 1m | other cores |",
        stages.iter().map(|s| format!("{s} s")).collect::<Vec<_>>().join(" | "),
        stages.join("/"),
    );
    let _ = writeln!(res, "|{}", "---|".repeat(15 + stages.len()));
    for run in runs {
        let stage = |name: &str, key: &str, decimals: usize| num(&run["stages"][name][key], decimals);
        let _ = writeln!(
            res,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} |",
            run["threads"],
            run["scenario"].as_str().unwrap_or("?"),
            num(&run["wall_seconds"], 2),
            num(&run["vs_cold"], 3),
            num(&run["mb_per_s"], 1),
            num(&run["mb_per_s_per_core"], 1),
            num(&run["cpu_seconds"], 1),
            num(&run["mb_per_cpu_s"], 1),
            stages.iter().map(|s| stage(s, "seconds", 2)).collect::<Vec<_>>().join(" | "),
            stages.iter().map(|s| stage(s, "cache_misses", 0)).collect::<Vec<_>>().join("/"),
            mib(&run["peak_rss_bytes"]),
            mb(run["cache_bytes"].as_u64().unwrap_or(0)),
            num(&run["cache_share_of_input"], 3),
            num(&run["load_before"][0], 2),
            num(&run["other_cores"], 2),
        );
    }
    let _ = writeln!(res);
    let _ = writeln!(
        res,
        "Stage seconds are CPU seconds summed over threads (`summary.json`); \
         `shards` per run: {}; `MB/CPU s`: input MB per CPU second of pith (user + system), \
         which other processes' load disturbs less than wall time; `other cores`: CPU other processes used \
         during the run.",
        runs.first().map_or_else(|| "-".to_owned(), |r| r["shards"].to_string()),
    );

    for run in runs.iter().filter(|r| r["scenario"] == "cold") {
        let by_stage: Vec<String> = run["cache_by_stage"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, bytes)| format!("{name} {:.1}", mb(bytes.as_u64().unwrap_or(0))))
            .collect();
        let _ = writeln!(res, "Cache after the cold run, {} thread(s), MB: {}.", run["threads"], by_stage.join(", "));
    }
    // What the runs after a change took from the cache document by document.
    for run in runs.iter().filter(|r| r["scenario"] == "touched" || r["scenario"] == "scattered") {
        let keywords = &run["keywords"];
        let _ = writeln!(
            res,
            "Reuse in the `{}` run, {} thread(s): features of {} documents taken from earlier entries; \
             keywords {} reused, {} certified, {} scored from text.",
            run["scenario"].as_str().unwrap_or("-"),
            run["threads"],
            run["features_reused"],
            keywords["reused"],
            keywords["certified"],
            keywords["scored"],
        );
    }

    // `--ablate`'s runs, by thread count.
    let mut threads_seen = Vec::new();
    for run in runs.iter().filter(|r| r["scenario"].as_str().is_some_and(|s| s.starts_with("cold, "))) {
        if threads_seen.contains(&run["threads"]) {
            continue;
        }
        threads_seen.push(run["threads"].clone());
        let parts: Vec<String> = runs
            .iter()
            .filter(|r| r["threads"] == run["threads"])
            .filter_map(|r| {
                let without = r["scenario"].as_str()?.strip_prefix("cold, ")?;
                let without = match without {
                    "no cache" => "the cache",
                    "no keywords" => "keywords",
                    "no cache or keywords" => "both",
                    other => other,
                };
                Some(format!(
                    "without {without} {} s ({} of cold, {} MB/s per core)",
                    num(&r["wall_seconds"], 2),
                    num(&r["vs_cold"], 3),
                    num(&r["mb_per_s_per_core"], 1),
                ))
            })
            .collect();
        let _ = writeln!(res, "What the cold run's parts cost, {} thread(s): {}.", run["threads"], parts.join("; "));
    }

    if let Some(speedup) = report["speedup"].as_array().filter(|s| !s.is_empty()) {
        let _ = writeln!(res);
        let _ = writeln!(res, "| speedup | {} |", SCENARIOS.join(" | "));
        let _ = writeln!(res, "|---|{}", "---|".repeat(SCENARIOS.len()));
        for row in speedup {
            let cells: Vec<String> = SCENARIOS.iter().map(|s| num(&row[*s], 2)).collect();
            let _ = writeln!(
                res,
                "| {} -> {} threads | {} |",
                row["relative_to_threads"],
                row["threads"],
                cells.join(" | ")
            );
        }
    }

    let _ = writeln!(res);
    let _ = writeln!(res, "| target | wanted | reached | met |");
    let _ = writeln!(res, "|---|---|---|---|");
    for target in report["targets"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let _ = writeln!(
            res,
            "| {} | {} | {} | {} |",
            target["what"].as_str().unwrap_or("?"),
            target["target"].as_str().unwrap_or("?"),
            num(&target["value"], 3),
            if target["met"] == true { "yes" } else { "**no**" },
        );
    }
    res
}
