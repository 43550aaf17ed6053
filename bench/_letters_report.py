"""The tables and the last line of bench/letters.py."""

import os

try:
    from bench._letters_data import PAGES
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _letters_data import PAGES

TARGETS = {"gain": 1.6, "cpu_ms": 80.0, "worst_s": 2.0, "loadgen": 5.0}


def worst_accepted(inputs: list[dict]) -> float:
    """The seconds of the slowest input the API accepted."""
    return max(item["seconds"] for item in inputs if item["status"] == 201)


def print_inputs(results: dict) -> None:
    """Every adversarial input: its size, status and seconds on each database."""
    dbs = list(results)
    print("adversarial replies through the API (accepted ones at the layout budget's limits)")
    header = "".join(f" {db[:10]:>16}" for db in dbs)
    print(f"{'input':<44} {'chars':>6}{header} {'ok?':>5}")
    by_db = [results[db]["inputs"] for db in dbs]
    for rows in zip(*by_db, strict=True):
        cells = "".join(f" {row['status']:>5} {row['seconds']:>8.2f} s" for row in rows)
        ok = all(row["ok"] for row in rows) and all(
            row["seconds"] <= TARGETS["worst_s"] for row in rows if row["status"] == 201
        )
        print(
            f"{rows[0]['name'][:44]:<44} {rows[0]['chars']:>6}{cells} {'ok' if ok else 'MISS':>5}"
        )
    refused = [row for row in by_db[0] if row["status"] == 422]
    if refused:
        print(f"the 422's text, e.g. {refused[0]['name']}: {refused[0]['detail']}")
        print(f"  and {refused[-1]['name']}: {refused[-1]['detail']}")


def report(results: dict, loadgen: dict, cpu: dict) -> None:
    """The summary table (a column per database) and the last line."""
    print_inputs(results)
    dbs = list(results)
    first = results[dbs[0]]
    rows: list[tuple[str, list[str], str, bool | None]] = []

    def per_db(name: str, fmt: str, value, target: str = "", ok=None) -> None:
        values = [fmt.format(value(results[db])) for db in dbs]
        rows.append(
            (name, values, target, None if ok is None else all(ok(results[db]) for db in dbs))
        )

    per_db("api 1p letters/s, 1 client", "{:.1f}", lambda r: r["api_1p"])
    per_db("floor 1p letters/s, 1 process", "{:.1f}", lambda r: r["floor_1p"])
    per_db("ratio_1p (api / floor)", "{:.3f}", lambda r: r["ratio_1p"])
    per_db("api 3p letters/s, 1 client", "{:.1f}", lambda r: r["api_3p"])
    per_db("floor 3p letters/s, 1 process", "{:.1f}", lambda r: r["floor_3p"])
    per_db("ratio_3p (api / floor)", "{:.3f}", lambda r: r["ratio_3p"])
    per_db("api 1p letters/s, 2 clients", "{:.1f}", lambda r: r["api_1p_x2"])
    per_db(
        "concurrency_gain (2 clients / 1)",
        "{:.2f}",
        lambda r: r["gain"],
        f">= {TARGETS['gain']}",
        lambda r: r["gain"] >= TARGETS["gain"],
    )
    per_db("cpu ms per 1p letter, 1 client (*)", "{:.1f}", lambda r: r["cpu_ms"])
    per_db(
        "gain ceiling (CPUs / cpu per letter)",
        "{:.2f}",
        lambda r: (os.cpu_count() or 1) * 1000 / r["cpu_ms"] / r["api_1p"],
    )
    per_db(
        "CPUs busy with 2 clients: own / all",
        "{}",
        lambda r: f"{r['own_x2']:.2f} / {r['machine_x2']:.2f}",
    )
    for size in PAGES:
        per_db(
            f"pages {size} (api / floor)",
            "{}",
            lambda r, s=size: f"{r['pages']['api_' + s]} / {r['pages']['floor_' + s]}",
            str(PAGES[size]),
            lambda r, s=size: r["pages"]["api_" + s] == r["pages"]["floor_" + s] == PAGES[s],
        )
    per_db(
        "worst accepted input (s)",
        "{:.2f}",
        lambda r: worst_accepted(r["inputs"]),
        f"<= {TARGETS['worst_s']}",
        lambda r: worst_accepted(r["inputs"]) <= TARGETS["worst_s"],
    )
    per_db(
        "inputs as expected (201 / 422 + text)",
        "{}",
        lambda r: f"{sum(i['ok'] for i in r['inputs'])}/{len(r['inputs'])}",
        "all",
        lambda r: all(i["ok"] for i in r["inputs"]),
    )
    blank = [""] * (len(dbs) - 1)
    product_cpu, product_wall = cpu["product"]
    floor_cpu, floor_wall = cpu["floor"]
    cpu_ok = product_cpu <= TARGETS["cpu_ms"]
    rows.append(
        (
            "cpu_ms_1p (render_letter_pdf in process)",
            [f"{product_cpu:.1f}", *blank],
            f"<= {TARGETS['cpu_ms']:.0f}",
            cpu_ok,
        )
    )
    rows.append(("cpu ms 1p, floor in process", [f"{floor_cpu:.1f}", *blank], "", None))
    rows.append(
        (
            "wall ms 1p in process, product / floor",
            [f"{product_wall:.1f} / {floor_wall:.1f}", *blank],
            "",
            None,
        )
    )
    needed = TARGETS["loadgen"] * max(results[db]["floor_1p"] for db in dbs)
    rows.append(
        (
            "load generator replies/s, 1 client",
            [f"{loadgen['one']:.0f}", *blank],
            f">= {needed:.0f}",
            loadgen["one"] >= needed,
        )
    )
    rows.append(
        ("load generator replies/s, 2 clients", [f"{loadgen['two']:.0f}", *blank], "", None)
    )

    print(
        "(*) CPU time of the server process, its render workers and the client over the 1p rounds"
        " (a database server's not counted); 'own' is that per second, 'all' the whole machine's"
    )
    header = "".join(f" {db:>12}" for db in dbs)
    print(f"{'name':<40}{header} {'target':>8} {'ok?':>5}")
    for name, values, target, ok in rows:
        cells = "".join(f" {value:>12}" for value in values)
        mark = "" if ok is None else ("ok" if ok else "MISS")
        print(f"{name:<40}{cells} {target:>8} {mark:>5}")
    line = (
        f"ratio_1p={first['ratio_1p']:.3f} ratio_3p={first['ratio_3p']:.3f} "
        f"concurrency_gain={first['gain']:.2f} cpu_ms_1p={product_cpu:.1f} "
        f"worst_input_s={worst_accepted(first['inputs']):.2f}"
    )
    if "PostgreSQL" in results:
        pg = results["PostgreSQL"]
        line += (
            f" ratio_1p_pg={pg['ratio_1p']:.3f} ratio_3p_pg={pg['ratio_3p']:.3f}"
            f" concurrency_gain_pg={pg['gain']:.2f}"
            f" worst_input_s_pg={worst_accepted(pg['inputs']):.2f}"
        )
    print(line)
