"""pydantic-ai with its tools from tooltape's MCP server: no tool glue at all.

`tooltape check` exports TOOLTAPE_MCP_URL, the session's tools as an MCP server (streamable
HTTP). pydantic-ai's `MCPToolset` (the class that took over from `MCPServerStreamableHTTP`)
lists them, hands them to the model and runs every call through MCP; tooltape answers each
call with its recorded result, holds it at the barrier, and times it. The model is
`openai-chat:` (Chat Completions) or `anthropic:` by TOOLTAPE_PROVIDER; both read their base URL
and key from the environment. A streamed cassette is run with an `event_stream_handler`, which
makes pydantic-ai stream each model request.

    tooltape check fixtures/openai-chat -- python examples/frameworks/pydantic_ai_mcp.py
    tooltape check fixtures/anthropic -- python examples/frameworks/pydantic_ai_mcp.py
"""

import asyncio
import os

from pydantic_ai import Agent, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import PartDeltaEvent, TextPartDelta

import _tooltape as tt


async def main() -> None:
    model = (f"anthropic:{tt.ANTHROPIC_MODEL}" if tt.PROVIDER == "anthropic"
             else f"openai-chat:{tt.OPENAI_MODEL}")
    agent = Agent(model, toolsets=[MCPToolset(os.environ["TOOLTAPE_MCP_URL"])])
    async with agent:
        if tt.STREAM:
            result = await agent.run(tt.PROMPT, event_stream_handler=print_text)
        else:
            result = await agent.run(tt.PROMPT)
    print(result.output)


async def print_text(_ctx: RunContext, events) -> None:
    async for event in events:
        if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
            print(event.delta.content_delta, end="", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
