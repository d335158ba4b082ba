//! The test CA and the server certificates. One leaf covers every host name known at start;
//! a host served later (a remote added by a test) gets its own leaf on first use. A name that
//! is not served gets no certificate: the handshake is refused, as for a host that does not
//! exist behind that address.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, RwLock};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
}

impl TestCa {
    pub fn generate() -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::default();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "migrate fake-server test CA");
        dn.push(DnType::OrganizationName, "migrate tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names` (DNS names; `localhost` and 127.0.0.1 are always added).
    fn leaf(&self, names: &[String], provider: &CryptoProvider) -> Arc<CertifiedKey> {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::default();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.distinguished_name = dn;
        let mut sans: Vec<SanType> = names
            .iter()
            .map(|n| SanType::DnsName(n.clone().try_into().expect("valid DNS name")))
            .collect();
        sans.push(SanType::DnsName("localhost".try_into().unwrap()));
        sans.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.subject_alt_names = sans;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let chain = vec![cert.der().clone(), self.cert_der.clone()];
        Arc::new(CertifiedKey::from_der(chain, key_der, provider).expect("certified key"))
    }
}

/// Picks the certificate by SNI; refuses names that are not served.
pub struct CertResolver {
    ca: TestCa,
    provider: Arc<CryptoProvider>,
    served: Arc<RwLock<BTreeSet<String>>>,
    main: Arc<CertifiedKey>,
    main_names: BTreeSet<String>,
    extra: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertResolver")
            .field("main_names", &self.main_names)
            .finish()
    }
}

impl CertResolver {
    pub fn new(
        ca: TestCa,
        provider: Arc<CryptoProvider>,
        served: Arc<RwLock<BTreeSet<String>>>,
    ) -> CertResolver {
        let main_names: BTreeSet<String> = served.read().unwrap().clone();
        let names: Vec<String> = main_names.iter().cloned().collect();
        let main = ca.leaf(&names, &provider);
        CertResolver {
            ca,
            provider,
            served,
            main,
            main_names,
            extra: Mutex::new(HashMap::new()),
        }
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name() else {
            return Some(self.main.clone());
        };
        let name = name.to_ascii_lowercase();
        if name == "localhost" || self.main_names.contains(&name) {
            return Some(self.main.clone());
        }
        if !self.served.read().unwrap().contains(&name) {
            return None;
        }
        let mut extra = self.extra.lock().unwrap();
        Some(
            extra
                .entry(name.clone())
                .or_insert_with(|| self.ca.leaf(&[name], &self.provider))
                .clone(),
        )
    }
}

pub fn server_config(resolver: CertResolver) -> rustls::ServerConfig {
    let provider = resolver.provider.clone();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
