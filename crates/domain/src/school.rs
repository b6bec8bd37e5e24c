//! School identification: BRIN number plus dependancecode, as DUO assigns them.
//! Written together as a school code `99ZZ-00` on the command line and in URLs.

use std::fmt;
use std::str::FromStr;

/// A BRIN number: two digits followed by two letters, upper case (e.g. `99ZZ`), as DUO gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Brin(String);

/// A dependancecode (vestigingsnummer): two digits (e.g. `00`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dependance(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchoolCodeError {
    #[error("Een BRIN-nummer bestaat uit twee cijfers en twee letters, bijvoorbeeld 99ZZ.")]
    Brin,
    #[error("Een dependancecode bestaat uit twee cijfers, bijvoorbeeld 00.")]
    Dependance,
    #[error("Een schoolcode schrijf je als BRIN-dependance, bijvoorbeeld 99ZZ-00.")]
    Code,
}

impl Brin {
    pub fn parse(input: &str) -> Result<Self, SchoolCodeError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 4
            && b[0].is_ascii_digit()
            && b[1].is_ascii_digit()
            && b[2].is_ascii_alphabetic()
            && b[3].is_ascii_alphabetic();
        if ok {
            Ok(Self(s))
        } else {
            Err(SchoolCodeError::Brin)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Dependance {
    pub fn parse(input: &str) -> Result<Self, SchoolCodeError> {
        let s = input.trim();
        if s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(SchoolCodeError::Dependance)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// BRIN + dependancecode: the human-readable identity of a school (vestiging).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchoolCode {
    pub brin: Brin,
    pub dependance: Dependance,
}

impl SchoolCode {
    pub fn new(brin: Brin, dependance: Dependance) -> Self {
        Self { brin, dependance }
    }
}

impl FromStr for SchoolCode {
    type Err = SchoolCodeError;
    /// Accepts `99ZZ-00`, `99ZZ 00` and `99ZZ00`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        if compact.len() != 6 || !compact.is_ascii() {
            return Err(SchoolCodeError::Code);
        }
        let (b, d) = compact.split_at(4);
        Ok(Self::new(Brin::parse(b)?, Dependance::parse(d)?))
    }
}

impl fmt::Display for SchoolCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.brin.as_str(), self.dependance.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_codes_parse_in_the_usual_spellings() {
        for s in ["99ZZ-00", "99zz-00", " 99ZZ00 ", "99ZZ 00"] {
            assert_eq!(
                s.parse::<SchoolCode>().unwrap().to_string(),
                "99ZZ-00",
                "{s}"
            );
        }
    }

    #[test]
    fn malformed_school_codes_are_refused_with_the_reason() {
        assert_eq!("AB12-00".parse::<SchoolCode>(), Err(SchoolCodeError::Brin));
        // Two digits and two letters (\d\d[A-Z]{2}): digits at the end are no BRIN.
        for bad in ["1234-00", "12A4-00", "123Z-00"] {
            assert_eq!(
                bad.parse::<SchoolCode>(),
                Err(SchoolCodeError::Brin),
                "{bad}"
            );
        }
        assert_eq!(
            "99ZZ-0A".parse::<SchoolCode>(),
            Err(SchoolCodeError::Dependance)
        );
        assert_eq!("99ZZ-0".parse::<SchoolCode>(), Err(SchoolCodeError::Code));
        assert_eq!("99ZŽ-00".parse::<SchoolCode>(), Err(SchoolCodeError::Code));
    }
}
