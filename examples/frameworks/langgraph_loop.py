"""LangGraph: the tool-calling agent graph of LangGraph's own tutorials, with the recorded tools.

A `StateGraph` over `MessagesState`: an `agent` node asks the chat model (`ChatOpenAI` or
`ChatAnthropic` by TOOLTAPE_PROVIDER, each reading its base URL and key from the environment,
`streaming=` by TOOLTAPE_STREAM) with the tools bound, `tools_condition` routes tool calls to a
prebuilt `ToolNode`, and its results go back to the agent until it answers. Each recorded tool
is a `StructuredTool` with the recorded JSON schema; its body posts the arguments to the tool
endpoint with the call id from `ToolRuntime`. A failing tool raises `ToolException` and the tool
is made with `handle_tool_error=True`, LangChain's way to send the error to the model as the
tool's result. `ToolNode` runs a turn's calls concurrently; calls of TOOLTAPE_SEQUENTIAL_TOOLS
queue on a lock in the tool body (LangGraph has no per-tool setting for it).

    tooltape check fixtures/openai-chat -- python examples/frameworks/langgraph_loop.py
    tooltape check fixtures/anthropic -- python examples/frameworks/langgraph_loop.py
"""

import asyncio

from langchain_core.messages import HumanMessage
from langchain_core.tools import StructuredTool, ToolException
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, ToolRuntime, tools_condition

import _tooltape as tt


def make_tool(d: tt.ToolDef) -> StructuredTool:
    async def run(runtime: ToolRuntime, **arguments) -> str:
        try:
            return await tt.post_tool(d.name, arguments, runtime.tool_call_id)
        except tt.ToolFailed as e:
            raise ToolException(str(e)) from e

    return StructuredTool.from_function(coroutine=run, name=d.name, description=d.description,
                                        args_schema=d.schema, handle_tool_error=True)


def chat_model():
    if tt.PROVIDER == "anthropic":
        from langchain_anthropic import ChatAnthropic

        return ChatAnthropic(model=tt.ANTHROPIC_MODEL, max_tokens=tt.MAX_TOKENS,
                             streaming=tt.STREAM)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=tt.OPENAI_MODEL, streaming=tt.STREAM)


async def main() -> None:
    tools = [make_tool(d) for d in tt.tool_definitions()]
    llm = chat_model().bind_tools(tools)

    async def agent(state: MessagesState):
        return {"messages": [await llm.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    graph = builder.compile()

    state = await graph.ainvoke({"messages": [HumanMessage(tt.PROMPT)]})
    print(state["messages"][-1].text)


if __name__ == "__main__":
    asyncio.run(main())
