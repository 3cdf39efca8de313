"""The OpenAI Agents SDK: an `Agent` with the recorded tools, run by `Runner` to its final output.

Responses cassettes run the SDK as it comes: an `Agent` without a model gets the default
model through the default provider, an `OpenAIResponsesModel` on an `AsyncOpenAI` client that
reads OPENAI_BASE_URL (stateless: the SDK sends the whole history each turn). Chat Completions
cassettes use the SDK's `OpenAIChatCompletionsModel` on the same client; Anthropic cassettes use
`LitellmModel`, the SDK's documented way to other providers (LiteLLM reads ANTHROPIC_BASE_URL). Each recorded tool
is a `FunctionTool` with the recorded JSON schema; its `on_invoke_tool` posts the arguments to the
tool endpoint with the call id from `ToolContext`, and a failing tool returns its error text,
as the SDK documents for `FunctionTool` (raising would end the run). The SDK runs the calls of
a turn concurrently. Tracing is off: nothing leaves the machine.

    tooltape check fixtures/openai-responses -- python examples/frameworks/openai_agents_loop.py
    tooltape check fixtures/openai-chat -- python examples/frameworks/openai_agents_loop.py
    tooltape check fixtures/anthropic -- python examples/frameworks/openai_agents_loop.py
"""

import asyncio
import os

# LiteLLM would fetch its model price list from the network at import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from agents import (  # noqa: E402
    Agent,
    FunctionTool,
    OpenAIChatCompletionsModel,
    Runner,
    set_tracing_disabled,
)
from agents.tool_context import ToolContext  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

import _tooltape as tt  # noqa: E402


def make_tool(d: tt.ToolDef) -> FunctionTool:
    async def on_invoke_tool(ctx: ToolContext, arguments: str) -> str:
        try:
            return await tt.post_tool(d.name, arguments, ctx.tool_call_id)
        except tt.ToolFailed as e:
            return f"error: {e}"

    return FunctionTool(name=d.name, description=d.description, params_json_schema=d.schema,
                        on_invoke_tool=on_invoke_tool, strict_json_schema=False)


def model():
    """The model for the cassette's provider; None is the SDK's default (the Responses API)."""
    if tt.PROVIDER == "openai-responses":
        return None
    if tt.PROVIDER == "anthropic":
        from agents.extensions.models.litellm_model import LitellmModel

        return LitellmModel(model=f"anthropic/{tt.ANTHROPIC_MODEL}")
    return OpenAIChatCompletionsModel(model=tt.OPENAI_MODEL, openai_client=AsyncOpenAI())


async def main() -> None:
    set_tracing_disabled(True)
    agent = Agent(name="assistant", model=model(),
                  tools=[make_tool(d) for d in tt.tool_definitions()])
    if tt.STREAM:
        result = Runner.run_streamed(agent, tt.PROMPT)
        async for _event in result.stream_events():
            pass
    else:
        result = await Runner.run(agent, tt.PROMPT)
    print(result.final_output)


if __name__ == "__main__":
    asyncio.run(main())
