"""The only place atm asks questions (questionary), and only when stdin is a terminal.

Tests replace `current` with a scripted prompter; a cancelled prompt (Ctrl-C
or Esc) raises `PromptCancelled`, exit 130. Questions, titles and choices are
shown through `_output.visible`: a name with an escape sequence stays text.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from atm.commands._output import visible
from atm.domain.errors import PromptCancelled


def interactive() -> bool:
    return sys.stdin.isatty()


class QuestionaryPrompter:
    def _ask(self, question) -> Any:
        _escape_cancels(question)
        answer = question.ask()
        if answer is None:
            raise PromptCancelled("cancelled at the prompt; nothing changed")
        return answer

    def select(self, message: str, choices: Sequence[tuple[str, Any]], *, disabled: dict | None = None) -> Any:
        import questionary

        options = [questionary.Choice(visible(title), value=value, disabled=(disabled or {}).get(value))
                   for title, value in choices]
        return self._ask(questionary.select(visible(message), options, use_search_filter=len(options) > 8,
                                            use_jk_keys=False))

    def checkbox(self, message: str, choices: Sequence[tuple[str, Any]]) -> list:
        import questionary

        options = [questionary.Choice(visible(title), value=value) for title, value in choices]
        return self._ask(questionary.checkbox(visible(message), options, use_search_filter=True, use_jk_keys=False,
                                              validate=lambda picked: bool(picked) or "tick at least one asset"))

    def confirm(self, message: str, *, default: bool = True) -> bool:
        import questionary

        return self._ask(questionary.confirm(visible(message), default=default))

    def text(self, message: str, *, required: bool = True, check=None) -> str:
        """`check(text)` returns None when the answer is fine, else what to say; asked again until fine."""
        import questionary

        def validate(text: str):
            if required and not text.strip():
                return "required"
            return (check(text) if check else None) or True

        return self._ask(questionary.text(visible(message), validate=validate)).strip()


def _escape_cancels(question) -> None:
    """Esc cancels a question like Ctrl-C does (questionary binds only Ctrl-C)."""
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

    keys = KeyBindings()

    @keys.add("escape", eager=True)
    def _(event):
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings, keys]) if app.key_bindings else keys


current = QuestionaryPrompter()
