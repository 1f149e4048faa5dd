"""socklab.iomodels: the live comparison is bounded and complete; the figures draw from live data."""
from __future__ import annotations

import time

from socklab import iomodels, servers
from socklab.concurrency import stalled_round_trips


def test_compare_measures_every_model_within_its_budget():
    """Does compare() give a finished row per (model, clients) with positive throughput, within budget?"""
    t0 = time.monotonic()
    rows = iomodels.compare(clients=(1, 4), round_trips=5, budget=20.0)  # ~0.3 s of work; room for a loaded machine
    assert time.monotonic() - t0 < 25.0
    assert [(r["model"], r["clients"]) for r in rows] == [(m, n) for m in iomodels.MODELS for n in (1, 4)]
    assert all(r["done"] and r["throughput"] > 0 and r["wait_ms"] > 0 for r in rows)


def test_compare_stops_at_its_budget_and_says_which_rows_it_skipped():
    """With a budget too small for the work, does compare() return on time, marking unfinished rows?"""
    t0 = time.monotonic()
    rows = iomodels.compare(clients=(64,), round_trips=2000, budget=0.3)
    assert time.monotonic() - t0 < 0.3 + 0.3 * len(iomodels.MODELS) + 1.0  # each started run ends by its deadline
    assert len(rows) == len(iomodels.MODELS) and not all(r["done"] for r in rows)


def test_figures_draw_the_comparison_the_grid_and_a_timeline():
    """Do the three figures draw (two plots, one grid naming IOCP, one bar per client)?"""
    rows = iomodels.compare(models=("iterative", "asyncio"), clients=(1, 2), round_trips=5, budget=1.0)
    fig = iomodels.comparison_figure(rows)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    texts = " ".join(t.get_text() for t in iomodels.io_model_figure().axes[0].texts)
    for name in ("WSAEventSelect", "IOCP", "epoll", "BlockingIOError"):
        assert name in texts
    with servers.echo_server(name="timeline") as srv:
        run = stalled_round_trips(srv.address, [b"a", b"b"], timeout=2)
    ax = iomodels.timeline_figure(run).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["client 2", "client 1", "stalled (half)"]
    assert ax.get_title() == "a stalled client does not block the others"
