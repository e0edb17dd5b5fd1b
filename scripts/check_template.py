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
- HttpApi/WebSocket references point at resources of this template.

Stdlib only: PyYAML is used when it is importable, otherwise a small loader for the YAML
subset CloudFormation templates use (block maps and lists, flow lists/maps, quoted and
block scalars, and the short-form intrinsic tags !Ref, !Sub, !GetAtt, ...).

Usage: scripts/check_template.py [--template template.yaml] [--root .]
       scripts/check_template.py --list-binaries   # the function binaries, one a line
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


def check(template: dict, root: Path) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    notes: list[str] = []
    if not isinstance(template, dict):
        return ["template.yaml is not a mapping"], notes

    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if SAM_TRANSFORM not in transforms:
        errors.append(f"Transform must include {SAM_TRANSFORM} (found {transform!r})")

    resources = template.get("Resources") or {}
    globals_fn = ((template.get("Globals") or {}).get("Function")) or {}

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

        # Every function writes bookings or relays the outbox, and publishes right after
        # commit: each needs PutEvents on the bus.
        policies = props.get("Policies") or []
        if not any(isinstance(p, dict) and "EventBridgePutEventsPolicy" in p for p in policies):
            errors.append(f"{where}: needs an EventBridgePutEventsPolicy (it publishes domain events)")

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
    return errors, notes


def main(argv=None) -> int:
    root_default = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=root_default, help="workspace root")
    parser.add_argument("--template", type=Path, help="template path (default: ROOT/template.yaml)")
    parser.add_argument(
        "--list-binaries", action="store_true", help="print the binaries of the crates under functions/"
    )
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

    errors, notes = check(template, root)
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
