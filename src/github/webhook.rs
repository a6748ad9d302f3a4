//! Verifying and parsing GitHub webhook deliveries.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`.
pub fn signature_header(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid `X-Hub-Signature-256` of `body`, compared in constant time.
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example GitHub documents under "Validating webhook deliveries".
    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";
    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn matches_githubs_documented_vector() {
        assert_eq!(signature_header(SECRET, BODY), SIGNATURE);
        assert!(signature_is_valid(SECRET, BODY, SIGNATURE));
    }

    #[test]
    fn rejects_tampering_and_other_schemes() {
        assert!(!signature_is_valid(SECRET, b"Hello, World?", SIGNATURE));
        assert!(!signature_is_valid(b"other", BODY, SIGNATURE));
        assert!(!signature_is_valid(SECRET, BODY, &SIGNATURE.replace("sha256=", "sha1=")));
        assert!(!signature_is_valid(SECRET, BODY, "sha256=zz"));
        assert!(!signature_is_valid(SECRET, BODY, ""));
    }
}
