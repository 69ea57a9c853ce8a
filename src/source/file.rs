//! A source text and the arithmetic between bytes, characters and lines.

use std::ops::Range;
use std::sync::OnceLock;

/// Bytes per entry of [`SourceFile`]'s character table: a lookup scans at
/// most this many bytes, whatever the length of the line.
const CHAR_BLOCK: usize = 64;

/// Lines quoted before and after the line a diagnostic points at; the
/// pieces a file keeps of its text ([`SourceFile::keep_only`]) hold them too.
pub const CONTEXT_LINES: usize = 2;

/// One input: a file, or standard input. Owns the text every diagnostic quotes.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: Text,
    /// Length of the whole text, in bytes.
    len: usize,
    line_starts: Vec<u32>,
    /// For text that is not ASCII: the number of characters before each
    /// [`CHAR_BLOCK`]-byte block (and before the end), built on first use. Minified JSON is one
    /// line, so counting from the start of the line would make every lookup
    /// cost the length of the file.
    chars_before_block: OnceLock<Option<Vec<u32>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        SourceFile {
            name: name.into(),
            len: text.len(),
            text: Text::Whole(text),
            line_starts,
            chars_before_block: OnceLock::new(),
        }
    }

    /// Keeps only the text of `ranges` (with [`CONTEXT_LINES`] lines around
    /// each), the parts diagnostics may quote: most bytes of a rendered
    /// manifest set are CustomResourceDefinitions no rule reads, and a lint
    /// need not hold them until it reports. Offsets stay those of the whole
    /// text. Keeps everything when the pieces would save little.
    pub fn keep_only(&mut self, ranges: impl Iterator<Item = Range<usize>>) {
        let Text::Whole(text) = &self.text else {
            return;
        };
        // Counted while the whole text is there.
        let _ = self.char_table();
        let mut wanted: Vec<Range<usize>> = ranges
            .map(|range| {
                let (first, _) = self.line_col(range.start);
                let (last, _) = self.line_col(range.end.max(range.start));
                let start = self.line_range(first.saturating_sub(CONTEXT_LINES)).start;
                let end = self
                    .line_starts
                    .get(last + CONTEXT_LINES)
                    .map_or(self.len, |&s| s as usize);
                // Whole blocks of the character table, on a character boundary.
                let mut start = start - start % CHAR_BLOCK;
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                start..end
            })
            .collect();
        wanted.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for range in wanted {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        let kept: usize = merged.iter().map(|r| r.len()).sum();
        if kept * 4 > self.len * 3 {
            return;
        }
        let pieces = merged
            .into_iter()
            .filter_map(|range| {
                let piece = text.get(range.clone())?;
                Some(Piece {
                    start: range.start,
                    text: piece.to_owned(),
                })
            })
            .collect();
        self.text = Text::Pieces(pieces);
    }

    /// The text of `range`, if the file holds it.
    pub fn slice(&self, range: Range<usize>) -> Option<&str> {
        let (start, text) = self.holding(range.start)?;
        text.get(range.start - start..range.end.checked_sub(start)?)
    }

    /// The bytes of `range` the file holds (a range of the character table
    /// need not fall on character boundaries).
    fn bytes(&self, range: Range<usize>) -> &[u8] {
        let Some((start, text)) = self.holding(range.start) else {
            return &[];
        };
        text.as_bytes()
            .get(range.start - start..range.end.saturating_sub(start))
            .unwrap_or_default()
    }

    /// The text that holds byte `at` (the whole text, or a piece), and the
    /// offset it starts at.
    fn holding(&self, at: usize) -> Option<(usize, &str)> {
        match &self.text {
            Text::Whole(text) => Some((0, text)),
            Text::Pieces(pieces) => {
                let piece = &pieces[pieces.partition_point(|p| p.start <= at).checked_sub(1)?];
                Some((piece.start, &piece.text))
            }
        }
    }

    /// Length of the whole text, in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the file has no text (a document built in memory has none).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The name diagnostics print: the path as given, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text, for the parser and for `--fix`, which keep it; empty
    /// once the file keeps only pieces (see [`SourceFile::keep_only`]).
    pub fn text(&self) -> &str {
        match &self.text {
            Text::Whole(text) => text,
            Text::Pieces(_) => "",
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.len);
        let line = self.line_starts.partition_point(|&s| s as usize <= byte) - 1;
        let start = self.line_starts[line] as usize;
        let column = self.chars_before(byte) - self.chars_before(start);
        (line + 1, column + 1)
    }

    fn char_table(&self) -> Option<&[u32]> {
        self.chars_before_block
            .get_or_init(|| {
                // Pieces are cut from a text whose table was counted first.
                let Text::Whole(text) = &self.text else {
                    return None;
                };
                if text.is_ascii() {
                    return None;
                }
                let mut table = Vec::with_capacity(text.len() / CHAR_BLOCK + 2);
                let mut count = 0u32;
                for block in text.as_bytes().chunks(CHAR_BLOCK) {
                    table.push(count);
                    count += block.iter().filter(|&&b| is_char_start(b)).count() as u32;
                }
                // The end of a text whose length is a multiple of the block
                // size starts a block of its own.
                table.push(count);
                Some(table)
            })
            .as_deref()
    }

    /// Characters in the text before byte offset `byte`.
    pub fn chars_before(&self, byte: usize) -> usize {
        let byte = byte.min(self.len);
        let Some(table) = self.char_table() else {
            return byte;
        };
        let block = byte / CHAR_BLOCK;
        let counted = table.get(block).map_or(0, |&n| n as usize);
        let bytes = self.bytes(block * CHAR_BLOCK..byte);
        counted + bytes.iter().filter(|&&b| is_char_start(b)).count()
    }

    /// Byte offset of the character with index `char_index` in the text (the
    /// text's length past its end). The YAML scanner counts characters;
    /// miette and slicing need bytes.
    pub fn byte_of_char(&self, char_index: usize) -> usize {
        let Some(table) = self.char_table() else {
            return char_index.min(self.len);
        };
        let block = table
            .partition_point(|&n| n as usize <= char_index)
            .saturating_sub(1);
        let mut remaining = char_index - table.get(block).map_or(0, |&n| n as usize);
        let from = block * CHAR_BLOCK;
        let bytes = self.bytes(from..self.len);
        for (offset, &b) in (from..).zip(bytes) {
            if is_char_start(b) {
                if remaining == 0 {
                    return offset;
                }
                remaining -= 1;
            }
        }
        self.len
    }

    /// Byte range of a 1-based line, without its line break.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let index = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let start = self.line_starts[index] as usize;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.len, |&next| next as usize - 1);
        let end = if end > start && self.bytes(end - 1..end) == b"\r" {
            end - 1
        } else {
            end
        };
        start..end
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// A file's text, whole or in the pieces diagnostics may quote.
#[derive(Debug)]
enum Text {
    Whole(String),
    /// In order, not overlapping; offsets are those of the whole text.
    Pieces(Vec<Piece>),
}

#[derive(Debug)]
struct Piece {
    start: usize,
    text: String,
}

/// Whether a byte starts a UTF-8 character (is not a continuation byte).
fn is_char_start(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_to_pieces_answers_as_the_whole_text_where_it_keeps_text() {
        let crd = format!(
            "kind: CustomResourceDefinition\nspec:\n{}",
            "  field: value\n".repeat(300)
        );
        let text = format!("{crd}---\nkind: Deployment # é\nmetadata:\n  name: wéb\n---\n{crd}");
        let whole = SourceFile::new("x", text.clone());
        let mut cut = SourceFile::new("x", text.clone());
        let start = text.find("kind: Deployment").unwrap_or_default();
        let end = text.find("wéb").unwrap_or_default() + "wéb".len();
        cut.keep_only(std::iter::once(start..end));
        assert!(cut.text().is_empty(), "the file was kept whole");
        assert_eq!(cut.len(), whole.len());
        assert_eq!(cut.slice(start..end), whole.slice(start..end));
        assert_eq!(cut.slice(0..10), None);
        for byte in start..end {
            assert_eq!(cut.line_col(byte), whole.line_col(byte), "at {byte}");
        }
        let line = whole.line_col(start).0;
        for number in line - CONTEXT_LINES..=line + 2 + CONTEXT_LINES {
            assert_eq!(cut.line_range(number), whole.line_range(number));
            assert!(cut.slice(cut.line_range(number)).is_some(), "line {number}");
        }
    }

    #[test]
    fn the_end_of_a_text_of_whole_blocks_is_counted() {
        let text = format!("é{}", "a".repeat(2 * CHAR_BLOCK - 2));
        assert_eq!(text.len(), 2 * CHAR_BLOCK);
        let file = SourceFile::new("x", text);
        assert_eq!(file.chars_before(2 * CHAR_BLOCK), 2 * CHAR_BLOCK - 1);
        assert_eq!(file.line_col(2 * CHAR_BLOCK), (1, 2 * CHAR_BLOCK));
        assert_eq!(file.byte_of_char(2 * CHAR_BLOCK - 1), 2 * CHAR_BLOCK);
    }

    #[test]
    fn character_offsets_on_one_long_line_agree_with_a_plain_count() {
        let text: String = (0..500)
            .map(|i| if i % 7 == 0 { "é" } else { "ab" })
            .collect();
        let file = SourceFile::new("x", text.clone());
        for (index, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(file.byte_of_char(index), byte);
            assert_eq!(file.chars_before(byte), index);
            assert_eq!(file.line_col(byte), (1, index + 1));
        }
    }

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let file = SourceFile::new("x", "a: 1\nnamé: ü\r\nz".to_owned());
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(5), (2, 1));
        let u = file.text().find('ü').unwrap_or_default();
        assert_eq!(file.line_col(u), (2, 7));
        assert_eq!(file.byte_of_char(file.chars_before(u)), u);
        assert_eq!(file.chars_before(u), 11);
        assert_eq!(file.byte_of_char(1_000), file.text().len());
        assert_eq!(&file.text()[file.line_range(2)], "namé: ü");
        assert_eq!(&file.text()[file.line_range(3)], "z");
    }
}
