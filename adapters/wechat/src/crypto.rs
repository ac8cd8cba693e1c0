//! The safe mode's message encryption: AES-256-CBC with the key `base64(EncodingAESKey + "=")` and the key's
//! first 16 bytes as IV, PKCS#7 padding to 32-byte blocks; the plain text is 16 random bytes, the message length
//! (4 bytes, big-endian), the message, and the app id.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{alphabet, Engine as _};

type Decryptor = cbc::Decryptor<aes::Aes256>;
type Encryptor = cbc::Encryptor<aes::Aes256>;

/// WeChat pads to blocks of this size (not AES's 16).
const PAD_BLOCK: usize = 32;

/// Why a message could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters.
    #[error("encoding_aes_key must be 43 characters of base64")]
    BadKey,
    /// The message is not base64, not whole blocks, or its padding or length is wrong.
    #[error("the encrypted message is malformed")]
    Malformed,
    /// The message was encrypted for another app id.
    #[error("the encrypted message is for another app id")]
    WrongApp,
}

/// Base64 that, like WeChat's own libraries, ignores the unused bits of a key's last character.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The 32-byte AES key of an EncodingAESKey.
pub fn key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    if encoding_aes_key.len() != 43 {
        return Err(CryptoError::BadKey);
    }
    let bytes = LENIENT
        .decode(format!("{encoding_aes_key}="))
        .map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

/// Decrypts `encrypted` (base64) for `app_id`; returns the message.
pub fn decrypt(key: &[u8; 32], encrypted: &str, app_id: &str) -> Result<String, CryptoError> {
    let mut data = STANDARD
        .decode(encrypted.trim())
        .map_err(|_| CryptoError::Malformed)?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(CryptoError::Malformed);
    }
    let plain = Decryptor::new(key.into(), key[..16].into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| CryptoError::Malformed)?;
    let pad = *plain.last().ok_or(CryptoError::Malformed)? as usize;
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(CryptoError::Malformed);
    }
    let body = &plain[..plain.len() - pad];
    if body.len() < 20 {
        return Err(CryptoError::Malformed);
    }
    let len = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let rest = &body[20..];
    if len > rest.len() {
        return Err(CryptoError::Malformed);
    }
    let (message, app) = rest.split_at(len);
    if app != app_id.as_bytes() {
        return Err(CryptoError::WrongApp);
    }
    String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Malformed)
}

/// Encrypts `message` for `app_id` with the 16 bytes `random` in front (base64 out).
pub fn encrypt(key: &[u8; 32], message: &str, app_id: &str, random: [u8; 16]) -> String {
    let mut plain = random.to_vec();
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(app_id.as_bytes());
    let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let cipher = Encryptor::new(key.into(), key[..16].into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .expect("whole blocks");
    STANDARD.encode(cipher)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn a_message_comes_back_for_its_app_only() {
        let key = key(KEY).unwrap();
        let sealed = encrypt(&key, "<xml>你好</xml>", "wx123", [7; 16]);
        assert_eq!(decrypt(&key, &sealed, "wx123").unwrap(), "<xml>你好</xml>");
        assert!(matches!(
            decrypt(&key, &sealed, "wx999"),
            Err(CryptoError::WrongApp)
        ));
        assert!(matches!(
            decrypt(&key, "bm90IGJsb2Nrcw==", "wx123"),
            Err(CryptoError::Malformed)
        ));
        assert!(matches!(super::key("short"), Err(CryptoError::BadKey)));
    }
}
