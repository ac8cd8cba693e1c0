//! The storage interface's rules (the checks every backend runs, in `backend_tests`) on PostgreSQL: each check on
//! a fresh database of the test binary's throw-away cluster. Skipped with a message when PostgreSQL is not
//! installed, unless `SUPPORTBOT_REQUIRE_POSTGRES=1`.

use crate::config::DatabaseUrl;
use crate::store::backend_tests::all_checks;
use crate::store::Store;

#[tokio::test]
async fn the_postgres_store_keeps_the_interface_rules() {
    let shared = tokio::task::spawn_blocking(supportbot_pg_cluster::shared);
    let Some(cluster) = shared.await.unwrap() else {
        return;
    };
    all_checks(|| async move {
        let created = tokio::task::spawn_blocking(move || cluster.database("interface"));
        let url = DatabaseUrl::parse(&created.await.unwrap()).unwrap();
        Store::connect(&url).await.unwrap()
    })
    .await;
}
