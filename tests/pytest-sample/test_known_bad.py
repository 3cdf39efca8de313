"""Known-bad loops under the tooltape pytest plugin: each test FAILS on purpose, with the rule
that catches its bug in the failure text. `pytest tests/pytest-sample` shows what a finding
looks like; the repository's own test (tests/suite/pytest_plugin.rs) checks each outcome.
"""

import pytest

from agents import http_tool, openai_agent

CASSETTE = "fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json"


# Answers only the first of two parallel calls: the replay server answers what OpenAI
# answers (HTTP 400, the SDK raises), and the test fails with TT001 missing-tool-result.
@pytest.mark.tooltape(CASSETTE)
def test_first_call_only(tooltape):
    openai_agent(
        base_url=tooltape.openai_base_url,
        messages=[{"role": "user", "content": tooltape.prompt}],
        tools=tooltape.tools,
        run_tool=http_tool(tooltape.tools_url),
        first_call_only=True,
    )


# Runs a turn's tools one after another where the cassette expects them at once: nothing
# raises, and the test fails at its end with TT008 (the barrier makes it deterministic).
@pytest.mark.tooltape("fixtures/openai-chat/handmade-three-turns.json")
def test_tools_one_by_one(tooltape):
    openai_agent(
        base_url=tooltape.openai_base_url,
        messages=tooltape.messages,
        tools=tooltape.tools,
        run_tool=http_tool(tooltape.tools_url),
        one_by_one=True,
    )


# Sends the results in reverse call order: OpenAI accepts it, tooltape warns (TT007). The
# test passes, and fails under --tooltape-strict.
@pytest.mark.tooltape(CASSETTE)
def test_results_reversed(tooltape):
    openai_agent(
        base_url=tooltape.openai_base_url,
        messages=[{"role": "user", "content": tooltape.prompt}],
        tools=tooltape.tools,
        run_tool=http_tool(tooltape.tools_url),
        reversed_results=True,
    )


# Forgets to run the agent at all: a test that sends nothing proves nothing, and fails.
@pytest.mark.tooltape(CASSETTE)
def test_sends_nothing(tooltape):
    assert tooltape.prompt
