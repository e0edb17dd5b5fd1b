#!/usr/bin/env python3
"""Checks template.yaml for what cfn-lint cannot see (it does not know our workspace).

- every crate under functions/ (a folder with a Cargo.toml) has each of its binaries
  deployed by an AWS::Serverless::Function whose Metadata names it
  (BuildMethod: rust-cargolambda, BuildProperties.Binary: <bin>), and no function names a
  binary that does not exist;
- every function runs on provided.al2023, arm64, Handler bootstrap (Globals included);
- CodeUri points at a folder with a Cargo.toml (SAM runs `cargo lambda build` there and
  copies target/lambda/<bin>/bootstrap from it, so it must be the workspace root);
- every SQS event source (an `SQS` event on a function, or an
  AWS::Lambda::EventSourceMapping on a queue of this template) reports partial batch
  failures (FunctionResponseTypes: [ReportBatchItemFailures]); without it one bad
  message makes Lambda retry the whole batch;
- HttpApi/WebSocket references point at resources of this template;
- each function's Environment (Globals + its own) matches its role's rows of the Rust
  table shared/src/config/vars.rs (binary -> role: api Api, chat-http ChatHttp, excel Excel,
  chat-ws ChatWs, voice Voice, handoff Handoff, worker Worker, scheduler Scheduler, migrate
  Migrate): every `Deploy`
  variable of the role is given, nothing the role does not read is given, and no `Local`
  (development-only) variable is given. Allowed besides: the runtime's AWS_*, RUST_LOG,
  LOG_FORMAT. The functions whose role reads EVENT_BUS_NAME need EventBridgePutEventsPolicy;
- the functions whose role posts to chat sockets (Role::posts_to_sockets in
  shared/src/config/role.rs, parsed: chat-ws, worker, scheduler) have an inline policy
  statement allowing execute-api:ManageConnections on the template's WebSocket API, and no
  other function has one;
- the handoff function has the HttpApi routes GET, POST and HEAD /handoff/resume (an HTTP
  API route matches one method: without HEAD, link previews reach the api function);
- the UndeliveredNotifications alarm pages someone on every stack: its topic has an email
  subscription without a Condition, to a parameter without a default (so `sam deploy`
  asks for it) whose AllowedPattern asks for an address;
- the connection budget: every function has ReservedConcurrentExecutions (a number or a
  Ref to a parameter) and DB_MAX_CONNECTIONS, and
      sum(reserved concurrency x DB_MAX_CONNECTIONS) + HEADROOM (10)
          <= DatabaseMaxConnections
  since each warm instance may hold its whole pool (RDS Proxy is the alternative when this
  does not fit). The parameters count with their DEFAULTS: a deploy that overrides
  DatabaseMaxConnections or a *ReservedConcurrency parameter is not covered until it is
  re-checked with the same values, `--param Name=value` (repeatable);
- a self-test (run first, every time) proves on altered copies of the template that each
  of these checks really fails (a missing or extra variable, a missing or misplaced
  ManageConnections grant, a missing handoff route, an alarm that may page nobody, an
  exceeded budget, with defaults and with --param).

The table format is documented at the top of shared/src/config/vars.rs: role groups
`const NAME: &[Role] = &[Variant, ...];` and entries `var("NAME", Need, ROLES)`.

Stdlib only: PyYAML is used when it is importable, otherwise a small loader for the YAML
subset CloudFormation templates use (block maps and lists, flow lists/maps, quoted and
block scalars, and the short-form intrinsic tags !Ref, !Sub, !GetAtt, ...).

Usage: scripts/check_template.py [--template template.yaml] [--root .] [--param Name=value ...]
       scripts/check_template.py --list-binaries   # the function binaries, one a line
       scripts/check_template.py --self-test       # only the self-test
       scripts/check_template.py --env FUNCTION_LOGICAL_ID [--json]
           [--param Name=value ...] [--resource Name=value ...] [--secret NAME:KEY=value ...]

--env prints the function's environment as the deployed stack would have it, one
KEY=VALUE a line (no quoting; values never hold a newline), or one JSON object with --json:
- Globals' variables, then the function's own (the function's win);
- `Ref` to a parameter: --param Name=value, else the parameter's default (a parameter
  without default and without --param is an error); Conditions are evaluated from them;
- `Ref` to a resource: --resource Name=value, else the logical id itself as a placeholder;
  `Fn::GetAtt` Name.Attr: --resource Name.Attr=value, else "Name.Attr";
- pseudo parameters: --param AWS::Region=... etc., else us-east-1, 123456789012,
  amazonaws.com, aws, stack name "gomomo";
- `{{resolve:secretsmanager:NAME:SecretString:KEY}}`: --secret NAME:KEY=value, else a
  clearly fake development value ("fake-NAME-KEY"; a base64 32-byte key for
  "encryption_key", a well-formed dummy SID for "account_sid", a loopback Postgres URL for
  "url") so a development start accepts it;
- a variable whose value is AWS::NoValue is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

RUNTIME = "provided.al2023"
ARCHITECTURES = ["arm64"]
HANDLER = "bootstrap"
BUILD_METHOD = "rust-cargolambda"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


# --- YAML loading -----------------------------------------------------------------------


def _intrinsic(tag: str, value):
    """CloudFormation short form -> long form (`!Ref X` -> {"Ref": "X"})."""
    name = tag.lstrip("!")
    if name == "Ref":
        return {"Ref": value}
    if name == "Condition":
        return {"Condition": value}
    if name == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {"Fn::" + name: value}


def load_with_pyyaml(text: str):
    import yaml  # noqa: PLC0415 (optional dependency)

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, tag_suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return _intrinsic("!" + tag_suffix, value)

    Loader.add_multi_constructor("!", construct)
    return yaml.load(text, Loader=Loader)  # noqa: S506 (SafeLoader subclass)


class MiniYamlError(ValueError):
    pass


# A plain (unquoted) mapping key: a colon belongs to it unless a space or the line end
# follows (`aws:SourceArn: x` has the key `aws:SourceArn`).
PLAIN_KEY = r"(?:[^:\s]|:(?=\S))(?:[^:]|:(?=\S))*?"


class MiniYaml:
    """Indentation-based loader for the YAML subset of CloudFormation templates."""

    def __init__(self, text: str):
        self.lines = []  # (line number, indent, content without comment)
        for number, raw in enumerate(text.splitlines(), 1):
            if raw.strip() in ("---", "..."):
                continue
            self.lines.append((number, raw))
        self.pos = 0

    # - line helpers

    @staticmethod
    def _strip_comment(s: str) -> str:
        out, quote = [], None
        for i, ch in enumerate(s):
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'" and (i == 0 or s[i - 1] in " \t:[{,-"):
                quote = ch
            elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
                break
            out.append(ch)
        return "".join(out).rstrip()

    def _peek(self):
        """Next meaningful line: (number, indent, text) or None."""
        while self.pos < len(self.lines):
            number, raw = self.lines[self.pos]
            text = self._strip_comment(raw)
            if text.strip():
                if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                    raise MiniYamlError(f"line {number}: tab indentation")
                return number, len(text) - len(text.lstrip(" ")), text.strip()
            self.pos += 1
        return None

    # - scalars and flow collections

    @staticmethod
    def _scalar(s: str):
        s = s.strip()
        if s.startswith('"') and s.endswith('"') and len(s) >= 2:
            return json.loads(s)
        if s.startswith("'") and s.endswith("'") and len(s) >= 2:
            return s[1:-1].replace("''", "'")
        if s in ("", "~", "null", "Null", "NULL"):
            return None
        if s in ("true", "True", "TRUE"):
            return True
        if s in ("false", "False", "FALSE"):
            return False
        if re.fullmatch(r"[-+]?[0-9]+", s):
            return int(s)
        if re.fullmatch(r"[-+]?([0-9]*\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?", s):
            return float(s)
        return s

    def _flow(self, s: str, i: int = 0):
        """Parses a flow node starting at s[i]; returns (value, next index)."""

        def skip(j):
            while j < len(s) and s[j] in " \t":
                j += 1
            return j

        i = skip(i)
        tag = None
        if i < len(s) and s[i] == "!":
            m = re.match(r"!\S+", s[i:])
            tag = m.group(0).rstrip(",]}")
            i = skip(i + len(tag))
        if i < len(s) and s[i] in "[{":
            closing = "]" if s[i] == "[" else "}"
            items, pairs = [], {}
            i = skip(i + 1)
            while i < len(s) and s[i] != closing:
                if closing == "}":
                    key, i = self._flow_key(s, i)
                    i = skip(i + 1)
                    value, i = self._flow(s, i)
                    pairs[key] = value
                else:
                    value, i = self._flow(s, i)
                    items.append(value)
                i = skip(i)
                if i < len(s) and s[i] == ",":
                    i = skip(i + 1)
            if i >= len(s):
                raise MiniYamlError(f"unclosed flow collection: {s}")
            value = items if closing == "]" else pairs
            i += 1
        elif i < len(s) and s[i] in "\"'":
            quote, j = s[i], i + 1
            while j < len(s):
                if s[j] == "\\" and quote == '"':
                    j += 2
                    continue
                if s[j] == quote:
                    if quote == "'" and j + 1 < len(s) and s[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            value = self._scalar(s[i : j + 1])
            i = j + 1
        else:
            raw, i = self._flow_plain(s, i, stop=",]}")
            value = self._scalar(raw)
        return (_intrinsic(tag, value) if tag else value), i

    @staticmethod
    def _flow_key(s: str, i: int):
        """A flow-map key up to the `:` that is followed by a space, `,`, `}` or the end."""
        j = i
        while j < len(s) and not (s[j] == ":" and (j + 1 >= len(s) or s[j + 1] in " \t,}")):
            j += 1
        raw = s[i:j].strip()
        if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
            raw = MiniYaml._scalar(raw)
        return raw, j

    @staticmethod
    def _flow_plain(s: str, i: int, stop: str):
        j = i
        while j < len(s) and s[j] not in stop:
            j += 1
        raw = s[i:j].strip()
        if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
            raw = MiniYaml._scalar(raw)
        return raw, j

    def _inline(self, s: str, parent_indent: int):
        """The value after `key:` or `- ` on the same line (may open a nested block)."""
        s = s.strip()
        tag = None
        m = re.match(r"(![A-Za-z:]+)(\s+|$)", s)
        if m:
            tag, s = m.group(1), s[m.end() :].strip()
        if s in ("|", ">", "|-", ">-", "|+", ">+"):
            value = self._block_scalar(s, parent_indent)
        elif s == "":
            nxt = self._peek()
            if nxt and (nxt[1] > parent_indent or (nxt[1] == parent_indent and nxt[2].startswith("- "))):
                value = self._node(nxt[1])
            else:
                value = None
        elif s[0] in "[{\"'":
            value, end = self._flow(s)
            if s[end:].strip():
                raise MiniYamlError(f"unexpected text after value: {s}")
        else:
            value = self._scalar(s)
        return _intrinsic(tag, value) if tag else value

    def _block_scalar(self, style: str, parent_indent: int) -> str:
        lines, indent = [], None
        while self.pos < len(self.lines):
            _, raw = self.lines[self.pos]
            if raw.strip() == "":
                lines.append("")
                self.pos += 1
                continue
            cur = len(raw) - len(raw.lstrip(" "))
            if cur <= parent_indent:
                break
            if indent is None:
                indent = cur
            lines.append(raw[indent:])
            self.pos += 1
        while lines and lines[-1] == "":
            lines.pop()
        if style.startswith(">"):
            text = " ".join(line for line in lines if line)
        else:
            text = "\n".join(lines)
        return text if style.endswith("-") else text + "\n"

    # - block collections

    def _node(self, indent: int):
        line = self._peek()
        if line is None:
            return None
        if line[2].startswith("- ") or line[2] == "-":
            return self._sequence(indent)
        return self._mapping(indent)

    def _split_key(self, number: int, text: str):
        m = re.match(rf"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|{PLAIN_KEY})\s*:(\s+|$)(.*)$""", text)
        if not m:
            raise MiniYamlError(f"line {number}: expected `key: value`, got {text!r}")
        return self._scalar(m.group(1)), m.group(3)

    def _mapping(self, indent: int):
        result = {}
        while True:
            line = self._peek()
            if line is None or line[1] < indent:
                return result
            number, cur, text = line
            if cur > indent:
                raise MiniYamlError(f"line {number}: unexpected indentation")
            if text.startswith("- "):
                return result
            key, rest = self._split_key(number, text)
            self.pos += 1
            result[key] = self._inline(rest, cur)

    def _sequence(self, indent: int):
        result = []
        while True:
            line = self._peek()
            if line is None or line[1] != indent or not (line[2].startswith("- ") or line[2] == "-"):
                return result
            number, cur, text = line
            item = text[1:].strip()
            item_indent = cur + (len(text) - len(text[1:].lstrip(" ")))
            if item and not item.startswith(("!", "[", "{", '"', "'")) and re.match(
                rf"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|{PLAIN_KEY})\s*:(\s|$)""", item
            ):
                # `- key: value` opens a mapping whose keys are aligned with `key`.
                _, raw = self.lines[self.pos]
                self.lines[self.pos] = (number, " " * item_indent + raw.lstrip(" ")[1:].lstrip(" "))
                result.append(self._mapping(item_indent))
            else:
                self.pos += 1
                result.append(self._inline(item, cur))

    def load(self):
        line = self._peek()
        if line is None:
            return None
        value = self._node(line[1])
        rest = self._peek()
        if rest is not None:
            raise MiniYamlError(f"line {rest[0]}: unexpected content {rest[2]!r}")
        return value


def load_template(path: Path):
    text = path.read_text(encoding="utf-8")
    if os.environ.get("CHECK_TEMPLATE_MINI_YAML") != "1":
        try:
            return load_with_pyyaml(text)
        except ImportError:
            pass
    return MiniYaml(text).load()


# --- the workspace ------------------------------------------------------------------------


def crate_binaries(manifest: Path) -> list[str]:
    """The binaries of a crate: its [[bin]] names, else the package name (src/main.rs)."""
    text = manifest.read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+

        data = tomllib.loads(text)
        bins = [b["name"] for b in data.get("bin", []) if "name" in b]
        package = data.get("package", {}).get("name")
    except ImportError:
        bins, package, section = [], None, None
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith("["):
                section = line
                continue
            m = re.match(r'name\s*=\s*"([^"]+)"', line)
            if m and section == "[[bin]]":
                bins.append(m.group(1))
            elif m and section == "[package]":
                package = m.group(1)
    if bins:
        return bins
    if package and (manifest.parent / "src" / "main.rs").exists():
        return [package]
    return []


def function_crates(root: Path) -> dict[str, list[str]]:
    functions = root / "functions"
    crates = {}
    if functions.is_dir():
        for manifest in sorted(functions.glob("*/Cargo.toml")):
            crates[manifest.parent.relative_to(root).as_posix()] = crate_binaries(manifest)
    return crates


# --- checks -------------------------------------------------------------------------------


def merge(base, override):
    """SAM Globals semantics: maps merge, lists add up (Globals first), scalars are replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override if override is not None else base


def function_binary(resource: dict):
    metadata = resource.get("Metadata") or {}
    props = metadata.get("BuildProperties") or {}
    return props.get("Binary") or metadata.get("Binary")


def check(
    template: dict, root: Path, table=None, socket_roles=None, params=None
) -> tuple[list[str], list[str]]:
    """All checks. `table` is the parsed vars table (None skips the environment and budget
    checks), `socket_roles` the roles of Role::posts_to_sockets (None skips the
    ManageConnections check), `params` parameter values that replace the defaults in the
    connection budget (--param)."""
    errors: list[str] = []
    notes: list[str] = []
    budget: list[tuple[str, dict]] = []
    if not isinstance(template, dict):
        return ["template.yaml is not a mapping"], notes

    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if SAM_TRANSFORM not in transforms:
        errors.append(f"Transform must include {SAM_TRANSFORM} (found {transform!r})")

    resources = template.get("Resources") or {}
    globals_fn = ((template.get("Globals") or {}).get("Function")) or {}
    websocket_apis = [
        rid
        for rid, r in resources.items()
        if isinstance(r, dict)
        and r.get("Type") == "AWS::ApiGatewayV2::Api"
        and (r.get("Properties") or {}).get("ProtocolType") == "WEBSOCKET"
    ]

    deployed: dict[str, str] = {}  # binary -> logical id
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            errors.append(f"{logical_id}: resource is not a mapping")
            continue
        rtype = resource.get("Type")
        if rtype == "AWS::Lambda::Function":
            errors.append(
                f"{logical_id}: use AWS::Serverless::Function with BuildMethod {BUILD_METHOD} "
                "so `sam build` compiles it"
            )
            continue
        if rtype != "AWS::Serverless::Function":
            continue
        props = merge(globals_fn, resource.get("Properties") or {})
        where = f"function {logical_id}"

        if props.get("Runtime") != RUNTIME:
            errors.append(f"{where}: Runtime is {props.get('Runtime')!r}, expected {RUNTIME}")
        if props.get("Architectures") != ARCHITECTURES:
            errors.append(
                f"{where}: Architectures is {props.get('Architectures')!r}, expected {ARCHITECTURES}"
            )
        if props.get("Handler") != HANDLER:
            errors.append(f"{where}: Handler is {props.get('Handler')!r}, expected {HANDLER}")

        metadata = resource.get("Metadata") or {}
        if metadata.get("BuildMethod") != BUILD_METHOD:
            errors.append(
                f"{where}: Metadata.BuildMethod is {metadata.get('BuildMethod')!r}, expected {BUILD_METHOD}"
            )
        binary = function_binary(resource)
        if not binary:
            errors.append(
                f"{where}: Metadata.BuildProperties.Binary is missing (the workspace has several binaries)"
            )
        elif binary in deployed:
            errors.append(f"{where}: binary {binary!r} is already deployed by {deployed[binary]}")
        else:
            deployed[binary] = logical_id

        # A function that writes bookings or relays the outbox publishes right after commit:
        # its role reads EVENT_BUS_NAME, and it needs PutEvents on the bus.
        policies = props.get("Policies") or []
        role = ROLE_OF_BINARY.get(binary or "")
        publishes = table is None or role is None or "EVENT_BUS_NAME" in role_vars(table, role)
        if publishes and not any(
            isinstance(p, dict) and "EventBridgePutEventsPolicy" in p for p in policies
        ):
            errors.append(f"{where}: needs an EventBridgePutEventsPolicy (it publishes domain events)")
        if table is not None and role is not None:
            errors.extend(check_environment(where, role, props, table))
        if socket_roles is not None and role is not None:
            errors.extend(check_manage_connections(where, role, policies, socket_roles, websocket_apis))
        errors.extend(check_routes(where, binary, props))
        if role is not None:
            budget.append((logical_id, props))

        code_uri = props.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            if not (root / code_uri / "Cargo.toml").is_file():
                errors.append(f"{where}: CodeUri {code_uri!r} has no Cargo.toml")
        elif code_uri is None:
            errors.append(f"{where}: CodeUri is missing")

        for event_id, event in (props.get("Events") or {}).items():
            etype = (event or {}).get("Type")
            eprops = (event or {}).get("Properties") or {}
            if etype == "SQS":
                if "ReportBatchItemFailures" not in (eprops.get("FunctionResponseTypes") or []):
                    errors.append(
                        f"{where}: SQS event {event_id} needs FunctionResponseTypes: [ReportBatchItemFailures]"
                    )
            if etype in ("HttpApi", "Api"):
                ref = eprops.get("ApiId") if etype == "HttpApi" else eprops.get("RestApiId")
                if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] not in resources:
                    errors.append(f"{where}: event {event_id} refers to unknown API {ref['Ref']!r}")

    queues = {rid for rid, r in resources.items() if isinstance(r, dict) and r.get("Type") == "AWS::SQS::Queue"}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        props = resource.get("Properties") or {}
        arn = json.dumps(props.get("EventSourceArn"))
        if any(f'"{q}"' in arn for q in queues) or ":sqs:" in arn:
            if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
                errors.append(
                    f"{logical_id}: SQS event source mapping needs FunctionResponseTypes: [ReportBatchItemFailures]"
                )

    crates = function_crates(root)
    known_binaries = set()
    for crate, binaries in crates.items():
        if not binaries:
            errors.append(f"{crate}: no binary found ([[bin]] or src/main.rs)")
        for binary in binaries:
            known_binaries.add(binary)
            if binary in deployed:
                notes.append(f"{crate}: binary {binary} -> {deployed[binary]}")
            else:
                errors.append(
                    f"{crate}: binary {binary!r} has no function in the template "
                    f"(add an AWS::Serverless::Function with Metadata.BuildProperties.Binary: {binary})"
                )
    for binary, logical_id in deployed.items():
        if binary not in known_binaries:
            errors.append(
                f"function {logical_id}: binary {binary!r} is not a binary of any crate under functions/"
            )
        if binary not in ROLE_OF_BINARY:
            errors.append(
                f"function {logical_id}: binary {binary!r} has no role in ROLE_OF_BINARY "
                "(add it there and a Role in shared/src/config/role.rs)"
            )
    errors.extend(check_alarm(template))
    if table is not None:
        budget_errors, budget_note = check_budget(template, budget, params or {})
        errors.extend(budget_errors)
        if budget_note:
            notes.append(budget_note)
    return errors, notes


# --- the variables table (shared/src/config/vars.rs) ------------------------------------------

VARS_RS = Path("shared/src/config/vars.rs")
ROLE_OF_BINARY = {
    "api": "Api",
    "chat-http": "ChatHttp",
    "excel": "Excel",
    "chat-ws": "ChatWs",
    "voice": "Voice",
    "handoff": "Handoff",
    "worker": "Worker",
    "scheduler": "Scheduler",
    "migrate": "Migrate",
}
NEEDS = ("Deploy", "Optional", "Local")
# Set by the Lambda runtime or read by the logging library, never by the config table.
RUNTIME_PREFIXES = ("AWS_",)
RUNTIME_NAMES = {"RUST_LOG", "LOG_FORMAT"}
# Connections kept free of the functions: RDS reserves 3 for its superuser, plus an
# operator's psql session, monitoring and the migration function's own run.
HEADROOM = 10
BUDGET_PARAMETER = "DatabaseMaxConnections"


def parse_vars_table(text: str) -> dict[str, tuple[str, frozenset]]:
    """name -> (need, roles) from the Rust source; raises ValueError when it finds nothing."""
    code = re.sub(r"//[^\n]*", "", text)
    groups = {
        m.group(1): frozenset(r.strip() for r in m.group(2).split(",") if r.strip())
        for m in re.finditer(r"const\s+([A-Z_][A-Z0-9_]*)\s*:\s*&\[Role\]\s*=\s*&\[([^\]]*)\]\s*;", code)
    }
    table = {}
    for m in re.finditer(
        r'\bvar\(\s*"([A-Z0-9_]+)"\s*,\s*([A-Za-z]+)\s*,\s*(&\[[^\]]*\]|[A-Z_][A-Z0-9_]*)\s*,?\s*\)', code
    ):
        name, need, roles = m.groups()
        if need not in NEEDS:
            raise ValueError(f"{name}: unknown need {need!r}")
        if roles.startswith("&["):
            role_set = frozenset(r.strip() for r in roles[2:-1].split(",") if r.strip())
        elif roles in groups:
            role_set = groups[roles]
        else:
            raise ValueError(f"{name}: unknown role group {roles!r}")
        if name in table:
            raise ValueError(f"{name} is listed twice")
        table[name] = (need, role_set)
    if not table:
        raise ValueError("no var(...) entries found")
    return table


def load_vars_table(root: Path):
    return parse_vars_table((root / VARS_RS).read_text(encoding="utf-8"))


def role_vars(table, role: str) -> dict[str, str]:
    """The variables `role` reads: name -> need."""
    return {name: need for name, (need, roles) in table.items() if role in roles}


def is_runtime(name: str) -> bool:
    return name in RUNTIME_NAMES or name.startswith(RUNTIME_PREFIXES)


def check_environment(where: str, role: str, props: dict, table) -> list[str]:
    errors = []
    env = ((props.get("Environment") or {}).get("Variables")) or {}
    reads = role_vars(table, role)
    for name, need in reads.items():
        if need == "Deploy" and name not in env:
            errors.append(
                f"{where}: its role {role} reads {name}, but its Environment (Globals + its own) "
                "does not give it"
            )
    for name in env:
        if is_runtime(name):
            continue
        if name not in table:
            errors.append(f"{where}: gives {name}, which no role reads (not in {VARS_RS})")
        elif name not in reads:
            errors.append(
                f"{where}: gives {name}, which its role {role} does not read "
                f"(move it out of Globals or the function, or add {role} to its row in {VARS_RS})"
            )
        elif reads[name] == "Local":
            errors.append(f"{where}: gives {name}, which is for local runs only (Local in {VARS_RS})")
    return errors


ROLE_RS = Path("shared/src/config/role.rs")
MANAGE_CONNECTIONS = "execute-api:ManageConnections"


def parse_socket_roles(text: str) -> frozenset:
    """The roles of `Role::posts_to_sockets` (`matches!(self, Role::A | Role::B)`)."""
    code = re.sub(r"//[^\n]*", "", text)
    m = re.search(
        r"fn\s+posts_to_sockets\s*\(\s*self\s*\)\s*->\s*bool\s*\{\s*matches!\s*\(\s*self\s*,([^)]*)\)",
        code,
    )
    if not m:
        raise ValueError("no `fn posts_to_sockets(self) -> bool { matches!(self, ...) }` found")
    roles = frozenset(re.findall(r"Role::([A-Za-z]+)", m.group(1)))
    if not roles:
        raise ValueError("posts_to_sockets names no role")
    return roles


def load_socket_roles(root: Path) -> frozenset:
    return parse_socket_roles((root / ROLE_RS).read_text(encoding="utf-8"))


def _statements(policy):
    """The IAM statements of one SAM policy entry (inline documents only)."""
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        return [statements]
    return [s for s in statements or [] if isinstance(s, dict)]


def check_manage_connections(where, role, policies, socket_roles, websocket_apis) -> list[str]:
    """A role that posts to sockets needs ManageConnections on the chat WebSocket API; the
    others must not have it."""
    granted, on_socket_api = False, False
    for policy in policies:
        for st in _statements(policy):
            if st.get("Effect") != "Allow":
                continue
            actions = st.get("Action")
            actions = [actions] if isinstance(actions, str) else actions or []
            if not any(a in (MANAGE_CONNECTIONS, "execute-api:*") for a in actions):
                continue
            granted = True
            resource = json.dumps(st.get("Resource"))
            if any(re.search(rf"\b{re.escape(api)}\b", resource) for api in websocket_apis):
                on_socket_api = True
    if role in socket_roles:
        if not websocket_apis:
            return [f"{where}: its role {role} posts to chat sockets, but the template has no WebSocket API"]
        if not granted:
            return [
                f"{where}: its role {role} posts to chat sockets (Role::posts_to_sockets in {ROLE_RS}), "
                f"so its Policies need {MANAGE_CONNECTIONS} on the chat WebSocket API "
                f"({', '.join(websocket_apis)}): without it every push is refused (403)"
            ]
        if not on_socket_api:
            return [
                f"{where}: grants {MANAGE_CONNECTIONS}, but its Resource does not name the chat "
                f"WebSocket API ({', '.join(websocket_apis)})"
            ]
    elif granted:
        return [
            f"{where}: grants {MANAGE_CONNECTIONS}, which its role {role} does not use "
            f"(it is not in Role::posts_to_sockets in {ROLE_RS})"
        ]
    return []


# HttpApi routes a binary must have: (method, path, why).
REQUIRED_ROUTES = {
    "voice": [
        ("POST", "/twilio/voice", "a call starts"),
        ("POST", "/twilio/voice/gather", "each thing the caller says"),
        ("POST", "/twilio/voice/status", "the call ended: frees its place"),
        ("POST", "/twilio/voice/dial", "a transfer's outcome: goodbye or voicemail"),
        ("POST", "/twilio/voice/recorded", "a voicemail's recording"),
        ("POST", "/twilio/voice/transcribed", "a voicemail's transcription"),
    ],
    "handoff": [
        ("GET", "/handoff/resume", "the handoff page, which spends nothing"),
        ("POST", "/handoff/resume", "the person's explicit action that spends the one-time token"),
        (
            "HEAD",
            "/handoff/resume",
            "HTTP API routes match the method exactly: without it link previews' HEAD requests "
            "fall through to $default (the api function)",
        ),
    ],
}


def check_routes(where, binary, props) -> list[str]:
    have = set()
    for event in (props.get("Events") or {}).values():
        if (event or {}).get("Type") != "HttpApi":
            continue
        eprops = (event or {}).get("Properties") or {}
        if isinstance(eprops.get("Method"), str) and isinstance(eprops.get("Path"), str):
            have.add((eprops["Method"].upper(), eprops["Path"]))
    return [
        f"{where}: needs the HttpApi route {method} {path} ({why})"
        for method, path, why in REQUIRED_ROUTES.get(binary or "", [])
        if (method, path) not in have
    ]


ALARM_METRIC = "UndeliveredNotifications"


def check_alarm(template: dict) -> list[str]:
    """The non-delivery alarm pages someone on every stack: its topic has an email
    subscription, not behind a Condition, to a parameter without a default whose
    AllowedPattern asks for an address."""
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    alarms = [
        (rid, r.get("Properties") or {})
        for rid, r in resources.items()
        if isinstance(r, dict)
        and r.get("Type") == "AWS::CloudWatch::Alarm"
        and (r.get("Properties") or {}).get("MetricName") == ALARM_METRIC
    ]
    if not alarms:
        return [f"no AWS::CloudWatch::Alarm on the {ALARM_METRIC} metric: silent non-delivery pages nobody"]
    errors = []
    for alarm_id, props in alarms:
        topics = [a["Ref"] for a in props.get("AlarmActions") or [] if isinstance(a, dict) and "Ref" in a]
        paged = False
        problems = []
        for sid, sub in resources.items():
            if not isinstance(sub, dict) or sub.get("Type") != "AWS::SNS::Subscription":
                continue
            sprops = sub.get("Properties") or {}
            if sprops.get("TopicArn") not in [{"Ref": t} for t in topics] or sprops.get("Protocol") != "email":
                continue
            if "Condition" in sub:
                problems.append(f"{sid} has Condition {sub['Condition']!r}, so a stack may have none")
                continue
            endpoint = sprops.get("Endpoint")
            param = parameters.get(endpoint.get("Ref")) if isinstance(endpoint, dict) else None
            if not isinstance(param, dict):
                problems.append(f"{sid}: Endpoint is not a Ref to a parameter")
            elif "Default" in param:
                problems.append(
                    f"{sid}: parameter {endpoint['Ref']} has a default ({param['Default']!r}); "
                    "it must be required"
                )
            elif "@" not in str(param.get("AllowedPattern", "")):
                problems.append(f"{sid}: parameter {endpoint['Ref']} needs an email AllowedPattern")
            else:
                paged = True
        if not paged:
            errors.append(
                f"{alarm_id}: the {ALARM_METRIC} alarm must page someone on every stack: an "
                f"AWS::SNS::Subscription (Protocol email, no Condition) on its AlarmActions topic "
                f"{topics}, to a required parameter with an email AllowedPattern"
                + (f" ({'; '.join(problems)})" if problems else "")
            )
    return errors


def _number(value, parameters: dict, what: str, params=None):
    """An int from a literal or a Ref to a parameter (its --param value, else its
    default); (value, error)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in (params or {}):
        value = params[value["Ref"]]
    elif isinstance(value, dict) and set(value) == {"Ref"}:
        param = parameters.get(value["Ref"])
        if not isinstance(param, dict) or "Default" not in param:
            return None, f"{what} refers to {value['Ref']!r}, which is not a parameter with a default"
        value = param["Default"]
    try:
        return int(str(value)), None
    except ValueError:
        return None, f"{what} is {value!r}, not a number"


def check_budget(template: dict, functions: list[tuple[str, dict]], params=None):
    """The connection budget with the parameters' defaults, or the values in `params`
    (--param Name=value: a planned deploy's overrides)."""
    params = params or {}
    parameters = template.get("Parameters") or {}
    unknown = sorted(k for k in params if k not in parameters and not k.startswith("AWS::"))
    if unknown:
        return [f"--param {', '.join(unknown)}: not a parameter of the template"], None
    errors, lines, total = [], [], 0
    for logical_id, props in functions:
        reserved = props.get("ReservedConcurrentExecutions")
        if reserved is None:
            errors.append(
                f"function {logical_id}: needs ReservedConcurrentExecutions (the connection budget "
                "counts each instance's pool)"
            )
            continue
        n, err = _number(reserved, parameters, f"function {logical_id}: ReservedConcurrentExecutions", params)
        env = ((props.get("Environment") or {}).get("Variables")) or {}
        pool, perr = _number(
            env.get("DB_MAX_CONNECTIONS"), parameters, f"function {logical_id}: DB_MAX_CONNECTIONS", params
        )
        for e in (err, perr):
            if e:
                errors.append(e)
        if n is None or pool is None:
            continue
        total += n * pool
        lines.append(f"{logical_id} {n} x {pool} = {n * pool}")
    limit_param = parameters.get(BUDGET_PARAMETER)
    if not isinstance(limit_param, dict) or "Default" not in limit_param:
        errors.append(f"parameter {BUDGET_PARAMETER} (Postgres max_connections) with a default is missing")
        return errors, None
    limit, lerr = _number({"Ref": BUDGET_PARAMETER}, parameters, BUDGET_PARAMETER, params)
    if lerr:
        return errors + [lerr], None
    used = sorted(k for k in params if k in parameters)
    basis = (
        "the parameters' defaults, with --param " + ", ".join(f"{k}={params[k]}" for k in used)
        if used
        else "the parameters' defaults; a deploy that overrides them: re-check with --param Name=value"
    )
    arithmetic = " + ".join(lines) + f" -> {total}, + headroom {HEADROOM} = {total + HEADROOM}"
    if total + HEADROOM > limit:
        errors.append(
            "connection budget exceeded: each warm Lambda instance may hold its whole pool, so "
            "sum(ReservedConcurrentExecutions x DB_MAX_CONNECTIONS) + headroom must be <= "
            f"{BUDGET_PARAMETER} ({limit}): {arithmetic} > {limit} (checked with {basis}). Lower a "
            "reserved concurrency or a pool, raise the server's max_connections (and the "
            "parameter), or put RDS Proxy in front of Postgres"
        )
        return errors, None
    return errors, f"connection budget ({basis}): {arithmetic} <= {BUDGET_PARAMETER} {limit}"


# --- resolving a function's environment (--env) --------------------------------------------

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::Partition": "aws",
    "AWS::StackName": "gomomo",
}
NO_VALUE = object()
DYNAMIC_REF = re.compile(r"\{\{resolve:secretsmanager:([^:}]+):SecretString:([^:}]+)(?::[^}]*)?\}\}")


def fake_secret(name: str, key: str) -> str:
    if key == "encryption_key":
        import base64  # noqa: PLC0415

        return base64.b64encode(b"fake-local-development-key-32byt").decode()
    if key == "account_sid":
        return "AC" + "f" * 32
    if key == "url":
        return "postgres://fake@127.0.0.1:5432/fake"
    return f"fake-{name.replace('/', '-')}-{key}"


class Resolver:
    def __init__(self, template: dict, params: dict, resources: dict, secrets: dict):
        self.template = template
        self.resources = resources
        self.secrets = secrets
        self.params = dict(PSEUDO)
        for name, spec in (template.get("Parameters") or {}).items():
            if name in params:
                self.params[name] = params[name]
            elif isinstance(spec, dict) and "Default" in spec:
                self.params[name] = str(spec["Default"])
        self.params.update({k: v for k, v in params.items() if k.startswith("AWS::")})
        unknown = [k for k in params if k not in self.params]
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(unknown)}")
        self.conditions = template.get("Conditions") or {}

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        if name in (self.template.get("Parameters") or {}):
            raise ValueError(f"parameter {name} has no default: pass --param {name}=VALUE")
        if name in (self.template.get("Resources") or {}):
            return self.resource_ref(name)
        raise ValueError(f"Ref to unknown {name!r}")

    # What a resource stands for; a subclass (the e2e run's stack) names them itself.
    def resource_ref(self, name: str):
        return self.resources.get(name, name)

    def resource_att(self, name: str, attr: str):
        key = f"{name}.{attr}"
        return self.resources.get(key, key)

    def condition(self, name: str) -> bool:
        return bool(self.value(self.conditions[name]))

    def sub(self, text: str, local: dict) -> str:
        def one(m):
            key = m.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in local:
                return str(local[key])
            if "." in key and not key.startswith("AWS::"):
                return str(self.resource_att(*key.split(".", 1)))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def secret(self, text: str) -> str:
        def one(m):
            name, key = m.group(1), m.group(2)
            return self.secrets.get(f"{name}:{key}", fake_secret(name, key))

        return DYNAMIC_REF.sub(one, text)

    def value(self, node):
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Sub":
                if isinstance(arg, list):
                    local = {k: self.value(v) for k, v in (arg[1] or {}).items()}
                    return self.sub(arg[0], local)
                return self.sub(arg, {})
            if fn == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.resource_att(name, attr)
            if fn == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Fn::Equals":
                return str(self.value(arg[0])) == str(self.value(arg[1]))
            if fn == "Fn::Not":
                return not self.value(arg[0])
            if fn == "Fn::And":
                return all(self.value(a) for a in arg)
            if fn == "Fn::Or":
                return any(self.value(a) for a in arg)
            if fn == "Fn::Join":
                return arg[0].join(str(self.value(a)) for a in arg[1])
            if fn.startswith("Fn::"):
                raise ValueError(f"{fn} is not supported by --env")
        if isinstance(node, dict):
            return {k: self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, (int, float)):
            return str(node)
        return node

    def environment(self, logical_id: str) -> dict[str, str]:
        resources = self.template.get("Resources") or {}
        resource = resources.get(logical_id)
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            functions = [k for k, r in resources.items() if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"]
            raise ValueError(f"{logical_id!r} is not a function of the template ({', '.join(functions)})")
        globals_fn = ((self.template.get("Globals") or {}).get("Function")) or {}
        props = merge(globals_fn, resource.get("Properties") or {})
        out = {}
        for name, raw in (((props.get("Environment") or {}).get("Variables")) or {}).items():
            value = self.value(raw)
            if value is NO_VALUE:
                continue
            out[name] = self.secret(str(value))
        return out


def parse_pairs(pairs, what: str) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


# --- self-test -------------------------------------------------------------------------------


def self_test(template: dict, root: Path, table, socket_roles) -> list[str]:
    """Alters copies of the template and asserts each alteration is caught."""
    import copy  # noqa: PLC0415

    failures = []

    def expect(label, mutate, needle, params=None):
        t = copy.deepcopy(template)
        mutate(t)
        errors, _ = check(t, root, table, socket_roles, params)
        if not any(needle in e for e in errors):
            failures.append(f"{label}: expected an error containing {needle!r}, got {errors!r}")

    def policies(t, logical_id):
        return t["Resources"][logical_id]["Properties"].setdefault("Policies", [])

    def drop_manage_connections(t, logical_id):
        kept = [
            p
            for p in policies(t, logical_id)
            if not any(MANAGE_CONNECTIONS in json.dumps(s.get("Action")) for s in _statements(p))
        ]
        t["Resources"][logical_id]["Properties"]["Policies"] = kept

    def fn_env(t, logical_id):
        return t["Resources"][logical_id]["Properties"].setdefault("Environment", {}).setdefault("Variables", {})

    functions = {
        function_binary(r): k
        for k, r in (template.get("Resources") or {}).items()
        if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"
    }
    worker, api = functions.get("worker"), functions.get("api")
    if not worker or not api:
        return ["self-test: the template has no api or worker function"]
    socket_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": MANAGE_CONNECTIONS,
                "Resource": {"Fn::Sub": "arn:aws:execute-api:*:*:${ChatWebSocketApi}/*"},
            }
        ]
    }
    for binary in ("chat-ws", "worker", "scheduler"):
        logical_id = functions.get(binary)
        if logical_id is None:
            failures.append(f"self-test: the template has no {binary} function")
            continue
        expect(
            f"{binary} without ManageConnections",
            lambda t, lid=logical_id: drop_manage_connections(t, lid),
            f"function {logical_id}: its role {ROLE_OF_BINARY[binary]} posts to chat sockets",
        )
    expect(
        "ManageConnections on another API",
        lambda t: (
            drop_manage_connections(t, worker),
            policies(t, worker).append(
                {"Statement": [{"Effect": "Allow", "Action": [MANAGE_CONNECTIONS], "Resource": {"Fn::Sub": "${HttpApi}/*"}}]}
            ),
        ),
        "does not name the chat WebSocket API",
    )
    expect(
        "ManageConnections where nothing posts",
        lambda t: policies(t, api).append(copy.deepcopy(socket_policy)),
        f"function {api}: grants {MANAGE_CONNECTIONS}, which its role Api does not use",
    )
    handoff = functions.get("handoff")
    for method in ("GET", "POST", "HEAD"):

        def drop_route(t, method=method):
            events = t["Resources"][handoff]["Properties"]["Events"]
            for name, event in list(events.items()):
                eprops = (event or {}).get("Properties") or {}
                if eprops.get("Path") == "/handoff/resume" and str(eprops.get("Method")).upper() == method:
                    del events[name]

        expect(f"handoff without {method}", drop_route, f"needs the HttpApi route {method} /handoff/resume")
    alarm_subscriptions = [
        rid
        for rid, r in (template.get("Resources") or {}).items()
        if isinstance(r, dict) and r.get("Type") == "AWS::SNS::Subscription"
    ]
    alarm_params = [
        r["Properties"]["Endpoint"]["Ref"]
        for rid, r in (template.get("Resources") or {}).items()
        if rid in alarm_subscriptions and isinstance((r.get("Properties") or {}).get("Endpoint"), dict)
    ]
    if not alarm_subscriptions or not alarm_params:
        failures.append("self-test: the template has no alarm subscription to a parameter")
    else:
        expect(
            "alarm email with an empty default",
            lambda t: t["Parameters"][alarm_params[0]].__setitem__("Default", ""),
            "it must be required",
        )
        expect(
            "alarm subscription behind a condition",
            lambda t: t["Resources"][alarm_subscriptions[0]].__setitem__("Condition", "HasAlarmEmail"),
            "so a stack may have none",
        )
        expect(
            "no alarm subscription",
            lambda t: [t["Resources"].pop(rid) for rid in alarm_subscriptions],
            "must page someone on every stack",
        )
    expect(
        "connection budget with a planned --param",
        lambda t: None,
        "checked with the parameters' defaults, with --param ApiReservedConcurrency=50",
        params={"ApiReservedConcurrency": "50"},
    )
    expect(
        "connection budget with a smaller server (--param)",
        lambda t: None,
        "connection budget exceeded",
        params={BUDGET_PARAMETER: "40"},
    )
    expect("unknown --param", lambda t: None, "not a parameter of the template", params={"NoSuchParam": "1"})
    expect("missing SMTP_HOST", lambda t: fn_env(t, worker).pop("SMTP_HOST", None), "reads SMTP_HOST")
    expect("extra SMTP_HOST", lambda t: fn_env(t, api).__setitem__("SMTP_HOST", "x"), "gives SMTP_HOST, which its role Api does not read")
    expect("unknown variable", lambda t: fn_env(t, api).__setitem__("NOT_A_SETTING", "x"), "which no role reads")
    expect(
        "local-only variable",
        lambda t: fn_env(t, worker).__setitem__("MAIL_DIR", "/tmp"),
        "for local runs only",
    )
    expect(
        "global variable not every role reads",
        lambda t: t["Globals"]["Function"]["Environment"]["Variables"].__setitem__("AUTONOMY_ENABLED", "true"),
        "gives AUTONOMY_ENABLED, which its role",
    )
    expect(
        "connection budget",
        lambda t: t["Parameters"][BUDGET_PARAMETER].__setitem__("Default", 30),
        "(checked with the parameters' defaults; a deploy that overrides them: re-check with --param",
    )
    expect(
        "reserved concurrency",
        lambda t: t["Resources"][worker]["Properties"].pop("ReservedConcurrentExecutions"),
        "needs ReservedConcurrentExecutions",
    )
    errors, _ = check(template, root, table, socket_roles)
    if errors:
        failures.append(f"the unaltered template fails: {errors!r}")
    roles = parse_socket_roles(
        "fn posts_to_sockets(self) -> bool {\n    // Role::Api is not one\n"
        "    matches!(self, Role::ChatWs | Role::Worker)\n}\n"
    )
    if roles != {"ChatWs", "Worker"}:
        failures.append(f"parse_socket_roles: {roles!r}")
    # The table parser reads groups, inline lists and multi-line entries.
    sample = parse_vars_table(
        'const G: &[Role] = &[Api, Worker];\n// var("COMMENTED", Deploy, G),\n'
        'var("A", Deploy, G),\nvar(\n    "B",\n    Local,\n    &[Voice],\n),\n'
    )
    if sample != {"A": ("Deploy", frozenset({"Api", "Worker"})), "B": ("Local", frozenset({"Voice"}))}:
        failures.append(f"parse_vars_table: {sample!r}")
    # --env: parameters, conditions, resources and secrets.
    env = Resolver(
        template,
        {"SmtpHost": "127.0.0.1", "MailFrom": "bookings@example.com", "GoogleSecretName": "g"},
        {"EventBus": "bus-1"},
        {"g:client_id": "cid"},
    ).environment(worker)
    for key, want in {
        "SMTP_HOST": "127.0.0.1",
        "EVENT_BUS_NAME": "bus-1",
        "GOOGLE_CLIENT_ID": "cid",
        "GOOGLE_CLIENT_SECRET": "fake-g-client_secret",
        "GOMOMO_ENV": "production",
    }.items():
        if env.get(key) != want:
            failures.append(f"--env {worker}: {key} is {env.get(key)!r}, expected {want!r}")
    return failures


def main(argv=None) -> int:
    root_default = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=root_default, help="workspace root")
    parser.add_argument("--template", type=Path, help="template path (default: ROOT/template.yaml)")
    parser.add_argument(
        "--list-binaries", action="store_true", help="print the binaries of the crates under functions/"
    )
    parser.add_argument("--self-test", action="store_true", help="run only the self-test")
    parser.add_argument("--env", metavar="FUNCTION", help="print a function's resolved environment")
    parser.add_argument("--json", action="store_true", help="--env prints one JSON object")
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="a parameter value: for --env, and in place of its default in the connection budget",
    )
    parser.add_argument("--resource", action="append", metavar="NAME=VALUE", help="a resource's Ref or Name.Attr (--env)")
    parser.add_argument("--secret", action="append", metavar="NAME:KEY=VALUE", help="a Secrets Manager value (--env)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.list_binaries:
        for binaries in function_crates(root).values():
            for binary in binaries:
                print(binary)
        return 0

    path = args.template or root / "template.yaml"
    try:
        template = load_template(path)
    except (OSError, ValueError) as err:  # MiniYamlError and yaml.YAMLError-free paths
        print(f"check_template: cannot read {path}: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 (yaml.YAMLError without importing yaml)
        print(f"check_template: cannot parse {path}: {err}", file=sys.stderr)
        return 1

    if args.env:
        try:
            resolver = Resolver(
                template,
                parse_pairs(args.param, "--param"),
                parse_pairs(args.resource, "--resource"),
                parse_pairs(args.secret, "--secret"),
            )
            env = resolver.environment(args.env)
        except (ValueError, KeyError) as err:
            print(f"check_template --env: {err}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(env, indent=2, sort_keys=True))
        else:
            for key, value in env.items():
                if "\n" in value:
                    print(f"check_template --env: {key} holds a newline", file=sys.stderr)
                    return 2
                print(f"{key}={value}")
        return 0

    try:
        table = load_vars_table(root)
        socket_roles = load_socket_roles(root)
    except (OSError, ValueError) as err:
        print(f"check_template: cannot read {VARS_RS} or {ROLE_RS}: {err}", file=sys.stderr)
        return 1
    try:
        params = parse_pairs(args.param, "--param")
    except ValueError as err:
        print(f"check_template: {err}", file=sys.stderr)
        return 2
    failures = self_test(template, root, table, socket_roles)
    if failures:
        print(f"check_template: self-test: {len(failures)} failure(s):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    if args.self_test:
        print("check_template: self-test ok")
        return 0

    errors, notes = check(template, root, table, socket_roles, params)
    if errors:
        print(f"check_template: {path.name}: {len(errors)} problem(s):", file=sys.stderr)
        for error in errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"check_template: ok  {note}")
    print(f"check_template: {path.name} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
