//! A GitHub App's private key and the JSON web tokens it signs (RS256). A JWT authenticates
//! previewd as the App itself, which GitHub allows for little more than finding an installation
//! and creating an installation's token; everything else is done with that token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::timing::{APP_JWT_BACKDATE, APP_JWT_LIFETIME};

/// The App's id and private key. Its `Debug` shows the id only.
pub struct AppKey {
    app_id: u64,
    key: RsaKeyPair,
    random: SystemRandom,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// The registered claims of an App's JWT (pure): issued a minute ago, against a clock a little
/// ahead of GitHub's, and expiring within GitHub's 10 minutes.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Claims {
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// The App's id, as a string (GitHub takes the id or the client id).
    pub iss: String,
}

impl Claims {
    pub(crate) fn at(app_id: u64, now: i64) -> Self {
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Claims {
            iat: now - seconds(APP_JWT_BACKDATE),
            exp: now + seconds(APP_JWT_LIFETIME),
            iss: app_id.to_string(),
        }
    }
}

impl AppKey {
    /// The key of App `app_id` from its PEM file as GitHub hands it out (PKCS#1,
    /// `BEGIN RSA PRIVATE KEY`) or converted to PKCS#8 (`BEGIN PRIVATE KEY`).
    pub fn from_pem(app_id: u64, pem: &[u8]) -> Result<Self, String> {
        let der = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| format!("the GitHub App's private key is not a PEM private key: {e}"))?;
        let key = match &der {
            PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
            _ => return Err("the GitHub App's private key is not an RSA key".to_owned()),
        }
        .map_err(|e| format!("the GitHub App's private key is refused: {e}"))?;
        Ok(AppKey {
            app_id,
            key,
            random: SystemRandom::new(),
        })
    }

    /// The App's id.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// A JWT for `now` (seconds since the epoch).
    pub(crate) fn jwt(&self, now: i64) -> Result<String, String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::to_vec(&Claims::at(self.app_id, now))
            .map_err(|e| format!("JWT claims: {e}"))?;
        let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.random,
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the GitHub App's JWT failed".to_owned())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    const PKCS1: &str = include_str!("../../tests/testkit/keys/github-app-test.pem");
    const PKCS8: &str = include_str!("../../tests/testkit/keys/github-app-test.pkcs8.pem");

    fn decoded(part: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(part).expect("base64url")
    }

    #[test]
    fn a_jwt_is_rs256_signed_and_claims_ten_minutes_at_most() {
        for pem in [PKCS1, PKCS8] {
            let key = AppKey::from_pem(4242, pem.as_bytes()).expect("key");
            let jwt = key.jwt(1_700_000_000).expect("jwt");
            let parts: Vec<&str> = jwt.split('.').collect();
            assert_eq!(parts.len(), 3);
            let header: serde_json::Value = serde_json::from_slice(&decoded(parts[0])).unwrap();
            assert_eq!(header["alg"], "RS256");
            let claims: serde_json::Value = serde_json::from_slice(&decoded(parts[1])).unwrap();
            assert_eq!(claims["iss"], "4242");
            assert_eq!(claims["iat"], 1_700_000_000 - 60);
            let lifetime = claims["exp"].as_i64().unwrap() - 1_700_000_000;
            assert!((1..=600).contains(&lifetime), "{lifetime}");
            let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.key.public());
            let message = format!("{}.{}", parts[0], parts[1]);
            public
                .verify(message.as_bytes(), &decoded(parts[2]))
                .expect("the signature verifies with the App's public key");
            let mut tampered = decoded(parts[2]);
            tampered[0] ^= 1;
            assert!(public.verify(message.as_bytes(), &tampered).is_err());
        }
    }

    #[test]
    fn anything_but_an_rsa_private_key_is_refused_with_a_reason() {
        for (pem, says) in [
            ("", "not a PEM private key"),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "not a PEM",
            ),
        ] {
            let error = AppKey::from_pem(1, pem.as_bytes()).expect_err(pem);
            assert!(error.contains(says), "{error}");
        }
        assert_eq!(
            format!("{:?}", AppKey::from_pem(7, PKCS1.as_bytes()).unwrap()),
            "AppKey { app_id: 7, .. }"
        );
    }
}
