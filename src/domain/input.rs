//! Text as it arrives in a form body or a query string, decoded strictly: a `%` not
//! followed by two hex digits, or bytes that are not UTF-8, are refused, not replaced, and
//! no value may hold a NUL byte or another control character (PostgreSQL cannot store NUL;
//! a CR/LF would end up in a header or a log line) or be longer than `MAX_VALUE_BYTES`.
//! `web::input` applies it to every form and query string; the grid applies it to stored
//! and posted grid states.

/// Longest single value: longer than any field's own limit (a password may be 4 KiB), so
/// each field still says its own limit, but no value is a megabyte.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// Why one field was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A broken `%` escape, or bytes that are not UTF-8.
    Encoding,
    /// A NUL byte or another control character (line breaks and tabs included).
    Control,
    TooLong,
}

impl InputError {
    pub fn message(&self) -> String {
        let field = if self.field.is_empty() {
            "a field name".to_owned()
        } else {
            format!("The field \"{}\"", self.field)
        };
        match self.problem {
            Problem::Encoding => {
                format!("{field} is not valid UTF-8 text (or a % escape is broken).")
            }
            Problem::Control => format!(
                "{field} contains a control character (such as a NUL byte or a line break), which no field accepts."
            ),
            Problem::TooLong => format!("{field} is longer than {MAX_VALUE_BYTES} bytes."),
        }
    }
}

impl From<InputError> for crate::error::AppError {
    fn from(e: InputError) -> Self {
        crate::error::AppError::BadRequest(e.message())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value, strictly.
fn decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex(*raw.get(i + 1)?)?;
                let lo = hex(*raw.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Whether a decoded value may be stored and shown: no control characters at all.
pub fn clean(s: &str) -> Result<(), Problem> {
    if s.chars().any(char::is_control) {
        return Err(Problem::Control);
    }
    if s.len() > MAX_VALUE_BYTES {
        return Err(Problem::TooLong);
    }
    Ok(())
}

/// Decodes a form body or query string into its pairs, refusing the first bad one.
pub fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, InputError> {
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &part[part.len()..]),
        };
        let refuse = |field: String, problem| InputError { field, problem };
        let name = decode(name).ok_or_else(|| refuse(String::new(), Problem::Encoding))?;
        clean(&name).map_err(|p| refuse(String::new(), p))?;
        let value = decode(value).ok_or_else(|| refuse(name.clone(), Problem::Encoding))?;
        clean(&value).map_err(|p| refuse(name.clone(), p))?;
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_strictly_and_names_the_field() {
        assert_eq!(
            pairs(b"a=1&b=x+y%21&c").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), String::new())
            ]
        );
        for (raw, field, problem) in [
            (&b"username=a%00b"[..], "username", Problem::Control),
            (b"q=a%0D%0ASet-Cookie:x", "q", Problem::Control),
            (b"name=%E0%A4", "name", Problem::Encoding),
            (b"name=50%", "name", Problem::Encoding),
            (b"name=%zz", "name", Problem::Encoding),
            (b"%00=x", "", Problem::Control),
        ] {
            let e = pairs(raw).unwrap_err();
            assert_eq!((e.field.as_str(), e.problem), (field, problem), "{raw:?}");
        }
        let long = format!("v={}", "x".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(
            pairs(long.as_bytes()).unwrap_err().problem,
            Problem::TooLong
        );
        assert!(
            InputError {
                field: "username".into(),
                problem: Problem::Control
            }
            .message()
            .contains("\"username\"")
        );
    }
}
