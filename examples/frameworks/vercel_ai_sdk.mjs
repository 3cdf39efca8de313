// The Vercel AI SDK: `generateText` (or `streamText` when the cassette streams) with the
// recorded tools, run for several steps until the model answers without tool calls.
//
// Responses cassettes use `openai(model)`, the SDK's default OpenAI model (the Responses API,
// with the recorded model id); Chat Completions cassettes `openai.chat(model)`, Anthropic
// cassettes `anthropic(model)`. Each recorded tool is a `tool()` with
// the recorded JSON schema (`jsonSchema`); its `execute` posts the arguments to the tool endpoint
// with the call id the SDK passes it, and throws when the tool fails, which the SDK sends to the
// model as an error result. The SDK runs a step's calls concurrently; calls of
// TOOLTAPE_SEQUENTIAL_TOOLS queue behind each other in the tool body (the SDK has no per-tool
// setting for it).
//
//   cd examples/frameworks && npm ci
//   tooltape check fixtures/openai-responses -- node examples/frameworks/vercel_ai_sdk.mjs
//   tooltape check fixtures/openai-chat -- node examples/frameworks/vercel_ai_sdk.mjs
//   tooltape check fixtures/anthropic -- node examples/frameworks/vercel_ai_sdk.mjs

import { readFileSync } from "node:fs";

import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";

const env = process.env;
const provider = env.TOOLTAPE_PROVIDER;
const sequential = new Set((env.TOOLTAPE_SEQUENTIAL_TOOLS ?? "").split(",").filter(Boolean));

function model() {
  if (provider === "anthropic") {
    // The AI SDK's Anthropic base URL ends in the API version (its default is
    // https://api.anthropic.com/v1); the official SDKs' ANTHROPIC_BASE_URL does not.
    return createAnthropic({ baseURL: `${env.ANTHROPIC_BASE_URL}/v1` })("claude-sonnet-4-5");
  }
  if (provider === "openai-responses") {
    return createOpenAI()(env.TOOLTAPE_MODEL || "gpt-4o");
  }
  return createOpenAI().chat("gpt-4o");
}

function definitions() {
  const recorded = JSON.parse(readFileSync(env.TOOLTAPE_TOOLS_FILE, "utf8"));
  const empty = { type: "object", properties: {} };
  return recorded.map((t) => {
    if (provider === "anthropic") {
      return { name: t.name, description: t.description, schema: t.input_schema };
    }
    // Responses tools are flat; Chat Completions tools nest under `function`.
    const fn = provider === "openai-responses" ? t : t.function;
    return { name: fn.name, description: fn.description, schema: fn.parameters ?? empty };
  });
}

let queue = Promise.resolve();
function oneAtATime(run) {
  const turn = queue.then(run, run);
  queue = turn.catch(() => {});
  return turn;
}

async function postTool(name, input, toolCallId) {
  const response = await fetch(`${env.TOOLTAPE_TOOLS_URL}/${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "content-type": "application/json", "tooltape-call-id": toolCallId },
    body: JSON.stringify(input),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text).error ?? text;
    } catch {}
    throw new Error(message);
  }
  return text;
}

const tools = Object.fromEntries(
  definitions().map((d) => [
    d.name,
    tool({
      description: d.description,
      inputSchema: jsonSchema(d.schema),
      execute: (input, { toolCallId }) =>
        sequential.has(d.name)
          ? oneAtATime(() => postTool(d.name, input, toolCallId))
          : postTool(d.name, input, toolCallId),
    }),
  ]),
);

const request = {
  model: model(),
  tools,
  prompt: env.TOOLTAPE_PROMPT,
  stopWhen: stepCountIs(16),
};
if (env.TOOLTAPE_STREAM === "true") {
  const result = streamText(request);
  console.log(await result.text);
} else {
  const result = await generateText(request);
  console.log(result.text);
}
