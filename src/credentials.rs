//! Provider credentials and endpoints that must not reach the command `tooltape check` runs.
//!
//! The command gets placeholder keys and base URLs that point at the replay server (see
//! [`crate::check::provider_environment`]). Everything else that could let it reach a real
//! provider with a real key, or send the conversation elsewhere, is removed from the
//! environment it inherits: the names in [`REMOVED`], every name starting with one of
//! [`REMOVED_PREFIXES`], and every name ending with one of [`SECRET_SUFFIXES`]. Old spellings
//! of the base URLs ([`ALIASES`]) are pointed at the replay server too. `--keep-env NAME`
//! keeps one name as the caller has it.

/// Names removed from the command's environment (unless kept).
pub const REMOVED: &[&str] = &[
    // OpenAI
    "OPENAI_ORG_ID",
    "OPENAI_ORGANIZATION",
    "OPENAI_PROJECT_ID",
    "OPENAI_PROJECT",
    "OPENAI_ADMIN_KEY",
    "OPENAI_WEBHOOK_SECRET",
    // Anthropic
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    // Azure (the AZURE_OPENAI_ prefix is removed whole)
    "AZURE_API_KEY",
    "AZURE_API_BASE",
    "AZURE_API_VERSION",
    "AZURE_AI_API_KEY",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    // Google
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "VERTEXAI_PROJECT",
    "VERTEXAI_LOCATION",
    // Other providers and gateways
    "MISTRAL_API_KEY",
    "COHERE_API_KEY",
    "CO_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_API_KEY",
    "PERPLEXITYAI_API_KEY",
    "PPLX_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_API_KEY",
    "REPLICATE_API_TOKEN",
    "VOYAGE_API_KEY",
    "LITELLM_API_KEY",
    "LITELLM_MASTER_KEY",
    "LITELLM_PROXY_API_BASE",
    "OLLAMA_HOST",
];

/// Name prefixes removed from the command's environment (unless kept): every AWS setting
/// (Bedrock keys, profiles, session tokens) and every Azure OpenAI setting.
pub const REMOVED_PREFIXES: &[&str] = &["AWS_", "AZURE_OPENAI_"];

/// Name endings removed from the command's environment (unless kept): the shapes of API
/// credentials (`GROQ_API_KEY`, `REPLICATE_API_TOKEN`, `SOME_AUTH_TOKEN`, …), whatever
/// service they belong to. The loop under test talks to the replay server only and needs
/// none of them.
pub const SECRET_SUFFIXES: &[&str] = &[
    "_API_KEY",
    "_API_TOKEN",
    "_AUTH_TOKEN",
    "_ACCESS_TOKEN",
    "_SECRET_KEY",
    "_SECRET_ACCESS_KEY",
];

/// Old spellings of a base URL that some clients still read (openai-python before 1.0,
/// litellm): each is set to the value of the variable it aliases.
pub const ALIASES: &[(&str, &str)] = &[("OPENAI_API_BASE", "OPENAI_BASE_URL")];

/// Whether `name` is removed from the command's environment.
#[must_use]
pub fn is_removed(name: &str) -> bool {
    REMOVED.contains(&name)
        || REMOVED_PREFIXES.iter().any(|p| name.starts_with(p))
        || SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The names of the caller's environment to remove from the command's, except those in
/// `keep`.
#[must_use]
pub fn to_remove(keep: &[String]) -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| is_removed(k) && !keep.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_the_issue_names_is_removed() {
        for name in [
            "ANTHROPIC_AUTH_TOKEN",
            "AZURE_OPENAI_API_KEY",
            "AZURE_OPENAI_ENDPOINT",
            "OPENAI_ORG_ID",
            "OPENAI_PROJECT_ID",
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_BEARER_TOKEN_BEDROCK",
            "SOME_VENDOR_API_KEY",
        ] {
            assert!(is_removed(name), "{name}");
        }
        for name in ["PATH", "HOME", "OPENAI_LOG", "LANG", "TOOLTAPE_URL"] {
            assert!(!is_removed(name), "{name}");
        }
    }
}
