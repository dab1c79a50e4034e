"""`atm request` asks for missing answers on a terminal, and never without one (docs/rules.md)."""

import json

import pytest

from atm.commands import _prompts
from atm.domain.errors import PromptCancelled
from tests.conftest import PARTNER, TARO


class ScriptedPrompter:
    """Answers questions from a list, recording what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []
        self.rejected = []

    def _next(self, message, choices=None):
        self.asked.append((message, choices))
        answer = self.answers.pop(0)
        if answer is PromptCancelled:
            raise PromptCancelled("cancelled; nothing was created")
        return answer

    def select(self, message, choices, *, disabled=None):
        self.disabled = disabled or {}
        values = [v for _, v in choices]
        answer = self._next(message, values)
        assert answer in values and answer not in (disabled or {}), (answer, values, disabled)
        return answer

    def checkbox(self, message, choices):
        values = [v for _, v in choices]
        answer = self._next(message, values)
        assert set(answer) <= set(values)
        return answer

    def confirm(self, message, *, default=True):
        return self._next(message)

    def text(self, message, *, required=True, check=None):
        answer = self._next(message)
        while check and check(answer):  # the real prompt asks again until the check passes
            self.rejected.append(answer)
            answer = self._next(message)
        return answer


@pytest.fixture
def terminal(monkeypatch):
    def use(*answers):
        prompter = ScriptedPrompter(*answers)
        monkeypatch.setattr(_prompts, "current", prompter)
        monkeypatch.setattr(_prompts, "interactive", lambda: True)
        return prompter

    return use


def test_every_missing_answer_is_asked_on_a_terminal(cli, sample_db, terminal):
    prompter = terminal("acme.co.jp", "", "globex.com", "DEFAULT", False, ["SO12345678-3"],
                        "merger", "not-an-email", "a@acme.co.jp", "b@globex.com", True)
    result = cli("request", "--json", user=PARTNER)
    assert result.exit_code == 0, result.output
    txn = json.loads(result.stdout)
    assert txn["state"] == "pending_submission" and txn["same_company"] is False
    assert [i["asset_id"] for i in txn["items"]] == ["SO12345678-3"]
    assert txn["form"]["reason"] == "merger"
    assert prompter.answers == [] and prompter.rejected == ["not-an-email"]
    offered = dict(prompter.asked)["Step 4: tick the assets (type to search)"]
    assert "SO12345679-1" not in offered and "FDO2312Q1AB" not in offered  # R5: only transferable ones


def test_r3_the_source_va_is_greyed_out_as_a_target(cli, sample_db, terminal):
    prompter = terminal("acme.co.jp", "DEFAULT", "acme.co.jp", "Production", ["SO12345678-3"], True)
    result = cli("request", "--json", user=TARO)
    assert result.exit_code == 0, result.output
    assert prompter.disabled == {"DEFAULT": "the source"}
    txn = json.loads(result.stdout)
    assert txn["target"]["virtual_account"] == "Production" and txn["same_company"] is True


def test_a_cancelled_prompt_exits_130_and_creates_nothing(cli, sample_db, terminal):
    terminal("acme.co.jp", PromptCancelled)
    result = cli("request", user=TARO)
    assert result.exit_code == 130
    assert cli.json("status", user=TARO) == []


def test_without_a_terminal_nothing_is_asked_and_the_option_is_named(cli, sample_db):
    result = cli("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT", "--asset",
                 "SO12345678-3", user=PARTNER)
    assert result.exit_code == 2 and "--same-company" in result.stderr
    result = cli("request", "--from", "acme.co.jp", "--asset", "SO12345678-3", user=PARTNER)
    assert result.exit_code == 2 and "--to is required" in result.stderr
