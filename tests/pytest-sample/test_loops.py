"""Correct loops under the tooltape pytest plugin: each test passes.

    pip install .            # from the repository root: tooltape and its pytest plugin
    pytest tests/pytest-sample

Cassette paths are relative to pytest's rootdir (here the repository root).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from agents import anthropic_agent, http_tool, openai_agent

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.tooltape("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json")
def test_openai_loop_answers_both_parallel_calls(tooltape):
    answer = openai_agent(
        base_url=tooltape.openai_base_url,
        messages=[{"role": "user", "content": tooltape.prompt}],
        tools=tooltape.tools,
        run_tool=http_tool(tooltape.tools_url),
    )
    assert answer


@pytest.mark.tooltape("fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json")
def test_anthropic_loop_answers_four_parallel_calls(tooltape):
    anthropic_agent(
        base_url=tooltape.anthropic_base_url,
        messages=tooltape.messages,
        tools=tooltape.tools,
        system=tooltape.system_prompt,
        run_tool=tooltape.call_tool,
    )


# A folder: one test per cassette. A cassette that tests a capability the loop does not claim
# (`require=`) is skipped with the reason, as `tooltape check` skips it.
@pytest.mark.tooltape("fixtures/openai-chat")
def test_openai_loop_on_every_openai_cassette(tooltape):
    openai_agent(
        base_url=tooltape.openai_base_url,
        messages=tooltape.messages,
        tools=tooltape.tools,
        model=tooltape.model,
        run_tool=http_tool(tooltape.tools_url),
    )


# `tooltape.env` is the whole environment `tooltape check` gives a command: here a loop
# script in a subprocess, which finds everything in its environment.
@pytest.mark.tooltape("fixtures/openai-chat/handmade-failing-tool.json")
def test_a_loop_script_in_a_subprocess(tooltape):
    loop = ROOT / "examples/loops/openai_async_gather.py"
    done = subprocess.run([sys.executable, str(loop)], env=tooltape.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
