//! Byte offsets ↔ the protocol's positions: zero-based lines, and columns
//! in UTF-16 code units (what editors count, since VS Code's strings are
//! JavaScript's). Lines come from [`SourceFile`]'s table; only the line
//! itself is scanned.

use std::ops::Range;

use lsp_types::Position;

use crate::source::SourceFile;

/// The position of byte `byte` of `file`.
pub fn position(file: &SourceFile, byte: usize) -> Position {
    let byte = byte.min(file.len());
    let (line, _) = file.line_col(byte);
    let start = file.line_range(line).start;
    let before = file.slice(start..byte).unwrap_or_default();
    Position::new(to_u32(line - 1), to_u32(utf16_len(before)))
}

/// The protocol range of byte range `range` of `file`.
pub fn range(file: &SourceFile, range: Range<usize>) -> lsp_types::Range {
    lsp_types::Range::new(position(file, range.start), position(file, range.end))
}

/// The byte offset of `position` in `file`. A line past the end is the end
/// of the text; a column past the end of its line is the line's end, as
/// the protocol asks.
pub fn offset(file: &SourceFile, position: Position) -> usize {
    let line = position.line as usize + 1;
    if line > file.line_count() {
        return file.len();
    }
    let range = file.line_range(line);
    let text = file.slice(range.clone()).unwrap_or_default();
    let wanted = position.character as usize;
    let mut units = 0;
    for (at, c) in text.char_indices() {
        if units >= wanted {
            return range.start + at;
        }
        units += c.len_utf16();
    }
    range.end
}

/// The byte range of a protocol range of `file`.
pub fn byte_range(file: &SourceFile, range: lsp_types::Range) -> Range<usize> {
    let start = offset(file, range.start);
    start..offset(file, range.end).max(start)
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is one unit, `🚀` two (a surrogate pair), and each two bytes
        // or more.
        let file = SourceFile::new("x", "a: 1\nnamé: 🚀 x\r\nlast".to_owned());
        let x = file.text().rfind('x').unwrap_or_default();
        assert_eq!(position(&file, x), Position::new(1, 9));
        assert_eq!(offset(&file, Position::new(1, 9)), x);
        let rocket = file.text().find('🚀').unwrap_or_default();
        assert_eq!(position(&file, rocket), Position::new(1, 6));
        assert_eq!(offset(&file, Position::new(1, 6)), rocket);
        // Past the end of a line: the line's end, before its `\r\n`.
        assert_eq!(offset(&file, Position::new(1, 99)), x + 1);
        assert_eq!(offset(&file, Position::new(2, 0)), x + 3);
        assert_eq!(offset(&file, Position::new(9, 0)), file.len());
        assert_eq!(position(&file, file.len()), Position::new(2, 4));
    }
}
