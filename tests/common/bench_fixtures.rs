//! Fixtures shared by the stage crates' divan benches (`crates/*/benches`), included
//! with `#[path]`: the seed article of `corpus/`, and, when `../shared/corpus-dev` is
//! present, its naive page texts (each page a document, and all pages concatenated as one
//! large document, which shows whether cost stays linear in a document's size), and its
//! ground-truth article bodies concatenated as one large document (strip and dedup remove
//! most of the concatenated pages, so this one is the large document that reaches
//! features whole).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use pith_types::{RawDoc, Source};

struct Fixture {
    name: &'static str,
    docs: Vec<RawDoc>,
}

static FIXTURES: LazyLock<Vec<Fixture>> = LazyLock::new(load_fixtures);

pub(crate) fn fixture_names() -> Vec<&'static str> {
    FIXTURES.iter().map(|f| f.name).collect()
}

pub(crate) fn fixture(name: &str) -> &'static [RawDoc] {
    &FIXTURES.iter().find(|f| f.name == name).expect("a fixture divan listed").docs
}

pub(crate) fn raw_bytes(docs: &[RawDoc]) -> usize {
    docs.iter().map(|doc| doc.text.len()).sum()
}

fn raw_doc(id: String, text: String) -> RawDoc {
    RawDoc { id: id.clone(), source: Source { path: id, line: None }, text, metadata_json: None, diags: Vec::new() }
}

fn load_fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let seed = std::fs::read_to_string(root.join("corpus/000_c8cfb4c10c946031.txt")).expect("the seed article");
    let mut res = vec![Fixture { name: "seed_article", docs: vec![raw_doc("seed".to_owned(), seed)] }];
    let pages = corpus_dev_pages(&root.join("../shared/corpus-dev"), ".txt");
    let bodies = corpus_dev_pages(&root.join("../shared/corpus-dev"), ".truth.txt");
    if !bodies.is_empty() {
        let joined = bodies.iter().map(|(_, text)| text.trim_end()).collect::<Vec<_>>().join("\n\n");
        res.push(Fixture { name: "corpus_dev_bodies_concat", docs: vec![raw_doc("bodies".to_owned(), joined)] });
    }
    if !pages.is_empty() {
        let joined = pages.iter().map(|(_, text)| text.trim_end()).collect::<Vec<_>>().join("\n\n");
        res.push(Fixture {
            name: "corpus_dev_pages",
            docs: pages.into_iter().map(|(id, text)| raw_doc(id, text)).collect(),
        });
        res.push(Fixture { name: "corpus_dev_concat", docs: vec![raw_doc("concat".to_owned(), joined)] });
    }
    res
}

/// The texts of `<dataset>/<id><suffix>`, sorted by path: `.txt` gives the naive page
/// texts (not `.truth.txt`), `.truth.txt` the ground-truth article bodies.
fn corpus_dev_pages(dir: &Path, suffix: &str) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|dataset| dataset.path().is_dir())
        .flat_map(|dataset| std::fs::read_dir(dataset.path()).into_iter().flatten().filter_map(Result::ok))
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(suffix) && (suffix != ".txt" || !name.ends_with(".truth.txt"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            Some((path.display().to_string(), String::from_utf8_lossy(&bytes).replace("\r\n", "\n")))
        })
        .collect()
}
