//! Thought signatures compared as the bytes they encode.
//!
//! The API sends `thoughtSignature` as standard base64 with padding. The google-genai Python
//! SDK keeps it as `bytes` (`Part.thought_signature: Optional[bytes]`, `google/genai/types.py`)
//! and writes bytes back with `base64.urlsafe_b64encode` (`encode_unserializable_types` in
//! `google/genai/_common.py`, googleapis/python-genai @ 6680718, 2026-08-21), so a correct loop
//! on that SDK echoes `-`/`_` where it was served `+`/`/` (the pydantic-ai recording shows it).
//! A signature is therefore decoded here, in either alphabet, padded or not, and kept in its
//! canonical (standard, padded) form; a value that is no base64 at all is kept as it came.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// The signature's bytes in standard padded base64, whichever alphabet and padding it came
/// in; the text itself when it is not base64.
#[must_use]
pub fn canonical(signature: &str) -> String {
    STANDARD_LENIENT
        .decode(signature)
        .or_else(|_| URL_SAFE_LENIENT.decode(signature))
        .map_or_else(|_| signature.to_owned(), |bytes| STANDARD.encode(bytes))
}

/// `canonical` in the URL-safe alphabet, as the google-genai SDK writes it (for tests and
/// examples of a correct echo).
#[must_use]
pub fn url_safe(signature: &str) -> String {
    STANDARD_LENIENT.decode(signature).map_or_else(
        |_| signature.to_owned(),
        |bytes| general_purpose::URL_SAFE.encode(bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first signature of `pydantic-ai-3-flash-parallel3-multiturn.yaml` as served, and its
    /// start as the loop echoed it (URL-safe).
    const SERVED: &str =
        "Es8FCswFAXLI2nxFGW9oAYt0fTQoHlYcudYTgqNXlir9nzbXoqFXqLY9sWOIMaevBSmRIl/38GhJB+V+cQ==";

    #[test]
    fn a_url_safe_echo_is_the_same_signature() {
        let echoed = SERVED.replace('/', "_").replace('+', "-");
        assert_ne!(echoed, SERVED);
        assert_eq!(canonical(&echoed), canonical(SERVED));
        assert_eq!(canonical(SERVED), SERVED);
        assert_eq!(url_safe(SERVED), echoed);
    }

    #[test]
    fn padding_is_optional() {
        let unpadded = SERVED.trim_end_matches('=');
        assert_eq!(canonical(unpadded), SERVED);
    }

    #[test]
    fn other_bytes_are_another_signature_and_text_stays_text() {
        let other = SERVED.replacen('E', "F", 1);
        assert_ne!(canonical(&other), canonical(SERVED));
        assert_eq!(canonical("not base64!"), "not base64!");
    }
}
