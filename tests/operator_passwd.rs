//! `supportbot operator passwd`: a password on stdin becomes an Argon2id hash that the config accepts and that
//! verifies the password; a short password is a usage error (exit 2) and prints no hash.

use std::io::Write;
use std::process::{Command, Stdio};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;

fn passwd(input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["operator", "passwd", "Wang"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn prints_a_hash_the_config_takes() {
    let out = passwd("a long passphrase\n");
    assert!(out.status.success(), "{out:?}");
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let parsed = PasswordHash::new(&hash).unwrap();
    assert!(Argon2::default()
        .verify_password(b"a long passphrase", &parsed)
        .is_ok());
    assert!(String::from_utf8_lossy(&out.stderr).contains("web:wang"));
    let config = format!("[[operators]]\nname = \"Wang\"\nweb_password = \"{hash}\"\n");
    let config = supportbot::config::Config::parse(&config, "c.toml").unwrap();
    assert!(config.operators[0]
        .accounts
        .contains(&"web:wang".to_string()));

    let short = passwd("short\n");
    assert_eq!(short.status.code(), Some(2));
    assert!(short.stdout.is_empty());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
}
