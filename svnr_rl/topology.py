"""Negotiation topologies (App. H.3): the name or explicit list of ``algo.topology`` read as the
negotiation sets ``C_i`` of each agent.

Parsed twice: for syntax when the config is built (the number of agents is not known yet), and
in full once the task is built.  Torch-free.
"""

from __future__ import annotations

import re

from svnr_rl.config_rules import TOPOLOGIES, fail

__all__ = ["parse_topology"]


def parse_topology(spec: str, n_agents: int | None, task: str = "") -> list[list[int]] | None:
    """Negotiation sets ``C_i`` (0-based, without ``i``) of a topology, or ``None`` if dynamic.

    * ``nested`` -- the paper's ``C_i = {1..i}`` (App. F.2): agent ``i`` conditions on the noise
      of every agent before it, so ``S_i = {i} + C_i = {1..i}``;
    * ``full`` -- SVNR-F, ``C_i = -i`` (App. H.3.1);
    * ``empty`` -- SVNR-M, ``C_i = {}`` (App. H.3.1);
    * ``random-peers`` -- peers resampled every step (App. H.3.2): returns ``None``;
    * an explicit list ``"1:;2:1;3:1,2"`` -- 1-based, one ``agent:peers`` entry per agent
      (any directed graph, a DAG included).

    Raises :class:`ConfigError` (naming ``algo.topology``) for an unknown name, a malformed
    list, an index out of range, a repeated agent or an agent conditioning on itself.  With
    ``n_agents = None`` only the syntax is checked (and ``None`` returned for a list): the
    number of agents is the task's, known once ``task`` is built.
    """
    name = "algo.topology"
    if spec == "random-peers" or (n_agents is None and spec in TOPOLOGIES):
        return None
    if n_agents is not None and spec == "nested":
        return [list(range(i)) for i in range(n_agents)]
    if n_agents is not None and spec == "full":
        return [[j for j in range(n_agents) if j != i] for i in range(n_agents)]
    if n_agents is not None and spec == "empty":
        return [[] for _ in range(n_agents)]
    if len(spec) > 10_000:
        fail(name, f"an explicit list of at most 10,000 characters; got {len(spec):,}")
    if not re.fullmatch(r"\s*\d+\s*:[\d,\s]*(;\s*\d+\s*:[\d,\s]*)*;?\s*", spec):
        fail(
            name,
            f"must be one of {', '.join(TOPOLOGIES)} or an explicit list like "
            f"'1:;2:1;3:1,2'; got {spec!r}",
        )
    game = f"{task} has" if task else "the game has"
    sets: dict[int, list[int]] = {}
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        head, _, tail = entry.partition(":")
        i = int(head)
        peers = [int(p) for p in tail.split(",") if p.strip()]
        for k in [i, *peers]:
            if k < 1 or (n_agents is not None and k > n_agents):
                where = f"1..{n_agents}: {game} {n_agents} agents" if n_agents else "ids >= 1"
                fail(name, f"agent {k} is out of range ({where})")
        if i in sets:
            fail(name, f"agent {i} is listed twice")
        if i in peers:
            fail(name, f"agent {i} cannot condition on itself")
        sets[i] = sorted({p - 1 for p in peers})
    if n_agents is None:
        return None
    missing = [i for i in range(1, n_agents + 1) if i not in sets]
    if missing:
        fail(
            name,
            f"no entry for agent(s) {missing}: {game} {n_agents} agents, "
            f"so list one entry per agent 1..{n_agents}",
        )
    return [sets[i + 1] for i in range(n_agents)]
