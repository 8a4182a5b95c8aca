//! Planned runs (`pith plan`, `run-shard`, `run-plan`, `status`, `submit slurm --dry-run`):
//! the same records as `pith run` for any number of plan shards, and a failed task costs
//! only itself on resubmission. Slurm itself is exercised by `cargo xtask slurm-test`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::hostile::{Rng, article, vocabulary};
use super::{corpus, ok, output_files, pith, summary};

/// `corpus/`, plus 60 generated articles in a subdirectory, some of them near or exact
/// copies of others and some sharing a chrome line, plus a JSONL file whose ids repeat
/// (inside it, and `rec-1` of corpus/records.jsonl): enough for dedup verdicts and id
/// renames to cross plan shards.
fn mixed_corpus(dir: &Path) {
    fs::create_dir_all(dir.join("more")).unwrap();
    for entry in fs::read_dir(corpus()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let vocab = vocabulary();
    let mut rng = Rng(5);
    let mut texts: Vec<String> = Vec::new();
    for i in 0..60 {
        let mut text = match i % 10 {
            // A near copy of an earlier article: one paragraph more.
            3 => format!("{}\nOne more closing line about the story, added by a syndicating site.\n", texts[i - 3]),
            // An exact copy.
            7 => texts[i - 5].clone(),
            _ => article(&mut rng, &vocab, i, 6),
        };
        if i % 4 == 0 {
            text.push_str("\nSign up for the morning newsletter from the Daily Planet today\n");
        }
        fs::write(dir.join("more").join(format!("a{i:03}.txt")), &text).unwrap();
        texts.push(text);
    }
    let records: Vec<String> = (0..20)
        .map(|i| serde_json::json!({"id": format!("rec-{}", i % 15), "text": texts[i * 3 % 60]}).to_string())
        .collect();
    fs::write(dir.join("more").join("z.jsonl"), records.join("\n") + "\n").unwrap();
}

/// `mixed_corpus` in `dir/in`, planned with `shards` shards into `dir/planned` with the
/// cache `dir/cache`: (input, cache, out).
fn planned(dir: &Path, shards: &str) -> (PathBuf, PathBuf, PathBuf) {
    let (input, cache, out) = (dir.join("in"), dir.join("cache"), dir.join("planned"));
    mixed_corpus(&input);
    ok(pith(&cache, &["plan", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--shards", shards]));
    (input, cache, out)
}

fn args<'a>(list: &[&'a str]) -> Vec<&'a str> {
    list.to_vec()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The counts of a summary that must not depend on how the run was cut.
fn counts(out: &Path) -> Vec<(String, serde_json::Value)> {
    let s = summary(out);
    ["documents_in", "kept", "dropped", "failed", "bytes_in", "bytes_out", "corpus"]
        .iter()
        .map(|k| (k.to_string(), s[k].clone()))
        .collect()
}

#[test]
fn planned_runs_give_the_local_records_for_any_shard_count() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    mixed_corpus(&input);
    let input = input.to_str().unwrap();
    let local = tmp.path().join("local");
    ok(pith(&tmp.path().join("cache-local"), &["run", input, "-o", local.to_str().unwrap()]));
    let dropped = super::jsonl(&local.join("dropped.jsonl"));
    assert!(dropped.len() >= 10, "the corpus has duplicates to find: {}", dropped.len());

    for shards in ["1", "5", "16"] {
        let out = tmp.path().join(format!("planned-{shards}"));
        let out_s = out.to_str().unwrap();
        // Each planned run has a cache of its own: nothing is shared with the local run.
        let cache = tmp.path().join(format!("cache-{shards}"));
        ok(pith(&cache, &args(&["plan", input, "-o", out_s, "--shards", shards])));
        ok(pith(&cache, &["run-plan", out_s]));
        assert_eq!(output_files(&out), output_files(&local), "{shards} shards");
        assert_eq!(counts(&out), counts(&local), "{shards} shards");
        let status = String::from_utf8(ok(pith(&cache, &["status", out_s])).stdout).unwrap();
        assert!(status.contains(&format!("apply   {shards:>6}/{shards} done")), "{status}");
        assert!(status.contains("merge        1/1 done"), "{status}");
    }
}

/// Apply tasks take each shard's heads and strip output from the cache; where either is
/// gone (a cache cleaned between tasks), they read the shard from the input instead.
#[test]
fn apply_reads_the_input_where_the_cache_lost_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, cache, out) = planned(tmp.path(), "2");
    let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    let local = tmp.path().join("local");
    ok(pith(&tmp.path().join("cache-local"), &["run", input_s, "-o", local.to_str().unwrap()]));
    for i in ["0", "1"] {
        ok(pith(&cache, &["run-shard", out_s, "--stage", "map", "--shard-index", i]));
    }
    ok(pith(&cache, &["run-shard", out_s, "--stage", "reduce"]));
    // Every other shard loses its heads, every third its strip output.
    let files_of = |stage: &str| {
        let dir = fs::read_dir(&cache).unwrap().flatten().find(|e| e.file_name().to_string_lossy().starts_with(stage));
        super::walk(&dir.expect("the stage's directory").path())
    };
    let heads = files_of("heads-");
    let strip = files_of("strip-");
    assert!(heads.len() >= 3, "{} shards", heads.len());
    for file in heads.iter().step_by(2).chain(strip.iter().skip(1).step_by(3)) {
        fs::remove_file(file).unwrap();
    }
    ok(pith(&cache, &["run-plan", out_s]));
    assert_eq!(output_files(&out), output_files(&local));
    assert_eq!(counts(&out), counts(&local));
}

#[test]
fn a_failed_task_stops_its_dependents_and_only_it_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, cache, out) = planned(tmp.path(), "4");
    let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    let plan: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let victim = plan["inputs"].as_array().unwrap().iter().find(|f| f["shard"] == 2).expect("shard 2 has files");
    let victim = Path::new(victim["path"].as_str().unwrap()).to_owned();
    let aside = tmp.path().join("aside");
    fs::rename(&victim, &aside).unwrap();

    for i in ["0", "1", "3"] {
        ok(pith(&cache, &["run-shard", out_s, "--stage", "map", "--shard-index", i]));
    }
    let failed = pith(&cache, &["run-shard", out_s, "--stage", "map", "--shard-index", "2"]);
    assert!(!failed.status.success());
    assert!(stderr(&failed).contains(&victim.display().to_string()), "{}", stderr(&failed));
    let reduce = pith(&cache, &["run-shard", out_s, "--stage", "reduce"]);
    assert!(!reduce.status.success());
    assert!(stderr(&reduce).contains("map stage is not finished (tasks 2 "), "{}", stderr(&reduce));
    let status = String::from_utf8(ok(pith(&cache, &["status", out_s])).stdout).unwrap();
    assert!(status.contains("map          3/4 done, failed: 2"), "{status}");
    assert!(status.contains("is gone"), "{status}");
    assert!(!out.join("documents.jsonl").exists());

    // Put the file back and run everything that is missing: the three finished map
    // tasks are skipped, their markers untouched.
    fs::rename(&aside, &victim).unwrap();
    let marker = |i: usize| fs::read(out.join("work/_done").join(format!("map-{i:05}.json"))).unwrap();
    let before: Vec<Vec<u8>> = [0, 1, 3].iter().map(|&i| marker(i)).collect();
    let rerun = ok(pith(&cache, &["run-plan", out_s]));
    assert_eq!(stderr(&rerun).matches("map task").count(), 3, "{}", stderr(&rerun));
    assert_eq!([0, 1, 3].iter().map(|&i| marker(i)).collect::<Vec<_>>(), before);
    assert!(!out.join("work/_failed/map-00002.json").exists());

    let local = tmp.path().join("local");
    ok(pith(&tmp.path().join("cache-local"), &["run", input_s, "-o", local.to_str().unwrap()]));
    assert_eq!(output_files(&out), output_files(&local));
}

#[test]
fn a_plan_is_immutable_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, cache, out) = planned(tmp.path(), "3");
    let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    // The same plan again is a no-op; another one is refused.
    ok(pith(&cache, &["plan", input_s, "-o", out_s, "--shards", "3"]));
    let other = pith(&cache, &["plan", input_s, "-o", out_s, "--shards", "4"]);
    assert!(!other.status.success() && stderr(&other).contains("holds another plan"), "{}", stderr(&other));
    // Stage settings come from the plan, fixed when it was written.
    let changed = pith(&cache, &["plan", input_s, "-o", out_s, "--shards", "3", "--dedup-threshold", "0.5"]);
    assert!(!changed.status.success());

    // An input changed after planning fails its task with the file's name.
    let file = input.join("more").join("a000.txt");
    fs::write(&file, "changed\n").unwrap();
    let map = pith(&cache, &["run-plan", out_s]);
    assert!(!map.status.success());
    assert!(stderr(&map).contains("a000.txt: input changed since `pith plan`"), "{}", stderr(&map));

    let stdin = super::pith_stdin(&cache, &["plan", "-", "-o", tmp.path().join("p2").to_str().unwrap()], Some("x"));
    assert!(!stdin.status.success() && stderr(&stdin).contains("standard input"), "{}", stderr(&stdin));
    let no_index = pith(&cache, &["run-shard", out_s, "--stage", "apply"]);
    assert!(!no_index.status.success() && stderr(&no_index).contains("--shard-index"), "{}", stderr(&no_index));
}

#[test]
fn ids_repeated_across_plan_shards_are_renamed_as_a_local_run_does() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    let words = "with enough words in it to be kept by every stage of the pipeline";
    // `same` in every file, `same#2` given by the input in the last one (so the third
    // `same` must become `same#3`), and exact duplicates across files (so that
    // `duplicate_of` names a renamed document).
    for (name, ids) in [("a.jsonl", ["same", "a"]), ("b.jsonl", ["same", "b"]), ("c.jsonl", ["same#2", "same"])] {
        let lines: Vec<String> = ids
            .iter()
            .map(|id| serde_json::json!({"id": id, "text": format!("A document {words}, in {name}.")}).to_string())
            .collect();
        fs::write(input.join(name), lines.join("\n") + "\n").unwrap();
    }
    fs::write(
        input.join("d.jsonl"),
        serde_json::json!({"id": "same", "text": format!("A document {words}, in b.jsonl.")}).to_string() + "\n",
    )
    .unwrap();
    let input_s = input.to_str().unwrap();
    let local = tmp.path().join("local");
    ok(pith(&tmp.path().join("cache-local"), &["run", input_s, "-o", local.to_str().unwrap()]));
    let ids: Vec<String> = super::jsonl(&local.join("documents.jsonl"))
        .iter()
        .chain(&super::jsonl(&local.join("dropped.jsonl")))
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"same#4".to_owned()), "{ids:?}");
    for shards in ["2", "4"] {
        let out = tmp.path().join(format!("planned-{shards}"));
        let cache = tmp.path().join(format!("cache-{shards}"));
        ok(pith(&cache, &["plan", input_s, "-o", out.to_str().unwrap(), "--shards", shards]));
        ok(pith(&cache, &["run-plan", out.to_str().unwrap()]));
        assert_eq!(output_files(&out), output_files(&local), "{shards} shards");
    }
}

#[test]
fn slurm_dry_run_writes_scripts_and_the_sbatch_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("planned");
    let out_s = out.to_str().unwrap();
    ok(pith(&cache, &["plan", corpus().to_str().unwrap(), "-o", out_s, "--shards", "4"]));
    let dry = ok(pith(
        &cache,
        &["submit", "slurm", out_s, "--dry-run", "--max-parallel", "2", "--cpus-per-task", "2", "--partition", "cpu"],
    ));
    let commands = String::from_utf8(dry.stdout).unwrap();
    let lines: Vec<&str> = commands.lines().collect();
    assert_eq!(lines.len(), 4, "{commands}");
    assert!(lines[0].starts_with("map0=$(sbatch --parsable --array=0-3%2 "), "{commands}");
    assert!(lines[1].starts_with("reduce0=$(sbatch --dependency=afterok:$map0 --parsable --kill-on-invalid-dep=yes"));
    assert!(lines[3].contains("--dependency=afterok:$apply0 "), "{commands}");
    let script = fs::read_to_string(out.join("slurm").join("map.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3%2\n"), "{script}");
    assert!(script.contains("#SBATCH --cpus-per-task=2\n#SBATCH --partition=cpu\n"), "{script}");
    assert!(script.contains(&format!("run-shard {out_s} --stage map --no-progress --cache-dir ")), "{script}");
    assert!(script.contains("--shard-offset \"${PITH_SHARD_OFFSET:-0}\""), "{script}");

    // Arrays are cut at Slurm's default MaxArraySize; each part is told its offset.
    let big = tmp.path().join("big");
    ok(pith(&cache, &["plan", corpus().to_str().unwrap(), "-o", big.to_str().unwrap(), "--shards", "1005"]));
    let dry =
        String::from_utf8(ok(pith(&cache, &["submit", "slurm", big.to_str().unwrap(), "--dry-run"])).stdout).unwrap();
    let lines: Vec<&str> = dry.lines().collect();
    assert!(lines[0].contains("--array=0-999 --export=ALL,PITH_SHARD_OFFSET=0 "), "{dry}");
    assert!(lines[1].starts_with("map1=") && lines[1].contains("--array=0-4 --export=ALL,PITH_SHARD_OFFSET=1000 "));
    assert!(lines[2].contains("--dependency=afterok:$map0:$map1 "), "{dry}");

    // Once every task is done there is nothing to submit.
    ok(pith(&cache, &["run-plan", out_s]));
    let after = ok(pith(&cache, &["submit", "slurm", out_s, "--dry-run"]));
    assert!(after.stdout.is_empty());
    assert!(stderr(&after).contains("every task is done"), "{}", stderr(&after));
}
