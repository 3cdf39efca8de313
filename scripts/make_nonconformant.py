#!/usr/bin/env python3
"""Writes fixtures/nonconformant/*.json: follow-up requests that break one rule each.

Each file takes a correct recorded follow-up from a bundled cassette, applies one mistake, and
states the expected answer. The expected 400 bodies are written here from the provider texts in
the reference notes (shared/reference/recordings/API_ERRORS.md, protocol-notes.md §F), not from
tooltape's output, so the test that replays them can fail. One-off generator, kept for review;
the JSON files are what the tests read.
"""
import copy
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "nonconformant"

OA = "openai-chat/fantasy-gpt-4o-parallel2-followup.json"
AN = "anthropic/fantasy-sonnet-4-parallel2-followup.json"
AN3 = "anthropic/handmade-three-turns.json"


def load(rel):
    return json.loads((ROOT / "fixtures" / rel).read_text())


def req(rel, k):
    return copy.deepcopy(load(rel)["interactions"][k]["request"]["body"])


def oa_err(message, param, code=None):
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def an_err(message):
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message},
            "request_id": "req_011tooltape0replay000000"}


def harness_oa(message):
    return oa_err(message, None, "tooltape")


def write(name, cassette, rule, description, request=None, expect=None, raw_request=None,
          missing_headers=None):
    doc = {"cassette": cassette, "rule": rule, "description": description}
    if missing_headers:
        doc["missing_headers"] = missing_headers
    if raw_request is not None:
        doc["raw_request"] = raw_request
    else:
        doc["request"] = request
    doc["expect"] = expect
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


OUT.mkdir(parents=True, exist_ok=True)
C1, C2 = "call_fifE5poZ3dg3JDUKGFi48NGq", "call_cvvIly4eGLZUYOMhAviT8jAF"
T1, T2 = "toolu_01StBeRxDEwsqcc3arbDgpS9", "toolu_01AC6WQhj2iRkdYHgTAGMpVQ"
MISSING_OA = ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
              "'tool_call_id'. The following tool_call_ids did not have response messages: ")
MISSING_AN = ("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: {ids}. "
              "Each `tool_use` block must have a corresponding `tool_result` block in the next message.")

# OpenAI chat: messages are [system, user, assistant(2 calls), tool C1, tool C2].
r = req(OA, 1); del r["messages"][4]
write("TT001-openai-second-result-missing", OA, "TT001",
      "The loop answers only the first of two parallel calls.",
      r, {"status": 400, "body": oa_err(MISSING_OA + C2, "messages.[2].role")})

r = req(OA, 1); del r["messages"][3:]
write("TT001-openai-no-results", OA, "TT001",
      "The loop sends the assistant turn back with no result at all.",
      r, {"status": 400, "body": oa_err(MISSING_OA + f"{C1}, {C2}", "messages.[2].role")})

r = req(OA, 1); r["messages"].append({"role": "tool", "tool_call_id": "call_XXXXXXXXXXXXXXXXXXXXXXXX", "content": "7"})
write("TT002-openai-unknown-id", OA, "TT002",
      "A third result names an id that the assistant turn never called.",
      r, {"status": 400, "body": oa_err(
          "Invalid parameter: 'tool_call_id' of 'call_XXXXXXXXXXXXXXXXXXXXXXXX' not found in 'tool_calls' of previous message.",
          "messages.[5].tool_call_id")})

r = req(OA, 1); del r["messages"][2]
write("TT002-openai-assistant-dropped", OA, "TT002",
      "The loop drops the assistant message that carried the calls and sends only the tool messages.",
      r, {"status": 400, "body": oa_err(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          "messages.[2].role")})

r = req(OA, 1); r["messages"].append(copy.deepcopy(r["messages"][4]))
write("TT003-openai-duplicate-result", OA, "TT003",
      "The second call is answered twice (a retried tool appended another result).",
      r, {"status": 400, "body": oa_err(
          f"Invalid parameter: Duplicate value for 'tool_call_id' of '{C2}', in messages[4] and messages[5].",
          "messages.[5].tool_call_id")})

r = req(OA, 1); r["messages"].insert(3, {"role": "user", "content": "Here are the results."})
write("TT004-openai-user-message-before-results", OA, "TT004",
      "A user message sits between the assistant message and its tool messages.",
      r, {"status": 400, "body": oa_err(MISSING_OA + f"{C1}, {C2}", "messages.[2].role")})

r = req(OA, 1); r["messages"][2]["tool_calls"][0]["function"]["arguments"] = "{\"a\": 20, \"b\": 3}"
write("TT006-openai-arguments-edited", OA, "TT006",
      "The echoed assistant turn carries other arguments than were served. The API accepts it, so the recorded response is served; the finding stays.",
      r, {"status": 200})

r = req(OA, 1); r["messages"][2]["tool_calls"][0]["function"]["arguments"] = {"a": 2, "b": 3}
write("TT011-openai-arguments-as-object", OA, "TT011",
      "The loop replays `function.arguments` as a JSON object instead of the string that was served.",
      r, {"status": 400, "body": oa_err(
          "Invalid type for 'messages[2].tool_calls[0].function.arguments': expected a string, but got an object instead.",
          "messages[2].tool_calls[0].function.arguments", "invalid_type")})

write("TT011-openai-not-json", OA, "TT011", "The body is not JSON.",
      raw_request="{\"model\": \"gpt-4o\", \"messages\": [",
      expect={"status": 400, "body": oa_err(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
          "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
          "have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          None)})

r = req(OA, 1)
r["messages"][2]["tool_calls"] = [{"id": "call_0000invented0000000000", "type": "function",
                                   "function": {"name": "search_the_web", "arguments": "{}"}}]
r["messages"][3:] = [{"role": "tool", "tool_call_id": "call_0000invented0000000000", "content": "[]"}]
write("TT012-openai-history-from-another-conversation", OA, "TT012",
      "The history carries calls the cassette never served, to a tool it never called: the request "
      "continues no recorded turn. (Another prompt than the recorded one is only a warning.)",
      r, {"status": 400, "body": harness_oa(
          "tooltape: the conversation left cassette `fantasy-gpt-4o-parallel2-followup`: assistant message 2 "
          "carries no call that cassette `fantasy-gpt-4o-parallel2-followup` served, nor a call of a tool its "
          "turn 1 called, so the request continues no recorded turn")})

r = req(OA, 1)
r["messages"] += [{"role": "assistant", "content": "2 + 3 = 5 and 2 * 3 = 6."}, {"role": "user", "content": "Thanks!"}]
write("TT014-openai-request-after-final-answer", OA, "TT014",
      "The loop keeps asking after the final answer (no tool calls) ended the recorded conversation.",
      r, {"status": 400, "body": harness_oa(
          "tooltape: the request asks for response 3 but cassette `fantasy-gpt-4o-parallel2-followup` ends after 2, "
          "whose answer had no tool calls")})

# Anthropic: messages are [user, assistant(text, tool_use T1, tool_use T2), user(tool_result T1, tool_result T2)].
r = req(AN, 1); del r["messages"][2]["content"][1]
write("TT001-anthropic-second-result-missing", AN, "TT001",
      "The loop answers only the first of two parallel tool_use blocks.",
      r, {"status": 400, "body": an_err(MISSING_AN.format(ids=T2))})

r = req(AN, 1); r["messages"][2]["content"].insert(0, {"type": "text", "text": "Here you go."})
write("TT004-anthropic-text-before-results", AN, "TT004",
      "A text block comes before the tool_result blocks in the user message.",
      r, {"status": 400, "body": an_err(MISSING_AN.format(ids=f"{T1}, {T2}"))})

r = req(AN, 1); r["messages"][2]["content"].append(copy.deepcopy(r["messages"][2]["content"][0]))
write("TT003-anthropic-duplicate-result", AN, "TT003",
      "The first tool_use is answered twice.",
      r, {"status": 400, "body": an_err(
          f"messages.2.content.2: each tool_use must have a single result. Found multiple `tool_result` blocks with id: {T1}")})

r = req(AN, 1); r["messages"][2]["content"][1]["tool_use_id"] = "toolu_01XXXXXXXXXXXXXXXXXXXXXX"
write("TT002-anthropic-wrong-id", AN, "TT002",
      "The second result names an id the assistant turn never used (and so the second call is unanswered).",
      r, {"status": 400, "body": an_err(MISSING_AN.format(ids=T2))})

r = req(AN, 1); r["messages"][1]["content"][1]["input"] = "{\"a\": 2, \"b\": 3}"
write("TT011-anthropic-input-as-string", AN, "TT011",
      "The loop replays a tool_use `input` as a JSON string instead of an object.",
      r, {"status": 400, "body": an_err("messages.1.content.1.input: Input should be a valid dictionary")})

write("TT011-anthropic-missing-version-header", AN, "TT011",
      "The request has no `anthropic-version` header.",
      req(AN, 1), {"status": 400, "body": an_err("anthropic-version: header is required")},
      missing_headers=["anthropic-version"])

r = req(AN, 1); del r["tools"]; r.pop("tool_choice", None)
write("TT011-anthropic-tool-blocks-without-tools", AN, "TT011",
      "The follow-up carries tool_use and tool_result blocks but declares no `tools` (a summarising "
      "turn that drops the tools): the API refuses the whole request.",
      r, {"status": 400, "body": an_err(
          "Requests which include `tool_use` or `tool_result` blocks must define tools.")})

r = req(OA, 0); r["parallel_tool_calls"] = False
write("TT017-openai-parallel-off-on-a-parallel-turn", OA, "TT017",
      "The loop switches parallel calls off but the recorded turn has two calls: served, with a warning that "
      "the cassette is no evidence for such a loop (the real API would make one call at a time).",
      r, {"status": 200})

r = req(AN3, 1); r["messages"][1]["content"].pop(0)
write("TT006-anthropic-thinking-dropped", AN3, "TT006",
      "The loop drops the thinking block (with its signature) from the echoed assistant turn.",
      r, {"status": 200})
# Results spread, reordered, swapped; failures that drop results.
r = req(AN, 1)
first, second = r["messages"][2]["content"]
r["messages"][2]["content"] = [first]
r["messages"].append({"role": "user", "content": [second]})
write("TT005-anthropic-one-message-per-result", AN, "TT005",
      "Each tool_result goes in its own user message. Anthropic merges consecutive user messages, so the request is served; the finding is a warning (an error under --profile strict).",
      r, {"status": 200})

r = req(OA, 1); r["messages"][3], r["messages"][4] = r["messages"][4], r["messages"][3]
write("TT007-openai-results-reversed", OA, "TT007",
      "Both results are present but in reverse call order (completion order). The API accepts it.",
      r, {"status": 200})

r = req(OA, 1); r["messages"][3]["content"], r["messages"][4]["content"] = r["messages"][4]["content"], r["messages"][3]["content"]
write("TT009-openai-outputs-swapped", OA, "TT009",
      "Each id carries the other call's output (results paired by completion order). The API cannot tell; the data is wrong.",
      r, {"status": 200})

FAIL = "openai-chat/handmade-failing-tool.json"
r = req(FAIL, 1); del r["messages"][3]
write("TT010-openai-failure-drops-sibling", FAIL, "TT010",
      "The failing tool's error result is sent but the sibling's result is dropped.",
      r, {"status": 400, "body": oa_err(MISSING_OA + "call_UBFOWjd6fwz3T66goGzDOUsa", "messages.[1].role")})

r = req(FAIL, 1); del r["messages"][2]
write("TT010-openai-failing-tool-unanswered", FAIL, "TT010",
      "The failing tool gets no result at all; only the sibling is answered.",
      r, {"status": 400, "body": oa_err(MISSING_OA + "call_5cSAFaH5cw5HCoriPxlq4KlQ", "messages.[1].role")})

# OpenAI Responses (texts: reference protocol-notes §B5, §F2; API_ERRORS.md §6-8).
RF = "openai-responses/fantasy-gpt-4o-parallel2-followup.json"
RR = "openai-responses/handmade-reasoning-encrypted.json"
RS = "openai-responses/openinference-parallel2-previous_response_id.json"


def served_output(rel, k):
    return json.loads(load(rel)["interactions"][k]["response"]["body"]["text"])["output"]


# RF request 1: input is [system, user, function_call add, function_call multiply, output add, output multiply].
F_ADD, F_MUL = (item for item in served_output(RF, 0) if item["type"] == "function_call")
r = req(RF, 1); del r["input"][5]
write("TT001-responses-second-output-missing", RF, "TT001",
      "The loop answers only the first of two parallel function calls.",
      r, {"status": 400, "body": oa_err(f"No tool output found for function call {F_MUL['call_id']}.", "input")})

r = req(RF, 1); r["input"][4]["call_id"] = F_ADD["id"]
write("TT002-responses-output-by-item-id", RF, "TT002",
      "The first output names the call's item id (fc_...) instead of its call_id: the classic Responses pairing bug.",
      r, {"status": 400, "body": oa_err(
          f"No tool call found for function call output with call_id {F_ADD['id']}.", "input")})

r = req(RF, 1); r["input"][5]["call_id"] = ""
write("TT011-responses-empty-call-id", RF, "TT011",
      "An output is sent with an empty call_id.",
      r, {"status": 400, "body": oa_err(
          "Invalid 'input[5].call_id': empty string. Expected a string with minimum length 1, but got an empty string instead.",
          "input[5].call_id", "empty_string")})

# RR request 1: input is [developer, user, reasoning, function_call (fc id), function_call (fc id), output, output].
RS0, FC0, FC1 = served_output(RR, 0)
r = req(RR, 1); del r["input"][2]
write("TT006-responses-reasoning-dropped", RR, "TT006",
      "The loop replays the calls with their item ids but drops the reasoning item that preceded them.",
      r, {"status": 400, "body": oa_err(
          f"Item '{FC0['id']}' of type 'function_call' was provided without its required 'reasoning' item: '{RS0['id']}'.",
          "input")})

r = req(RR, 1); del r["input"][3]
write("TT006-responses-reasoning-without-its-call", RR, "TT006",
      "The loop keeps the reasoning item but drops the function_call that followed it.",
      r, {"status": 400, "body": oa_err(
          f"Item '{RS0['id']}' of type 'reasoning' was provided without its required following item.", "input")})

r = req(RR, 1); r["input"].insert(4, copy.deepcopy(r["input"][3]))
write("TT011-responses-duplicate-item", RR, "TT011",
      "The same function_call item (same fc_ id) is replayed twice, as a loop that appends both output_item.done and response.completed items does.",
      r, {"status": 400, "body": oa_err(
          f"Duplicate item found with id {FC0['id']}. Remove duplicate items from your input and try again.", "input")})

r = req(RS, 1); r["previous_response_id"] = "resp_0000tooltape0unknown"
write("TT012-responses-unknown-previous-response", RS, "TT012",
      "A stateful follow-up names a response the cassette never served.",
      r, {"status": 400, "body": oa_err("Previous response with id 'resp_0000tooltape0unknown' not found.",
                                        "previous_response_id", "previous_response_not_found")})
# Gemini (protocol notes §D, §F4; API_ERRORS.md #12-#14): calls carry no ids, responses pair by
# order and name, and the errors name no position except the lost signature's.
GM = "gemini/fantasy-2.5-flash-parallel2-followup.json"


def gm_err(message):
    return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}


r = req(GM, 1); del r["contents"][2]["parts"][1]
write("TT001-gemini-second-response-missing", GM, "TT001",
      "Only the first of the two calls gets a functionResponse.",
      r, {"status": 400, "body": gm_err("Please ensure that the number of function response parts is equal to the "
                                        "number of function call parts of the function call turn.")})

r = req(GM, 1); del r["contents"][1]
write("TT002-gemini-model-turn-dropped", GM, "TT002",
      "The model content with the calls is left out; the function responses follow the user's prompt.",
      r, {"status": 400, "body": gm_err("Please ensure that function response turn comes immediately after a "
                                        "function call turn.")})

r = req(GM, 1); del r["contents"][0]
write("TT011-gemini-call-turn-first", GM, "TT011",
      "The user's prompt is left out, so the history opens with the model's function call turn.",
      r, {"status": 400, "body": gm_err("Please ensure that function call turn comes immediately after a user turn "
                                        "or after a function response turn.")})

GM3 = "gemini/handmade-gemini-three-turns.json"  # Gemini 3: the API validates signatures
r = req(GM3, 1); del r["contents"][1]["parts"][0]["thoughtSignature"]
write("TT006-gemini-thought-signature-dropped", GM3, "TT006",
      "The model content is echoed without the thoughtSignature the first call part was served with (Gemini 3 "
      "models refuse it; for older models a lost signature is a warning). `position 2`: the model content is "
      "contents[1].",
      r, {"status": 400, "body": gm_err(
          "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
          "correctly, and missing thought_signature may lead to degraded model performance. Additional data, "
          "function call `default_api:get_customer` , position 2. Please refer to "
          "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")})

print("wrote", len(list(OUT.glob("*.json"))), "files")
