//! The `window.YTD.<name>.partN = [ … ]` wrapper of Twitter/X archive data files, read as a stream.
//!
//! Every data file of the archive is a JavaScript assignment of one JSON array (or, for
//! `manifest.js`, one object). [`YtdReader`] skips the assignment prefix without relying on line
//! structure (the 2019–2021 compact printing puts `[ {` on the first line), then hands out the
//! array's elements one at a time as byte slices, so a 100 MB part never sits in memory whole:
//! memory is bounded by the largest single element ([`MAX_ELEMENT`]).
//!
//! Accepted around the JSON: a UTF-8 byte-order mark, the `window.… =` prefix or none at all (some
//! tools strip it), and a trailing `;`. Anything else is a [`YtdError`] with the line and column.
//!
//! The element splitter only tracks strings, escapes and bracket depth; the element itself is
//! validated when it is decoded with `serde_json` (see [`YtdReader::decode`]).

use std::io::BufRead;

/// The largest single array element accepted (a tweet is a few KB; a 25,000-character note a
/// few hundred KB). Past this the file is refused rather than buffered without bound.
pub const MAX_ELEMENT: usize = 64 * 1024 * 1024;

/// How far into a file the `window.… =` prefix may reach.
const MAX_PREFIX: usize = 1024;

/// Where in a data file something went wrong, 1-based as editors show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a data file could not be read as a `window.YTD` array.
#[derive(Debug, thiserror::Error)]
pub enum YtdError {
    #[error("read failed")]
    Io(#[from] std::io::Error),
    #[error("{what} at {at}")]
    Syntax { what: String, at: Position },
    #[error("the file is empty")]
    Empty,
    #[error("this is not a Twitter archive data file: it looks like {looks_like}")]
    NotData { looks_like: &'static str },
    #[error("an entry at {at} is larger than {} MiB", MAX_ELEMENT / (1024 * 1024))]
    ElementTooLarge { at: Position },
}

/// What the file holds after the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Array,
    Object,
}

/// Streams the elements of one `window.YTD` array (see the module doc).
pub struct YtdReader<R> {
    inner: R,
    /// The bytes of the current element.
    element: Vec<u8>,
    /// Line and column of the next unread byte.
    line: u64,
    column: u64,
    /// Where the current element starts.
    element_at: Position,
    state: State,
    /// The `globalName` of the prefix (`YTD.tweets.part0`), when there was one.
    global_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first element of the array.
    First,
    /// After an element: a `,` or the closing `]` follows.
    Between,
    Done,
}

impl<R: BufRead> YtdReader<R> {
    /// Reads the prefix and the opening bracket. `Shape::Object` is returned for `manifest.js`;
    /// the caller then reads the object with [`YtdReader::read_object`].
    pub fn open(inner: R) -> Result<(Self, Shape), YtdError> {
        let mut reader = YtdReader {
            inner,
            element: Vec::new(),
            line: 1,
            column: 1,
            element_at: Position { line: 1, column: 1 },
            state: State::First,
            global_name: None,
        };
        let shape = reader.read_prefix()?;
        Ok((reader, shape))
    }

    /// The `globalName` the prefix assigned to (`YTD.tweets.part0`), if the file had a prefix.
    pub fn global_name(&self) -> Option<&str> {
        self.global_name.as_deref()
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn syntax(&self, what: impl Into<String>) -> YtdError {
        YtdError::Syntax {
            what: what.into(),
            at: self.position(),
        }
    }

    /// The next byte without consuming it; `None` at the end of the stream.
    fn peek(&mut self) -> Result<Option<u8>, YtdError> {
        loop {
            match self.inner.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn bump(&mut self, byte: u8) {
        self.inner.consume(1);
        self.advance_position(byte);
    }

    fn advance_position(&mut self, byte: u8) {
        if byte == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if byte & 0xC0 != 0x80 {
            // Columns count characters, not the continuation bytes of UTF-8.
            self.column += 1;
        }
    }

    fn skip_whitespace(&mut self) -> Result<Option<u8>, YtdError> {
        while let Some(b) = self.peek()? {
            if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                self.bump(b);
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn read_prefix(&mut self) -> Result<Shape, YtdError> {
        // A UTF-8 byte-order mark, which some editors add when a user "fixes" a file. Taken a
        // byte at a time: a reader may hand out fewer than three bytes at once.
        if self.peek()? == Some(0xEF) {
            for byte in [0xEF, 0xBB, 0xBF] {
                if self.peek()? != Some(byte) {
                    return Err(YtdError::NotData {
                        looks_like: "neither JSON nor a `window.YTD` assignment",
                    });
                }
                self.inner.consume(1);
            }
        }
        let first = match self.skip_whitespace()? {
            None => return Err(YtdError::Empty),
            Some(b) => b,
        };
        match first {
            b'[' | b'{' => {}
            b'<' => {
                return Err(YtdError::NotData {
                    looks_like: "an HTML page",
                });
            }
            b'w' | b'W' => self.read_assignment()?,
            _ => {
                return Err(YtdError::NotData {
                    looks_like: "neither JSON nor a `window.YTD` assignment",
                });
            }
        }
        match self.skip_whitespace()? {
            Some(b'[') => {
                self.bump(b'[');
                Ok(Shape::Array)
            }
            Some(b'{') => Ok(Shape::Object),
            Some(_) => Err(self.syntax("expected `[` after the `window.YTD` prefix")),
            None => Err(self.syntax("the file ends after its `window.YTD` prefix")),
        }
    }

    /// Reads `window.<globalName> =` up to and including the `=`.
    fn read_assignment(&mut self) -> Result<(), YtdError> {
        let mut prefix = Vec::new();
        loop {
            match self.peek()? {
                None => return Err(self.syntax("the file ends inside its `window.YTD` prefix")),
                Some(b'=') => {
                    self.bump(b'=');
                    break;
                }
                Some(b) => {
                    if prefix.len() >= MAX_PREFIX || b == b'[' || b == b'{' {
                        return Err(YtdError::NotData {
                            looks_like: "a script, not a `window.YTD = [...]` data file",
                        });
                    }
                    prefix.push(b);
                    self.bump(b);
                }
            }
        }
        let prefix = String::from_utf8_lossy(&prefix);
        let name = prefix.trim();
        let Some(global) = name.strip_prefix("window.") else {
            return Err(YtdError::NotData {
                looks_like: "a script, not a `window.YTD = [...]` data file",
            });
        };
        if global.is_empty()
            || !global
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$')
        {
            return Err(YtdError::NotData {
                looks_like: "a script, not a `window.YTD = [...]` data file",
            });
        }
        self.global_name = Some(global.to_string());
        Ok(())
    }

    /// The next element of the array as raw JSON bytes with the position where it starts, or
    /// `None` after the closing `]`.
    pub fn next_element(&mut self) -> Result<Option<(Position, &[u8])>, YtdError> {
        match self.state {
            State::Done => return Ok(None),
            State::First => match self.skip_whitespace()? {
                Some(b']') => {
                    self.bump(b']');
                    self.finish()?;
                    return Ok(None);
                }
                Some(_) => {}
                None => return Err(self.syntax("the file ends before the array is closed")),
            },
            State::Between => match self.skip_whitespace()? {
                Some(b',') => {
                    self.bump(b',');
                    // Tolerate a trailing comma before `]`, which hand-edited files have.
                    if self.skip_whitespace()? == Some(b']') {
                        self.bump(b']');
                        self.finish()?;
                        return Ok(None);
                    }
                }
                Some(b']') => {
                    self.bump(b']');
                    self.finish()?;
                    return Ok(None);
                }
                Some(_) => return Err(self.syntax("expected `,` or `]` between entries")),
                None => {
                    return Err(
                        self.syntax("the file ends before the array is closed (truncated?)")
                    );
                }
            },
        }
        self.read_value()?;
        self.state = State::Between;
        Ok(Some((self.element_at, &self.element)))
    }

    /// Reads the single object of `manifest.js` (after [`Shape::Object`]).
    pub fn read_object(&mut self) -> Result<(Position, &[u8]), YtdError> {
        self.read_value()?;
        self.state = State::Done;
        self.skip_trailer()?;
        Ok((self.element_at, &self.element))
    }

    /// Where the element last returned starts.
    pub fn element_position(&self) -> Position {
        self.element_at
    }

    /// Decodes the element last returned, mapping serde's position (relative to the element)
    /// to the file's.
    pub fn decode<'de, T: serde::Deserialize<'de>>(
        element_at: Position,
        bytes: &'de [u8],
    ) -> Result<T, DecodeError> {
        serde_json::from_slice(bytes).map_err(|e| {
            let at = fault_position(element_at, bytes, e.line(), e.column());
            let message = e.to_string();
            // serde_json appends " at line L column C"; ours replaces it.
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            DecodeError {
                syntax: matches!(
                    e.classify(),
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                ),
                message,
                at,
            }
        })
    }

    /// After the closing bracket only whitespace and one `;` may follow.
    fn finish(&mut self) -> Result<(), YtdError> {
        self.state = State::Done;
        self.skip_trailer()
    }

    fn skip_trailer(&mut self) -> Result<(), YtdError> {
        if self.skip_whitespace()? == Some(b';') {
            self.bump(b';');
        }
        match self.skip_whitespace()? {
            None => Ok(()),
            Some(_) => Err(self.syntax("unexpected content after the closing bracket")),
        }
    }

    /// Copies one JSON value (object, array, string or scalar) into `self.element`.
    fn read_value(&mut self) -> Result<(), YtdError> {
        self.element.clear();
        self.element_at = self.position();
        let mut depth: usize = 0;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                return Err(self.syntax("the file ends inside an entry (truncated?)"));
            }
            let mut end = None;
            let mut i = 0;
            while i < buf.len() {
                let b = buf[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    } else {
                        // Jump to the next quote or backslash: most of a tweet is string bytes.
                        match memchr::memchr2(b'"', b'\\', &buf[i + 1..]) {
                            Some(j) => {
                                i += j + 1;
                                continue;
                            }
                            None => {
                                i = buf.len();
                                continue;
                            }
                        }
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            if depth == 0 {
                                // A closing bracket where a value should be: `[ ]`-like input
                                // is handled before we get here, so this is malformed.
                                end = Some(i);
                                break;
                            }
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        b',' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => {
                            // The end of a bare scalar element.
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            let take = end.unwrap_or(buf.len());
            if self.element.len() + take > MAX_ELEMENT {
                return Err(YtdError::ElementTooLarge {
                    at: self.element_at,
                });
            }
            self.element.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
            // Keep line/column exact for error messages: count newlines in what we took.
            let taken_start = self.element.len() - take;
            let newlines = memchr::memchr_iter(b'\n', &self.element[taken_start..]).count();
            if newlines > 0 {
                self.line += newlines as u64;
                let last_nl = memchr::memrchr(b'\n', &self.element[taken_start..]).unwrap_or(0);
                let tail = &self.element[taken_start + last_nl + 1..];
                self.column = 1 + tail.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
            } else {
                self.column += self.element[taken_start..]
                    .iter()
                    .filter(|&&b| b & 0xC0 != 0x80)
                    .count() as u64;
            }
            if end.is_some() {
                if self.element.is_empty() {
                    return Err(self.syntax("expected an entry"));
                }
                return Ok(());
            }
        }
    }
}

/// Where in the file the byte at fault is, from serde_json's `line` and `column` within the
/// element. serde_json counts the bytes of the line up to and including the byte at fault, so
/// a raw newline inside a string is reported at column 0 of the next line, and a column counts
/// bytes; editors want the newline at the end of its own line and columns in characters.
fn fault_position(element_at: Position, bytes: &[u8], line: usize, column: usize) -> Position {
    let line_start = match line {
        0 | 1 => 0,
        n => memchr::memchr_iter(b'\n', bytes)
            .nth(n - 2)
            .map_or(bytes.len(), |p| p + 1),
    };
    let fault = (line_start + column).min(bytes.len()).saturating_sub(1);
    let before = &bytes[..fault];
    let newlines = memchr::memchr_iter(b'\n', before).count() as u64;
    let start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    let column = 1 + before[start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count() as u64;
    if newlines == 0 {
        Position {
            line: element_at.line,
            column: element_at.column + column - 1,
        }
    } else {
        Position {
            line: element_at.line + newlines,
            column,
        }
    }
}

/// A JSON element that did not decode: `syntax` tells malformed JSON (fatal for the file) from
/// well-formed JSON of an unexpected shape (the entry is skipped and reported).
#[derive(Debug, Clone)]
pub struct DecodeError {
    pub syntax: bool,
    pub message: String,
    pub at: Position,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(input: &str) -> Result<Vec<String>, YtdError> {
        let (mut r, shape) = YtdReader::open(input.as_bytes())?;
        assert_eq!(shape, Shape::Array);
        let mut out = Vec::new();
        while let Some((_, e)) = r.next_element()? {
            out.push(String::from_utf8(e.to_vec()).unwrap());
        }
        Ok(out)
    }

    #[test]
    fn compact_printing_with_the_bracket_on_the_first_line() {
        let got = elements("window.YTD.tweet.part0 = [ {\n  \"a\" : [ \"0\", \"1\" ]\n}, {\n  \"b\" : \"}]\\\"\"\n} ]").unwrap();
        assert_eq!(
            got,
            vec![
                "{\n  \"a\" : [ \"0\", \"1\" ]\n}",
                "{\n  \"b\" : \"}]\\\"\"\n}"
            ]
        );
    }

    #[test]
    fn multi_line_printing_semicolon_bom_and_bare_array() {
        let multi =
            "window.YTD.tweets.part1 = [\n  {\n    \"x\" : 1\n  },\n  {\n    \"x\" : 2\n  }\n];\n";
        assert_eq!(elements(multi).unwrap().len(), 2);
        assert_eq!(elements("\u{feff}[{\"x\":1}]").unwrap().len(), 1);
        assert_eq!(elements("[ ]").unwrap().len(), 0);
        assert_eq!(
            elements("window.YTD.note_tweet.part0 = [ ]").unwrap().len(),
            0
        );
    }

    #[test]
    fn global_name_is_kept() {
        let (r, _) = YtdReader::open(&b"window.YTD.tweets.part2 = []"[..]).unwrap();
        assert_eq!(r.global_name(), Some("YTD.tweets.part2"));
    }

    #[test]
    fn truncated_and_garbage_inputs_are_errors_with_positions() {
        let err = elements("window.YTD.tweets.part0 = [\n  {\n    \"x\" : \"abc").unwrap_err();
        assert!(matches!(err, YtdError::Syntax { .. }), "{err}");
        let err = elements("window.YTD.tweets.part0 = [\n  {\"x\":1}\n  {\"x\":2}\n]").unwrap_err();
        match err {
            YtdError::Syntax { at, .. } => assert_eq!(at, Position { line: 3, column: 3 }),
            other => panic!("{other}"),
        }
        assert!(matches!(
            elements("<!DOCTYPE html><html>").unwrap_err(),
            YtdError::NotData { .. }
        ));
        assert!(matches!(elements("").unwrap_err(), YtdError::Empty));
        assert!(matches!(
            elements("[{\"x\":1}] trailing").unwrap_err(),
            YtdError::Syntax { .. }
        ));
        assert!(matches!(
            elements("alert(1); window.x = [1]").unwrap_err(),
            YtdError::NotData { .. }
        ));
    }

    #[test]
    fn decode_positions_are_file_relative() {
        let input = "window.YTD.tweets.part0 = [\n  {\n    \"x\" : @\n  }\n]";
        let (mut r, _) = YtdReader::open(input.as_bytes()).unwrap();
        let (at, bytes) = r.next_element().unwrap().unwrap();
        let err = YtdReader::<&[u8]>::decode::<serde_json::Value>(at, bytes).unwrap_err();
        assert!(err.syntax);
        assert_eq!(err.at.line, 3);
    }

    #[test]
    fn decode_positions_are_one_based_characters() {
        // Found by the `manifest` fuzz target: a raw newline inside a string was reported at
        // "column 0" of the next line. It is the last character (11th) of its own line.
        let input = "window.__THAR_CONFIG = {\n  \"a\" : \"x\ny\"\n}";
        let (mut r, _) = YtdReader::open(input.as_bytes()).unwrap();
        let (at, bytes) = r.read_object().unwrap();
        let err = YtdReader::<&[u8]>::decode::<serde_json::Value>(at, bytes).unwrap_err();
        assert_eq!(
            err.at,
            Position {
                line: 2,
                column: 11
            },
            "{}",
            err.message
        );
        // Columns count characters, on the element's first line too.
        let input = "[{\"é\":\"ü\", @}]";
        let (mut r, _) = YtdReader::open(input.as_bytes()).unwrap();
        let (at, bytes) = r.next_element().unwrap().unwrap();
        let err = YtdReader::<&[u8]>::decode::<serde_json::Value>(at, bytes).unwrap_err();
        assert_eq!(
            err.at,
            Position {
                line: 1,
                column: 12
            },
            "{}",
            err.message
        );
    }

    #[test]
    fn a_bom_split_across_reads_is_still_a_bom() {
        // Found by the `ytd` fuzz target: the mark was only seen when the first read returned
        // all three of its bytes, so a reader handing out one or two bytes at a time made the
        // file "not a Twitter archive data file".
        let input = "\u{feff}window.YTD.tweets.part0 = [ {\"x\":1} ]";
        for capacity in [1, 2, 3, 64] {
            let r = std::io::BufReader::with_capacity(capacity, input.as_bytes());
            let (mut r, shape) = YtdReader::open(r).unwrap();
            assert_eq!(shape, Shape::Array);
            let (_, e) = r.next_element().unwrap().unwrap();
            assert_eq!(e, b"{\"x\":1}");
        }
        // Half a mark is no mark.
        let r = std::io::BufReader::with_capacity(1, &b"\xEF\xBB[1]"[..]);
        assert!(matches!(YtdReader::open(r), Err(YtdError::NotData { .. })));
    }

    #[test]
    fn small_reads_give_the_same_elements() {
        // A reader that hands out one byte at a time exercises every buffer boundary.
        let input = "window.YTD.tweets.part0 = [ {\"a\":\"x\\\\\"}, {\"b\":[1,{\"c\":\"]\"}]} ]";
        let r = std::io::BufReader::with_capacity(1, input.as_bytes());
        let (mut r, _) = YtdReader::open(r).unwrap();
        let mut n = Vec::new();
        while let Some((_, e)) = r.next_element().unwrap() {
            n.push(String::from_utf8(e.to_vec()).unwrap());
        }
        assert_eq!(n, vec!["{\"a\":\"x\\\\\"}", "{\"b\":[1,{\"c\":\"]\"}]}"]);
    }
}
