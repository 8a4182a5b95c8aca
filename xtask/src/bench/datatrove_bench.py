"""datatrove's closest equivalent of `pith run`, timed; written by `cargo xtask bench --compare datatrove`.

Usage: python datatrove_bench.py SLICE_DIR WORK_DIR RESULT_JSON

Runs, each with LocalPipelineExecutor(tasks=1, workers=1) so on one core:
- filters: JsonlReader -> GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter
  -> FineWebQualityFilter -> JsonlWriter, all with their defaults (English);
- minhash: JsonlReader -> MinhashDedupSignature (stage 1 of MinHash dedup, default config).
Writes their wall and CPU seconds, document counts and the package versions to RESULT_JSON.
"""

import json
import os
import platform
import resource
import shutil
import sys
import time

started = time.perf_counter()
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
# `datatrove.pipeline.dedup`'s __init__ also imports the exact-substring steps, which need the
# `tokenizers` package; xtask installs it.
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature  # noqa: E402
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402
from datatrove.utils.typeshelper import Languages  # noqa: E402
from datatrove.utils.word_tokenizers import load_word_tokenizer  # noqa: E402

import_seconds = time.perf_counter() - started

slice_dir, work, result_path = sys.argv[1], sys.argv[2], sys.argv[3]

# The filters tokenize English with spaCy's blank "en" pipeline (no model download). Load
# it once before timing, so the steps measure per-document work, not a one-off start-up.
started = time.perf_counter()
load_word_tokenizer(Languages.english).word_tokenize("Warm up the tokenizer.")
load_word_tokenizer(Languages.english).sent_tokenize("Warm up. The sentence splitter.")
tokenizer_seconds = time.perf_counter() - started


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(name, steps):
    step_dir = os.path.join(work, name)
    shutil.rmtree(step_dir, ignore_errors=True)
    executor = LocalPipelineExecutor(
        pipeline=steps, tasks=1, workers=1, logging_dir=os.path.join(step_dir, "logs"), skip_completed=False
    )
    cpu, wall = cpu_seconds(), time.perf_counter()
    executor.run()
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": cpu_seconds() - cpu}


def count_lines(folder):
    n = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                n += sum(1 for _ in f)
    return n


docs_in = count_lines(slice_dir)
filters = run(
    "filters",
    [
        JsonlReader(slice_dir),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
        JsonlWriter(os.path.join(work, "filters", "output"), compression=None),
    ],
)
filters["docs_in"] = docs_in
filters["docs_kept"] = count_lines(os.path.join(work, "filters", "output"))
minhash = run(
    "minhash",
    [JsonlReader(slice_dir), MinhashDedupSignature(os.path.join(work, "minhash", "signatures"), config=MinhashConfig())],
)
minhash["docs_in"] = docs_in


def version(package):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


report = {
    "versions": {
        "python": platform.python_version(),
        **{p: version(p) for p in ["datatrove", "spacy", "numpy", "xxhash", "regex"]},
    },
    "import_seconds": import_seconds,
    "tokenizer_seconds": tokenizer_seconds,
    "filters": filters,
    "minhash": minhash,
}
with open(result_path, "w") as f:
    json.dump(report, f, indent=2)
