#!/usr/bin/env python3
"""The capacity model of docs/capacity.md: prints its tables from the inputs below.

Every input is one line in INPUTS (value, unit, where it comes from). Change a value (for
example a per-request duration after a new `make bench`) and re-run:

    python3 scripts/capacity_model.py            # markdown tables
    python3 scripts/capacity_model.py --set d_availability_ms=4.1 --set model_wait_ms=1500
    python3 scripts/capacity_model.py --update-doc docs/capacity.md   # after changing INPUTS

The formulas are the ones docs/capacity.md writes out; this file only evaluates them.
"""
import argparse
import math

# name: (value, unit, source)
INPUTS = {
    # --- workload (the brief of the capacity model) ---
    "bookings_per_tenant_day": (100, "bookings", "workload assumption"),
    "turns_per_tenant_day": (300, "chat turns", "workload assumption"),
    "peak_factor": (10, "x average", "workload assumption"),
    "availability_per_booking": (3, "requests", "assumption: a client looks at 3 weeks/days before holding"),
    "turns_per_conversation": (5, "turns", "assumption"),
    "conversation_minutes": (5, "min", "assumption: WebSocket connection open per conversation"),
    "ws_frames_per_turn": (4, "messages", "chat-ws: 1 in (message) + 3 out (typing, status, assistant_message)"),
    # --- per-request durations (billed Lambda time ~ handler time) ---
    "d_availability_ms": (1.2, "ms", "one-week availability, wrk -t1 -c1 p50 on gomomo serve (release), 2-core machine, 2026-11-30"),
    "d_booking_ms": (94.0, "ms", "scripts/race-bench.sh: hold + confirm p50 at 32 workers (2 requests, under load)"),
    "d_turn_ours_ms": (3.0, "ms", "README chat-turn bench p50, LLM path, model answering instantly"),
    "model_wait_ms": (2000.0, "ms", "assumption: 2 chat completions of ~1 s each (OpenAI, not measured)"),
    "d_ws_control_ms": (10.0, "ms", "assumption: $connect / hello / $disconnect"),
    "d_event_ms": (20.8, "ms", "worker init + first SQS batch of one record, loopback Runtime API (upper bound warm)"),
    "d_mail_ms": (150.0, "ms", "assumption: one SMTP send to SES from Lambda"),
    "d_job_ms": (10.0, "ms", "assumption: claim + run one reminder job (SQL only)"),
    "d_tick_ms": (200.0, "ms", "assumption: an idle scheduler tick (hold expiry, sweep, health count)"),
    "sqs_batch": (1, "records", "pessimistic: at low rates the worker gets one record per batch (max 10)"),
    "reminders_per_booking": (2, "mails", "autonomy: reminders 24 h and 2 h before (when still ahead)"),
    # --- Lambda configuration (template.yaml) ---
    "mem_default_gb": (0.25, "GB", "template.yaml Globals MemorySize 256"),
    "mem_chat_gb": (0.5, "GB", "template.yaml ChatWsFunction MemorySize 512"),
    "db_pool": (2, "connections", "template.yaml DB_MAX_CONNECTIONS per function"),
    # --- prices, us-east-1 (see docs/capacity.md for sources and dates) ---
    "p_lambda_gbs": (0.0000133334, "USD/GB-s", "Lambda arm64, first 7.5 B GB-s/month"),
    "p_lambda_req": (0.20 / 1e6, "USD/request", "Lambda requests"),
    "p_http_req": (1.00 / 1e6, "USD/request", "API Gateway HTTP API, first 300 M/month"),
    "p_ws_msg": (1.00 / 1e6, "USD/message", "API Gateway WebSocket, first 1 B messages/month"),
    "p_ws_min": (0.25 / 1e6, "USD/connection-minute", "API Gateway WebSocket"),
    "p_eb_event": (1.00 / 1e6, "USD/event", "EventBridge custom events"),
    "p_sqs_req": (0.40 / 1e6, "USD/request", "SQS standard, first 100 B/month"),
    "p_proxy_vcpu_h": (0.015, "USD/vCPU-hour", "RDS Proxy on provisioned instances, ASSUMPTION (no stored page states it)"),
}

# Postgres per scale, sized without a proxy by connections (RDS sets max_connections to
# LEAST(instance memory / 9,531,392 bytes, 5000)) and with RDS Proxy by CPU (see
# docs/capacity.md): (instance, vCPU, max_connections, USD/hour single-AZ, price source).
# None: no instance fits (more connections than RDS allows).
DB_DIRECT = {
    100: ("db.t4g.small", 2, 190, 0.032, "infratally.com, RDS pricing 2026, us-east-1"),
    10_000: ("db.r7g.xlarge", 4, 3_400, 0.478, "ASSUMPTION (no stored page states it)"),
    100_000: None,
}
DB_PROXY = {
    100: ("db.t4g.small", 2, 190, 0.032, "infratally.com, RDS pricing 2026, us-east-1"),
    10_000: ("db.m7g.xlarge", 4, 1_700, 0.336, "ASSUMPTION (no stored page states it)"),
    100_000: ("db.m7g.4xlarge", 16, 5_000, 1.344, "ASSUMPTION (no stored page states it)"),
}
TENANTS = (100, 10_000, 100_000)
DAY = 86_400.0


def model(v):
    rows = {}
    for n in TENANTS:
        r = {}
        bookings_day = n * v["bookings_per_tenant_day"]
        turns_day = n * v["turns_per_tenant_day"]
        r["bookings_day"] = bookings_day
        r["bookings_s_avg"] = bookings_day / DAY
        r["bookings_s_peak"] = r["bookings_s_avg"] * v["peak_factor"]
        r["turns_s_peak"] = turns_day / DAY * v["peak_factor"]
        a = v["availability_per_booking"]
        conv = 1.0 / v["turns_per_conversation"]
        # seconds of function time per unit of work
        api_s = (a * v["d_availability_ms"] + v["d_booking_ms"]) / 1000
        turn_s = (v["d_turn_ours_ms"] + v["model_wait_ms"] + 3 * conv * v["d_ws_control_ms"]) / 1000
        event_s = (v["d_event_ms"] + v["d_mail_ms"]) / 1000  # BookingCreated: orchestrate + confirmation mail
        remind_s = v["reminders_per_booking"] * (v["d_job_ms"] + v["d_mail_ms"]) / 1000
        # Little's law: concurrency = arrival rate x time in the function
        r["conc_api"] = r["bookings_s_peak"] * api_s
        r["conc_chat"] = r["turns_s_peak"] * turn_s
        r["conc_worker"] = r["bookings_s_peak"] * event_s
        r["remind_s_peak"] = r["bookings_s_peak"] * v["reminders_per_booking"]
        r["conc_reminders"] = r["bookings_s_peak"] * remind_s
        r["conc_scheduler"] = 1
        total_conc = sum(math.ceil(r[k]) for k in ("conc_api", "conc_chat", "conc_worker", "conc_scheduler"))
        r["conc_total"] = total_conc
        r["pg_direct"] = total_conc * v["db_pool"]
        # With RDS Proxy the database sees about one connection per transaction in flight:
        # the database share of each unit of work (the function time minus model and mail waits).
        db_s = (a * v["d_availability_ms"] + v["d_booking_ms"]) / 1000 * r["bookings_s_peak"] \
            + (v["d_turn_ours_ms"] / 1000) * r["turns_s_peak"] \
            + (v["d_event_ms"] / 1000) * r["bookings_s_peak"] \
            + (v["reminders_per_booking"] * v["d_job_ms"] / 1000) * r["bookings_s_peak"]
        r["pg_proxy"] = db_s
        # events and messages per day
        b = max(1, v["sqs_batch"])
        r["eb_day"] = bookings_day
        r["sqs_day"] = bookings_day * (1 + 2.0 / b)
        r["worker_inv_day"] = bookings_day / b
        # --- cost per 1,000 bookings (variable) ---
        k = 1000
        lam_req = (a + 2) + 3 * (1 + 3 * conv) + 1.0 / b
        gbs = v["mem_default_gb"] * api_s \
            + v["mem_chat_gb"] * 3 * turn_s \
            + v["mem_default_gb"] * (event_s + remind_s)
        c = {}
        c["lambda"] = k * (lam_req * v["p_lambda_req"] + gbs * v["p_lambda_gbs"])
        c["lambda_chat_share"] = k * (v["mem_chat_gb"] * 3 * turn_s * v["p_lambda_gbs"])
        c["http"] = k * (a + 2) * v["p_http_req"]
        c["ws"] = k * 3 * ((v["ws_frames_per_turn"] + conv) * v["p_ws_msg"]
                           + v["conversation_minutes"] * conv * v["p_ws_min"])
        c["eventbridge"] = k * v["p_eb_event"]
        c["sqs"] = k * (1 + 2.0 / b) * v["p_sqs_req"]
        # fixed per month, spread over the month's bookings
        bookings_month = bookings_day * 30
        sched_month = 30 * 1440 * (v["p_lambda_req"] + v["mem_default_gb"] * v["d_tick_ms"] / 1000 * v["p_lambda_gbs"])
        c["scheduler"] = k * sched_month / bookings_month
        variable = c["lambda"] + c["http"] + c["ws"] + c["eventbridge"] + c["sqs"] + c["scheduler"]
        direct, proxied = DB_DIRECT[n], DB_PROXY[n]
        c["db_direct"] = k * direct[3] * 730 / bookings_month if direct else float("nan")
        c["db_proxied"] = k * proxied[3] * 730 / bookings_month
        c["proxy"] = k * v["p_proxy_vcpu_h"] * max(2, proxied[1]) * 730 / bookings_month
        c["total_direct"] = variable + c["db_direct"]
        c["total_proxy"] = variable + c["db_proxied"] + c["proxy"]
        r["cost"] = c
        rows[n] = r
    return rows


def results_table(rows):
    t = TENANTS
    fmt = lambda x: f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"
    out = ["| | " + " | ".join(f"{n:,} tenants" for n in t) + " |", "|---|" + "---|" * len(t)]
    lines = [
        ("bookings/day", "bookings_day"), ("bookings/s average", "bookings_s_avg"),
        ("bookings/s peak", "bookings_s_peak"), ("chat turns/s peak", "turns_s_peak"),
        ("api concurrency (peak)", "conc_api"), ("chat-ws concurrency (peak)", "conc_chat"),
        ("worker concurrency (peak, BookingCreated + confirmation)", "conc_worker"),
        ("reminders due/s (peak)", "remind_s_peak"),
        ("reminder work, concurrent (peak)", "conc_reminders"),
        ("instances, all functions (peak, rounded up)", "conc_total"),
        ("without a proxy: Postgres connections (instances x pool)", "pg_direct"),
        ("with RDS Proxy: transactions in flight (database connections busy)", "pg_proxy"),
        ("EventBridge events/day", "eb_day"), ("SQS requests/day", "sqs_day"),
        ("worker invocations/day", "worker_inv_day"),
    ]
    for label, key in lines:
        out.append(f"| {label} | " + " | ".join(fmt(rows[n][key]) for n in t) + " |")
    return "\n".join(out)


def cost_tables(rows):
    t = TENANTS
    fmt = lambda x: f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"
    cell = lambda x: "no instance fits" if math.isnan(x) else f"{x:.4f}"
    out = ["| USD per 1,000 bookings | " + " | ".join(f"{n:,} tenants" for n in t) + " |",
           "|---|" + "---|" * len(t)]
    for label, key in [
        ("Lambda (requests + GB-s)", "lambda"), ("  of which chat-ws waiting on the model", "lambda_chat_share"),
        ("API Gateway HTTP", "http"), ("API Gateway WebSocket", "ws"), ("EventBridge", "eventbridge"),
        ("SQS", "sqs"), ("scheduler ticks (fixed, spread)", "scheduler"),
        ("without a proxy: Postgres instance (fixed, spread)", "db_direct"),
        ("total without RDS Proxy", "total_direct"),
        ("with RDS Proxy: Postgres instance (fixed, spread)", "db_proxied"),
        ("with RDS Proxy: the proxy (fixed, spread)", "proxy"), ("total with RDS Proxy", "total_proxy"),
    ]:
        out.append(f"| {label} | " + " | ".join(cell(rows[n]["cost"][key]) for n in t) + " |")
    out += ["", "| Postgres | tenants | instance | vCPU | max_connections | USD/hour | price source |",
            "|---|---|---|---|---|---|---|"]
    for label, table in (("without a proxy", DB_DIRECT), ("with RDS Proxy", DB_PROXY)):
        for n in t:
            d = table[n]
            if d is None:
                out.append(f"| {label} | {n:,} | none: {fmt(rows[n]['pg_direct'])} connections exceed the 5,000 RDS allows | | | | |")
            else:
                out.append(f"| {label} | {n:,} | {d[0]} | {d[1]} | {d[2]:,} | {d[3]} | {d[4]} |")
    return "\n".join(out)


def replace_block(text, name, body):
    """Replaces what lies between `<!-- capacity_model:NAME -->` and `<!-- /capacity_model:NAME -->`."""
    begin, end = f"<!-- capacity_model:{name} -->", f"<!-- /capacity_model:{name} -->"
    i, j = text.index(begin) + len(begin), text.index(end)
    return text[:i] + "\n" + body + "\n" + text[j:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--inputs", action="store_true", help="print the inputs table")
    ap.add_argument("--update-doc", metavar="PATH", help="rewrite the tables of PATH (docs/capacity.md) in place")
    args = ap.parse_args()
    v = {k: x[0] for k, x in INPUTS.items()}
    for s in args.set:
        name, val = s.split("=", 1)
        if name not in v:
            ap.error(f"unknown input {name}")
        v[name] = float(val)
    rows = model(v)
    if args.update_doc:
        with open(args.update_doc, encoding="utf-8") as fh:
            text = fh.read()
        text = replace_block(text, "results", results_table(rows))
        text = replace_block(text, "cost", cost_tables(rows))
        with open(args.update_doc, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    if args.inputs:
        print("| input | value | unit | source |\n|---|---|---|---|")
        for k, (val, unit, src) in INPUTS.items():
            print(f"| `{k}` | {v[k]:g} | {unit} | {src} |")
        print()
    print(results_table(rows))
    print()
    print("Cost per 1,000 bookings (USD; each booking brings its 3 chat turns):\n")
    print(cost_tables(rows))

if __name__ == "__main__":
    main()
