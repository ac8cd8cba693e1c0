//! WeChat's signatures: SHA-1, in hex, of the sorted and joined token, timestamp, nonce (and, in safe mode, the
//! encrypted message).

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The signature of `parts` (sorted, joined, SHA-1, hex).
pub fn sign(parts: &[&str]) -> String {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// Whether `given` is the signature of `parts`, compared in constant time.
pub fn verify(given: &str, parts: &[&str]) -> bool {
    let expected = sign(parts);
    let given = given.to_ascii_lowercase();
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_of_the_parts_does_not_matter() {
        let a = sign(&["token", "1764064800", "nonce"]);
        assert_eq!(a, sign(&["nonce", "token", "1764064800"]));
        assert_eq!(a.len(), 40);
        assert!(verify(&a.to_uppercase(), &["token", "1764064800", "nonce"]));
        assert!(!verify(&a, &["token", "1764064801", "nonce"]));
    }
}
