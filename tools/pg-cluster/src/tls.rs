//! TLS for a test cluster: a certificate authority made for the cluster alone, and a server certificate it signs
//! for `localhost` and `127.0.0.1`, so that clients can verify the server as they would a real one.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::Error;

/// The files a TLS cluster uses.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    /// The authority's certificate (PEM), for clients.
    pub ca: PathBuf,
    /// The server's certificate and key (PEM), for the server.
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn failed(e: rcgen::Error) -> Error {
    Error(format!("cannot make the test certificates: {e}"))
}

/// Makes the authority and the server certificate in `dir`.
pub(crate) fn make(dir: &Path) -> Result<TlsFiles, Error> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "supportbot test cluster CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(failed)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(failed)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(failed)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().map_err(failed)?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(failed)?;

    let files = TlsFiles {
        ca: dir.join("ca.crt"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    let write = |path: &Path, text: String| {
        std::fs::write(path, text)
            .map_err(|e| Error(format!("cannot write {}: {e}", path.display())))
    };
    write(&files.ca, ca_cert.pem())?;
    write(&files.cert, server_cert.pem())?;
    write(&files.key, server_key.serialize_pem())?;
    // The server refuses a key that others may read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error(format!("cannot protect the server key: {e}")))?;
    Ok(files)
}
