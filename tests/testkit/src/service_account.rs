//! Acting as a ServiceAccount of the local control plane: its token (`kubectl create token`), a
//! client that authenticates with that token only, and a kubeconfig file for a process (previewd)
//! to run as it, the way it runs in a pod.

use std::path::{Path, PathBuf};

use kube::Client;

use super::cluster::client_with_token;
use super::kubeconfig::{admin, service_account_token, with_namespace, with_token, write};

/// A ServiceAccount's token and a kubeconfig file made of it; dropping it removes the file.
pub struct ServiceAccountToken {
    /// The ServiceAccount's namespace.
    pub(crate) namespace: String,
    /// The ServiceAccount's name.
    pub(crate) name: String,
    token: String,
    kubeconfig: PathBuf,
}

impl ServiceAccountToken {
    /// Asks the API server for a token of `namespace/name` (`kubectl create token`, valid for an
    /// hour) and writes a kubeconfig that uses it.
    pub fn create(namespace: &str, name: &str) -> Self {
        let token = service_account_token(namespace, name);
        assert!(!token.is_empty(), "kubectl create token printed nothing");
        let kubeconfig = write(&with_namespace(with_token(admin(), &token), namespace));
        ServiceAccountToken {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            token,
            kubeconfig,
        }
    }

    /// The user name the API server knows the token by.
    pub fn username(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    /// A client that authenticates with the token alone.
    pub async fn client(&self) -> Client {
        client_with_token(&self.token).await
    }

    /// The kubeconfig file: the admin kubeconfig's server and CA, the token as the only
    /// credential, and the ServiceAccount's namespace as the default one (as in a pod).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }
}

impl Drop for ServiceAccountToken {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}
