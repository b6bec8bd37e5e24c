//! Password policy (security.md): at least 8 characters, any Unicode, at most 1024 characters
//! (well above the required minimum maximum of 64), and not one of the commonly breached passwords.

const COMMON: &str = include_str!("common-passwords.txt");

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordProblem {
    #[error("Kies een wachtwoord van minstens 8 tekens.")]
    TooShort,
    #[error("Een wachtwoord mag hoogstens 1024 tekens lang zijn.")]
    TooLong,
    #[error(
        "Dit wachtwoord wordt veel gebruikt en is makkelijk te raden. Kies een ander wachtwoord."
    )]
    Common,
}

pub fn check_password_policy(password: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let common = COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == lower);
    if common {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert_eq!(
            check_password_policy("kort"),
            Err(PasswordProblem::TooShort)
        );
        // Seven Cyrillic letters are 14 bytes but only 7 characters.
        assert_eq!(
            check_password_policy("пароль1"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(check_password_policy("пароль12"), Ok(()));
        assert_eq!(
            check_password_policy(&"x".repeat(1025)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(check_password_policy(&"x".repeat(64)), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(
            check_password_policy("Welkom123"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password_policy("PASSWORD1"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(check_password_policy("paard-batterij-nietje"), Ok(()));
    }
}
