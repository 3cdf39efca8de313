//! Helpers shared by this codec's unit tests: recorded bodies of
//! `fantasy-2.5-flash-parallel2-followup.yaml` and its `.stream` twin (charmbracelet/fantasy,
//! Apache-2.0, "Copyright 2025-2026 Charmbracelet, Inc.").

#![cfg(test)]

use crate::provider::sse::{Event, parse_frames, split_frames};
use crate::transcript::{Block, ToolCall};

/// Response #0 (pretty-printed as recorded).
pub(super) const FANTASY_RESPONSE: &str = r#"{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "functionCall": {
              "name": "add",
              "args": {
                "a": 2,
                "b": 3
              }
            },
            "thoughtSignature": "CuwBAb4+9vtZI+lrRvvljZUdJ6DU+6mx0MOBuaHeyYvynuM3jWA6+2QLszYeEbDE8DiwXn/ZAT193VbikJsMKQhtnfKfRBEBOX0+ubVHHOFBFJQtdbOgB/rUa60EsYG3tEz3IfShPYThhVkawFMK6pypIEeFkR6fz4ORTLkqD2LIDzASds2DgReWzjuQ5TxX2rVB/ZyGarvY5Wvg2TkeK2hAcVdJIjwLZFtxTKnd2DU6smy4Elld36CV8HsEd1P+qbChmOc7V473H9RyZbkojG0ItvQepZX7c0qcJRs2xGpz68rno2xpy+XlQOfnUXg="
          },
          {
            "functionCall": {
              "name": "multiply",
              "args": {
                "a": 2,
                "b": 3
              }
            }
          }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0,
      "finishMessage": "Model generated function call(s)."
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 125,
    "candidatesTokenCount": 36,
    "totalTokenCount": 234,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 125
      }
    ],
    "thoughtsTokenCount": 73
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "WwCzadOqH-mtz7IP8_Se8Ak"
}
"#;

/// Request #1: the echo with the ids the go SDK invented, and both responses.
pub(super) const FANTASY_FOLLOWUP: &str = r#"{"contents":[{"parts":[{"text":"Add and multiply the number 2 and 3"}],"role":"user"},{"parts":[{"functionCall":{"args":{"a":2,"b":3},"id":"1","name":"add"},"thoughtSignature":"CuwBAb4+9vtZI+lrRvvljZUdJ6DU+6mx0MOBuaHeyYvynuM3jWA6+2QLszYeEbDE8DiwXn/ZAT193VbikJsMKQhtnfKfRBEBOX0+ubVHHOFBFJQtdbOgB/rUa60EsYG3tEz3IfShPYThhVkawFMK6pypIEeFkR6fz4ORTLkqD2LIDzASds2DgReWzjuQ5TxX2rVB/ZyGarvY5Wvg2TkeK2hAcVdJIjwLZFtxTKnd2DU6smy4Elld36CV8HsEd1P+qbChmOc7V473H9RyZbkojG0ItvQepZX7c0qcJRs2xGpz68rno2xpy+XlQOfnUXg="},{"functionCall":{"args":{"a":2,"b":3},"id":"2","name":"multiply"}}],"role":"model"},{"parts":[{"functionResponse":{"id":"1","name":"add","response":{"result":"5"}}},{"functionResponse":{"id":"2","name":"multiply","response":{"result":"6"}}}],"role":"user"}],"generationConfig":{"maxOutputTokens":4000},"systemInstruction":{"parts":[{"text":"You are a helpful assistant. CRITICAL: Always use both add and multiply at the same time ALWAYS."}],"role":"user"},"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},"tools":[{"functionDeclarations":[{"description":"Add two numbers","name":"add","parameters":{"properties":{"a":{"description":"first number","type":"INTEGER"},"b":{"description":"second number","type":"INTEGER"}},"required":["a","b"],"type":"OBJECT"}},{"description":"Multiply two numbers","name":"multiply","parameters":{"properties":{"a":{"description":"first number","type":"INTEGER"},"b":{"description":"second number","type":"INTEGER"}},"required":["a","b"],"type":"OBJECT"}}]}]}"#;

/// Stream response #0: both calls in one chunk.
pub(super) const FANTASY_STREAM: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"add\",\"args\": {\"b\": 3,\"a\": 2}},\"thoughtSignature\": \"CloBvj72+4/aTlyeodvVsF6WQseQLaqynO0Ocu6hCxSIV1rJCGFv67dtpjtFqWaborKte+82ZXWG2DaoPZaL+k7ONU3tUVwUXH0yI3ADtb46NJAqGWp2V/Ht3uMKhQEBvj72+53r7rtJS2JS+RSr/gNHTgRy4DDPTPtEEj+K6F4GFNMQEXVmXPYPa87j/74GGwi14Qwvde1kfemWz/+cRwpf2EDDKELVYuZ56LWb6pmPj4kyXPBERjn3dCiTrAhaysdd21dD0/t3xSXCKNFbPTDjK6IeGzqAGRFeL5D37oKPrh2N\"},{\"functionCall\": {\"name\": \"multiply\",\"args\": {\"a\": 2,\"b\": 3}}}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0,\"finishMessage\": \"Model generated function call(s).\"}],\"usageMetadata\": {\"promptTokenCount\": 121,\"candidatesTokenCount\": 36,\"totalTokenCount\": 195,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 121}],\"thoughtsTokenCount\": 38},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"XQCzaYWvIqfRz7IPupTlyAk\"}\r\n\r\n";

/// Stream response #1: the final text in three chunks.
pub(super) const FANTASY_STREAM_FINAL: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The sum of \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 218,\"candidatesTokenCount\": 3,\"totalTokenCount\": 221,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 218}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"XgCzaazDItHRz7IPmsmB4Qk\"}\r\n\r\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"2 and 3 is 5. The product of 2 and 3 is\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 218,\"candidatesTokenCount\": 20,\"totalTokenCount\": 238,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 218}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"XgCzaazDItHRz7IPmsmB4Qk\"}\r\n\r\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" 6.\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 218,\"candidatesTokenCount\": 22,\"totalTokenCount\": 240,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 218}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"XgCzaazDItHRz7IPmsmB4Qk\"}\r\n\r\n";

pub(super) fn events(body: &str) -> Vec<Event> {
    parse_frames(&split_frames(body))
}

pub(super) fn call(id: &str, name: &str, arguments: &str) -> Block {
    Block::ToolCall(ToolCall {
        id: id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
        item_id: None,
    })
}

pub(super) fn text(text: &str) -> Block {
    Block::Text {
        text: text.to_owned(),
    }
}
