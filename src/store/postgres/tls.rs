//! How connections to the database are made: plain, or over TLS with the server's certificate verified against
//! the public root certificates (Mozilla's list, built in) and the URL's `sslrootcert` ones. Every connection of
//! the store (the pool, the listeners, the leads) is made by the one connector, so all of them are alike.

use std::sync::Arc;

use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::DatabaseTls;
use crate::store::StoreError;

/// Makes the store's connections; the URL's `sslmode` decides whether they use TLS.
pub(super) type Connector = MakeRustlsConnect;

/// The connector for `tls`. Without TLS it is never asked for a handshake: the URL's settings say `disable`.
pub(super) fn connector(tls: &DatabaseTls) -> Result<Connector, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let DatabaseTls::Verified(extra) = tls {
        for cert in extra {
            roots.add(cert.clone()).map_err(|e| {
                StoreError::Database(format!("a certificate of sslrootcert is unusable: {e}"))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Database(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
