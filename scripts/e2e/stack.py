"""template.yaml as a local stack: parameters, resource names and each function's
environment, resolved the way CloudFormation would for a stack named STACK_NAME.

Everything the local run puts in place of the cloud is named in LOCAL below, and only
there: the answers to `sam deploy --guided` (parameters), what Secrets Manager would hold
(secrets), and the variables the run overrides with loopback values (overrides).

One resolver serves the checks and the run: a function's environment comes from
`scripts/check_template.py --env` (Globals.Function.Environment merged with the
function's own, intrinsics and `{{resolve:secretsmanager:…}}` resolved from LOCAL's
parameters and secrets); if it fails, the run stops. Then LOCAL["overrides"] apply, each
only where the function's role reads the variable (the table in
shared/src/config/vars.rs, parsed by check_template.py), so a variable the template fails
to give is not papered over; `function_env` returns notes naming each override the template
does not give that function. Resource properties (for moto) go through the same Resolver
class, with this stack's resource names.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from check_template import ROLE_OF_BINARY, Resolver, is_runtime, load_template, load_vars_table, role_vars  # noqa: E402

STACK_NAME = "gomomo-e2e"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account: the ARNs it makes carry it

DEMO_TENANT = "6d0e0000-0000-4000-8000-000000000001"
TWILIO_ACCOUNT_SID = "AC" + "e2e0" * 8
TWILIO_AUTH_TOKEN = "e2e-twilio-auth-token"


def _stable_secret(name: str, size: int = 32) -> str:
    """A fixed random-looking value per name (the same in every run, never a real secret)."""
    return hashlib.sha256(f"gomomo-e2e:{name}".encode()).hexdigest()[:size]


# The one place where the local run differs from a deployed stack. `{smtp_port}` and the
# other `{…}` fields are filled with the ports of the servers the run starts.
LOCAL = {
    # `sam deploy --parameter-overrides`: only what differs from the template's defaults.
    "parameters": {
        "PublicBaseUrl": "{public_base_url}",
        # Required by the template (no default); the mail server itself is the local sink
        # (SMTP_URL below, which the configuration prefers over the host form).
        "SmtpHost": "127.0.0.1",
        "MailFrom": "bookings@gomomo.test",
        # Required: who the non-delivery alarm pages (no alarm exists locally).
        "AlarmEmail": "alarms@gomomo.test",
    },
    # Secrets Manager: (secret name, JSON key) -> value. A reference not listed here gets
    # check_template.py's clearly fake development value.
    "secrets": {
        ("gomomo/database", "url"): "{database_url}",
        ("gomomo/platform-key", "key"): _stable_secret("platform-key", 40),
        ("gomomo/platform-key", "encryption_key"): base64.b64encode(
            hashlib.sha256(b"gomomo-e2e:encryption-key").digest()
        ).decode(),
        ("gomomo/twilio", "auth_token"): TWILIO_AUTH_TOKEN,
        ("gomomo/twilio", "account_sid"): TWILIO_ACCOUNT_SID,
        ("gomomo/twilio", "handoff_secret"): _stable_secret("handoff-secret", 40),
    },
    # Set on each function whose role reads the variable (AWS_* on every one, as the Lambda
    # runtime does): in place of the template's value, or added where the template does
    # not give it (the run log lists those per function). A Deploy variable the template
    # does not give is left out and named in the log: the template's gap shows.
    "overrides": {
        "GOMOMO_ENV": "development",
        # Every request comes from 127.0.0.1 and runs repeat on one database: request
        # budgets off (the run log names it among the overrides).
        "RATE_LIMITS": "off",
        "DATABASE_URL": "{database_url}",
        "PUBLIC_BASE_URL": "{public_base_url}",
        "SMTP_URL": "smtp://127.0.0.1:{smtp_port}?tls=none",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:{twilio_port}",
        "WS_MANAGEMENT_ENDPOINT": "http://127.0.0.1:{management_port}/prod",
        "CHAT_WS_URL": "ws://127.0.0.1:{ws_port}/prod",
        # The AWS SDK's endpoint (moto) and what the Lambda runtime itself provides.
        "AWS_ENDPOINT_URL": "{moto_endpoint}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Development only (production refuses it): seconds added to the functions' clock.
        "GOMOMO_CLOCK_OFFSET_SECONDS": "{clock_offset}",
    },
}



class _StackResolver(Resolver):
    """check_template's Resolver with this stack's parameters and resource names."""

    def __init__(self, stack: "Stack"):
        params = {k: stack.fill(v) for k, v in stack.params.items()}
        params.update({"AWS::StackName": STACK_NAME, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT})
        super().__init__(stack.template, params, {}, {})
        self.stack = stack

    def value(self, node):
        # Resource properties keep their numbers and booleans (moto takes them as such).
        if isinstance(node, (bool, int, float)):
            return node
        return super().value(node)

    def resource_ref(self, name: str):
        return self.stack.ref(name)

    def resource_att(self, name: str, attr: str):
        return self.stack.get_att(name, attr)


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, template_path: Path = ROOT / "template.yaml", values: dict | None = None):
        self.template = load_template(template_path)
        self.table = load_vars_table(ROOT)
        self.values = dict(values or {})
        self.params = {}
        missing = []
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in LOCAL["parameters"]:
                self.params[name] = LOCAL["parameters"][name]
            elif "Default" in spec:
                self.params[name] = str(spec["Default"]) if spec["Default"] is not None else ""
            else:
                missing.append(name)
        if missing:
            raise StackError(
                f"template parameter(s) without a default: {', '.join(missing)}; `sam deploy` asks "
                "for them, so give them in LOCAL['parameters'] (scripts/e2e/stack.py)"
            )
        unknown = sorted(set(LOCAL["parameters"]) - set(self.params))
        if unknown:
            raise StackError(f"LOCAL['parameters'] names no parameter of the template: {', '.join(unknown)}")

    # --- values -------------------------------------------------------------------------

    def fill(self, value: str) -> str:
        """`{database_url}` and the like from the run's values (unknown fields stay)."""
        return re.sub(r"\{([a-z_]+)\}", lambda m: str(self.values.get(m.group(1), m.group(0))), value)

    @property
    def resources(self) -> dict:
        return self.template.get("Resources") or {}

    def functions(self) -> dict[str, str]:
        """Logical id -> binary name of every function."""
        out = {}
        for lid, r in self.resources.items():
            if r.get("Type") == "AWS::Serverless::Function":
                out[lid] = ((r.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary", lid)
        return out

    def physical_name(self, lid: str) -> str:
        """The name CloudFormation gives a resource: its Name/QueueName property, else
        `<stack>-<LogicalId>` (CloudFormation adds a random suffix; the run has no need)."""
        props = self.resources.get(lid, {}).get("Properties") or {}
        for key in ("Name", "QueueName", "FunctionName", "TopicName"):
            if key in props:
                return str(self.resolve(props[key]))
        return f"{STACK_NAME}-{lid}"

    def ref(self, name: str) -> str:
        """`!Ref` of a resource: a queue's URL, else its name."""
        r = self.resources.get(name)
        if r is None:
            raise KeyError(f"!Ref {name}: no such resource")
        if r.get("Type") == "AWS::SQS::Queue":
            return self.get_att(name, "QueueUrl")
        return self.physical_name(name)

    def get_att(self, lid: str, attr: str) -> str:
        r = self.resources.get(lid)
        if r is None:
            raise KeyError(f"!GetAtt {lid}.{attr}: no such resource")
        name = self.physical_name(lid)
        kind = r.get("Type", "")
        if kind == "AWS::SQS::Queue":
            if attr == "QueueName":
                return name
            if attr == "QueueUrl":
                return f"{self.values.get('moto_endpoint', 'http://127.0.0.1')}/{ACCOUNT}/{name}"
            if attr == "Arn":
                return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        if kind == "AWS::Events::EventBus" and attr in ("Arn", "Name"):
            return name if attr == "Name" else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
        if kind == "AWS::Events::Rule" and attr == "Arn":
            bus = self.resolve((r.get("Properties") or {}).get("EventBusName", "default"))
            return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{name}"
        if attr == "Arn":
            return f"arn:aws:{kind.split('::')[1].lower()}:{REGION}:{ACCOUNT}:{name}"
        return f"{name}.{attr}"

    def resolve(self, node):
        """CloudFormation intrinsics over the parameters and the local resource names."""
        return _StackResolver(self).value(node)

    # --- environments ---------------------------------------------------------------------

    def template_env(self, lid: str) -> dict[str, str]:
        """The environment template.yaml gives a function, from `check_template.py --env`."""
        script = ROOT / "scripts" / "check_template.py"
        args = [sys.executable, str(script), "--env", lid]
        for k, v in self.params.items():
            args += ["--param", f"{k}={self.fill(v)}"]
        for r in self.resources:
            args += ["--resource", f"{r}={self.ref(r)}"]
        for (name, key), v in LOCAL["secrets"].items():
            args += ["--secret", f"{name}:{key}={self.fill(v)}"]
        p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            raise StackError(
                f"scripts/check_template.py --env {lid} failed (exit {p.returncode}): {p.stderr.strip()[:500]}"
            )
        env = {}
        for line in p.stdout.splitlines():
            k, sep, v = line.partition("=")
            if not sep:
                raise StackError(f"scripts/check_template.py --env {lid} printed {line!r}, not KEY=VALUE")
            env[k] = v
        return env

    def function_env(self, lid: str) -> tuple[dict[str, str], list[str]]:
        """(environment, notes): the template's environment with the local overrides its
        role reads applied; the notes name each override the template does not give the
        function, and each Deploy variable the role reads that the template leaves out."""
        binary = self.functions()[lid]
        role = ROLE_OF_BINARY.get(binary)
        if role is None:
            raise StackError(f"{lid}: binary {binary!r} has no role in check_template.ROLE_OF_BINARY")
        reads = role_vars(self.table, role)
        env = self.template_env(lid)
        notes = []
        for k, v in LOCAL["overrides"].items():
            value = self.fill(v)
            if "{" in value:
                continue  # a value the run does not have (yet)
            if is_runtime(k):
                env[k] = value
            elif k not in reads:
                continue
            elif k in env:
                env[k] = value
            elif reads[k] == "Deploy":
                notes.append(f"template gap: its role {role} reads {k} (Deploy), the template does not give it; "
                             "the run does not set it either")
            else:
                env[k] = value
                notes.append(f"{k}={value} set by the run; the template does not give it ({reads[k]})")
        return env, notes


if __name__ == "__main__":
    # python3 scripts/e2e/stack.py WorkerFunction  -> the environment the run gives it
    s = Stack(values={"database_url": "postgres://…", "smtp_port": 2525})
    for lid in sys.argv[1:] or list(s.functions()):
        env, notes = s.function_env(lid)
        print(f"# {lid} ({s.functions()[lid]})")
        for k in sorted(env):
            print(f"{k}={env[k]}")
        for n in notes:
            print(f"# {n}")
