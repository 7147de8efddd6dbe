//! Encryption of API keys at rest. WSSE makes the server recompute a digest from the key,
//! so keys cannot be hashed like passwords; they are sealed with ChaCha20-Poly1305 under a
//! 32-byte key kept in a file outside the database (`security.api_key_encryption_key`).
//! A copy of the database alone therefore reveals no key. Losing the file voids every key.

use std::fmt;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::domain::{ApiKey, OrganizationId, UserId};

const NONCE_LEN: usize = 12;

/// A sealed key as stored: ciphertext (with its tag) and the random nonce it was sealed with.
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
}

#[derive(Clone)]
pub struct ApiKeyCipher(ChaCha20Poly1305);

impl fmt::Debug for ApiKeyCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyCipher(***)")
    }
}

/// The row a key belongs to is bound in as associated data: a ciphertext copied onto
/// another user's row (by someone who can write to the database) does not open there.
fn associated_data(user: UserId, org: OrganizationId) -> String {
    format!("gatehouse api key v1/{user}/{org}")
}

impl ApiKeyCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self(ChaCha20Poly1305::new(key.into()))
    }

    /// Reads the key file, creating it (mode 0600) with a fresh random key when it does not
    /// exist yet. The file holds the key as 64 hexadecimal characters.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_key_file(path).with_context(|| {
                    format!(
                        "cannot create the API key encryption key {} \
                         (`security.api_key_encryption_key`)",
                        path.display()
                    )
                })?;
                std::fs::read_to_string(path)?
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot read the API key encryption key {} (`security.api_key_encryption_key`)",
                        path.display()
                    )
                });
            }
        };
        let mut key = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
            anyhow::anyhow!(
                "{} (`security.api_key_encryption_key`) must hold 64 hexadecimal characters",
                path.display()
            )
        })?;
        warn_if_readable_by_others(path);
        Ok(Self::new(&key))
    }

    pub fn seal(&self, key: &ApiKey, user: UserId, org: OrganizationId) -> anyhow::Result<Sealed> {
        self.seal_bytes(key.expose().as_bytes(), &associated_data(user, org))
    }

    /// Seals any short secret under `context` (the associated data: it must be given again
    /// to open it). For a one-time secret on its way to the page that shows it, which
    /// passes through the session table.
    pub fn seal_bytes(&self, secret: &[u8], context: &str) -> anyhow::Result<Sealed> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing a secret failed"))?;
        Ok(Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
        })
    }

    /// Opens what `seal_bytes` sealed under the same context; None otherwise.
    pub fn open_bytes(&self, sealed: &Sealed, context: &str) -> Option<Vec<u8>> {
        if sealed.nonce.len() != NONCE_LEN {
            return None;
        }
        self.0
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// None when the row does not open: the encryption key file was replaced, or the row
    /// was altered or moved.
    pub fn open(&self, sealed: &Sealed, user: UserId, org: OrganizationId) -> Option<ApiKey> {
        let plain = self.open_bytes(sealed, &associated_data(user, org))?;
        ApiKey::parse(std::str::from_utf8(&plain).ok()?)
    }
}

/// Writes a new key file without ever exposing a half-written or world-readable one:
/// the key goes to a private temporary file that is then hard-linked into place. If
/// several processes start at once, the first link wins and the others read its key.
fn create_key_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{:016x}.tmp", OsRng.next_u64()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "created a new API key encryption key; back it up: losing it voids every API key"
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the API key encryption key is readable by other users; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_private_key_file_once_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/api.key");
        let a = ApiKeyCipher::load_or_create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = ApiKeyCipher::load_or_create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "not replaced"
        );
        let key = ApiKey::generate();
        let sealed = a.seal(&key, UserId(7), OrganizationId(1)).unwrap();
        assert_eq!(
            b.open(&sealed, UserId(7), OrganizationId(1)),
            Some(key.clone())
        );
        assert_ne!(&sealed.ciphertext[..ApiKey::LEN], key.expose().as_bytes());
        assert_eq!(
            b.open(&sealed, UserId(8), OrganizationId(1)),
            None,
            "bound to its row"
        );
        let other = ApiKeyCipher::new(&[9; 32]);
        assert_eq!(other.open(&sealed, UserId(7), OrganizationId(1)), None);
        std::fs::write(&path, "not hex").unwrap();
        assert!(ApiKeyCipher::load_or_create(&path).is_err());
    }
}
