"""pydantic-ai: an `Agent` with the recorded tools, run to its final answer.

The model is `openai-chat:` (Chat Completions), `anthropic:` or `google:` (pydantic-ai's
`GoogleModel` on google-genai, with the recorded model) by TOOLTAPE_PROVIDER; each reads its base
URL and key from the environment (google-genai: GOOGLE_GEMINI_BASE_URL and GOOGLE_API_KEY). Each recorded tool becomes a `Tool.from_schema`
whose body posts the arguments to the tool endpoint with the call id from `RunContext`. A tool
that fails raises `ToolFailed`, pydantic-ai's way to hand the model a failed result; tools in
TOOLTAPE_SEQUENTIAL_TOOLS are declared `sequential=True`. pydantic-ai runs the other calls of a
turn concurrently by itself. A streamed cassette is run with an `event_stream_handler`, which
makes pydantic-ai stream each model request.

    tooltape check fixtures/openai-chat -- python examples/frameworks/pydantic_ai_loop.py
    tooltape check fixtures/anthropic -- python examples/frameworks/pydantic_ai_loop.py
    tooltape check fixtures/gemini -- python examples/frameworks/pydantic_ai_loop.py
"""

import asyncio

from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.messages import PartDeltaEvent, TextPartDelta

import _tooltape as tt


def make_tool(d: tt.ToolDef) -> Tool:
    async def run(ctx: RunContext, **arguments) -> str:
        try:
            return await tt.post_tool(d.name, arguments, ctx.tool_call_id)
        except tt.ToolFailed as e:
            raise ToolFailed(str(e)) from e

    return Tool.from_schema(run, name=d.name, description=d.description, json_schema=d.schema,
                            takes_ctx=True, sequential=d.name in tt.SEQUENTIAL)


def model() -> str:
    if tt.PROVIDER == "anthropic":
        return f"anthropic:{tt.ANTHROPIC_MODEL}"
    if tt.PROVIDER == "gemini":
        return f"google:{tt.MODEL or tt.GEMINI_MODEL}"
    return f"openai-chat:{tt.OPENAI_MODEL}"


async def main() -> None:
    agent = Agent(model(), tools=[make_tool(d) for d in tt.tool_definitions()])
    if tt.STREAM:
        # Not `run_stream`: it takes the first text as the final output and stops there, so a
        # response with text before its tool calls would end the run (its docstring says so).
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
