"""The Anthropic Python SDK's tool runner, in its default mode, with the recorded tools.

`client.beta.messages.tool_runner(...)` runs the loop: it asks the model, runs the tools of
each response and sends their results until a response has no tool calls. Nothing is set
beyond what the SDK's tool-use docs show, so the runner keeps its defaults (a message thread:
each turn sends only the new messages). Each recorded tool is a `@beta_tool` function with the
recorded input schema; its body posts the arguments to the tool endpoint (the runner does not
tell a tool its call id) and a failing tool raises `ToolError`, which the runner sends as an
`is_error` result. The runner calls tools one at a time, so TOOLTAPE_SEQUENTIAL_TOOLS needs
nothing here.

Anthropic cassettes only: the runner speaks the Messages API.

    tooltape check fixtures/anthropic -- python examples/frameworks/anthropic_tool_runner.py
"""

import anthropic
from anthropic import beta_tool
from anthropic.lib.tools import ToolError

import _tooltape as tt


def make_tool(d: tt.ToolDef):
    def run(**arguments) -> str:
        try:
            return tt.post_tool_sync(d.name, arguments)
        except tt.ToolFailed as e:
            raise ToolError(str(e)) from e

    return beta_tool(run, name=d.name, description=d.description, input_schema=d.schema)


def main() -> None:
    client = anthropic.Anthropic()
    runner = client.beta.messages.tool_runner(
        model=tt.ANTHROPIC_MODEL,
        max_tokens=tt.MAX_TOKENS,
        tools=[make_tool(d) for d in tt.tool_definitions()],
        messages=[{"role": "user", "content": tt.PROMPT}],
        stream=tt.STREAM,
    )
    if tt.STREAM:
        for stream in runner:
            message = stream.get_final_message()
    else:
        for message in runner:
            pass
    print("".join(b.text for b in message.content if b.type == "text"))


if __name__ == "__main__":
    main()
