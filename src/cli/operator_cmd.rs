//! `supportbot operator passwd`: reads an inbox password from stdin and prints its Argon2 hash, the value of
//! that operator's `[[operators]] web_password`.

use std::io::BufRead;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;

use super::{CliError, CliResult};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The Argon2id hash (PHC string) of a password, refusing short ones.
pub fn hash_password(password: &str) -> Result<String, CliError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CliError::usage(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters long"
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CliError::runtime(format!("could not hash the password: {e}")))
}

/// Runs the command: the first line of stdin is the password (its line ending removed).
pub fn passwd(name: Option<String>) -> CliResult {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::runtime(format!("could not read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']);
    let hash = hash_password(password)?;
    println!("{hash}");
    if let Some(name) = name {
        eprintln!(
            "Put it in the operator's entry: [[operators]] name = \"{name}\" … web_password = \"<the line above>\"; they sign in to the inbox as web:{}.",
            crate::config::web_login(&name)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_verify_and_short_passwords_are_refused() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong", &parsed)
            .is_err());
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
        assert_eq!(
            hash_password("short").unwrap_err().code,
            super::super::EXIT_USAGE
        );
    }
}
