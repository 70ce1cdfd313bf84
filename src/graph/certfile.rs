//! Reading the app's certificate and its RSA private key from one file, recognised by content
//! (never by extension):
//!
//! - **PEM** with a `CERTIFICATE` and an unencrypted key (`PRIVATE KEY`, PKCS#8, or
//!   `RSA PRIVATE KEY`, PKCS#1);
//! - **PEM** with a `CERTIFICATE` and an `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2: PBKDF2
//!   with HMAC-SHA-256 or -SHA-1, AES-128/192/256-CBC or 3DES-CBC, or scrypt), as
//!   `openssl pkcs8 -topk8 -v2 aes-256-cbc` and OpenSSL 3's `genrsa -aes256` write;
//! - **PKCS#12 / PFX**, binary or base64 text (as Azure Key Vault hands it out): PBES2 with
//!   AES-256-CBC (OpenSSL 3's default, Windows' `AES256_SHA256`) and the legacy
//!   pbeWithSHAAnd3-KeyTripleDES-CBC / pbeWithSHAAnd40BitRC2-CBC; the integrity MAC is
//!   verified first, so a wrong password is reported as such.
//!
//! The certificate used is the one whose public key is the private key's: a file holding a
//! chain, or a key that belongs to another certificate, is handled or refused clearly. Error
//! messages never contain the password.

use super::auth::Secret;
use base64::Engine as _;
use pkcs8::der::Decode;
use ring::signature::RsaKeyPair;

/// The password protecting a key, and the environment variable it came from (named in errors).
pub struct KeyPassword {
    pub env: String,
    pub value: Secret,
}

impl std::fmt::Debug for KeyPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPassword({}, [redacted])", self.env)
    }
}

/// What a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PEM with an unencrypted key.
    Pem,
    /// PEM with an `ENCRYPTED PRIVATE KEY`.
    EncryptedPem,
    /// PKCS#12 / PFX.
    Pkcs12,
}

/// A certificate (DER) and the RSA key pair that belongs to it.
pub struct Loaded {
    pub cert_der: Vec<u8>,
    pub key: RsaKeyPair,
    pub format: Format,
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// Read a certificate and its RSA key from the bytes of a file.
pub fn load(bytes: &[u8], password: Option<&KeyPassword>) -> Result<Loaded, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".into());
    }
    if let Some(start) = find(bytes, b"-----BEGIN ") {
        return load_pem(&bytes[start..], password);
    }
    if bytes.first() == Some(&0x30) {
        return load_pkcs12(bytes, password);
    }
    // A PFX as base64 text, as Azure Key Vault returns a certificate's secret.
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !text.is_empty()
        && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&text)
        && der.first() == Some(&0x30)
    {
        return load_pkcs12(&der, password);
    }
    Err(
        "neither PEM (certificate and private key) nor PKCS#12 (PFX): \
         the file is damaged or in another format"
            .into(),
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One `-----BEGIN LABEL-----` … `-----END LABEL-----` block.
struct PemBlock {
    label: String,
    der: Vec<u8>,
    /// RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`): OpenSSL's legacy encryption.
    legacy_encrypted: bool,
}

/// Every PEM block of `bytes`; text around them (OpenSSL's `Bag Attributes`) is ignored.
fn pem_blocks(bytes: &[u8]) -> Result<Vec<PemBlock>, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = String::new();
        let mut legacy_encrypted = false;
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                break;
            }
            if line.contains(':') {
                legacy_encrypted |= line.starts_with("Proc-Type:") && line.contains("ENCRYPTED");
                continue;
            }
            b64.push_str(line);
        }
        if !closed {
            return Err(format!(
                "not a valid PEM file: the {label} block has no `{end}` line"
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| format!("not a valid PEM file: the {label} block is not valid base64"))?;
        blocks.push(PemBlock {
            label: label.to_string(),
            der,
            legacy_encrypted,
        });
    }
    Ok(blocks)
}

fn load_pem(bytes: &[u8], password: Option<&KeyPassword>) -> Result<Loaded, String> {
    let blocks = pem_blocks(bytes)?;
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut keys: Vec<RsaKeyPair> = Vec::new();
    let mut key_error: Option<String> = None;
    let mut format = Format::Pem;
    for block in blocks {
        let key = match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => {
                certs.push(block.der);
                continue;
            }
            _ if block.legacy_encrypted => Err(
                "the private key is encrypted in OpenSSL's legacy PEM format (`Proc-Type: 4,ENCRYPTED`), \
                 which TenantGate does not read; convert it to an encrypted PKCS#8 key: \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pkcs8.pem` \
                 and put that key beside the certificate"
                    .to_string(),
            ),
            "PRIVATE KEY" => rsa_from_pkcs8(&block.der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.der)
                .map_err(|e| format!("the RSA private key is unusable: {e}")),
            "ENCRYPTED PRIVATE KEY" => {
                format = Format::EncryptedPem;
                decrypt_pkcs8(&block.der, password).and_then(|der| rsa_from_pkcs8(&der))
            }
            "EC PRIVATE KEY" => Err("the private key is an EC key (SEC 1): \
                 Microsoft Entra ID signs client assertions with RSA keys only"
                .into()),
            _ => continue,
        };
        match key {
            Ok(k) => keys.push(k),
            // A wrong password or an unusable key is the answer, whatever else the file holds.
            Err(e) => key_error = key_error.or(Some(e)),
        }
    }
    if certs.is_empty() {
        return Err("no CERTIFICATE block: the file must hold the certificate and its key".into());
    }
    if keys.is_empty() {
        return Err(key_error.unwrap_or_else(|| {
            "no PRIVATE KEY block: the file must hold the certificate and its key".into()
        }));
    }
    pair_up(certs, keys, format)
}

/// The certificate that belongs to one of `keys` (a file may hold a chain).
fn pair_up(certs: Vec<Vec<u8>>, keys: Vec<RsaKeyPair>, format: Format) -> Result<Loaded, String> {
    let mut unreadable: Option<String> = None;
    for cert in certs {
        let public = match certificate_public_key(&cert) {
            Ok(p) => p,
            Err(e) => {
                unreadable = unreadable.or(Some(e));
                continue;
            }
        };
        if let Some(i) = keys.iter().position(|k| k.public().as_ref() == public) {
            let key = keys.into_iter().nth(i).expect("position is in range");
            return Ok(Loaded {
                cert_der: cert,
                key,
                format,
            });
        }
    }
    Err(unreadable.unwrap_or_else(|| {
        "the private key does not belong to the certificate (their public keys differ)".into()
    }))
}

/// The RSAPublicKey DER inside a certificate's subjectPublicKeyInfo.
fn certificate_public_key(cert_der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    Ok(cert.public_key().subject_public_key.data.to_vec())
}

/// An RSA key pair from an unencrypted PKCS#8 `PrivateKeyInfo`.
fn rsa_from_pkcs8(der: &[u8]) -> Result<RsaKeyPair, String> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|_| "the private key is not a valid PKCS#8 key".to_string())?;
    let oid = info.algorithm.oid.to_string();
    if oid != RSA_ENCRYPTION {
        let what = match oid.as_str() {
            "1.2.840.10045.2.1" => "an EC key",
            "1.2.840.113549.1.1.10" => "an RSA-PSS key",
            "1.3.101.112" => "an Ed25519 key",
            "1.3.101.113" => "an Ed448 key",
            _ => "not an RSA key",
        };
        return Err(format!(
            "the private key is {what} (algorithm {oid}): Microsoft Entra ID signs client assertions with RSA keys only"
        ));
    }
    RsaKeyPair::from_der(info.private_key.as_bytes())
        .map_err(|e| format!("the RSA private key is unusable: {e}"))
}

/// Decrypt a PKCS#8 `EncryptedPrivateKeyInfo` with the configured password.
fn decrypt_pkcs8(der: &[u8], password: Option<&KeyPassword>) -> Result<Vec<u8>, String> {
    let Some(password) = password else {
        return Err(
            "the private key is encrypted: set `password_env` in the certificate table \
             to the name of an environment variable holding its password"
                .into(),
        );
    };
    let info =
        pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).map_err(|_| {
            match encryption_oid(der).as_deref() {
                Some(oid) if oid.starts_with("1.2.840.113549.1.12.1.") => {
                    unsupported_pkcs8(&format!(
                        "PKCS#12 PBE {oid}, as OpenSSL 1.0's `pkcs8 -topk8` and Java write it"
                    ))
                }
                _ => "the ENCRYPTED PRIVATE KEY block is damaged".to_string(),
            }
        })?;
    match info.decrypt(password.value.expose()) {
        Ok(doc) => Ok(doc.as_bytes().to_vec()),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm {
            oid,
        })) => Err(unsupported_pkcs8(&oid.to_string())),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::NoPbes1CryptSupport)) => Err(
            unsupported_pkcs8("PBES1 (pbeWithMD5AndDES and the like, written by OpenSSL 1.0)"),
        ),
        Err(pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::AlgorithmParametersInvalid { oid },
        )) => Err(format!(
            "the encrypted private key has parameters TenantGate does not accept (algorithm {oid})"
        )),
        // Padding that does not check out, or a plaintext that is not a key: the password.
        Err(_) => Err(wrong_password(
            password,
            "the private key cannot be decrypted",
        )),
    }
}

/// The encryption algorithm of an `EncryptedPrivateKeyInfo` that pkcs8 cannot decode.
fn encryption_oid(der: &[u8]) -> Option<String> {
    use pkcs8::der::{Reader, SliceReader, asn1::AnyRef};
    let mut reader = SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let algorithm: pkcs8::AlgorithmIdentifierRef<'_> = r.decode()?;
            let _data: AnyRef<'_> = r.decode()?;
            Ok::<_, pkcs8::der::Error>(algorithm.oid)
        })
        .ok()
        .map(|oid| oid.to_string())
}

fn unsupported_pkcs8(what: &str) -> String {
    format!(
        "the private key is encrypted with an algorithm TenantGate does not read ({what}); \
         re-encrypt it: `openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out key.pem`"
    )
}

fn wrong_password(password: &KeyPassword, what: &str) -> String {
    format!("wrong password in {}: {what}", password.env)
}

fn load_pkcs12(der: &[u8], password: Option<&KeyPassword>) -> Result<Loaded, String> {
    use p12_keystore::error::Error as P12;
    let pw = password.map_or("", |p| p.value.expose());
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(der, pw) {
        Ok(a) => a,
        Err(e) => {
            return Err(match (e, password) {
                (P12::MacError(_), None) => "the PKCS#12 (PFX) file is password-protected: \
                     set `password_env` in the certificate table to the name of an environment \
                     variable holding its password"
                    .into(),
                (P12::MacError(_), Some(p)) => wrong_password(
                    p,
                    "the PKCS#12 (PFX) file's integrity check (MAC) does not match (or the file was altered)",
                ),
                (P12::UnpadError | P12::Pkcs5Error(_), Some(p)) => wrong_password(
                    p,
                    "the PKCS#12 (PFX) file cannot be decrypted (or it is damaged)",
                ),
                (P12::UnpadError | P12::Pkcs5Error(_), None) => {
                    "the PKCS#12 (PFX) file cannot be decrypted without a password: \
                     set `password_env` in the certificate table"
                        .into()
                }
                (P12::UnsupportedEncryptionScheme | P12::UnsupportedMacAlgorithm, _) => {
                    "the PKCS#12 (PFX) file uses an encryption or integrity algorithm TenantGate \
                     does not read; export it again with AES-256 and SHA-256 \
                     (`Export-PfxCertificate -CryptoAlgorithmOption AES256_SHA256`, or \
                     `openssl pkcs12 -export` of OpenSSL 3)"
                        .into()
                }
                (P12::InvalidParameters, _) => {
                    "the PKCS#12 (PFX) file asks for more than a million key-derivation \
                     iterations, or for parameters TenantGate does not accept"
                        .into()
                }
                (P12::InvalidPrivateKey, _) => {
                    "the PKCS#12 (PFX) file's private key is not a valid PKCS#8 key".into()
                }
                (P12::DerError(_) | P12::InvalidVersion | P12::UnsupportedContentType, _) => {
                    "neither PEM (certificate and private key) nor PKCS#12 (PFX): \
                     the file is damaged or in another format (a DER certificate alone?)"
                        .into()
                }
                (e, _) => format!("the PKCS#12 (PFX) file is damaged: {e}"),
            });
        }
    };
    if archive.keys.is_empty() {
        return Err(
            "the PKCS#12 (PFX) file holds no private key: export the certificate \
             with its private key (`Export-PfxCertificate`, or \"Yes, export the private key\")"
                .into(),
        );
    }
    if archive.certs.is_empty() {
        return Err("the PKCS#12 (PFX) file holds no certificate".into());
    }
    let mut keys = Vec::new();
    let mut key_error = None;
    for bag in &archive.keys {
        match rsa_from_pkcs8(bag.key.as_der()) {
            Ok(k) => keys.push(k),
            Err(e) => key_error = key_error.or(Some(e)),
        }
    }
    if keys.is_empty() {
        return Err(key_error.unwrap_or_default());
    }
    let certs = archive
        .certs
        .into_iter()
        .map(|c| c.cert.as_der().to_vec())
        .collect();
    pair_up(certs, keys, Format::Pkcs12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(v: &str) -> KeyPassword {
        KeyPassword {
            env: "TG_PW".into(),
            value: Secret::new(v),
        }
    }

    #[test]
    fn unreadable_files_say_what_is_wrong() {
        assert_eq!(load(b"", None).err().unwrap(), "the file is empty");
        let e = load(b"hello", None).err().unwrap();
        assert!(e.contains("neither PEM"), "{e}");
        let e = load(b"\x30\x82\x01", None).err().unwrap();
        assert!(e.contains("damaged"), "{e}");
        let e = load(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            None,
        )
        .err()
        .unwrap();
        assert!(e.contains("no PRIVATE KEY"), "{e}");
        let e = load(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            None,
        )
        .err()
        .unwrap();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        let e = load(b"-----BEGIN CERTIFICATE-----\nAAAA\n", None)
            .err()
            .unwrap();
        assert!(e.contains("no `-----END CERTIFICATE-----`"), "{e}");
        let e = load(
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            None,
        )
        .err()
        .unwrap();
        assert!(e.contains("not valid base64"), "{e}");
    }

    #[test]
    fn an_encrypted_key_needs_a_password_and_a_damaged_one_says_so() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
            -----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = load(pem, None).err().unwrap();
        assert!(e.contains("set `password_env`"), "{e}");
        let e = load(pem, Some(&pw("hunter2"))).err().unwrap();
        assert!(e.contains("damaged"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn legacy_openssl_encryption_says_how_to_convert() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
            -----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
            DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n\
            -----END RSA PRIVATE KEY-----\n";
        let e = load(pem, Some(&pw("x"))).err().unwrap();
        assert!(e.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"), "{e}");
    }

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            format!("{:?}", pw("hunter2")),
            "KeyPassword(TG_PW, [redacted])"
        );
    }
}
