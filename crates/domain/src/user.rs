//! Values that describe a user: e-mail address and display name.

use unicode_normalization::UnicodeNormalization;

/// An e-mail address as typed (trimmed, NFC), with a lower-case form used for lookups so that
/// `Jan@School.nl` and `jan@school.nl` are the same account on both databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    lookup: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("Vul een e-mailadres in.")]
    Empty,
    #[error("Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl.")]
    Invalid,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let display: String = input.trim().nfc().collect();
        if display.is_empty() {
            return Err(EmailError::Empty);
        }
        let valid = display.chars().count() <= 254
            && !display.chars().any(|c| c.is_whitespace() || c.is_control())
            && match display.rsplit_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !local.contains('@')
                        && !domain.is_empty()
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                        && domain.contains('.')
                }
                None => false,
            };
        if !valid {
            return Err(EmailError::Invalid);
        }
        let lookup = display.to_lowercase();
        Ok(Self { display, lookup })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form stored in the unique lookup column.
    pub fn lookup(&self) -> &str {
        &self.lookup
    }
}

/// A person's display name: trimmed, NFC, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PersonNameError {
    #[error("Vul een naam in.")]
    Empty,
    #[error("Een naam mag hoogstens 200 tekens lang zijn en geen stuurtekens bevatten.")]
    Invalid,
}

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, PersonNameError> {
        let s: String = input.trim().nfc().collect();
        if s.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if s.chars().count() > 200 || s.chars().any(char::is_control) {
            return Err(PersonNameError::Invalid);
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_case_insensitively_and_keep_their_spelling() {
        let e = Email::parse("  Fatma.Yılmaz@School.NL ").unwrap();
        assert_eq!(e.as_str(), "Fatma.Yılmaz@School.NL");
        assert_eq!(e.lookup(), "fatma.yılmaz@school.nl");
    }

    #[test]
    fn malformed_emails_are_refused() {
        assert_eq!(Email::parse("  "), Err(EmailError::Empty));
        for bad in [
            "jan",
            "jan@",
            "@school.nl",
            "jan@school",
            "jan @school.nl",
            "a@b@c.nl",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
    }

    #[test]
    fn names_in_any_script_survive() {
        for n in [
            "Łukasz Wiśniewski",
            "محمد الأحمد",
            "Олена Шевченко",
            "Ayşe Öztürk",
        ] {
            assert_eq!(PersonName::parse(n).unwrap().as_str(), n);
        }
        assert_eq!(PersonName::parse("a\u{7}b"), Err(PersonNameError::Invalid));
    }
}
