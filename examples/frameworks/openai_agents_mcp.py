"""The OpenAI Agents SDK with its tools from tooltape's MCP server: no tool glue at all.

`tooltape check` exports TOOLTAPE_MCP_URL, the session's tools as an MCP server (streamable
HTTP). The SDK's `MCPServerStreamableHttp` lists them for the agent and runs every call through
MCP; tooltape answers each call with its recorded result, holds it at the barrier, and times it.
OpenAI cassettes use the SDK's Chat Completions model (`OpenAIChatCompletionsModel` on an
`AsyncOpenAI` client, which reads OPENAI_BASE_URL); Anthropic cassettes use `LitellmModel`
(LiteLLM reads ANTHROPIC_BASE_URL). Tracing is off: nothing leaves the machine.

    tooltape check fixtures/openai-chat -- python examples/frameworks/openai_agents_mcp.py
"""

import asyncio
import os

# LiteLLM would fetch its model price list from the network at import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled  # noqa: E402
from agents.mcp import MCPServerStreamableHttp  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

import _tooltape as tt  # noqa: E402


def model():
    if tt.PROVIDER == "anthropic":
        from agents.extensions.models.litellm_model import LitellmModel

        return LitellmModel(model=f"anthropic/{tt.ANTHROPIC_MODEL}")
    return OpenAIChatCompletionsModel(model=tt.OPENAI_MODEL, openai_client=AsyncOpenAI())


async def main() -> None:
    set_tracing_disabled(True)
    async with MCPServerStreamableHttp(params={"url": os.environ["TOOLTAPE_MCP_URL"]},
                                       name="tooltape") as tools:
        agent = Agent(name="assistant", model=model(), mcp_servers=[tools])
        if tt.STREAM:
            result = Runner.run_streamed(agent, tt.PROMPT)
            async for _event in result.stream_events():
                pass
        else:
            result = await Runner.run(agent, tt.PROMPT)
    print(result.final_output)


if __name__ == "__main__":
    asyncio.run(main())
