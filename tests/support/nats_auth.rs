//! Credentials and certificates for a secured [`NatsServer`](super::nats::NatsServer),
//! generated per test: a private CA with server and client certificates
//! (`rcgen`), nkeys (`nkeys`), and an operator / account / user JWT chain
//! with a `.creds` file for decentralised auth. Each returns the server
//! config snippet for `NatsServer::start_with_config` and the files or
//! secrets the client needs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::KeyPair;
use std::path::{Path, PathBuf};

/// A CA, a server certificate for 127.0.0.1 / localhost and a client
/// certificate, as PEM files in `dir`.
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Pki {
    /// Generate everything into `dir`; `name` prefixes the file names so
    /// several authorities can share a directory.
    pub fn generate(dir: &Path, name: &str) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair as Key};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca_key = Key::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = |names: Vec<String>| {
            let params = CertificateParams::new(names).unwrap();
            let key = Key::generate().unwrap();
            let cert = params.signed_by(&key, &issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(vec!["127.0.0.1".into(), "localhost".into()]);
        let (client_cert, client_key) = leaf(vec!["newsalert-client".into()]);
        let write = |file: &str, pem: &str| {
            let path = dir.join(format!("{name}-{file}"));
            std::fs::write(&path, pem).unwrap();
            path
        };
        Pki {
            ca: write("ca.pem", &ca_cert.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server-key.pem", &server_key),
            client_cert: write("client.pem", &client_cert),
            client_key: write("client-key.pem", &client_key),
        }
    }

    /// The server's `tls { }` block; `verify`: client certificates required.
    pub fn server_config(&self, verify: bool) -> String {
        format!(
            "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n  ca_file: {:?}\n  verify: {verify}\n  timeout: 5\n}}\n",
            self.server_cert.display().to_string(),
            self.server_key.display().to_string(),
            self.ca.display().to_string(),
        )
    }
}

/// A user nkey: the seed for the client, the server's `authorization`.
pub struct NkeyUser {
    pub seed: String,
    pub public: String,
}

impl NkeyUser {
    pub fn generate() -> NkeyUser {
        let kp = KeyPair::new_user();
        NkeyUser {
            seed: kp.seed().unwrap(),
            public: kp.public_key(),
        }
    }

    pub fn server_config(&self) -> String {
        format!(
            "authorization {{\n  users = [ {{ nkey: {:?} }} ]\n}}\n",
            self.public
        )
    }
}

/// `claims` signed by `issuer` as a NATS JWT (ed25519-nkey).
fn jwt(issuer: &KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "jti": format!("{}{}", name.to_uppercase(), iat),
        "iat": iat,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{claims}");
    let sig = URL_SAFE_NO_PAD.encode(issuer.sign(signed.as_bytes()).unwrap());
    format!("{signed}.{sig}")
}

/// Decentralised auth: an operator, a system account, an account with
/// JetStream, and a user of it whose `.creds` file the client reads.
pub struct Operator {
    pub config: String,
    pub creds: PathBuf,
}

impl Operator {
    pub fn generate(dir: &Path) -> Operator {
        let operator = KeyPair::new_operator();
        let system = KeyPair::new_account();
        let account = KeyPair::new_account();
        let user = KeyPair::new_user();
        // JetStream for the account (storage -1 = unlimited), never for
        // the system account (0 = disabled).
        let limits = |storage: i64| {
            serde_json::json!({
                "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                "wildcards": true, "conn": -1, "leaf": -1,
                "mem_storage": storage, "disk_storage": storage, "streams": -1, "consumer": -1,
            })
        };
        let operator_jwt = jwt(
            &operator,
            &operator.public_key(),
            "test-operator",
            serde_json::json!({"type": "operator", "version": 2, "system_account": system.public_key()}),
        );
        let account_jwt = |kp: &KeyPair, name: &str, storage: i64| {
            jwt(
                &operator,
                &kp.public_key(),
                name,
                serde_json::json!({"type": "account", "version": 2, "limits": limits(storage)}),
            )
        };
        let user_jwt = jwt(
            &account,
            &user.public_key(),
            "newsalert",
            serde_json::json!({"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}),
        );
        let creds = dir.join("newsalert.creds");
        std::fs::write(
            &creds,
            format!(
                "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
                 -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
                user.seed().unwrap()
            ),
        )
        .unwrap();
        let config = format!(
            "operator: {operator_jwt:?}\nsystem_account: {:?}\nresolver: MEMORY\nresolver_preload: {{\n  {}: {:?}\n  {}: {:?}\n}}\n",
            system.public_key(),
            system.public_key(),
            account_jwt(&system, "SYS", 0),
            account.public_key(),
            account_jwt(&account, "newsalert", -1),
        );
        Operator { config, creds }
    }
}
