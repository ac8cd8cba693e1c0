//! The PostgreSQL store through the real binary: `migrate`, bad `[store]` settings with their exit codes,
//! `replay` and `cases` on PostgreSQL, and `store copy` of a sled data directory verified by counts.
//! Skipped with a message when PostgreSQL is not installed, unless `SUPPORTBOT_REQUIRE_POSTGRES=1`.

mod pg_support;

use std::path::Path;

use pg_support::*;

fn pg_config(dir: &Path, url: &str) -> String {
    let path = dir.join("pg.toml");
    let text = format!("{CONFIG}\n[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A user asks for a person, an operator takes and answers the case.
fn handoff(user: &str, prefix: &str) -> String {
    [
        dm(
            "telegram",
            user,
            &format!("{prefix}1"),
            "发送邮件被退回 554 DT:SPM",
        ),
        dm("telegram", user, &format!("{prefix}2"), "转人工"),
        dm(
            "telegram",
            user,
            &format!("{prefix}3"),
            "带附件的邮件被退回",
        ),
        dm("telegram", user, &format!("{prefix}4"), "跳过"),
        dm("telegram", user, &format!("{prefix}5"), "跳过"),
    ]
    .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_once_and_bad_settings_exit_with_their_codes() {
    let Some(db) = Db::new("cli_migrate").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), &db.url);
    let out = run(&["migrate", "--config", &config], "", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("version 0 → 3"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stdout).contains(db.cluster.password()));
    let out = run(&["migrate", "--config", &config], "", &[]);
    assert!(
        text(&out.stdout).contains("version 3 (current)"),
        "{}",
        text(&out.stdout)
    );

    // The URL from the environment.
    let env_config = dir.path().join("env.toml");
    std::fs::write(&env_config, "[store]\nbackend = \"postgres\"\n").unwrap();
    let env_config = env_config.display().to_string();
    let out = run(
        &["migrate", "--config", &env_config],
        "",
        &[("DATABASE_URL", &db.url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Config errors: exit 2, naming the key.
    let out = run(&["migrate", "--config", &env_config], "", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("DATABASE_URL"),
        "{}",
        text(&out.stderr)
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[store]\nbackend = \"mysql\"\n").unwrap();
    let out = run(
        &["cases", "list", "--config", &bad.display().to_string()],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("[store] backend"),
        "{}",
        text(&out.stderr)
    );
    let sled = dir.path().join("sled.toml");
    std::fs::write(&sled, "[bot]\ndata_dir = \"d\"\n").unwrap();
    let out = run(
        &["migrate", "--config", &sled.display().to_string()],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "migrate is for PostgreSQL");

    // Runtime errors: exit 1, naming the problem, the password never printed.
    let wrong = pg_config(
        &tempfile::tempdir_in(dir.path()).unwrap().keep(),
        &db.url.replace(db.cluster.password(), "wrong-password"),
    );
    let out = run(&["cases", "list", "--config", &wrong], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("wrong-password"), "{err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = pg_config(
        &tempfile::tempdir_in(dir.path()).unwrap().keep(),
        &format!("postgres://bot:pw@127.0.0.1:{port}/x"),
    );
    let out = run(&["stats", "--config", &nowhere], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).to_lowercase().contains("refused"),
        "{}",
        text(&out.stderr)
    );

    // A database of a newer schema: exit 1, nothing written.
    let Some(newer) = Db::new("cli_newer").await else {
        return;
    };
    newer.psql(
        "CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, \
         applied_at timestamptz NOT NULL DEFAULT now()); \
         INSERT INTO schema_version (version, name) VALUES (7, 'later')",
    );
    let newer_config = pg_config(
        &tempfile::tempdir_in(dir.path()).unwrap().keep(),
        &newer.url,
    );
    let out = run(&["migrate", "--config", &newer_config], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("schema version 7, newer"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(newer.psql("SELECT to_regclass('cases') IS NULL"), "t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_runs_on_postgres_and_store_copy_moves_a_sled_directory() {
    let Some(db) = Db::new("cli_copy").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sled_config = dir.path().join("sled.toml");
    std::fs::write(&sled_config, CONFIG).unwrap();
    let sled_config = sled_config.display().to_string();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();

    // A sled data directory with two cases, one of them taken and answered.
    let input = handoff("42", "a")
        + &group("discord", "8001", "7001", "d1", "/take C-1001")
        + "\n"
        + &group(
            "discord",
            "8001",
            "7001",
            "d2",
            "/reply C-1001 请改用 ssl.smtp.qq.com",
        )
        + "\n"
        + &handoff("43", "b");
    let out = run(
        &["replay", "--config", &sled_config, "--data", &data_arg],
        &input,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sled_cases = run(&["cases", "export", "--data", &data_arg], "", &[]);
    assert!(sled_cases.status.success(), "{}", text(&sled_cases.stderr));

    let out = run(
        &["store", "copy", "--from", &data_arg, "--to", &db.url],
        "",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let count = |table: &str| -> u64 {
        printed
            .lines()
            .find_map(|l| {
                let mut parts = l.split_whitespace();
                (parts.next() == Some(table)).then(|| parts.next().unwrap().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no count of {table} in {printed}"))
    };
    assert_eq!(count("cases"), 2, "{printed}");
    assert_eq!(count("held_cases"), 1, "{printed}");
    assert_eq!(count("waiting"), 1, "{printed}");
    assert_eq!(count("conversations"), 2, "{printed}");
    assert_eq!(count("user_cases"), 2, "{printed}");
    assert!(count("case_logs") > 4, "{printed}");
    assert!(count("seen_messages") >= 12, "{printed}");
    assert_eq!(
        count("cases").to_string(),
        db.psql("SELECT count(*) FROM cases")
    );
    assert!(!printed.contains(db.cluster.password()), "{printed}");

    // The cases read the same from PostgreSQL.
    let config = pg_config(dir.path(), &db.url);
    let pg_cases = run(&["cases", "export", "--config", &config], "", &[]);
    assert!(pg_cases.status.success(), "{}", text(&pg_cases.stderr));
    assert_eq!(text(&pg_cases.stdout), text(&sled_cases.stdout));

    // A second copy into the same database is refused and changes nothing.
    let out = run(
        &["store", "copy", "--from", &data_arg, "--config", &config],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not empty"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(db.psql("SELECT count(*) FROM cases"), "2");

    // The bot goes on from there on PostgreSQL: the next case is C-1003.
    let replay_dir = dir.path().join("replay-pg");
    let out = run(
        &[
            "replay",
            "--config",
            &config,
            "--data",
            &replay_dir.display().to_string(),
        ],
        &handoff("44", "c"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("C-1003"),
        "{}",
        text(&out.stdout)
    );
    let list = run(&["cases", "list", "--config", &config], "", &[]);
    assert_eq!(
        text(&list.stdout).lines().count(),
        3,
        "{}",
        text(&list.stdout)
    );
    let out = run(
        &["cases", "list", "--config", &config, "--data", &data_arg],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "--data is for sled");
}
