//! Stored accounts: one file per account (`user@server`) in `<state dir>/accounts/`, mode 0600
//! in a 0700 directory, written atomically. A token file that others can read is refused (the
//! token may have leaked; the user should log in again after fixing the mode).
//!
//! The token itself is only ever returned through [`StoredAccount::token`]; the `Debug` output
//! of every type here leaves it out.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The platform's data directory for migrate, unless `--state-dir` / `MIGRATE_HOME` says.
pub fn state_dir(explicit: Option<&Path>) -> Result<PathBuf, TokenError> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => dirs::data_dir()
            .map(|d| d.join("migrate"))
            .ok_or(TokenError::NoStateDir),
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct StoredAccount {
    /// `user@server`, the key users pass to `--to`.
    pub account: String,
    /// The server's base URL (`https://social.example`).
    pub server: String,
    /// The account id on that server.
    pub account_id: String,
    token: String,
    pub client_id: String,
    client_secret: String,
    pub scopes: String,
    pub created_at: String,
}

impl std::fmt::Debug for StoredAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAccount")
            .field("account", &self.account)
            .field("server", &self.server)
            .field("account_id", &self.account_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl StoredAccount {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        account: String,
        server: String,
        account_id: String,
        token: String,
        client_id: String,
        client_secret: String,
        scopes: String,
    ) -> Self {
        StoredAccount {
            account,
            server,
            account_id,
            token,
            client_id,
            client_secret,
            scopes,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    pub fn token(&self) -> &str {
        crate::redact::remember(&self.token);
        &self.token
    }

    pub fn client_secret(&self) -> &str {
        crate::redact::remember(&self.client_secret);
        &self.client_secret
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no data directory is known for this platform; pass --state-dir")]
    NoStateDir,
    #[error("could not use the state directory `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is readable by other users, so its token may have leaked; it was not used", path.display())]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("`{}` is not a stored account file", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no stored account `{0}`")]
    NotFound(String),
}

/// The accounts folder of a state directory.
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(state_dir: &Path) -> TokenStore {
        TokenStore {
            dir: state_dir.join("accounts"),
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
        move |source| TokenError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn path_for(&self, account: &str) -> PathBuf {
        // `user@server` is safe as a file name once path separators are excluded.
        let safe: String = account
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c == '\0' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    fn ensure_dir(&self) -> Result<(), TokenError> {
        let io = Self::io(&self.dir);
        fs::create_dir_all(&self.dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The state dir and its accounts folder are private.
            for d in [self.dir.parent().unwrap_or(&self.dir), &self.dir] {
                fs::set_permissions(d, fs::Permissions::from_mode(0o700)).map_err(Self::io(d))?;
            }
        }
        Ok(())
    }

    /// Writes the account atomically: a 0600 temporary file, then a rename.
    pub fn save(&self, account: &StoredAccount) -> Result<PathBuf, TokenError> {
        self.ensure_dir()?;
        let path = self.path_for(&account.account);
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        let json = serde_json::to_vec_pretty(account).expect("serializable");
        {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let _ = fs::remove_file(&tmp);
            let mut f = options.open(&tmp).map_err(Self::io(&tmp))?;
            f.write_all(&json).map_err(Self::io(&tmp))?;
            f.sync_all().map_err(Self::io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(Self::io(&path))?;
        Ok(path)
    }

    /// Every stored account, sorted by name. Files that are too open or unreadable are returned
    /// as errors beside the good ones, so one bad file does not hide the rest.
    pub fn list(&self) -> Result<Vec<Result<StoredAccount, TokenError>>, TokenError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io(&self.dir)(e)),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        Ok(paths.iter().map(|p| Self::read(p)).collect())
    }

    pub fn load(&self, account: &str) -> Result<StoredAccount, TokenError> {
        let path = self.path_for(account);
        if !path.exists() {
            return Err(TokenError::NotFound(account.to_string()));
        }
        Self::read(&path)
    }

    pub fn delete(&self, account: &str) -> Result<(), TokenError> {
        let path = self.path_for(account);
        fs::remove_file(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                TokenError::NotFound(account.to_string())
            } else {
                Self::io(&path)(e)
            }
        })
    }

    fn read(path: &Path) -> Result<StoredAccount, TokenError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(Self::io(path))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(TokenError::TooOpen {
                    path: path.to_path_buf(),
                    mode: mode & 0o777,
                });
            }
        }
        let bytes = fs::read(path).map_err(Self::io(path))?;
        serde_json::from_slice(&bytes).map_err(|source| TokenError::Corrupt {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> StoredAccount {
        StoredAccount::new(
            name.into(),
            "https://social.example".into(),
            "1".into(),
            "tok-secret".into(),
            "cid".into(),
            "csecret".into(),
            "read".into(),
        )
    }

    #[test]
    fn save_list_load_delete_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let path = store.save(&sample("ana@social.example")).unwrap();
        store.save(&sample("bob@other.example")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("accounts")), 0o700);
            assert_eq!(mode(dir.path()), 0o700);
        }
        let names: Vec<String> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|a| a.unwrap().account)
            .collect();
        assert_eq!(names, ["ana@social.example", "bob@other.example"]);
        assert_eq!(
            store.load("ana@social.example").unwrap().token(),
            "tok-secret"
        );
        assert!(!format!("{:?}", store.load("ana@social.example").unwrap()).contains("tok-secret"));
        store.delete("ana@social.example").unwrap();
        assert!(matches!(
            store.load("ana@social.example"),
            Err(TokenError::NotFound(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_token_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let path = store.save(&sample("ana@social.example")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            store.load("ana@social.example"),
            Err(TokenError::TooOpen { mode: 0o644, .. })
        ));
    }
}
