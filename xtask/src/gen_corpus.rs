//! `cargo xtask gen-corpus`: a deterministic synthetic corpus with known duplicates.
//!
//! Documents are built from a pool of real paragraphs (`corpus/*.txt` and, when present, the
//! corpus-dev ground truth), with injected boilerplate (navigation, captions, address blocks,
//! a repeated title). About 5% are exact duplicates of an earlier document, 5% near duplicates
//! and 5% hard negatives (half of an earlier document's paragraphs plus new ones);
//! `truth.jsonl` records which is which.
//!
//! The corpus is streamed: document `i` is a pure function of `(seed, i)`, so a duplicate
//! regenerates its original instead of keeping earlier documents in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub(crate) struct GenCorpusArgs {
    /// Number of documents.
    #[arg(long)]
    docs: u64,
    /// PRNG seed; the same seed and paragraph pool give the same corpus.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory; must not exist or be empty [default: target/gen-corpus in the workspace].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
}

impl GenCorpusArgs {
    /// One text file per document, for other tasks.
    pub(crate) fn txt(docs: u64, seed: u64, out: PathBuf) -> GenCorpusArgs {
        GenCorpusArgs { docs, seed, out: Some(out), format: Format::Txt }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One file per document, in subdirectories of 1000.
    Txt,
    /// `{"id", "text", "source"}` records, 10,000 per `part-NNNNN.jsonl`.
    Jsonl,
    /// Like jsonl, compressed by the `zstd` program.
    #[value(name = "jsonl.zst")]
    JsonlZst,
}

const DOCS_PER_PART: u64 = 10_000;
const DOCS_PER_DIR: u64 = 1000;
const MIN_PARAGRAPH_WORDS: usize = 20;

pub(crate) fn run(args: &GenCorpusArgs) -> anyhow::Result<()> {
    let out = match &args.out {
        Some(dir) => std::path::absolute(dir)?,
        None => crate::target_dir().join("gen-corpus"),
    };
    if args.format == Format::JsonlZst {
        let found = Command::new("zstd").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !found.is_ok_and(|s| s.success()) {
            bail!("--format jsonl.zst needs the `zstd` program on PATH; install it or use --format jsonl");
        }
    }
    if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
        bail!("{} is not empty; remove it or choose another --out", out.display());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let root = crate::workspace_root();
    let pool = paragraph_pool(&root.join("corpus"), &root.join("../shared/corpus-dev"))?;
    eprintln!("gen-corpus: {} paragraphs in the pool", pool.len());
    let generator = Generator { seed: args.seed, pool: &pool };

    let truth_path = out.join("truth.jsonl");
    let mut truth = BufWriter::new(File::create(&truth_path).with_context(|| format!("creating {truth_path:?}"))?);
    let mut sink = Sink::new(&out, args.format);
    let mut text_bytes = 0u64;
    for i in 0..args.docs {
        let (kind, of) = generator.kind(i);
        let text = generator.doc(i).render();
        text_bytes += text.len() as u64;
        sink.write(i, &text)?;
        let of = of.map_or(serde_json::Value::Null, |j| doc_id(j).into());
        let record = serde_json::json!({"id": doc_id(i), "kind": kind.name(), "of": of});
        writeln!(truth, "{record}").with_context(|| format!("writing {}", truth_path.display()))?;
    }
    truth.flush().with_context(|| format!("writing {}", truth_path.display()))?;
    let files = sink.finish()?;
    let disk_bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    println!(
        "wrote {} docs, {text_bytes} bytes of text ({disk_bytes} bytes in {} files) to {}; ground truth in {}",
        args.docs,
        files.len(),
        out.display(),
        truth_path.display()
    );
    Ok(())
}

fn doc_id(i: u64) -> String {
    format!("g{i:09}")
}

/// Paragraphs (blank-line separated, at least [`MIN_PARAGRAPH_WORDS`] words) of
/// `corpus/*.txt` and `corpus-dev/*/*.truth.txt`, sorted and deduplicated.
fn paragraph_pool(fixtures: &Path, corpus_dev: &Path) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(fixtures).with_context(|| format!("reading {}", fixtures.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            files.push(path);
        }
    }
    if let Ok(datasets) = std::fs::read_dir(corpus_dev) {
        for dataset in datasets.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
            for entry in std::fs::read_dir(dataset.path())?.filter_map(Result::ok) {
                if entry.file_name().to_string_lossy().ends_with(".truth.txt") {
                    files.push(entry.path());
                }
            }
        }
    }
    let mut res = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        let mut paragraph = Vec::new();
        for line in text.lines().chain([""]) {
            if !line.trim().is_empty() {
                paragraph.push(line.trim());
                continue;
            }
            let joined = paragraph.join("\n");
            if joined.split_whitespace().count() >= MIN_PARAGRAPH_WORDS {
                res.push(joined);
            }
            paragraph.clear();
        }
    }
    res.sort();
    res.dedup();
    anyhow::ensure!(!res.is_empty(), "no paragraph of {MIN_PARAGRAPH_WORDS}+ words in {}", fixtures.display());
    Ok(res)
}

/// splitmix64: tiny, fast and good enough to sample a corpus.
struct Rng(u64);

impl Rng {
    /// The generator for document `i`: independent of every other document's.
    fn for_doc(seed: u64, i: u64) -> Rng {
        Rng(mix(seed ^ mix(i.wrapping_add(0x5851_f42d_4c95_7f2d))))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A uniform number in `0..n`; `n` must be positive.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// splitmix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Base,
    Exact,
    Near,
    HardNegative,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Base => "base",
            Kind::Exact => "exact",
            Kind::Near => "near",
            Kind::HardNegative => "hard_negative",
        }
    }
}

/// A document before rendering: a title line, then blocks separated by blank lines.
#[derive(Debug, Clone, PartialEq)]
struct Doc {
    title: String,
    blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
struct Block {
    text: String,
    /// Injected boilerplate rather than article text.
    boilerplate: bool,
}

impl Doc {
    fn render(&self) -> String {
        let mut res = self.title.clone();
        for block in &self.blocks {
            res.push_str("\n\n");
            res.push_str(&block.text);
        }
        res.push('\n');
        res
    }
}

const NAV: &[&str] = &["Home", "News", "World", "Business", "Sports", "Opinion", "Culture", "Menu", "Search"];
const SHARE: &[&str] = &["Share this article", "Share on Facebook", "Tweet", "Print this page", "Email"];
const NEWSLETTER: &[&str] =
    &["Sign up for our newsletter", "Subscribe to our daily briefing", "Get the latest news delivered to your inbox"];
const CAPTIONS: &[&str] = &[
    "A view of the river at dawn. (Photo: Getty Images)",
    "Protesters gather outside city hall on Tuesday. Photo: Reuters",
    "The new bridge under construction. (AP Photo/John Smith)",
    "Image: Shutterstock",
    "Visitors walk through the exhibition. (Photo by Jane Doe for The Times)",
];
const STREETS: &[&str] = &["Main Street", "Oak Avenue", "Elm Street", "Park Road", "Market Street", "High Street"];
const CITIES: &[&str] = &["Springfield, IL 62701", "Portland, OR 97201", "Austin, TX 78701", "Columbus, OH 43215"];

struct Generator<'a> {
    seed: u64,
    pool: &'a [String],
}

impl Generator<'_> {
    /// What document `i` is and, unless it is a base document, which earlier one it derives from.
    fn kind(&self, i: u64) -> (Kind, Option<u64>) {
        if i == 0 {
            return (Kind::Base, None);
        }
        let mut rng = Rng::for_doc(self.seed, i);
        let roll = rng.below(100);
        let of = rng.below(i);
        match roll {
            0..5 => (Kind::Exact, Some(of)),
            5..10 => (Kind::Near, Some(of)),
            10..15 => (Kind::HardNegative, Some(of)),
            _ => (Kind::Base, None),
        }
    }

    /// Document `i`. Derived documents regenerate their original, which always comes earlier.
    fn doc(&self, i: u64) -> Doc {
        let (kind, of) = self.kind(i);
        let mut rng = Rng::for_doc(self.seed, i);
        // Skip the two draws `kind` made, so the rest of the stream is fresh.
        rng.next_u64();
        rng.next_u64();
        match (kind, of) {
            (Kind::Exact, Some(j)) => self.doc(j),
            (Kind::Near, Some(j)) => self.near(self.doc(j), &mut rng),
            (Kind::HardNegative, Some(j)) => self.hard_negative(&self.doc(j), &mut rng),
            _ => self.base(&mut rng),
        }
    }

    fn paragraph(&self, rng: &mut Rng) -> Block {
        Block { text: rng.pick(self.pool).clone(), boilerplate: false }
    }

    fn title(&self, rng: &mut Rng) -> String {
        let source = rng.pick(self.pool);
        let n_words = rng.range(4, 10) as usize;
        let words: Vec<&str> = source.split_whitespace().take(n_words).collect();
        let mut title = words.join(" ").trim_end_matches(|c: char| !c.is_alphanumeric()).to_owned();
        if let Some(first) = title.chars().next() {
            title.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
        }
        title
    }

    fn base(&self, rng: &mut Rng) -> Doc {
        let title = self.title(rng);
        let paragraphs = (0..rng.range(3, 12)).map(|_| self.paragraph(rng)).collect();
        let blocks = self.with_boilerplate(&title, paragraphs, rng);
        Doc { title, blocks }
    }

    /// Surrounds article paragraphs with boilerplate, each kind with its own probability.
    fn with_boilerplate(&self, title: &str, mut blocks: Vec<Block>, rng: &mut Rng) -> Vec<Block> {
        let chrome = |text: String| Block { text, boilerplate: true };
        if rng.chance(0.4) {
            let n = rng.range(1, blocks.len() as u64) as usize;
            let caption = (*rng.pick(CAPTIONS)).to_owned();
            blocks.insert(n, chrome(caption));
        }
        let mut head = Vec::new();
        if rng.chance(0.5) {
            let lines: Vec<&str> = (0..rng.range(2, 5)).map(|_| *rng.pick(NAV)).collect();
            head.push(chrome(lines.join("\n")));
        }
        if rng.chance(0.3) {
            head.push(chrome(title.to_owned()));
        }
        if rng.chance(0.4) {
            head.push(chrome((*rng.pick(SHARE)).to_owned()));
        }
        let mut tail = Vec::new();
        if rng.chance(0.4) {
            tail.push(chrome((*rng.pick(NEWSLETTER)).to_owned()));
        }
        if rng.chance(0.2) {
            tail.push(chrome("Contact".to_owned()));
            let number = rng.range(1, 9999);
            let street = rng.pick(STREETS);
            let city = rng.pick(CITIES);
            tail.push(chrome(format!("{number} {street}\n{city}")));
        }
        head.extend(blocks);
        head.extend(tail);
        head
    }

    /// A few words changed, or one paragraph added or removed.
    fn near(&self, mut doc: Doc, rng: &mut Rng) -> Doc {
        let article: Vec<usize> = (0..doc.blocks.len()).filter(|&b| !doc.blocks[b].boilerplate).collect();
        match rng.below(3) {
            0 if article.len() > 1 => {
                doc.blocks.remove(*rng.pick(&article));
            }
            op if op == 1 || article.is_empty() => {
                let at = rng.range(0, doc.blocks.len() as u64) as usize;
                let paragraph = self.paragraph(rng);
                doc.blocks.insert(at, paragraph);
            }
            _ => {
                for _ in 0..rng.range(1, 3) {
                    let b = *rng.pick(&article);
                    let mut words: Vec<String> = doc.blocks[b].text.split(' ').map(str::to_owned).collect();
                    let w = rng.below(words.len() as u64) as usize;
                    let mut replacement = rng.pick(self.pool).split_whitespace().next().unwrap_or("the").to_owned();
                    if replacement == words[w] {
                        replacement.push('s');
                    }
                    words[w] = replacement;
                    doc.blocks[b].text = words.join(" ");
                }
            }
        }
        doc
    }

    /// Half of `of`'s paragraphs (rounded up), in order, the others replaced by new ones, maybe
    /// a new one or two at the end, under a new title and new boilerplate.
    fn hard_negative(&self, of: &Doc, rng: &mut Rng) -> Doc {
        let article: Vec<&Block> = of.blocks.iter().filter(|b| !b.boilerplate).collect();
        let mut to_keep = article.len().div_ceil(2) as u64;
        let mut paragraphs = Vec::new();
        for (n, block) in article.iter().enumerate() {
            // Selection sampling: keeps exactly `to_keep` paragraphs, each equally likely.
            let left = (article.len() - n) as u64;
            if rng.below(left) < to_keep {
                to_keep -= 1;
                paragraphs.push((*block).clone());
            } else {
                paragraphs.push(self.paragraph(rng));
            }
        }
        for _ in 0..rng.range(0, 2) {
            paragraphs.push(self.paragraph(rng));
        }
        let title = self.title(rng);
        let blocks = self.with_boilerplate(&title, paragraphs, rng);
        Doc { title, blocks }
    }
}

/// Where documents go: one file each (txt), or JSONL parts, plain or through `zstd`.
struct Sink {
    out: PathBuf,
    format: Format,
    part: Option<Part>,
    files: Vec<PathBuf>,
}

struct Part {
    writer: BufWriter<Box<dyn Write>>,
    child: Option<Child>,
    path: PathBuf,
}

impl Sink {
    fn new(out: &Path, format: Format) -> Sink {
        Sink { out: out.to_owned(), format, part: None, files: Vec::new() }
    }

    fn write(&mut self, i: u64, text: &str) -> anyhow::Result<()> {
        if self.format == Format::Txt {
            let dir = self.out.join(format!("{:05}", i / DOCS_PER_DIR));
            if i.is_multiple_of(DOCS_PER_DIR) {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let path = dir.join(format!("{}.txt", doc_id(i)));
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            self.files.push(path);
            return Ok(());
        }
        if i.is_multiple_of(DOCS_PER_PART) {
            self.close_part()?;
            self.part = Some(self.open_part(i / DOCS_PER_PART)?);
        }
        let part = self.part.as_mut().expect("a part is open");
        let line = format!(
            "{{\"id\":{},\"text\":{},\"source\":\"gen\"}}",
            serde_json::Value::from(doc_id(i)),
            serde_json::Value::from(text)
        );
        writeln!(part.writer, "{line}").with_context(|| format!("writing {}", part.path.display()))
    }

    fn open_part(&self, n: u64) -> anyhow::Result<Part> {
        let name = format!("part-{n:05}.jsonl");
        if self.format == Format::JsonlZst {
            let path = self.out.join(format!("{name}.zst"));
            let mut child = Command::new("zstd")
                .args(["-q", "-f", "-o"])
                .arg(&path)
                .stdin(Stdio::piped())
                .spawn()
                .context("starting zstd")?;
            let stdin: ChildStdin = child.stdin.take().expect("stdin is piped");
            Ok(Part { writer: BufWriter::new(Box::new(stdin)), child: Some(child), path })
        } else {
            let path = self.out.join(name);
            let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            Ok(Part { writer: BufWriter::new(Box::new(file)), child: None, path })
        }
    }

    fn close_part(&mut self) -> anyhow::Result<()> {
        let Some(mut part) = self.part.take() else { return Ok(()) };
        part.writer.flush().with_context(|| format!("writing {}", part.path.display()))?;
        // Dropping the writer closes zstd's stdin, so zstd can finish.
        drop(part.writer);
        if let Some(mut child) = part.child {
            let status = child.wait().context("waiting for zstd")?;
            if !status.success() {
                bail!("zstd failed ({status}) writing {}", part.path.display());
            }
        }
        self.files.push(part.path);
        Ok(())
    }

    /// Closes the last part and returns every file written.
    fn finish(mut self) -> anyhow::Result<Vec<PathBuf>> {
        self.close_part()?;
        Ok(self.files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Vec<String> {
        (0..50).map(|p| (0..25).map(|w| format!("p{p}w{w}")).collect::<Vec<_>>().join(" ")).collect()
    }

    #[test]
    fn documents_are_deterministic_and_derived_as_recorded() {
        let pool = pool();
        let generator = Generator { seed: 7, pool: &pool };
        let mut counts = [0; 4];
        for i in 0..2000 {
            let doc = generator.doc(i);
            assert_eq!(doc, generator.doc(i));
            let (kind, of) = generator.kind(i);
            counts[kind as usize] += 1;
            match (kind, of) {
                (Kind::Exact, Some(j)) => assert_eq!(doc.render(), generator.doc(j).render()),
                (Kind::Near | Kind::HardNegative, Some(j)) => {
                    assert!(j < i);
                    assert_ne!(doc.render(), generator.doc(j).render());
                }
                (Kind::Base, None) => {
                    let n = doc.blocks.iter().filter(|b| !b.boilerplate).count();
                    assert!((3..=12).contains(&n), "{n} paragraphs");
                }
                other => panic!("inconsistent kind {other:?}"),
            }
        }
        // About 5% of each derived kind.
        for n in &counts[1..] {
            assert!((50..=150).contains(n), "{counts:?}");
        }
        let other_seed = Generator { seed: 8, pool: &pool };
        assert_ne!(other_seed.doc(1).render(), generator.doc(1).render());
    }
}
