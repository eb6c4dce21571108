"""The portal's texts on its pages, in the page's language (`page_lang`, set for every page by
`views.portal_context`):

- `{% t "key" name=value ... %}`: a text of `texts.csv`, its fields filled in (`count=` picks the
  plural form); a `texts.Said` in place of the key writes that text;
- `{% t_of "status" case.status %}`: the text of a code among its prefix's (`status.rejected`),
  the code itself where the table has none;
- `{% when value "long" %}`: a date ("2 janvier 2027"), `short`, `datetime` or `time`;
- `{% num value %}`: a whole number as the language writes it (1 234);
- `{% figure value %}`: a flag's figure, kept as plain text, as the language writes numbers.

Each takes `as name` to keep the text for another tag's field."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pipeline.portal import texts

register = template.Library()


def _lang(context: template.Context) -> str:
    return context.get("page_lang") or texts.DEFAULT_LANG


@register.simple_tag(takes_context=True)
def t(context: template.Context, key: str | texts.Said, **params: Any) -> SafeString:
    lang = _lang(context)
    if isinstance(key, texts.Said):
        return escape(key.render(lang))
    return texts.html(key, lang, **params)


@register.simple_tag(takes_context=True)
def t_of(context: template.Context, prefix: str, code: str) -> SafeString:
    return escape(texts.label(prefix, str(code), _lang(context)))


@register.simple_tag(takes_context=True)
def when(context: template.Context, value: Any, style: str = "short") -> SafeString:
    return escape(texts.date_text(value, _lang(context), style)) if value else mark_safe("")


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@register.simple_tag(takes_context=True)
def figure(context: template.Context, value: Any) -> SafeString:
    """A flag's figure, a number the check computed and the finding keeps as plain text
    ('16903400', '1.82'), as the page's language writes numbers ('16 903 400', '1,82'); anything
    else as it is. Never a value a focal point typed: that is quoted as the cell holds it."""
    text = "" if value is None else str(value)
    if not _PLAIN_NUMBER.fullmatch(text):
        return escape(text)
    decimals = len(text.partition(".")[2])  # as many as the figure has
    return escape(texts.number_text(float(text), _lang(context), f",.{decimals}f"))


@register.simple_tag(takes_context=True)
def num(context: template.Context, value: Any) -> SafeString:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return escape(texts.number_text(value, _lang(context)))
    return escape("" if value is None else str(value))
