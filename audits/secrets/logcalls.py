"""Logging calls as tree-sitter parses them, in Python, JavaScript, TypeScript, Ruby, PHP and Go: whether the call
at the start of a piece of source writes to a log (logging, structlog, print; console, winston, pino; Rails.logger,
puts; error_log, Monolog, Laravel's Log; log, fmt, slog, zap, logrus, zerolog), and the names of what it writes,
each with the log-hygiene rule it falls under.

What a call writes is followed through what passes a value on whole: format strings and f-strings, template
literals and interpolation, concatenation, dictionaries, objects, arrays and keyword arguments, the calls that
only turn a value into text (`str`, `JSON.stringify`, `json_encode`, `fmt.Sprintf`, `zap.String`, `.to_json`), and
those that give the same text back trimmed, in another case or encoded (`.strip()`, `.lower()`, `trim()`). It
stops at any other call (`len(password)`, `mask(token)`, `token[:4]`): what comes out of those is not the value.
Every walk is bounded in depth and in nodes."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter
import tree_sitter_go
import tree_sitter_javascript
import tree_sitter_php
import tree_sitter_python
import tree_sitter_ruby
import tree_sitter_typescript

from audits.secrets.lognames import rule_of_path, rule_of_words, speaks_for_itself, words

MAX_DEPTH = 12  # how deep into one argument the walk goes
MAX_NODES = 400  # how many nodes of one call it reads
MAX_NAME = 80  # characters of a logged name kept for the report

_LEVELS = {
    "log", "debug", "info", "information", "notice", "warn", "warning", "error", "err", "exception", "critical",
    "crit", "fatal", "panic", "trace", "verbose", "silly", "http", "msg", "print", "alert", "emergency", "emerg",
    "send", "bind", "child", "with", "withfield", "withfields",
}  # fmt: skip
_LOGGERS = {
    "log", "logger", "logging", "structlog", "slog", "zap", "logrus", "zerolog", "winston", "pino", "bunyan",
    "log4js", "signale", "consola", "monolog",
}  # fmt: skip
_CONSOLE = {"log", "info", "warn", "error", "debug", "trace", "dir", "table"}
# Calls that hand their arguments on whole, as text or as a structure.
_PASS_ON = {
    "str", "repr", "format", "dumps", "pformat", "dict", "list", "tuple", "vars", "join", "stringify", "string",
    "inspect", "sprintf", "sprint", "sprintln", "json_encode", "print_r", "var_export", "serialize", "implode",
    "strval", "vsprintf", "http_build_query", "any", "reflect", "stringer", "bytestring", "object", "group",
    # and those that give the same text back trimmed, in another case or encoded (trim($pw), strings.ToLower(t))
    "trim", "ltrim", "rtrim", "chop", "strtolower", "strtoupper", "trimspace", "tolower", "toupper", "trimprefix",
    "trimsuffix", "b64encode", "urlsafe_b64encode", "base64_encode", "btoa", "urlencode", "rawurlencode",
    "quote", "quote_plus", "encodeuricomponent", "bin2hex", "hexlify", "encodetostring",
}  # fmt: skip
# Methods that give their receiver back as text or as a plain structure.
_AS_TEXT = {"to_json", "to_s", "inspect", "as_json", "to_h", "to_unsafe_h", "tostring", "tojson", "string"}
# Methods that give their receiver's text back trimmed, in another case or encoded, whatever their arguments:
# `password.strip()`, `token.lower()`, `token.decode("utf-8")`, `token.trim()`, `password.downcase`.
_SAME_TEXT = {
    "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "capitalize", "swapcase", "decode",
    "encode", "hex", "trim", "trimstart", "trimend", "trimleft", "trimright", "tolowercase", "touppercase",
    "tolocalelowercase", "tolocaleuppercase", "normalize", "valueof", "downcase", "upcase", "chomp", "squish",
    "to_str", "dup", "clone", "strip!", "chomp!", "downcase!", "upcase!",
}  # fmt: skip
# Methods that read one named entry: `headers.get("Authorization")`, `r.FormValue("password")`.
_GETTERS = {
    "get", "fetch", "header", "get_header", "getheader", "getheaderline", "cookie", "input", "query", "param",
    "formvalue", "postformvalue", "dig", "getparam", "getquery", "post", "getenv", "env", "getcookie",
}  # fmt: skip
_COOKIE_GETTERS = {"cookie", "getcookie"}
_KEY = re.compile(r"^[A-Za-z_][\w.\- ]{0,40}$")
_LABEL = re.compile(r"([A-Za-z_][\w\-]{0,40})\s*[:=]\s*$")
_CALLEE = re.compile(r"[\w$@.:\\>-]+")


@dataclass(frozen=True)
class Logged:
    """One name a logging call writes: the rule it falls under, the name as written, the call and the line."""

    rule: str
    name: str
    call: str
    line: int  # 0-based, within the parsed piece


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


# A run of characters a key is made of, long enough to be one: what is left of it past its first four is cut.
_KEYLIKE = re.compile(r"[A-Za-z0-9_\-+/=]{20,}")
# A string literal that names something (a header, a form field, an environment variable: "password",
# "HTTP_AUTHORIZATION", "x-api-key") rather than holding a value: in one letter case, short words, few digits.
_NAME_LITERAL = re.compile(
    r"[a-z][a-z0-9]{0,15}(?:[_\-.][a-z0-9]{1,15}){0,4}|[A-Z][A-Z0-9]{0,15}(?:[_\-.][A-Z0-9]{1,15}){0,4}"
    r"|[A-Z][a-z0-9]{0,15}(?:[_\-.][A-Z]?[a-z0-9]{1,15}){0,4}"
)
MAX_NODES = 2000  # nodes of one logged expression looked at for string literals
_QUOTED = frozenset({"heredoc", "nowdoc", "regex"})


def _names_something(text: str | None) -> bool:
    return (
        text is not None
        and len(text) <= 40
        and bool(_NAME_LITERAL.fullmatch(text))
        and (sum(c.isdigit() for c in text) * 4 <= len(text))
    )


def shown(text: str, limit: int = MAX_NAME) -> str:
    """A name as a report shows it: one line, printable, bounded, with nothing in it that could be a key."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    text = _KEYLIKE.sub(lambda m: m.group()[:4] + "…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def logger_name(name: str, known: frozenset[str] = frozenset()) -> bool:
    """A logger's name: `logger`, `self.log`, `Rails.logger`, or one the file made a logger (`const l = pino()`)."""
    bare = name.lstrip("$@_:\\").lower()
    return bare in _LOGGERS or bare.endswith(("logger", "_log")) or name in known


def _level(method: str) -> bool:
    name = method.lower()
    if name in _LEVELS:
        return True
    return any(name.endswith(end) and name[: -len(end)] in _LEVELS for end in ("context", "ctx", "ln", "f", "w"))


class _Walk:
    """The nodes one call's walk may still read."""

    def __init__(self) -> None:
        self.left = MAX_NODES

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


class Syntax:
    """What one language's tree looks like; the walk is the same for all."""

    language = ""
    calls: frozenset[str] = frozenset()
    statements: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()  # nodes that stand for their one inner expression
    literals: frozenset[str] = frozenset()
    sequences: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()  # string nodes that may hold interpolation
    interpolations: frozenset[str] = frozenset()  # the pieces of an interpolated string that are code
    fragments: frozenset[str] = frozenset()  # the pieces that are text
    joins: frozenset[str] = frozenset()  # operators whose both sides are written: + . || ?? or %
    key_values = False  # Go's slog, zap and logrus: "token", token

    def __init__(self, grammar: object) -> None:
        self.parser = tree_sitter.Parser(tree_sitter.Language(grammar))

    # --- what each language says ---------------------------------------------------------------------------

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        """A call's receiver (None for a plain function), the function or method name, and its arguments."""
        raise NotImplementedError

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        """Whether the call writes to a log; `known` are the names the file made loggers of."""
        raise NotImplementedError

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        """The segments of a name expression (`request.headers["Authorization"]`: request, headers,
        Authorization), or None when the node is not one."""
        raise NotImplementedError

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        """For a dictionary, object, hash or array literal: its (key, value) entries ("" when it has no name key);
        None for any other node."""
        return None

    def branches(self, node: tree_sitter.Node) -> list[tree_sitter.Node] | None:
        """The expressions a conditional expression may give, or None."""
        return None

    def string_text(self, node: tree_sitter.Node) -> str | None:
        """The text of a string literal without interpolation, or None."""
        return None

    # --- the walk ------------------------------------------------------------------------------------------

    def log_call_at_start(self, root: tree_sitter.Node, known: frozenset[str] = frozenset()) -> tree_sitter.Node | None:
        """The outermost call that begins the piece, if it is a logging call (a chain such as
        `log.WithField(...).Info(...)` is one call)."""
        node: tree_sitter.Node | None = root.descendant_for_byte_range(0, 0)
        found = None
        while node is not None and node.start_byte == 0 and node.type not in self.statements:
            if node.type in self.calls:
                receiver, name, args = self.call_parts(node)
                if self.is_log_call(receiver, name, args, known):
                    found = node
            node = node.parent
        return found

    def logged(self, call: tree_sitter.Node) -> list[Logged]:
        """Every sensitive name a logging call writes, with its rule."""
        out: list[Logged] = []
        walk = _Walk()
        receiver, name, args = self.call_parts(call)
        head = _CALLEE.match(_text(call)[:200])
        callee = head.group(0) if head else name
        shown_call = shown(callee if callee.endswith(name) else f"{callee}(…).{name}", 60)
        self._arguments(args, shown_call, out, walk, 0)
        # The calls before it in a chain write too: log.WithField("token", t).Info("x"), log.bind(token=t).info("x")
        for _ in range(8):
            if receiver is None or receiver.type not in self.calls:
                break
            receiver, _, chained = self.call_parts(receiver)
            self._arguments(chained, shown_call, out, walk, 0)
        return out

    def _arguments(self, args: list[tree_sitter.Node], call: str, out: list[Logged], walk: _Walk, depth: int) -> None:
        i = 0
        while i < len(args):
            arg = args[i]
            key = self._key_literal(arg)
            if key is not None and i + 1 < len(args) and not self._is_literal(args[i + 1]):
                self._value(args[i + 1], key, call, out, walk, depth + 1)
                i += 2
                continue
            self._value(arg, "", call, out, walk, depth + 1)
            i += 1

    def _unwrap(self, node: tree_sitter.Node) -> tree_sitter.Node:
        for _ in range(MAX_DEPTH):
            if node.type not in self.wrappers or not node.named_child_count:
                break
            node = node.named_children[0]
        return node

    def _key_literal(self, node: tree_sitter.Node) -> str | None:
        """A string argument that names the next one: "token" in Go's key-value loggers, "password:" anywhere."""
        text = self.string_text(self._unwrap(node))
        if text is None:
            return None
        label = _LABEL.search(text)
        if label and len(text) <= 60:
            return label.group(1)
        if self.key_values and _KEY.match(text) and " " not in text:
            return text
        return None

    def _is_literal(self, node: tree_sitter.Node) -> bool:
        node = self._unwrap(node)
        return node.type in self.literals and (node.type not in self.strings or self.string_text(node) is not None)

    def _named(self, node: tree_sitter.Node) -> str:
        """The logged expression as written, each string literal in it shown as "…": a default value or an
        argument (`h.get("authorization", "sk_live_…")`) may be the very key, and a report names, never quotes."""
        text = node.text or b""
        spans: list[tuple[int, int]] = []
        stack, seen = list(node.children), 0
        while stack and seen < MAX_NODES:
            child = stack.pop()
            seen += 1
            if child.type in self.strings or "string" in child.type or child.type in _QUOTED:
                if not _names_something(self.string_text(child)):
                    spans.append((child.start_byte - node.start_byte, child.end_byte - node.start_byte))
                continue
            stack.extend(child.children)
        if stack:  # too big to look through: only its start, which names it
            return _text(node).split("(", 1)[0] + "(…)"
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + b'"\xe2\x80\xa6"' + text[end:]
        return text.decode("utf-8", "replace")

    def _emit(self, rule: str | None, name: str, node: tree_sitter.Node, call: str, out: list[Logged]) -> None:
        if rule:
            out.append(Logged(rule, shown(name), call, node.start_point[0]))

    def _value(self, node: tree_sitter.Node, key: str, call: str, out: list[Logged], walk: _Walk, depth: int) -> None:
        if depth > MAX_DEPTH or not walk.take():
            return
        kind = node.type
        if kind in self.wrappers:
            for child in node.named_children[:1]:
                self._value(child, key, call, out, walk, depth + 1)
            return
        if self._is_literal(node):
            return
        if kind in self.strings:
            self._string(node, key, call, out, walk, depth)
            return
        if kind in self.joins and self._joining(node):
            for child in node.named_children:
                self._value(child, key, call, out, walk, depth + 1)
            return
        branches = self.branches(node)
        if branches is not None:
            for child in branches:
                self._value(child, key, call, out, walk, depth + 1)
            return
        if kind in self.sequences:
            self._arguments(list(node.named_children), call, out, walk, depth)
            return
        entries = self.pairs(node)
        if entries is not None:
            for entry_key, value in entries:
                self._value(value, entry_key if _KEY.match(entry_key) else "", call, out, walk, depth + 1)
            return
        path = self.path(node)
        if path is not None:
            rule = rule_of_path(path, self.language)
            if rule:
                self._emit(rule, self._named(node), node, call, out)
            elif key and not speaks_for_itself(path[-1]):
                self._emit(rule_of_words(words(key)), f"{shown(self._named(node), 60)} (as {key})", node, call, out)
            return
        if kind in self.calls:
            receiver, name, args = self.call_parts(node)
            if receiver is not None and name.lower() in _SAME_TEXT:
                self._value(receiver, key, call, out, walk, depth + 1)  # str(password).strip()
                return
            if name.lower() in _PASS_ON:
                if receiver is not None and receiver.type in self.strings:
                    self._value(receiver, key, call, out, walk, depth + 1)  # f"{token}".format()
                self._arguments(args, call, out, walk, depth)

    def _string(self, node: tree_sitter.Node, key: str, call: str, out: list[Logged], walk: _Walk, depth: int) -> None:
        """An interpolated string: each piece of code in it, named by the label before it ("pw={pw}")."""
        label = key
        for child in node.named_children:
            if child.type in self.fragments:
                text = _text(child)
                found = _LABEL.search(text)
                if found:
                    label = found.group(1)
                elif any(c.isalnum() for c in text):
                    label = ""
                continue
            inner: tree_sitter.Node | None = child
            if child.type in self.interpolations:
                inner = child.child_by_field_name("expression") or next(iter(child.named_children), None)
            if inner is not None:
                self._value(inner, label, call, out, walk, depth + 1)
            label = ""

    def _joining(self, node: tree_sitter.Node) -> bool:
        operator = node.child_by_field_name("operator")
        if operator is None:
            operator = next((c for c in node.children if not c.is_named), None)
        return operator is not None and _text(operator) in ("+", ".", "||", "??", "or", "%")


def _name_of(node: tree_sitter.Node | None) -> str:
    return _text(node) if node is not None else ""


def _last_name(node: tree_sitter.Node, syntax: Syntax) -> str:
    path = syntax.path(node)
    if path:
        return path[-1]
    if node.type in syntax.calls:
        _, name, _ = syntax.call_parts(node)
        return name
    return ""


def _is_logger(node: tree_sitter.Node | None, syntax: Syntax, known: frozenset[str] = frozenset()) -> bool:
    """`logger`, `self.log`, `Rails.logger`, `logging.getLogger(__name__)`, `log.WithField(...)`: a logger."""
    for _ in range(8):
        if node is None:
            return False
        if logger_name(_last_name(node, syntax), known):
            return True
        if node.type not in syntax.calls:
            return False
        node, _, _ = syntax.call_parts(node)  # a chain: whatever the call was made on
    return False


class Python(Syntax):
    language = "python"
    calls = frozenset({"call"})
    statements = frozenset({"block", "module", "function_definition", "class_definition"})
    wrappers = frozenset({"parenthesized_expression", "await", "list_splat", "dictionary_splat"})
    literals = frozenset({"string", "integer", "float", "true", "false", "none", "concatenated_string"})
    sequences = frozenset({"list", "tuple", "set", "expression_list"})
    strings = frozenset({"string", "concatenated_string"})
    interpolations = frozenset({"interpolation"})
    fragments = frozenset({"string_start", "string_content", "string_end", "escape_sequence"})
    joins = frozenset({"binary_operator", "boolean_operator"})

    def string_text(self, node: tree_sitter.Node) -> str | None:
        if node.type == "string" and not any(c.type == "interpolation" for c in node.children):
            return "".join(_text(c) for c in node.named_children if c.type == "string_content")
        if node.type == "concatenated_string":
            parts = [self.string_text(c) for c in node.named_children]
            return None if None in parts else "".join(p or "" for p in parts)
        return None

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        if function is not None and function.type == "attribute":
            return function.child_by_field_name("object"), _name_of(function.child_by_field_name("attribute")), args
        return None, _name_of(function), args

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        if receiver is None:
            return name in ("print", "pprint")
        return (_level(name) or name == "exception") and _is_logger(receiver, self, known)

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        if depth > MAX_DEPTH:
            return None
        kind = node.type
        if kind == "identifier":
            return [_text(node)]
        if kind == "attribute":
            inner = node.child_by_field_name("object")
            head = self.path(inner, depth + 1) if inner is not None else None
            return None if head is None else [*head, _name_of(node.child_by_field_name("attribute"))]
        if kind == "subscript":
            value, index = node.child_by_field_name("value"), node.child_by_field_name("subscript")
            head = self.path(value, depth + 1) if value is not None else None
            if head is None or index is None or index.type == "slice":
                return None
            text = self.string_text(index)
            return [*head, text if text and _KEY.match(text) else "[]"]
        if kind in ("parenthesized_expression", "await") and node.named_child_count == 1:
            return self.path(node.named_children[0], depth + 1)
        if kind == "call":
            return _call_path(self, node, depth)
        return None

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        if node.type == "dictionary":
            return self._dictionary(node)
        if node.type == "keyword_argument":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            return iter([(_name_of(name), value)] if value is not None else [])
        return None

    def _dictionary(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]]:
        for child in node.named_children:
            if child.type == "pair":
                key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
                if value is not None:
                    yield (self.string_text(key) or "") if key is not None else "", value
            elif child.type == "dictionary_splat":
                yield "", child

    def branches(self, node: tree_sitter.Node) -> list[tree_sitter.Node] | None:
        if node.type == "conditional_expression" and node.named_child_count == 3:
            return [node.named_children[0], node.named_children[2]]
        return None


def _call_path(syntax: Syntax, node: tree_sitter.Node, depth: int) -> list[str] | None:
    """A call read as a name: a getter with a literal key (`headers.get("Authorization")`), a method that gives
    its receiver back as text (`params.to_json`), or a call without arguments (`request.get_json()`,
    `$request->all()`, `getToken()`)."""
    receiver, name, args = syntax.call_parts(node)
    head = syntax.path(receiver, depth + 1) if receiver is not None else []
    if head is None:
        return None
    lowered = name.lower()
    if receiver is not None and ((lowered in _AS_TEXT and not args) or lowered in _SAME_TEXT):
        return head
    if lowered in _GETTERS and args:
        text = syntax.string_text(syntax._unwrap(args[0]))  # PHP's argument node around it
        if text and _KEY.match(text):
            # r.Cookie("session"), $request->cookie('session'): one of the request's cookies, by its name
            return [*head, "cookies", text] if lowered in _COOKIE_GETTERS else [*head, text]
        return None
    if not args and name:
        return [*head, name]
    return None


class JavaScript(Syntax):
    language = "javascript"
    calls = frozenset({"call_expression"})
    statements = frozenset({"statement_block", "program", "function_declaration", "class_body"})
    wrappers = frozenset(
        {"parenthesized_expression", "await_expression", "non_null_expression", "as_expression",
         "satisfies_expression", "spread_element", "type_assertion"}
    )  # fmt: skip
    literals = frozenset({"string", "number", "true", "false", "null", "undefined", "regex", "template_string"})
    sequences = frozenset({"array"})
    strings = frozenset({"template_string", "string"})
    interpolations = frozenset({"template_substitution"})
    fragments = frozenset({"string_fragment", "escape_sequence"})
    joins = frozenset({"binary_expression"})

    def string_text(self, node: tree_sitter.Node) -> str | None:
        if node.type == "string":
            return "".join(_text(c) for c in node.named_children if c.type == "string_fragment")
        if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children):
            return "".join(_text(c) for c in node.named_children if c.type == "string_fragment")
        return None

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        if function is not None and function.type == "member_expression":
            return function.child_by_field_name("object"), _name_of(function.child_by_field_name("property")), args
        return None, _name_of(function), args

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        if receiver is None:
            return False
        if receiver.type == "identifier" and _text(receiver) == "console":
            return name in _CONSOLE
        return _level(name) and _is_logger(receiver, self, known)

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        if depth > MAX_DEPTH:
            return None
        kind = node.type
        if kind in ("identifier", "this", "shorthand_property_identifier", "property_identifier"):
            return [_text(node)]
        if kind == "member_expression":
            inner = node.child_by_field_name("object")
            head = self.path(inner, depth + 1) if inner is not None else None
            return None if head is None else [*head, _name_of(node.child_by_field_name("property"))]
        if kind == "subscript_expression":
            inner, index = node.child_by_field_name("object"), node.child_by_field_name("index")
            head = self.path(inner, depth + 1) if inner is not None else None
            if head is None or index is None:
                return None
            text = self.string_text(index)
            return [*head, text if text and _KEY.match(text) else "[]"]
        if kind in self.wrappers and node.named_child_count >= 1:
            return self.path(node.named_children[0], depth + 1)
        if kind == "call_expression":
            return _call_path(self, node, depth)
        return None

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        if node.type != "object":
            return None
        return self._object(node)

    def _object(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]]:
        for child in node.named_children:
            if child.type == "pair":
                key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key is not None and value is not None:
                    yield (self.string_text(key) if key.type == "string" else _text(key)) or "", value
            elif child.type in ("shorthand_property_identifier", "spread_element"):
                yield "", child

    def branches(self, node: tree_sitter.Node) -> list[tree_sitter.Node] | None:
        if node.type == "ternary_expression":
            return [c for c in (node.child_by_field_name("consequence"), node.child_by_field_name("alternative")) if c]
        return None


class TypeScript(JavaScript):
    language = "typescript"


class Ruby(Syntax):
    language = "ruby"
    calls = frozenset({"call"})
    statements = frozenset({"body_statement", "program", "method", "class", "module", "block_body"})
    wrappers = frozenset({"parenthesized_statements", "splat_argument", "hash_splat_argument"})
    literals = frozenset({"string", "simple_symbol", "integer", "float", "true", "false", "nil", "hash_key_symbol"})
    sequences = frozenset({"array"})
    strings = frozenset({"string"})
    interpolations = frozenset({"interpolation"})
    fragments = frozenset({"string_content", "escape_sequence"})
    joins = frozenset({"binary"})

    def string_text(self, node: tree_sitter.Node) -> str | None:
        if node.type == "string" and not any(c.type == "interpolation" for c in node.named_children):
            return "".join(_text(c) for c in node.named_children if c.type == "string_content")
        if node.type in ("simple_symbol", "hash_key_symbol"):
            return _text(node).lstrip(":")
        return None

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        arguments = node.child_by_field_name("arguments")
        args = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        block = node.child_by_field_name("block")
        if block is not None:  # logger.debug { "…" }: the block's value is the message
            body = block.child_by_field_name("body")
            args += [c for c in body.named_children if c.type != "comment"] if body is not None else []
        return node.child_by_field_name("receiver"), _name_of(node.child_by_field_name("method")), args

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        if name in ("puts", "print", "p", "pp", "warn"):
            return args != [] and (receiver is None or _text(receiver) in ("$stdout", "$stderr", "STDOUT", "STDERR"))
        return receiver is not None and _level(name) and _is_logger(receiver, self, known)

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        if depth > MAX_DEPTH:
            return None
        kind = node.type
        if kind in ("identifier", "constant", "instance_variable", "class_variable", "global_variable"):
            return [_text(node)]
        if kind == "element_reference":
            inner = node.child_by_field_name("object")
            head = self.path(inner, depth + 1) if inner is not None else None
            index = [c for c in node.named_children if c != inner]
            if head is None or len(index) != 1:
                return None
            text = self.string_text(index[0])
            return [*head, text if text and _KEY.match(text) else "[]"]
        if kind == "parenthesized_statements" and node.named_child_count == 1:
            return self.path(node.named_children[0], depth + 1)
        if kind == "call" and node.child_by_field_name("block") is None:
            return _call_path(self, node, depth)
        return None

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        if node.type == "pair":
            return iter([self._pair(node)])
        if node.type == "hash":
            return (self._pair(c) for c in node.named_children if c.type == "pair")
        return None

    def _pair(self, node: tree_sitter.Node) -> tuple[str, tree_sitter.Node]:
        key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
        return ((self.string_text(key) or "") if key is not None else ""), value or node

    def branches(self, node: tree_sitter.Node) -> list[tree_sitter.Node] | None:
        if node.type == "conditional":
            return [c for c in (node.child_by_field_name("consequence"), node.child_by_field_name("alternative")) if c]
        return None


class Php(Syntax):
    language = "php"
    calls = frozenset(
        {"function_call_expression", "member_call_expression", "nullsafe_member_call_expression",
         "scoped_call_expression"}
    )  # fmt: skip
    statements = frozenset({"compound_statement", "program", "function_definition", "method_declaration"})
    wrappers = frozenset({"parenthesized_expression", "argument", "variadic_unpacking"})
    literals = frozenset({"string", "encapsed_string", "integer", "float", "boolean", "null", "heredoc", "nowdoc"})
    sequences: frozenset[str] = frozenset()
    strings = frozenset({"encapsed_string", "heredoc", "string"})
    interpolations: frozenset[str] = frozenset()
    fragments = frozenset({"string_content", "escape_sequence", "string_value", "heredoc_start", "heredoc_end"})
    joins = frozenset({"binary_expression"})

    def string_text(self, node: tree_sitter.Node) -> str | None:
        if node.type in ("string", "encapsed_string", "nowdoc"):
            parts = node.named_children
            if all(c.type in self.fragments for c in parts):
                return "".join(_text(c) for c in parts if c.type in ("string_content", "string_value"))
        return None

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        arguments = node.child_by_field_name("arguments")
        args = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        if node.type == "function_call_expression":
            return None, _name_of(node.child_by_field_name("function")).lstrip("\\"), args
        if node.type == "scoped_call_expression":
            return node.child_by_field_name("scope"), _name_of(node.child_by_field_name("name")), args
        return node.child_by_field_name("object"), _name_of(node.child_by_field_name("name")), args

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        if receiver is None:
            return name in ("error_log", "syslog", "logger") and args != []
        if receiver.type in ("name", "qualified_name", "relative_scope"):
            return _level(name) and logger_name(_text(receiver).rsplit("\\", 1)[-1], known)
        return _level(name) and _is_logger(receiver, self, known)

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        if depth > MAX_DEPTH:
            return None
        kind = node.type
        if kind == "variable_name":
            return [_text(node)]
        if kind in ("name", "qualified_name"):
            return [_text(node).rsplit("\\", 1)[-1]]
        if kind in ("member_access_expression", "nullsafe_member_access_expression"):
            inner = node.child_by_field_name("object")
            head = self.path(inner, depth + 1) if inner is not None else None
            return None if head is None else [*head, _name_of(node.child_by_field_name("name"))]
        if kind == "subscript_expression":
            children = node.named_children
            head = self.path(children[0], depth + 1) if children else None
            if head is None:
                return None
            text = self.string_text(children[1]) if len(children) > 1 else None
            return [*head, text if text and _KEY.match(text) else "[]"]
        if kind in ("parenthesized_expression", "argument") and node.named_child_count == 1:
            return self.path(node.named_children[0], depth + 1)
        if kind in self.calls:
            return _call_path(self, node, depth)
        return None

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        if node.type != "array_creation_expression":
            return None
        return self._array(node)

    def _array(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]]:
        for element in node.named_children:
            if element.type != "array_element_initializer":
                continue
            parts = element.named_children
            if len(parts) == 2:
                yield self.string_text(parts[0]) or "", parts[1]
            elif parts:
                yield "", parts[0]

    def branches(self, node: tree_sitter.Node) -> list[tree_sitter.Node] | None:
        if node.type == "conditional_expression":
            return [c for c in (node.child_by_field_name("body"), node.child_by_field_name("alternative")) if c]
        return None


class Go(Syntax):
    language = "go"
    # A piece outside a function reads `log.Println(x)` as a conversion to a type log.Println: the same call.
    calls = frozenset({"call_expression", "type_conversion_expression"})
    statements = frozenset({"block", "source_file", "function_declaration", "statement_list"})
    wrappers = frozenset({"parenthesized_expression", "literal_element", "variadic_argument"})
    literals = frozenset(
        {"interpreted_string_literal", "raw_string_literal", "int_literal", "float_literal", "true", "false", "nil",
         "rune_literal"}
    )  # fmt: skip
    sequences: frozenset[str] = frozenset()
    strings = frozenset({"interpreted_string_literal", "raw_string_literal"})
    fragments = frozenset({"interpreted_string_literal_content", "raw_string_literal_content", "escape_sequence"})
    joins = frozenset({"binary_expression"})
    key_values = True

    def string_text(self, node: tree_sitter.Node) -> str | None:
        if node.type in self.strings:
            return "".join(_text(c) for c in node.named_children if c.type.endswith("_content"))
        return None

    def call_parts(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str, list[tree_sitter.Node]]:
        if node.type == "type_conversion_expression":
            kind, operand = node.child_by_field_name("type"), node.child_by_field_name("operand")
            args = [operand] if operand is not None else []
            if kind is not None and kind.type == "qualified_type":
                return kind.child_by_field_name("package"), _name_of(kind.child_by_field_name("name")), args
            return None, _name_of(kind), args
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        if function is not None and function.type == "selector_expression":
            return function.child_by_field_name("operand"), _name_of(function.child_by_field_name("field")), args
        return None, _name_of(function), args

    def is_log_call(
        self, receiver: tree_sitter.Node | None, name: str, args: list[tree_sitter.Node], known: frozenset[str]
    ) -> bool:
        if receiver is None:
            return name in ("println", "print")
        if _text(receiver) == "fmt":
            if name in ("Print", "Printf", "Println"):
                return True
            to_console = bool(args) and _text(args[0]) in ("os.Stderr", "os.Stdout")
            return name in ("Fprint", "Fprintf", "Fprintln") and to_console
        return _level(name) and _is_logger(receiver, self, known)

    def path(self, node: tree_sitter.Node, depth: int = 0) -> list[str] | None:
        if depth > MAX_DEPTH:
            return None
        kind = node.type
        if kind in ("identifier", "field_identifier", "package_identifier"):
            return [_text(node)]
        if kind == "selector_expression":
            inner = node.child_by_field_name("operand")
            head = self.path(inner, depth + 1) if inner is not None else None
            return None if head is None else [*head, _name_of(node.child_by_field_name("field"))]
        if kind == "index_expression":
            inner, index = node.child_by_field_name("operand"), node.child_by_field_name("index")
            head = self.path(inner, depth + 1) if inner is not None else None
            if head is None or index is None:
                return None
            text = self.string_text(index)
            return [*head, text if text and _KEY.match(text) else "[]"]
        if kind in ("parenthesized_expression", "unary_expression") and node.named_child_count == 1:
            return self.path(node.named_children[0], depth + 1)
        if kind in self.calls:
            return _call_path(self, node, depth)
        return None

    def pairs(self, node: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]] | None:
        if node.type != "composite_literal":
            return None
        body = node.child_by_field_name("body")
        return self._elements(body) if body is not None else iter([])

    def _elements(self, body: tree_sitter.Node) -> Iterator[tuple[str, tree_sitter.Node]]:
        for element in body.named_children:
            if element.type == "keyed_element":
                parts = element.named_children
                if len(parts) == 2:
                    key = parts[0].named_children[0] if parts[0].named_children else parts[0]
                    yield self.string_text(key) or _text(key), parts[1]
            elif element.type == "literal_element":
                yield "", element


@functools.cache
def syntax(language: str) -> Syntax:
    """The parser and tree reading for one language (python, javascript, typescript, tsx, ruby, php, go)."""
    if language == "python":
        return Python(tree_sitter_python.language())
    if language == "javascript":
        return JavaScript(tree_sitter_javascript.language())
    if language == "typescript":
        return TypeScript(tree_sitter_typescript.language_typescript())
    if language == "tsx":
        return TypeScript(tree_sitter_typescript.language_tsx())
    if language == "ruby":
        return Ruby(tree_sitter_ruby.language())
    if language == "php":
        return Php(tree_sitter_php.language_php_only())  # a piece of a file, without its <?php
    if language == "go":
        return Go(tree_sitter_go.language())
    raise ValueError(language)


def logged_at_start(language: str, piece: bytes, known: frozenset[str] = frozenset()) -> tuple[bool, list[Logged]]:
    """Parse a piece of source that starts with a call: whether that call logs, and the sensitive names it writes.
    The piece may end in the middle of later code; only the first call is read. `known` are the names the file
    made loggers of (`const audit = pino()`), besides the names that say so themselves."""
    reader = syntax(language)
    tree = reader.parser.parse(piece)
    call = reader.log_call_at_start(tree.root_node, known)
    if call is None:
        return False, []
    return True, reader.logged(call)
