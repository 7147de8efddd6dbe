//! A user's profile as a form or the API sends it, parsed field by field so every problem
//! is reported at once, beside its field.

use super::{Email, FieldError, PersonName, Username};

/// The raw values, as typed.
#[derive(Debug, Default, Clone)]
pub struct ProfileInput {
    pub username: String,
    pub email: String,
    pub name_prefix: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub name_suffix: String,
    pub birthday: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub username: Username,
    pub email: Email,
    pub name_prefix: PersonName,
    pub first_name: PersonName,
    pub middle_name: PersonName,
    pub last_name: PersonName,
    pub name_suffix: PersonName,
    /// ISO date (YYYY-MM-DD).
    pub birthday: Option<String>,
    pub phone: Option<String>,
}

impl Profile {
    /// A profile with only the required parts (CLI, bootstrap).
    pub fn minimal(username: Username, email: Email) -> Self {
        Self {
            username,
            email,
            name_prefix: PersonName::default(),
            first_name: PersonName::default(),
            middle_name: PersonName::default(),
            last_name: PersonName::default(),
            name_suffix: PersonName::default(),
            birthday: None,
            phone: None,
        }
    }

    pub fn parse(i: &ProfileInput, today: time::Date) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<PersonName, FieldError>| match r {
            Ok(n) => n,
            Err(e) => {
                errors.push(e);
                PersonName::default()
            }
        };
        let name_prefix = keep(PersonName::parse(Some(&i.name_prefix), "name_prefix"));
        let first_name = keep(PersonName::parse(Some(&i.first_name), "first_name"));
        let middle_name = keep(PersonName::parse(Some(&i.middle_name), "middle_name"));
        let last_name = keep(PersonName::parse(Some(&i.last_name), "last_name"));
        let name_suffix = keep(PersonName::parse(Some(&i.name_suffix), "name_suffix"));
        let username = Username::parse(&i.username)
            .map_err(|e| errors.push(e))
            .ok();
        let email = Email::parse(&i.email).map_err(|e| errors.push(e)).ok();
        let birthday = parse_birthday(&i.birthday, today)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let phone = parse_phone(&i.phone)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        match (username, email) {
            (Some(username), Some(email)) if errors.is_empty() => Ok(Self {
                username,
                email,
                name_prefix,
                first_name,
                middle_name,
                last_name,
                name_suffix,
                birthday,
                phone,
            }),
            _ => Err(errors),
        }
    }
}

fn parse_birthday(raw: &str, today: time::Date) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).map_err(|_| {
        FieldError::new("birthday", "Enter the date as YYYY-MM-DD, e.g. 1990-04-23.")
    })?;
    if d > today || d.year() < 1900 {
        return Err(FieldError::new(
            "birthday",
            "The birthday must be between 1900 and today.",
        ));
    }
    Ok(Some(d.to_string()))
}

fn parse_phone(raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().x/".contains(c));
    if !ok_chars || s.len() > 50 || s.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err(FieldError::new(
            "phone",
            "Enter a phone number: digits, spaces and + - ( ) . only, at most 50 characters.",
        ));
    }
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_field_at_once() {
        let today = time::macros::date!(2026 - 11 - 29);
        let input = ProfileInput {
            username: "a b".into(),
            email: "nope".into(),
            birthday: "2030-01-01".into(),
            phone: "call me".into(),
            ..ProfileInput::default()
        };
        let errs = Profile::parse(&input, today).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["username", "email", "birthday", "phone"]);
        let ok = ProfileInput {
            username: "ann".into(),
            email: "ann@example.com".into(),
            birthday: "1990-04-23".into(),
            phone: "+49 (30) 123-456".into(),
            ..ProfileInput::default()
        };
        let p = Profile::parse(&ok, today).unwrap();
        assert_eq!(p.birthday.as_deref(), Some("1990-04-23"));
    }
}
