//! `[[operators]]` web logins: the `web_password` hash is checked at load, and each operator with one gets the
//! web account the inbox signs them in as (`web:<name>`, lower-cased), so their replies, takes and notes carry
//! their own name and teams.

use argon2::password_hash::PasswordHash;

use super::{line_at, Config, ConfigError};

/// Longest web login name.
const MAX_LOGIN: usize = 24;

/// The inbox login of an operator name (`Wang` → `wang`): the name lower-cased.
pub fn web_login(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Whether a login name can be a `web:` account: 1-24 of `a-z 0-9 . _ -`.
fn login_ok(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= MAX_LOGIN
        && login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// The first problem with the operators' web logins, located in `text`.
pub(super) fn check(config: &Config, text: &str, file: &str) -> Result<(), ConfigError> {
    let located = |needle: &str, message: String| ConfigError::Invalid {
        location: match text.find(needle) {
            Some(at) => format!("{file}:{}", line_at(text, at)),
            None => file.to_string(),
        },
        message,
    };
    for (i, op) in config.operators.iter().enumerate() {
        let Some(hash) = &op.web_password else {
            continue;
        };
        let login = web_login(&op.name);
        if !login_ok(&login) {
            return Err(located(
                &format!("\"{}\"", op.name),
                format!(
                    "operator `{}` has a web_password, so its name must be a web login: 1-{MAX_LOGIN} letters, digits, `.`, `_` or `-`",
                    op.name
                ),
            ));
        }
        if PasswordHash::new(hash).is_err() || !hash.starts_with("$argon2") {
            return Err(located(
                hash,
                format!(
                    "operator `{}`: web_password is not a password hash; make one with `supportbot operator passwd`",
                    op.name
                ),
            ));
        }
        let account = format!("web:{login}");
        let clash = config.operators.iter().enumerate().find(|(j, other)| {
            *j != i
                && (other.accounts.contains(&account)
                    || (other.web_password.is_some() && web_login(&other.name) == login))
        });
        if let Some((_, other)) = clash {
            return Err(located(
                &format!("\"{}\"", op.name),
                format!(
                    "operators `{}` and `{}` would both sign in to the inbox as {account}",
                    op.name, other.name
                ),
            ));
        }
    }
    Ok(())
}

/// Gives each operator with a web password the account the inbox signs them in as.
pub(super) fn add_web_accounts(config: &mut Config) {
    for op in &mut config.operators {
        if op.web_password.is_some() {
            let account = format!("web:{}", web_login(&op.name));
            if !op.accounts.contains(&account) {
                op.accounts.push(account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$W7ACZ5+Ggk1xfZqjNUcYEwl5G6oMXmbuvAsqJhcYtyA";

    #[test]
    fn web_password_gives_the_web_account() {
        let text = format!(
            "[[operators]]\nname = \"Wang\"\naccounts = [\"telegram:5001\"]\nweb_password = \"{HASH}\"\n"
        );
        let c = Config::parse(&text, "o.toml").unwrap();
        assert_eq!(c.operators[0].accounts, ["telegram:5001", "web:wang"]);
        assert_eq!(c.operator("web:wang").unwrap().name, "Wang");
        assert!(
            !format!("{c:?}").contains("argon2"),
            "the hash stays out of Debug"
        );
    }

    #[test]
    fn bad_hashes_names_and_clashes_are_errors() {
        let bad = Config::parse(
            "[[operators]]\nname = \"Wang\"\nweb_password = \"hunter2\"\n",
            "o.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.starts_with("o.toml:3:") && bad.contains("operator passwd"),
            "{bad}"
        );
        let name = format!("[[operators]]\nname = \"Li Lei\"\nweb_password = \"{HASH}\"\n");
        let err = Config::parse(&name, "o.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("o.toml:2:") && err.contains("web login"),
            "{err}"
        );
        let clash = format!(
            "[[operators]]\nname = \"Wang\"\nweb_password = \"{HASH}\"\n[[operators]]\nname = \"Lee\"\naccounts = [\"web:wang\"]\n"
        );
        let err = Config::parse(&clash, "o.toml").unwrap_err().to_string();
        assert!(err.contains("both sign in"), "{err}");
    }
}
