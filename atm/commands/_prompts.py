"""The only place atm asks questions (questionary), and only when stdin is a terminal.

Tests replace `current` with a scripted prompter; a cancelled prompt (Ctrl-C)
raises `PromptCancelled`, exit 130.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from atm.domain.errors import PromptCancelled


def interactive() -> bool:
    return sys.stdin.isatty()


class QuestionaryPrompter:
    def _ask(self, question) -> Any:
        answer = question.ask()
        if answer is None:
            raise PromptCancelled("cancelled; nothing was created")
        return answer

    def select(self, message: str, choices: Sequence[tuple[str, Any]], *, disabled: dict | None = None) -> Any:
        import questionary

        options = [questionary.Choice(title, value=value, disabled=(disabled or {}).get(value))
                   for title, value in choices]
        return self._ask(questionary.select(message, options, use_search_filter=len(options) > 8,
                                            use_jk_keys=False))

    def checkbox(self, message: str, choices: Sequence[tuple[str, Any]]) -> list:
        import questionary

        options = [questionary.Choice(title, value=value) for title, value in choices]
        return self._ask(questionary.checkbox(message, options, use_search_filter=True, use_jk_keys=False,
                                              validate=lambda picked: bool(picked) or "tick at least one asset"))

    def confirm(self, message: str, *, default: bool = True) -> bool:
        import questionary

        return self._ask(questionary.confirm(message, default=default))

    def text(self, message: str, *, required: bool = True, check=None) -> str:
        """`check(text)` returns None when the answer is fine, else what to say; asked again until fine."""
        import questionary

        def validate(text: str):
            if required and not text.strip():
                return "required"
            return (check(text) if check else None) or True

        return self._ask(questionary.text(message, validate=validate)).strip()


current = QuestionaryPrompter()
