//! A source text and the arithmetic between bytes, characters and lines.

use std::ops::Range;

/// One input: a file, or standard input. Owns the text every diagnostic quotes.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<u32>,
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
            text,
            line_starts,
        }
    }

    /// The name diagnostics print: the path as given, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= byte) - 1;
        let start = self.line_starts[line] as usize;
        let column = self
            .text
            .get(start..byte)
            .map_or(byte - start, |prefix| prefix.chars().count());
        (line + 1, column + 1)
    }

    /// Byte range of a 1-based line, without its line break.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let index = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let start = self.line_starts[index] as usize;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| next as usize - 1);
        let end = if end > start && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        start..end
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of the `column`-th character (0-based) of a 1-based line.
    /// The YAML scanner counts characters; miette and slicing need bytes.
    pub fn byte_at(&self, line: usize, column: usize) -> usize {
        let start =
            self.line_starts[line.saturating_sub(1).min(self.line_starts.len() - 1)] as usize;
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(column)
            .map_or(self.text.len(), |(offset, _)| start + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let file = SourceFile::new("x", "a: 1\nnamé: ü\r\nz".to_owned());
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(5), (2, 1));
        let u = file.text().find('ü').unwrap_or_default();
        assert_eq!(file.line_col(u), (2, 7));
        assert_eq!(file.byte_at(2, 6), u);
        assert_eq!(&file.text()[file.line_range(2)], "namé: ü");
        assert_eq!(&file.text()[file.line_range(3)], "z");
    }
}
