//! `pith explain`: every block of a document with its kind, and whether it was kept or
//! which stage removed it and why.

use std::io::{self, Write};

use pith_types::{Removal, Slot};

use crate::pipeline::Explained;
use pith::input::Entry;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub(crate) fn print(out: &mut impl Write, docs: &[(Entry, Explained)], color: bool) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let (red, green, yellow, bold, reset) = (paint(RED), paint(GREEN), paint(YELLOW), paint(BOLD), paint(RESET));
    for (entry, explained) in docs {
        let raw = match entry {
            Entry::Unreadable { source, error } => {
                writeln!(out, "{bold}== {}{} =={reset}", source.path, line_suffix(source.line))?;
                writeln!(out, "{red}unreadable{reset}: {error}\n")?;
                continue;
            }
            Entry::Doc(raw) => raw,
        };
        writeln!(out, "{bold}== {} ({}{}) =={reset}", raw.id, raw.source.path, line_suffix(raw.source.line))?;
        for diag in &raw.diags {
            writeln!(out, "{yellow}note{reset}: {}", diag.message)?;
        }
        let parsed = match &explained.parsed {
            Slot::Ok(parsed) => parsed,
            Slot::Failed(f) => {
                writeln!(out, "{red}failed in {}{reset}: {}\n", f.stage, f.error)?;
                continue;
            }
        };
        let (removed, verdict): (&[Removal], _) = match &explained.deduped {
            Some(Slot::Ok(doc)) => (&doc.removed, doc.drop.as_ref()),
            Some(Slot::Failed(f)) => {
                writeln!(out, "{red}failed in {}{reset}: {}", f.stage, f.error)?;
                (&[], None)
            }
            None => (&[], None),
        };
        let n_blocks = parsed.blocks.len() + usize::from(parsed.title.is_some());
        let mut blocks = parsed.blocks.iter().peekable();
        for index in 0..n_blocks as u32 {
            if parsed.title_block == Some(index) {
                let title = parsed.title.as_deref().unwrap_or_default();
                writeln!(out, "{green}[title]{reset} {bold}{}{reset}", one_line(title))?;
                continue;
            }
            let Some(block) = blocks.next_if(|b| b.index == index) else { continue };
            let kind = block.kind.as_str();
            match removed.iter().find(|r| r.block == index) {
                Some(r) => writeln!(
                    out,
                    "{red}[{} {}]{reset} ({kind}) {} {yellow}<- {}{reset}",
                    r.stage,
                    r.kind,
                    one_line(&block.text),
                    r.rule
                )?,
                None => writeln!(out, "{green}[kept]{reset} ({kind}) {}", one_line(&block.text))?,
            }
        }
        if let Some(drop) = verdict {
            let of = drop.duplicate_of.as_deref().map(|id| format!(" of {id}")).unwrap_or_default();
            writeln!(out, "{red}document dropped: {}{of}{reset}", drop.reason)?;
        }
        if let Some(Slot::Ok(f)) = &explained.features {
            writeln!(
                out,
                "features: {} words, language {}, boilerplate {:.0}%",
                f.words,
                f.language.as_deref().unwrap_or("?"),
                f.boilerplate_ratio * 100.0
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn line_suffix(line: Option<u64>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// A block on one line, shortened to keep the listing readable.
fn one_line(text: &str) -> String {
    const MAX: usize = 160;
    let flat = text.replace('\n', " / ");
    if flat.chars().count() <= MAX {
        return flat;
    }
    let mut short: String = flat.chars().take(MAX).collect();
    short.push('…');
    short
}
