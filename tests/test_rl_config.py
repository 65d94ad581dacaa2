"""Config tree: presets, files, overrides, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svnr_rl.config import (
    TASKS,
    Config,
    ConfigError,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config_file,
    parse_topology,
    preset,
)


def test_defaults_are_max_of_three_s2_1_5_on_cpu() -> None:
    cfg = Config()
    assert (cfg.env.task, cfg.env.s2, cfg.algo.method) == ("max-of-three", 1.5, "svnr")
    assert (cfg.train.device, cfg.train.dtype) == ("cpu", "float32")


@pytest.mark.parametrize("task", TASKS)
def test_every_paper_task_has_a_preset(task: str) -> None:
    assert preset(task).env.task == task


def test_overrides_parse_types() -> None:
    cfg = apply_overrides(
        Config(),
        [
            "algo.num_particles=16",
            "algo.hidden=64,64",
            "algo.twin_critic=true",
            'train.device="auto"',
            "alpha.alpha_end=0.1",
            "algo.topology=full",
        ],
    )
    assert cfg.algo.num_particles == 16
    assert cfg.algo.hidden == (64, 64)
    assert cfg.algo.twin_critic is True
    assert cfg.train.device == "auto"
    assert cfg.alpha.alpha_end == 0.1
    assert cfg.algo.topology == "full"


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("algo.policy_lr=-1e-3", "algo.policy_lr"),
        ("alpha.alpha_end=0", "alpha.alpha_end"),
        ("alpha.alpha_end=-2", "alpha.alpha_end"),
        ("algo.num_particles=1", "algo.num_particles"),
        ("env.task=nope", "env.task"),
        ("algo.bogus=1", "algo.bogus"),
        ("nosection.x=1", "nosection"),
        ("algo.num_particles=2.5", "algo.num_particles"),
        ("algo.twin_critic=3", "algo.twin_critic"),
        ("train.device=tpu", "train.device"),
        ("algo.gamma=1.0", "algo.gamma"),
        ("algo.topology=1:2;2:1;3:x", "algo.topology"),
        ("algo.topology=1:2;2:1;1:", "algo.topology"),
        ("noequals", "noequals"),
    ],
)
def test_bad_overrides_name_the_entry(override: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        apply_overrides(Config(), [override])


def test_json_and_toml_files_round_trip(tmp_path: Path) -> None:
    cfg = apply_overrides(preset("max-of-three", s2=2.0), ["algo.hidden=32,32"])
    j = tmp_path / "c.json"
    j.write_text(json.dumps(config_to_dict(cfg)))
    assert load_config_file(j) == cfg
    t = tmp_path / "c.toml"
    t.write_text('[env]\ntask = "max-of-three"\ns2 = 2.0\n[algo]\nhidden = [32, 32]\n')
    assert load_config_file(t) == cfg


def test_bad_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.toml"
    bad.write_text("[env\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_file(bad)
    unknown = tmp_path / "u.json"
    unknown.write_text('{"train": {"sed": 3}}')
    with pytest.raises(ConfigError, match=r"train\.sed: unknown key"):
        load_config_file(unknown)
    with pytest.raises(ConfigError, match="must end in"):
        load_config_file(tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match="unknown config section"):
        config_from_dict({"envs": {}})


def test_topologies() -> None:
    assert parse_topology("nested", 3) == [[], [0], [0, 1]]
    assert parse_topology("full", 3) == [[1, 2], [0, 2], [0, 1]]
    assert parse_topology("empty", 2) == [[], []]
    assert parse_topology("random-peers", 4) is None
    assert parse_topology("1:;2:1;3:1,2", 3) == [[], [0], [0, 1]]
    with pytest.raises(ConfigError, match="itself"):
        parse_topology("1:1;2:", 2)
    with pytest.raises(ConfigError, match="no entry"):
        parse_topology("1:;2:1", 3)


def test_topology_range_names_the_games_agents() -> None:
    """An id beyond the game's agents names the game and its agent count (issue 15), and the
    syntax-only check of the config (``n_agents=None``) accepts it until the task is known."""
    assert parse_topology("1:;2:1;3:1,2,5", None) is None
    with pytest.raises(ConfigError, match=r"agent 5 is out of range \(1\.\.3: max-of-three has 3"):
        parse_topology("1:;2:1;3:1,2,5", 3, "max-of-three")
    with pytest.raises(ConfigError, match=r"no entry for agent\(s\) \[3\]: the game has 3 agents"):
        parse_topology("1:;2:1", 3)
