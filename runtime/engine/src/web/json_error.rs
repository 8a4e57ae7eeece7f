//! SpiderMonkey's `JSON.parse` error messages (`JSMSG_JSON_BAD_PARSE`: `JSON.parse: <what> at
//! line <n> column <m> of the JSON data`), for the body mixins' `json()`: Boa rejects the same
//! texts with messages of its own. The checks, their order and the position each reports
//! follow SpiderMonkey's JSON parser; positions count UTF-16 units, a `\r\n` is one line break.

/// The message SpiderMonkey gives for `text`, or `None` when it is valid JSON.
pub fn spidermonkey_message(text: &str) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut parser = Parser { s: &units, at: 0 };
    let what = parser.parse().err()?;
    let (line, column) = position(&units[..parser.at.min(units.len())]);
    Some(format!(
        "JSON.parse: {what} at line {line} column {column} of the JSON data"
    ))
}

fn position(before: &[u16]) -> (u32, u32) {
    let (mut line, mut column) = (1, 1);
    let mut i = 0;
    while i < before.len() {
        let c = before[i];
        if c == u16::from(b'\n') || c == u16::from(b'\r') {
            line += 1;
            column = 1;
            if c == u16::from(b'\r') && before.get(i + 1) == Some(&u16::from(b'\n')) {
                i += 1;
            }
        } else {
            column += 1;
        }
        i += 1;
    }
    (line, column)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    Value,
    ArrayOpen,
    ArrayClose,
    ObjectOpen,
    ObjectClose,
    Comma,
    Colon,
    Str,
}

#[derive(Clone, Copy)]
enum Frame {
    Array,
    Object,
}

type Failure = &'static str;

struct Parser<'a> {
    s: &'a [u16],
    at: usize,
}

fn is_ws(c: u16) -> bool {
    c == 0x09 || c == 0x0a || c == 0x0d || c == 0x20
}

fn is_digit(c: u16) -> bool {
    (0x30..=0x39).contains(&c)
}

fn is_hex(c: u16) -> bool {
    is_digit(c) || (0x41..=0x46).contains(&c) || (0x61..=0x66).contains(&c)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u16> {
        self.s.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.at += 1;
        }
    }

    fn string(&mut self) -> Result<Token, Failure> {
        self.at += 1;
        if self.at >= self.s.len() {
            return Err("unterminated string literal");
        }
        while let Some(c) = self.peek() {
            match c {
                0x22 => {
                    self.at += 1;
                    return Ok(Token::Str);
                }
                0x5c => {
                    self.at += 1;
                    let Some(e) = self.peek() else { break };
                    self.at += 1;
                    match e {
                        0x22 | 0x2f | 0x5c | 0x62 | 0x66 | 0x6e | 0x72 | 0x74 => {}
                        0x75 => {
                            for _ in 0..4 {
                                if !self.peek().is_some_and(is_hex) {
                                    return Err("bad Unicode escape");
                                }
                                self.at += 1;
                            }
                        }
                        _ => {
                            self.at -= 1;
                            return Err("bad escaped character");
                        }
                    }
                }
                c if c <= 0x1f => return Err("bad control character in string literal"),
                _ => self.at += 1,
            }
        }
        Err("unterminated string")
    }

    fn number(&mut self) -> Result<Token, Failure> {
        if self.peek() == Some(0x2d) {
            self.at += 1;
            if self.at >= self.s.len() {
                return Err("no number after minus sign");
            }
        }
        if !self.peek().is_some_and(is_digit) {
            return Err("unexpected non-digit");
        }
        let first = self.peek();
        self.at += 1;
        if first != Some(0x30) {
            while self.peek().is_some_and(is_digit) {
                self.at += 1;
            }
        }
        if self.peek() == Some(0x2e) {
            self.at += 1;
            match self.peek() {
                None => return Err("missing digits after decimal point"),
                Some(c) if !is_digit(c) => return Err("unterminated fractional number"),
                _ => {}
            }
            while self.peek().is_some_and(is_digit) {
                self.at += 1;
            }
        }
        if matches!(self.peek(), Some(0x65 | 0x45)) {
            self.at += 1;
            if self.peek().is_none() {
                return Err("missing digits after exponent indicator");
            }
            if matches!(self.peek(), Some(0x2b | 0x2d)) {
                self.at += 1;
                if self.peek().is_none() {
                    return Err("missing digits after exponent sign");
                }
            }
            if !self.peek().is_some_and(is_digit) {
                return Err("exponent part is missing a number");
            }
            while self.peek().is_some_and(is_digit) {
                self.at += 1;
            }
        }
        Ok(Token::Value)
    }

    fn keyword(&mut self, word: &str) -> Result<Token, Failure> {
        let matches = word
            .encode_utf16()
            .enumerate()
            .all(|(i, c)| self.s.get(self.at + i) == Some(&c));
        if !matches {
            return Err("unexpected keyword");
        }
        self.at += word.len();
        Ok(Token::Value)
    }

    /// The next token where a value may start.
    fn advance(&mut self) -> Result<Token, Failure> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err("unexpected end of data");
        };
        let single = |t| Ok(t);
        match c {
            0x22 => self.string().map(|_| Token::Value),
            0x2d | 0x30..=0x39 => self.number(),
            0x74 => self.keyword("true"),
            0x66 => self.keyword("false"),
            0x6e => self.keyword("null"),
            _ => {
                let token = match c {
                    0x5b => Token::ArrayOpen,
                    0x5d => Token::ArrayClose,
                    0x7b => Token::ObjectOpen,
                    0x7d => Token::ObjectClose,
                    0x2c => Token::Comma,
                    0x3a => Token::Colon,
                    _ => return Err("unexpected character"),
                };
                self.at += 1;
                single(token)
            }
        }
    }

    /// After a `{`: a property name or `}`.
    fn after_object_open(&mut self) -> Result<Token, Failure> {
        self.skip_ws();
        match self.peek() {
            None => Err("end of data while reading object contents"),
            Some(0x22) => self.string(),
            Some(0x7d) => {
                self.at += 1;
                Ok(Token::ObjectClose)
            }
            Some(_) => Err("expected property name or '}'"),
        }
    }

    fn property_name(&mut self) -> Result<Token, Failure> {
        self.skip_ws();
        match self.peek() {
            None => Err("end of data when property name was expected"),
            Some(0x22) => self.string(),
            Some(_) => Err("expected double-quoted property name"),
        }
    }

    fn colon(&mut self) -> Result<(), Failure> {
        self.skip_ws();
        match self.peek() {
            None => Err("end of data after property name when ':' was expected"),
            Some(0x3a) => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err("expected ':' after property name in object"),
        }
    }

    /// After a value inside `frame`: `,` or the closing bracket.
    fn after_value(&mut self, frame: Frame) -> Result<Token, Failure> {
        self.skip_ws();
        let (end, close, token) = match frame {
            Frame::Array => (
                "end of data when ',' or ']' was expected",
                0x5d,
                Token::ArrayClose,
            ),
            Frame::Object => (
                "end of data after property value in object",
                0x7d,
                Token::ObjectClose,
            ),
        };
        match self.peek() {
            None => Err(end),
            Some(0x2c) => {
                self.at += 1;
                Ok(Token::Comma)
            }
            Some(c) if c == close => {
                self.at += 1;
                Ok(token)
            }
            Some(_) => Err(match frame {
                Frame::Array => "expected ',' or ']' after array element",
                Frame::Object => "expected ',' or '}' after property value in object",
            }),
        }
    }

    fn parse(&mut self) -> Result<(), Failure> {
        let mut stack: Vec<Frame> = Vec::new();
        // `Some(token)`: a token already read where a value starts.
        let mut pending: Option<Token> = None;
        loop {
            // A value.
            let token = match pending.take() {
                Some(t) => t,
                None => self.advance()?,
            };
            match token {
                Token::Value | Token::Str => {}
                Token::ArrayOpen => {
                    stack.push(Frame::Array);
                    let next = self.advance()?;
                    if next != Token::ArrayClose {
                        pending = Some(next);
                        continue;
                    }
                    stack.pop();
                }
                Token::ObjectOpen => {
                    stack.push(Frame::Object);
                    match self.after_object_open()? {
                        Token::ObjectClose => {
                            stack.pop();
                        }
                        _ => {
                            self.colon()?;
                            continue;
                        }
                    }
                }
                Token::ArrayClose | Token::ObjectClose | Token::Comma | Token::Colon => {
                    self.at -= 1;
                    return Err("unexpected character");
                }
            }
            // After a complete value: close frames until one wants another member.
            loop {
                let Some(&frame) = stack.last() else {
                    self.skip_ws();
                    if self.at < self.s.len() {
                        return Err("unexpected non-whitespace character after JSON data");
                    }
                    return Ok(());
                };
                match self.after_value(frame)? {
                    Token::Comma => {
                        if let Frame::Object = frame {
                            self.property_name()?;
                            self.colon()?;
                        }
                        break;
                    }
                    _ => {
                        stack.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_positions_as_spidermonkey_reports_them() {
        for (text, message) in [
            ("[1, 2, 3, 4,]", "unexpected character at line 1 column 13"),
            (
                "{\"foo\": 1,}",
                "expected double-quoted property name at line 1 column 11",
            ),
            (
                "\"a\"b",
                "unexpected non-whitespace character after JSON data at line 1 column 4",
            ),
            ("", "unexpected end of data at line 1 column 1"),
            (
                "{",
                "end of data while reading object contents at line 1 column 2",
            ),
            (
                "{'a': 1}",
                "expected property name or '}' at line 1 column 2",
            ),
            (
                "{\"a\" 1}",
                "expected ':' after property name in object at line 1 column 6",
            ),
            (
                "{\"a\": 1 \"b\"}",
                "expected ',' or '}' after property value in object at line 1 column 9",
            ),
            (
                "[1 2]",
                "expected ',' or ']' after array element at line 1 column 4",
            ),
            ("[1,", "unexpected end of data at line 1 column 4"),
            ("tru", "unexpected keyword at line 1 column 1"),
            ("-", "no number after minus sign at line 1 column 2"),
            ("-a", "unexpected non-digit at line 1 column 2"),
            (
                "1.",
                "missing digits after decimal point at line 1 column 3",
            ),
            ("1.x", "unterminated fractional number at line 1 column 3"),
            (
                "1e",
                "missing digits after exponent indicator at line 1 column 3",
            ),
            (
                "1e+",
                "missing digits after exponent sign at line 1 column 4",
            ),
            (
                "1ex",
                "exponent part is missing a number at line 1 column 3",
            ),
            ("\"abc", "unterminated string at line 1 column 5"),
            ("\"", "unterminated string literal at line 1 column 2"),
            (
                "\"a\u{1}\"",
                "bad control character in string literal at line 1 column 3",
            ),
            ("\"\\x\"", "bad escaped character at line 1 column 3"),
            ("\"\\u12g4\"", "bad Unicode escape at line 1 column 6"),
            (
                "{\"a\":1,",
                "end of data when property name was expected at line 1 column 8",
            ),
            (
                "{\"a\"",
                "end of data after property name when ':' was expected at line 1 column 5",
            ),
            (
                "{\"a\":1",
                "end of data after property value in object at line 1 column 7",
            ),
            (
                "[1",
                "end of data when ',' or ']' was expected at line 1 column 3",
            ),
            (
                "[\n1,\r\n2 x]",
                "expected ',' or ']' after array element at line 3 column 3",
            ),
            (
                "01",
                "unexpected non-whitespace character after JSON data at line 1 column 2",
            ),
            ("@", "unexpected character at line 1 column 1"),
        ] {
            assert_eq!(
                spidermonkey_message(text),
                Some(format!("JSON.parse: {message} of the JSON data")),
                "{text:?}"
            );
        }
        for valid in [
            "{}",
            " [ ] ",
            "{\"a\":[1,-2.5e+3,true,false,null,\"\\u00e9\"]}",
            "0",
        ] {
            assert_eq!(spidermonkey_message(valid), None, "{valid:?}");
        }
    }
}
