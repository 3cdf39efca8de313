"""KNOWN-BAD: tools over MCP, called one after another (OpenAI, the `mcp` SDK's client).

The loop takes its tools from tooltape's MCP server (TOOLTAPE_MCP_URL, streamable HTTP) with the
official `mcp` Python SDK: `list_tools` gives the definitions it declares to the model, and each
call of a turn goes to `call_tool`. The bug: it awaits each `call_tool` before it sends the next,
so a turn of N calls takes the sum of their latencies instead of the longest one. Results are
complete, correct and in order (a failing tool's `isError` result becomes an error text); only
the time is lost. Real-world class: bug-catalog class 13, "sequential execution despite an async
API": an MCP client session is async, and a `for ... await` over the calls defeats it.
Caught by: TT008 sequential-execution, an error on cassettes that set `expect_concurrency`
(a warning elsewhere). MCP calls wait at the same barrier as the tool endpoints, so the first
call of a turn waits out the grace period and the finding is deterministic.

    tooltape check fixtures/openai-chat/handmade-three-turns.json \
        -- python examples/loops/bad_mcp_sequential.py     # exit 1, TT008
"""

import asyncio
import json

import mcp
import openai

import _tooltape as tt


def declared(tool) -> dict:
    """An MCP tool as a Chat Completions function tool."""
    return {"type": "function", "function": {"name": tool.name,
                                             "description": tool.description or "",
                                             "parameters": tool.input_schema}}


async def run_tool(session: mcp.Client, name: str, arguments: str) -> str:
    try:
        result = await session.call_tool(name, json.loads(arguments or "{}"),
                                         read_timeout_seconds=tt.TOOL_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - a hung or broken tool still gets an answer
        return f"error: tool `{name}` failed: {e}"
    text = "".join(getattr(block, "text", "") for block in result.content)
    return f"error: {text}" if result.is_error else text


async def main() -> int:
    client = openai.AsyncOpenAI()
    messages = tt.first_messages()
    async with mcp.Client(tt.env("TOOLTAPE_MCP_URL")) as session:
        tools = [declared(t) for t in (await session.list_tools()).tools]
        for _ in range(tt.MAX_TURNS):
            response = await client.chat.completions.create(
                model=tt.OPENAI_MODEL, messages=messages, tools=tools
            )
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                print(message.content or "")
                return 0
            messages.append(
                tt.openai_assistant_message(
                    message.content,
                    [(c.id, c.function.name, c.function.arguments) for c in calls],
                )
            )
            for call in calls:
                # BUG: awaiting inside the loop runs the calls one at a time.
                text = await run_tool(session, call.function.name, call.function.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
