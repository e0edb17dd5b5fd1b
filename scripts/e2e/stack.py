"""template.yaml as a local stack: parameters, resource names and each function's
environment, resolved the way CloudFormation would for a stack named STACK_NAME.

Everything the local run puts in place of the cloud is named in LOCAL below, and only
there: the answers to `sam deploy --guided` (parameters), what Secrets Manager would hold
(secrets), and the variables the run overrides with loopback values (overrides).

A function's environment is the template's Globals.Function.Environment merged with the
function's own, intrinsics resolved (!Ref, !Sub, !GetAtt, !Join, !If on the parameters),
then `{{resolve:secretsmanager:NAME:SecretString:KEY}}` references replaced from
LOCAL["secrets"], then LOCAL["overrides"] applied. When scripts/check_template.py offers
`--env` it resolves the template instead of the small resolver here (one resolver for
the checks and the run); the secrets and overrides are applied the same way after it.
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

from check_template import load_template  # noqa: E402

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
    },
    # Secrets Manager: (secret name, JSON key) -> value; SSM parameters: (name, None) -> value.
    # A reference not listed here gets a fixed placeholder (and a warning in the run's log).
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
    # Set on every function, whether or not the template gives the variable (the run log
    # says which ones the template does not give).
    "overrides": {
        "GOMOMO_ENV": "development",
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

# Overrides that replace a production mail transport: when the template gives the host
# form instead of SMTP_URL, these go with it (SMTP_URL wins in the configuration anyway).
MAIL_VARIABLES = ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_USERNAME", "SMTP_PASSWORD")

# {{resolve:secretsmanager:NAME:SecretString:KEY}} and {{resolve:ssm[-secure]:NAME[:VERSION]}}
DYNAMIC_REF = re.compile(
    r"\{\{resolve:(?:secretsmanager:([^:}]+):SecretString:([^:}]+)(?::[^}]*)?|ssm(?:-secure)?:([^:}]+)(?::\d+)?)\}\}"
)


class Stack:
    def __init__(self, template_path: Path = ROOT / "template.yaml", values: dict | None = None):
        self.template = load_template(template_path)
        self.values = dict(values or {})
        self.params = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            default = spec.get("Default", "")
            self.params[name] = str(default) if default is not None else ""
        for name, value in LOCAL["parameters"].items():
            self.params[name] = value
        self.warnings: list[str] = []

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
        pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.fill(self.params[name])
        r = self.resources.get(name)
        if r is None:
            raise KeyError(f"!Ref {name}: no such parameter or resource")
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
        if isinstance(node, list):
            return [self.resolve(x) for x in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                lid, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(lid, attr)
            if key == "Fn::Sub":
                text, extra = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
                extra = {k: self.resolve(v) for k, v in extra.items()}

                def sub(m):
                    name = m.group(1)
                    if name in extra:
                        return str(extra[name])
                    if "." in name and not name.startswith("AWS::"):
                        lid, attr = name.split(".", 1)
                        return self.get_att(lid, attr)
                    return str(self.ref(name))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.resolve(items))
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
        return {k: self.resolve(v) for k, v in node.items()}

    def condition(self, name: str) -> bool:
        spec = (self.template.get("Conditions") or {}).get(name)
        if spec is None:
            raise KeyError(f"condition {name} is not defined")
        return bool(self._cond(spec))

    def _cond(self, node):
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Fn::Equals":
                a, b = (self._cond(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self._cond(arg[0])
            if key == "Fn::And":
                return all(self._cond(x) for x in arg)
            if key == "Fn::Or":
                return any(self._cond(x) for x in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(node)

    # --- environments ---------------------------------------------------------------------

    def template_env(self, lid: str) -> dict[str, str]:
        """The environment template.yaml gives a function (secrets still as references)."""
        via_check = self._env_via_check_template(lid)
        if via_check is not None:
            return via_check
        glob = (((self.template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get(
            "Variables"
        ) or {}
        own = ((self.resources[lid].get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        env = {}
        for k, v in {**glob, **own}.items():
            value = self.resolve(v)
            if value is None:
                continue
            env[k] = "true" if value is True else "false" if value is False else str(value)
        return env

    def _env_via_check_template(self, lid: str) -> dict[str, str] | None:
        script = ROOT / "scripts" / "check_template.py"
        if "--env" not in script.read_text():
            return None
        args = [sys.executable, str(script), "--env", lid]
        for k, v in self.params.items():
            args += ["--param", f"{k}={self.fill(v)}"]
        for r in self.resources:
            args += ["--resource", f"{r}={self.physical_name(r)}"]
        for (name, key), v in LOCAL["secrets"].items():
            if key is not None:
                args += ["--secret", f"{name}:{key}={self.fill(v)}"]
        p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            self.warnings.append(
                f"check_template.py --env {lid} failed ({p.stderr.strip()[:200]}); using the run's own resolver"
            )
            return None
        env = {}
        for line in p.stdout.splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                env[k.strip()] = v
        return env

    def secret(self, name: str, key: str | None) -> str:
        value = LOCAL["secrets"].get((name, key))
        if value is None:
            self.warnings.append(f"secret {name}:{key} is not in LOCAL['secrets']: a placeholder stands in")
            return _stable_secret(f"{name}:{key}", 40)
        return self.fill(value)

    def function_env(self, lid: str) -> tuple[dict[str, str], list[str]]:
        """(environment, notes): the template's environment with secrets resolved and the
        local overrides applied; notes say what the template does not give."""
        env = {
            k: DYNAMIC_REF.sub(lambda m: self.secret(m.group(1) or m.group(3), m.group(2)), v)
            for k, v in self.template_env(lid).items()
        }
        notes = []
        if any(k in env for k in MAIL_VARIABLES):
            for k in MAIL_VARIABLES:
                env.pop(k, None)
        for k, v in LOCAL["overrides"].items():
            value = self.fill(v)
            if "{" in value:
                continue  # a value the run does not have (yet): leave the template's
            env[k] = value
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
    for w in s.warnings:
        print(f"# warning: {w}")
