//! The PostgreSQL store over TLS, against a throw-away cluster that lets TCP clients in with TLS only and whose
//! certificate is signed by an authority made for it: `sslmode=verify-full` with that authority as
//! `sslrootcert` connects every kind of connection over TLS; a plain URL and an unverifiable certificate are
//! refused with messages that say why, and the binary exits 1 for them.

mod pg_support;

use std::time::Duration;

use pg_support::*;
use supportbot::store::Backend;
use supportbot_pg_cluster::{or_skip, Options, PgCluster};

/// A TLS-only cluster and a fresh database on it (its plain URL).
fn cluster() -> Option<(PgCluster, String)> {
    let cluster = or_skip(PgCluster::start(Options {
        tls: true,
        ..Options::default()
    }))?;
    let url = cluster.database("tls");
    Some((cluster, url))
}

/// Each connection of the store, by whether it uses TLS: (with TLS, without).
fn connections(cluster: &PgCluster, db: &str) -> (u64, u64) {
    let out = cluster.psql(
        db,
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'supportbot'",
    );
    let (with, without) = out.split_once('|').unwrap();
    (with.parse().unwrap(), without.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_uses_tls_when_the_url_asks_for_it() {
    let Some((cluster, url)) = cluster() else {
        return;
    };
    let db = url.rsplit('/').next().unwrap().to_string();
    let ca = cluster.ca_file().unwrap().display().to_string();
    let verified = parse_url(&format!("{url}?sslmode=verify-full&sslrootcert={ca}"));
    assert!(verified.describe().ends_with("over TLS"));
    let store = supportbot::store::postgres::PgStore::open(&verified)
        .await
        .unwrap();
    // A lead's connection (taken out of the pool), the listener of other processes' events, and a pool
    // connection for a step.
    let _lead = store.lead("telegram-poll").await.unwrap();
    let _events = store.other_processes_events().unwrap();
    commit_conversation(&store, "web:dm:u1", "u1")
        .await
        .unwrap();
    let mut seen = (0, 0);
    for _ in 0..50 {
        seen = connections(&cluster, &db);
        if seen.0 >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.0 >= 3, "TLS connections: {seen:?}");
    assert_eq!(seen.1, 0, "plain connections: {seen:?}");
    let stored = cluster.psql(&db, "SELECT count(*) FROM conversations");
    assert_eq!(stored, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_or_unverifiable_connection_is_refused_saying_why() {
    let Some((_cluster, url)) = cluster() else {
        return;
    };
    // The server takes TLS connections only.
    let err = supportbot::store::postgres::PgStore::open(&parse_url(&url))
        .await
        .err()
        .expect("a plain connection is refused");
    let text = err.to_string();
    assert!(text.contains("no encryption"), "{text}");
    // The certificate is signed by an authority the public roots do not hold.
    let err =
        supportbot::store::postgres::PgStore::open(&parse_url(&format!("{url}?sslmode=require")))
            .await
            .err()
            .expect("an unverifiable certificate is refused");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    // The binary says the same and exits 1 (a runtime failure, the config being valid).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("supportbot.toml");
    std::fs::write(&config, "[store]\nbackend = \"postgres\"\n").unwrap();
    let config = config.display().to_string();
    let out = run(
        &["migrate", "--config", &config],
        "",
        &[("DATABASE_URL", &format!("{url}?sslmode=require"))],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    // An unreadable sslrootcert is a configuration error: exit 2.
    let out = run(
        &["migrate", "--config", &config],
        "",
        &[(
            "DATABASE_URL",
            &format!("{url}?sslmode=verify-full&sslrootcert=/no/such/ca.pem"),
        )],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read sslrootcert /no/such/ca.pem"),
        "{stderr}"
    );
}
